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

// The CloudEvents Kafka protocol binding, binary content mode (CloudEvents 1.0.2), set by the
// relay beside the gatehouse.* headers so that a consumer knowing only CloudEvents can route and
// deduplicate. The record value stays the EventEnvelope (the event's `data`); ce_type names the
// payload inside it. docs/events.md shows both views of one record.
namespace cloudevents {
inline constexpr const char* kSpecVersion = "ce_specversion";  // always "1.0"
inline constexpr const char* kId = "ce_id";                    // the envelope's event_id
inline constexpr const char* kSource = "ce_source";            // "/gatehouse/<producing service>"
inline constexpr const char* kType = "ce_type";                // the payload's full Protobuf name
inline constexpr const char* kTime = "ce_time";                // occurred_at, RFC 3339 in UTC
inline constexpr const char* kSubject = "ce_subject";          // the aggregate id
inline constexpr const char* kDataSchema = "ce_dataschema";    // names the envelope message
inline constexpr const char* kContentType = "content-type";    // the binding maps datacontenttype here
inline constexpr const char* kSpecVersionValue = "1.0";
inline constexpr const char* kContentTypeValue = "application/protobuf";
inline constexpr const char* kDataSchemaValue = "urn:gatehouse:protobuf:gatehouse.kernel.v1.EventEnvelope";
inline constexpr const char* kSourcePrefix = "/gatehouse/";
}  // namespace cloudevents
}  // namespace headers

}  // namespace gatehouse::kernel
