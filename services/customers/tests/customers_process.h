// The customers service as a real process for API tests: its own data directory and topic prefix,
// Kafka (mock or real, see KafkaTestCluster), a notifier key pair the test holds (to open the
// sealed invitation tokens as the notifier would), and staff bearer tokens.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_process.h"

namespace gatehouse::testing {

inline constexpr const char* kHqToken = "hq-token-0123456789abcdef";
inline constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

class CustomersProcess final {
  public:
    explicit CustomersProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : kafka_(kafka), prefix_(unique_topic("test") + ".") {
        kafka_.create_topic(customers_topic(), 3);
        kafka_.create_topic(onboarding_topic(), 3);
        kafka_.create_topic(sales_topic(), 3);
        kafka_.create_topic(prefix_ + "gatehouse.customers.dead-letters.v1", 1);
        settings.try_emplace("GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", kafka_.bootstrap());
        settings.try_emplace("GATEHOUSE_KAFKA_PROPERTIES", kafka_.client_properties());
        settings.try_emplace("GATEHOUSE_LOG_LEVEL", "warn");
        settings.try_emplace("GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix_);
        settings.try_emplace("GATEHOUSE_NOTIFIER_PUBLIC_KEY", keys_.public_text());
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kHqToken) + "=hq:alice:alice@hq.example," +
                                                          kOperatorToken + "=operator:olga:olga@hq.example");
        process_ = std::make_unique<ServiceProcess>("customers", GATEHOUSE_CUSTOMERS_BINARY, std::move(settings));
        start();
    }

    void start() {
        process_->start();
        stub_ = customers::v1::CustomersService::NewStub(process_->channel());
    }
    // SIGTERM and wait; returns the exit code.
    int stop() {
        stub_.reset();
        return process_->stop();
    }

    customers::v1::CustomersService::Stub& api() { return *stub_; }
    std::shared_ptr<grpc::Channel> channel() { return process_->channel(); }
    [[nodiscard]] int grpc_port() const { return process_->grpc_port(); }
    // A gauge or counter of the running process's /metrics (-1 when unreadable or absent).
    [[nodiscard]] double metric(const std::string& name) const { return process_->metric(name); }
    // The process's data directory: its environment names it, which is how a test finds its pid.
    [[nodiscard]] std::filesystem::path data_dir() const { return process_->data_dir(); }
    [[nodiscard]] std::string dead_letter_topic() const { return prefix_ + "gatehouse.customers.dead-letters.v1"; }
    [[nodiscard]] std::string customers_topic() const { return prefix_ + "gatehouse.customers.events.v1"; }
    [[nodiscard]] std::string onboarding_topic() const { return prefix_ + "gatehouse.onboarding.events.v1"; }
    [[nodiscard]] std::string sales_topic() const { return prefix_ + "gatehouse.sales.events.v1"; }

    // An operator command of the binary (restore-from-topic, verify), with the service stopped.
    [[nodiscard]] std::pair<int, std::string> run_command(const std::vector<std::string>& arguments) const {
        return process_->run_command(arguments);
    }

    // Opens a token sealed for the notifier, as the notifier will.
    [[nodiscard]] std::string unseal(const std::string& sealed) const { return keys_.unseal(sealed); }

  private:
    KafkaTestCluster& kafka_;
    std::string prefix_;
    NotifierKeys keys_;
    std::unique_ptr<ServiceProcess> process_;
    std::unique_ptr<customers::v1::CustomersService::Stub> stub_;
};

// A client context with an optional bearer token and a deadline.
inline std::unique_ptr<grpc::ClientContext> as(const std::string& token = {}) { return call_as(token); }

}  // namespace gatehouse::testing
