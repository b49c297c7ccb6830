// How a Gatehouse process reaches Kafka: the bootstrap servers plus any librdkafka property
// (security.protocol, sasl.*, ssl.* for SASL / TLS), shared by the relay and the inbox.
#pragma once

#include <map>
#include <string>

namespace gatehouse::kernel {

struct KafkaSettings final {
    std::string bootstrap_servers = "127.0.0.1:9092";
    std::string client_id = "gatehouse";
    // Extra librdkafka properties, applied last; a bad one stops start-up naming the property.
    std::map<std::string, std::string> properties;
};

// Standard Kafka header names set by the relay on every event record.
namespace headers {
inline constexpr const char* kEventType = "gatehouse.event-type";
inline constexpr const char* kEventId = "gatehouse.event-id";
inline constexpr const char* kAggregateType = "gatehouse.aggregate-type";
inline constexpr const char* kLogPosition = "gatehouse.log-position";  // decimal text
inline constexpr const char* kLogId = "gatehouse.log-id";              // which log the position is in
// Set on dead letters.
inline constexpr const char* kDeadLetterReason = "gatehouse.dlq.reason";
inline constexpr const char* kDeadLetterTopic = "gatehouse.dlq.origin-topic";
inline constexpr const char* kDeadLetterPartition = "gatehouse.dlq.origin-partition";
inline constexpr const char* kDeadLetterOffset = "gatehouse.dlq.origin-offset";
inline constexpr const char* kDeadLetterTime = "gatehouse.dlq.time";
inline constexpr const char* kDeadLetterConsumer = "gatehouse.dlq.consumer";
}  // namespace headers

}  // namespace gatehouse::kernel
