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
#include "gatehouse/testing/service_under_test.h"
#include "gatehouse/testing/sinks.h"

namespace gatehouse::testing {

inline constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

class NotifierProcess final : public ServiceUnderTest<notifier::v1::NotifierService> {
  public:
    NotifierProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings)
        : ServiceUnderTest(kafka, "notifier", GATEHOUSE_NOTIFIER_BINARY,
                           {"gatehouse.onboarding.events.v1", "gatehouse.customers.events.v1",
                            "gatehouse.sales.events.v1", "gatehouse.notifier.events.v1"},
                           with_defaults(std::move(settings)), NotifierKey::key_pair) {}

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
        kafka().produce(this->topic(topic), aggregate_id, envelope.SerializeAsString());
        return envelope.event_id();
    }

  private:
    static std::map<std::string, std::string> with_defaults(std::map<std::string, std::string> settings) {
        settings.try_emplace("GATEHOUSE_LINKS_BASE_URL", "https://shop.example");
        settings.try_emplace("GATEHOUSE_DELIVERY_POLL_INTERVAL", "50ms");
        settings.try_emplace("GATEHOUSE_DELIVERY_BACKOFF_INITIAL", "100ms");
        settings.try_emplace("GATEHOUSE_DELIVERY_BACKOFF_MAX", "400ms");
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kOperatorToken) + "=operator:olga:olga@ops.example");
        return settings;
    }

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
};

inline std::unique_ptr<grpc::ClientContext> as_operator() { return call_as(kOperatorToken); }

}  // namespace gatehouse::testing
