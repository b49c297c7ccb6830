// The customers service as a real process for API tests: its own data directory and topic prefix,
// Kafka (mock or real, see KafkaTestCluster), a notifier key pair the test holds (to open the
// sealed invitation tokens as the notifier would), and staff bearer tokens.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>

#include "child_process.h"
#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "kafka_test_cluster.h"
#include "temp_dir.h"

namespace gatehouse::testing {

inline constexpr const char* kHqToken = "hq-token-0123456789abcdef";
inline constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

class CustomersProcess final {
  public:
    explicit CustomersProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : kafka_(kafka), settings_(std::move(settings)), prefix_(unique_topic("test") + ".") {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium");
        }
        crypto_box_keypair(public_key_, secret_key_);
        kafka_.create_topic(customers_topic(), 3);
        kafka_.create_topic(onboarding_topic(), 3);
        kafka_.create_topic(sales_topic(), 3);
        kafka_.create_topic(prefix_ + "gatehouse.customers.dead-letters.v1", 1);
        start();
    }
    ~CustomersProcess() { stop(); }

    void start() {
        char key[64];
        sodium_bin2base64(key, sizeof key, public_key_, sizeof public_key_, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        std::vector<std::string> command = {"/usr/bin/env",
                                            "GATEHOUSE_DATA_DIR=" + data_.path().string(),
                                            "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka_.bootstrap(),
                                            "GATEHOUSE_KAFKA_PROPERTIES=session.timeout.ms=6000",
                                            "GATEHOUSE_LOG_LEVEL=warn",
                                            "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix_,
                                            std::string("GATEHOUSE_NOTIFIER_PUBLIC_KEY=") + key,
                                            std::string("GATEHOUSE_AUTH_TOKENS=") + kHqToken +
                                                "=hq:alice:alice@hq.example," + kOperatorToken +
                                                "=operator:olga:olga@hq.example"};
        for (const auto& [name, value] : settings_) {
            command.push_back(name + "=" + value);
        }
        command.push_back(GATEHOUSE_CUSTOMERS_BINARY);
        process_ = std::make_unique<ChildProcess>(command);
        while (auto line = process_->read_line(std::chrono::seconds(60))) {
            if (line->rfind("customers ready grpc=", 0) == 0) {
                const int port = std::stoi(line->substr(std::string("customers ready grpc=").size()));
                stub_ = customers::v1::CustomersService::NewStub(
                    grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
                return;
            }
        }
        throw std::runtime_error("gatehouse-customers did not become ready");
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

    customers::v1::CustomersService::Stub& api() { return *stub_; }
    [[nodiscard]] std::string customers_topic() const { return prefix_ + "gatehouse.customers.events.v1"; }
    [[nodiscard]] std::string onboarding_topic() const { return prefix_ + "gatehouse.onboarding.events.v1"; }
    [[nodiscard]] std::string sales_topic() const { return prefix_ + "gatehouse.sales.events.v1"; }

    // Opens a token sealed for the notifier, as the notifier will.
    std::string unseal(const std::string& sealed) const {
        if (sealed.size() < crypto_box_SEALBYTES) {
            return {};
        }
        std::string token(sealed.size() - crypto_box_SEALBYTES, '\0');
        if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(token.data()),
                                 reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(), public_key_,
                                 secret_key_) != 0) {
            return {};
        }
        return token;
    }

  private:
    KafkaTestCluster& kafka_;
    std::map<std::string, std::string> settings_;
    std::string prefix_;
    TempDir data_;
    unsigned char public_key_[crypto_box_PUBLICKEYBYTES]{};
    unsigned char secret_key_[crypto_box_SECRETKEYBYTES]{};
    std::unique_ptr<ChildProcess> process_;
    std::unique_ptr<customers::v1::CustomersService::Stub> stub_;
};

// A client context with an optional bearer token and a deadline.
inline std::unique_ptr<grpc::ClientContext> as(const std::string& token = {}) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) {
        context->AddMetadata("authorization", "Bearer " + token);
    }
    return context;
}

}  // namespace gatehouse::testing
