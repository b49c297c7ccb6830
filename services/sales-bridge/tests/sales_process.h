// The sales-bridge service as a real process for API tests: its own data directory, Kafka (mock
// or real, see KafkaTestCluster), its own topic prefix, and bearer tokens for two sales users, a
// sales manager and an HQ user (who may not use this API).
#pragma once

#include <grpcpp/grpcpp.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>

#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/temp_dir.h"

namespace gatehouse::testing {

inline constexpr const char* kBobToken = "sales-bob-token-0123456789";      // sales: bob
inline constexpr const char* kCarolToken = "sales-carol-token-0123456789";  // sales: carol
inline constexpr const char* kMariaToken = "sales-maria-token-0123456789";  // sales-manager: maria
inline constexpr const char* kHqToken = "hq-alice-token-0123456789";        // hq: alice

class SalesProcess final {
  public:
    explicit SalesProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : kafka_(kafka), settings_(std::move(settings)), prefix_(unique_topic("sales") + ".") {
        kafka_.create_topic(sales_topic(), 3);
        kafka_.create_topic(onboarding_topic(), 3);
        kafka_.create_topic(customers_topic(), 3);
        kafka_.create_topic(dead_letter_topic(), 1);
        start();
    }
    ~SalesProcess() { stop(); }

    void start() {
        std::vector<std::string> command = {
            "/usr/bin/env",
            "GATEHOUSE_DATA_DIR=" + data_.path().string(),
            "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka_.bootstrap(),
            "GATEHOUSE_KAFKA_PROPERTIES=" + kafka_.client_properties(),
            "GATEHOUSE_LOG_LEVEL=warn",
            "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix_,
            "GATEHOUSE_SALES_USERS=bob=bob@sales.example,carol=carol@sales.example,maria=maria@sales.example",
            std::string("GATEHOUSE_AUTH_TOKENS=") + kBobToken + "=sales:bob:bob@sales.example," + kCarolToken +
                "=sales:carol:carol@sales.example," + kMariaToken + "=sales-manager:maria:maria@sales.example," +
                kHqToken + "=hq:alice:alice@hq.example"};
        for (const auto& [name, value] : settings_) {
            command.push_back(name + "=" + value);
        }
        command.push_back(GATEHOUSE_SALES_BINARY);
        process_ = std::make_unique<ChildProcess>(command);
        const std::string ready = "sales-bridge ready grpc=";
        while (auto line = process_->read_line(std::chrono::seconds(60))) {
            if (line->rfind(ready, 0) == 0) {
                port_ = std::stoi(line->substr(ready.size()));
                stub_ = sales::v1::SalesService::NewStub(
                    grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
                return;
            }
        }
        throw std::runtime_error("gatehouse-sales-bridge did not become ready");
    }

    // SIGTERM and wait; returns the exit code.
    int stop() {
        if (!process_) {
            return -1;
        }
        process_->kill(SIGTERM);
        const int code = process_->wait();
        process_.reset();
        stub_.reset();
        return code;
    }

    // kill -9: no clean shutdown.
    void crash() {
        process_->kill(SIGKILL);
        process_->wait();
        process_.reset();
        stub_.reset();
    }

    sales::v1::SalesService::Stub& api() { return *stub_; }
    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::string sales_topic() const { return prefix_ + "gatehouse.sales.events.v1"; }
    [[nodiscard]] std::string onboarding_topic() const { return prefix_ + "gatehouse.onboarding.events.v1"; }
    [[nodiscard]] std::string customers_topic() const { return prefix_ + "gatehouse.customers.events.v1"; }
    [[nodiscard]] std::string dead_letter_topic() const { return prefix_ + "gatehouse.sales-bridge.dead-letters.v1"; }

  private:
    KafkaTestCluster& kafka_;
    std::map<std::string, std::string> settings_;
    std::string prefix_;
    TempDir data_;
    std::unique_ptr<ChildProcess> process_;
    std::unique_ptr<sales::v1::SalesService::Stub> stub_;
    int port_ = 0;
};

// A client context with an optional bearer token and a deadline.
inline std::unique_ptr<grpc::ClientContext> as(const char* token = nullptr) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (token != nullptr) {
        context->AddMetadata("authorization", std::string("Bearer ") + token);
    }
    return context;
}

}  // namespace gatehouse::testing
