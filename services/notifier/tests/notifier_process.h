// The notifier as a real process for tests, with the real SMTP server (aiosmtpd) and a local
// webhook receiver it delivers to, on free loopback ports. Events are produced to its input
// topics as the other services would.
#pragma once

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"
#include "kafka_test_cluster.h"
#include "sinks.h"
#include "temp_dir.h"

namespace gatehouse::testing {

inline constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

inline std::string base64url(const unsigned char* bytes, std::size_t size) {
    std::string text(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(text.data(), text.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text.resize(text.find('\0'));
    return text;
}

class NotifierProcess final {
  public:
    NotifierProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings)
        : kafka_(kafka), settings_(std::move(settings)), prefix_(unique_topic("test") + ".") {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium");
        }
        crypto_box_keypair(public_key_, secret_key_);
        for (const char* topic : {"gatehouse.onboarding.events.v1", "gatehouse.customers.events.v1",
                                  "gatehouse.sales.events.v1", "gatehouse.notifier.events.v1"}) {
            kafka_.create_topic(prefix_ + topic, 3);
        }
        kafka_.create_topic(prefix_ + "gatehouse.notifier.dead-letters.v1", 1);
        start();
    }
    ~NotifierProcess() { stop(); }

    void start(std::map<std::string, std::string> extra = {}) {
        std::vector<std::string> command = {
            "/usr/bin/env",
            "GATEHOUSE_DATA_DIR=" + data_.path().string(),
            "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka_.bootstrap(),
            "GATEHOUSE_KAFKA_PROPERTIES=session.timeout.ms=6000",
            "GATEHOUSE_LOG_LEVEL=warn",
            "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix_,
            "GATEHOUSE_NOTIFIER_PUBLIC_KEY=" + base64url(public_key_, sizeof public_key_),
            "GATEHOUSE_NOTIFIER_SECRET_KEY=" + base64url(secret_key_, sizeof secret_key_),
            "GATEHOUSE_LINKS_BASE_URL=https://shop.example",
            "GATEHOUSE_DELIVERY_POLL_INTERVAL=50ms",
            "GATEHOUSE_DELIVERY_BACKOFF_INITIAL=100ms",
            "GATEHOUSE_DELIVERY_BACKOFF_MAX=400ms",
            std::string("GATEHOUSE_AUTH_TOKENS=") + kOperatorToken + "=operator:olga:olga@ops.example"};
        auto settings = settings_;
        for (auto& [name, value] : extra) {
            settings[name] = value;
        }
        for (const auto& [name, value] : settings) {
            command.push_back(name + "=" + value);
        }
        command.push_back(GATEHOUSE_NOTIFIER_BINARY);
        process_ = std::make_unique<ChildProcess>(command);
        while (auto line = process_->read_line(std::chrono::seconds(60))) {
            if (line->rfind("notifier ready grpc=", 0) == 0) {
                const int port = std::stoi(line->substr(std::string("notifier ready grpc=").size()));
                metrics_port_ = std::stoi(line->substr(line->find("metrics=") + 8));
                stub_ = notifier::v1::NotifierService::NewStub(
                    grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
                return;
            }
        }
        throw std::runtime_error("gatehouse-notifier did not become ready");
    }

    int stop(int signal = SIGTERM) {
        if (!process_) {
            return -1;
        }
        process_->kill(signal);
        const int code = process_->wait();
        process_.reset();
        stub_.reset();
        return code;
    }

    notifier::v1::NotifierService::Stub& api() { return *stub_; }

    // A gauge or counter from the process's /metrics (-1 when unreadable).
    double metric(const std::string& name) const {
        std::string body;
        CURL* curl = curl_easy_init();
        const std::string url = "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics";
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
        curl_easy_setopt(
            curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* out) {
                static_cast<std::string*>(out)->append(data, size * count);
                return size * count;
            });
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        const CURLcode code = curl_easy_perform(curl);
        curl_easy_cleanup(curl);
        if (code != CURLE_OK) {
            return -1;
        }
        for (std::size_t start = 0, end; (end = body.find('\n', start)) != std::string::npos; start = end + 1) {
            const std::string line = body.substr(start, end - start);
            if (line.rfind(name + " ", 0) == 0) {
                return std::stod(line.substr(name.size() + 1));
            }
        }
        return -1;
    }
    [[nodiscard]] std::string topic(const std::string& name) const { return prefix_ + name; }

    // Seals `token` to this notifier's public key, as the issuing services do.
    [[nodiscard]] std::string seal(const std::string& token) const {
        std::string sealed(crypto_box_SEALBYTES + token.size(), '\0');
        crypto_box_seal(reinterpret_cast<unsigned char*>(sealed.data()),
                        reinterpret_cast<const unsigned char*>(token.data()), token.size(), public_key_);
        return sealed;
    }

    // Produces `message` to an input topic as its owning service's relay would.
    template <class Message>
    std::string produce(const std::string& topic, const std::string& aggregate_type, const std::string& aggregate_id,
                        const Message& message) {
        kernel::v1::EventEnvelope envelope;
        envelope.set_event_id(kernel::new_uuid_v7());
        envelope.set_event_type(Message::descriptor()->full_name());
        envelope.set_aggregate_type(aggregate_type);
        envelope.set_aggregate_id(aggregate_id);
        envelope.set_aggregate_version(1);
        envelope.set_producer("test");
        envelope.set_payload(message.SerializeAsString());
        kafka_.produce(prefix_ + topic, aggregate_id, envelope.SerializeAsString());
        return envelope.event_id();
    }

  private:
    KafkaTestCluster& kafka_;
    std::map<std::string, std::string> settings_;
    std::string prefix_;
    TempDir data_;
    unsigned char public_key_[crypto_box_PUBLICKEYBYTES]{};
    unsigned char secret_key_[crypto_box_SECRETKEYBYTES]{};
    std::unique_ptr<ChildProcess> process_;
    std::unique_ptr<notifier::v1::NotifierService::Stub> stub_;
    int metrics_port_ = 0;
};

inline std::unique_ptr<grpc::ClientContext> as_operator() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context->AddMetadata("authorization", std::string("Bearer ") + kOperatorToken);
    return context;
}

}  // namespace gatehouse::testing
