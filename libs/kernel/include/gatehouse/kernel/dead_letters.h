// A service's dead-letter topic, read back for operators: every record from the beginning up to
// the end offsets at the time of the call, and each turned back into the record it was on its
// origin topic (for InboxConsumer::redeliver()). See docs/events.md "Dead letters".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/kafka_settings.h"

namespace gatehouse::kernel {

struct DeadLetterRecord final {
    // Where it is on the dead-letter topic.
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;  // including gatehouse.dlq.*

    // The first value of header `name`, or "" without one.
    [[nodiscard]] std::string header(const std::string& name) const;
    // The record as it was read from its origin topic (topic, partition, offset from the
    // gatehouse.dlq.origin-* headers; those headers removed). Empty topic if the headers are missing.
    [[nodiscard]] InboundRecord origin() const;
};

// Reads `topic` from its beginning up to its end offsets now, oldest first per partition, without
// a consumer group that commits. Empty if the topic does not exist. Throws TransientError if the
// records cannot be read within `timeout`.
std::vector<DeadLetterRecord> read_dead_letters(const KafkaSettings& settings, const std::string& topic,
                                                std::chrono::milliseconds timeout);

}  // namespace gatehouse::kernel
