// Internal: the one place where RocksDB statuses are checked, and the big-endian key encoding
// that keeps positions and versions sorted in RocksDB's byte order.
#pragma once

#include <rocksdb/status.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel::rocks {

inline void check(const rocksdb::Status& status, const std::string& what) {
    if (!status.ok()) {
        if (status.IsCorruption()) {
            throw CorruptRecordError("RocksDB reports corruption during " + what + ": " + status.ToString());
        }
        throw StoreError("RocksDB failed to " + what + ": " + status.ToString());
    }
}

inline void append_big_endian(std::string& out, std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xFF));
    }
}

inline std::string big_endian_key(std::uint64_t value) {
    std::string key;
    key.reserve(8);
    append_big_endian(key, value);
    return key;
}

// Reads the last 8 bytes of `bytes` as a big-endian number.
inline std::uint64_t read_big_endian(std::string_view bytes) {
    if (bytes.size() < 8) {
        throw CorruptRecordError("a stored number is shorter than 8 bytes");
    }
    bytes = bytes.substr(bytes.size() - 8);
    std::uint64_t value = 0;
    for (const char byte : bytes) {
        value = (value << 8) | static_cast<unsigned char>(byte);
    }
    return value;
}

}  // namespace gatehouse::kernel::rocks
