#include "gatehouse/kernel/partitioner.h"

#include <stdexcept>

namespace gatehouse::kernel {

std::int32_t kafka_murmur2(std::string_view key) {
    constexpr std::uint32_t kSeed = 0x9747b28cU;
    constexpr std::uint32_t kMultiplier = 0x5bd1e995U;
    constexpr int kShift = 24;
    const auto* data = reinterpret_cast<const unsigned char*>(key.data());
    const auto length = static_cast<std::uint32_t>(key.size());
    std::uint32_t hash = kSeed ^ length;
    const std::uint32_t words = length / 4;
    for (std::uint32_t i = 0; i < words; ++i) {
        const unsigned char* word = data + 4 * i;
        std::uint32_t k = static_cast<std::uint32_t>(word[0]) | (static_cast<std::uint32_t>(word[1]) << 8) |
                          (static_cast<std::uint32_t>(word[2]) << 16) | (static_cast<std::uint32_t>(word[3]) << 24);
        k *= kMultiplier;
        k ^= k >> kShift;
        k *= kMultiplier;
        hash *= kMultiplier;
        hash ^= k;
    }
    const unsigned char* tail = data + 4 * words;
    switch (length % 4) {
        case 3:
            hash ^= static_cast<std::uint32_t>(tail[2]) << 16;
            [[fallthrough]];
        case 2:
            hash ^= static_cast<std::uint32_t>(tail[1]) << 8;
            [[fallthrough]];
        case 1:
            hash ^= static_cast<std::uint32_t>(tail[0]);
            hash *= kMultiplier;
            break;
        default:
            break;
    }
    hash ^= hash >> 13;
    hash *= kMultiplier;
    hash ^= hash >> 15;
    return static_cast<std::int32_t>(hash);
}

std::int32_t partition_for(std::string_view key, std::int32_t partition_count) {
    if (partition_count <= 0) {
        throw std::invalid_argument("a topic has at least one partition");
    }
    return (kafka_murmur2(key) & 0x7fffffff) % partition_count;
}

}  // namespace gatehouse::kernel
