#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "gatehouse/kernel/event_store.h"

namespace gatehouse::kernel {
namespace {

constexpr std::uint32_t kCastagnoliReversed = 0x82F63B78U;

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1U) ? (crc >> 1) ^ kCastagnoliReversed : crc >> 1;
        }
        table[i] = crc;
    }
    return table;
}
constexpr auto kTable = make_table();

std::uint32_t crc32c_portable(std::string_view data) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const char byte : data) {
        crc = kTable[(crc ^ static_cast<unsigned char>(byte)) & 0xFFU] ^ (crc >> 8);
    }
    return ~crc;
}

#if defined(__x86_64__)
// The SSE 4.2 instruction computes the same CRC-32C eight bytes at a time.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view data) {
    std::uint64_t crc = 0xFFFFFFFFU;
    const char* p = data.data();
    std::size_t left = data.size();
    while (left >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);
        crc = __builtin_ia32_crc32di(crc, word);
        p += 8;
        left -= 8;
    }
    auto crc32 = static_cast<std::uint32_t>(crc);
    while (left-- > 0) {
        crc32 = __builtin_ia32_crc32qi(crc32, static_cast<unsigned char>(*p++));
    }
    return ~crc32;
}
#endif

}  // namespace

std::uint32_t crc32c(std::string_view data) {
#if defined(__x86_64__)
    static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
    if (has_sse42) {
        return crc32c_sse42(data);
    }
#endif
    return crc32c_portable(data);
}

}  // namespace gatehouse::kernel
