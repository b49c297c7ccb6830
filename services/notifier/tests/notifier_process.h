// The notifier as a real process for tests, with the real SMTP server (aiosmtpd) and a local
// webhook receiver it delivers to, on free loopback ports. Events are produced to its input
// topics as the other services would.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <google/protobuf/util/time_util.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"
#include "gatehouse/platform/topics.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_process.h"
#include "gatehouse/testing/sinks.h"

namespace gatehouse::testing {

inline constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

class NotifierProcess final {
  public:
    NotifierProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings)
        : kafka_(kafka), prefix_(unique_topic("test") + ".") {
        for (const char* topic : {"gatehouse.onboarding.events.v1", "gatehouse.customers.events.v1",
                                  "gatehouse.sales.events.v1", "gatehouse.notifier.events.v1"}) {
            kafka_.create_topic(prefix_ + topic, 3);
        }
        kafka_.create_topic(prefix_ + "gatehouse.notifier.dead-letters.v1", 1);
        settings.try_emplace("GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", kafka_.bootstrap());
        settings.try_emplace("GATEHOUSE_KAFKA_PROPERTIES", kafka_.client_properties());
        settings.try_emplace("GATEHOUSE_LOG_LEVEL", "warn");
        settings.try_emplace("GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix_);
        settings.try_emplace("GATEHOUSE_NOTIFIER_PUBLIC_KEY", keys_.public_text());
        settings.try_emplace("GATEHOUSE_NOTIFIER_SECRET_KEY", keys_.secret_text());
        settings.try_emplace("GATEHOUSE_LINKS_BASE_URL", "https://shop.example");
        settings.try_emplace("GATEHOUSE_DELIVERY_POLL_INTERVAL", "50ms");
        settings.try_emplace("GATEHOUSE_DELIVERY_BACKOFF_INITIAL", "100ms");
        settings.try_emplace("GATEHOUSE_DELIVERY_BACKOFF_MAX", "400ms");
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kOperatorToken) + "=operator:olga:olga@ops.example");
        process_ = std::make_unique<ServiceProcess>("notifier", GATEHOUSE_NOTIFIER_BINARY, std::move(settings));
        start();
    }

    void start(const std::map<std::string, std::string>& extra = {}) {
        process_->start(extra);
        stub_ = notifier::v1::NotifierService::NewStub(process_->channel());
    }
    int stop(int signal = SIGTERM) {
        stub_.reset();
        return process_->stop(signal);
    }

    notifier::v1::NotifierService::Stub& api() { return *stub_; }
    // "127.0.0.1:<gRPC port>", e.g. for the CLI's --notifier.
    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(process_->grpc_port()); }

    // A gauge or counter from the process's /metrics (-1 when unreadable).
    [[nodiscard]] double metric(const std::string& name) const { return process_->metric(name); }

    // Seals `token` to this notifier's public key, as the issuing services do.
    [[nodiscard]] std::string seal(const std::string& token) const { return keys_.seal(token); }

    // Produces `message` to an input topic as its owning service's relay would (as the
    // aggregate's `version`th event).
    template <class Message>
    std::string produce(const std::string& topic, const std::string& aggregate_type, const std::string& aggregate_id,
                        const Message& message, std::uint64_t version = 1) {
        kernel::v1::EventEnvelope envelope;
        envelope.set_event_id(kernel::new_uuid_v7());
        envelope.set_event_type(Message::descriptor()->full_name());
        envelope.set_aggregate_type(aggregate_type);
        envelope.set_aggregate_id(aggregate_id);
        envelope.set_aggregate_version(version);
        *envelope.mutable_occurred_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
        envelope.set_producer(producer_of(topic));
        envelope.set_payload(message.SerializeAsString());
        kafka_.produce(prefix_ + topic, aggregate_id, envelope.SerializeAsString());
        return envelope.event_id();
    }

  private:
    // The service that owns `topic`: the notifier dead-letters events that name another.
    static std::string producer_of(const std::string& topic) {
        for (const auto& owned : {platform::kOnboardingEvents, platform::kCustomersEvents, platform::kSalesEvents,
                                  platform::kNotifierEvents}) {
            if (topic == owned.name) {
                return owned.producer;
            }
        }
        return "unknown";
    }

    KafkaTestCluster& kafka_;
    std::string prefix_;
    NotifierKeys keys_;
    std::unique_ptr<ServiceProcess> process_;
    std::unique_ptr<notifier::v1::NotifierService::Stub> stub_;
};

inline std::unique_ptr<grpc::ClientContext> as_operator() { return call_as(kOperatorToken); }

}  // namespace gatehouse::testing
