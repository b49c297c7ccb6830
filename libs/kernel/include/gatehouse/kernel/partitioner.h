// The partition of an aggregate: the one Kafka's default (Java) partitioner picks for its id,
// murmur2 of the key, so that Gatehouse, Java clients and Kafka Streams agree on it. The kernel
// keeps this visible so that a later scale-out (one writer per partition) needs no new mapping.
#pragma once

#include <cstdint>
#include <string_view>

namespace gatehouse::kernel {

// Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit value.
std::int32_t kafka_murmur2(std::string_view key);
// (murmur2(key) & 0x7fffffff) % partition_count, as Kafka's default partitioner does.
std::int32_t partition_for(std::string_view key, std::int32_t partition_count);

}  // namespace gatehouse::kernel
