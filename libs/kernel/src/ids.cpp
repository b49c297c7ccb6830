#include "gatehouse/kernel/ids.h"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace gatehouse::kernel {

std::string new_uuid_v7() {
    static const bool sodium_ready = sodium_init() >= 0;
    if (!sodium_ready) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    std::array<unsigned char, 16> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    const auto millis = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    for (int i = 0; i < 6; ++i) {
        bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>((millis >> (40 - 8 * i)) & 0xFFU);
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0FU) | 0x70U);  // version 7
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3FU) | 0x80U);  // RFC 9562 variant
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    text.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            text.push_back('-');
        }
        text.push_back(kHex[bytes[i] >> 4]);
        text.push_back(kHex[bytes[i] & 0x0FU]);
    }
    return text;
}

}  // namespace gatehouse::kernel
