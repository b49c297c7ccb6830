#include "gatehouse/kernel/read_model.h"

#include <algorithm>
#include <stdexcept>

#include "rocks_helpers.h"

namespace gatehouse::kernel {
namespace {

// Text segments: NUL is written as NUL 0xFF and the segment ends with NUL 0x01, so that segments
// keep their byte order and a shorter one sorts before any longer one it begins.
constexpr char kEscape = '\0';
constexpr char kEscapedNul = '\xff';
constexpr char kTerminator = '\x01';

void check_name(std::string_view name, const char* what) {
    if (name.empty() || name.find('\0') != std::string_view::npos) {
        throw std::invalid_argument(std::string(what) + " must be non-empty and must not contain NUL");
    }
}

}  // namespace

IndexKey& IndexKey::text(std::string_view value) {
    for (const char c : value) {
        bytes_.push_back(c);
        if (c == kEscape) {
            bytes_.push_back(kEscapedNul);
        }
    }
    bytes_.push_back(kEscape);
    bytes_.push_back(kTerminator);
    return *this;
}

IndexKey& IndexKey::text_descending(std::string_view utf8) {
    // Each byte b becomes 0xFE - b (UTF-8 has no byte 0xFE or 0xFF, so the mapping is one to one)
    // and the end becomes 0xFF, which sorts after every mapped byte: a longer string sorts before
    // a string it begins with, as a descending comparison wants.
    std::string mapped;
    mapped.reserve(utf8.size() + 1);
    for (const char c : utf8) {
        const auto byte = std::min<unsigned>(static_cast<unsigned char>(c), 0xFEU);
        mapped.push_back(static_cast<char>(0xFEU - byte));
    }
    mapped.push_back('\xff');
    return text(mapped);
}

IndexKey& IndexKey::u64(std::uint64_t value) {
    rocks::append_big_endian(bytes_, value);
    return *this;
}

IndexKey& IndexKey::i64(std::int64_t value) {
    rocks::append_big_endian(bytes_, static_cast<std::uint64_t>(value) ^ (std::uint64_t{1} << 63));
    return *this;
}

IndexKey& IndexKey::i64_descending(std::int64_t value) {
    rocks::append_big_endian(bytes_, ~(static_cast<std::uint64_t>(value) ^ (std::uint64_t{1} << 63)));
    return *this;
}

IndexKey IndexKey::prefix_end() const {
    IndexKey end = *this;
    while (!end.bytes_.empty() && static_cast<unsigned char>(end.bytes_.back()) == 0xFF) {
        end.bytes_.pop_back();
    }
    if (end.bytes_.empty()) {
        throw std::invalid_argument("a key of only 0xFF bytes has no end");
    }
    end.bytes_.back() = static_cast<char>(static_cast<unsigned char>(end.bytes_.back()) + 1);
    return end;
}

void IndexEntries::add(std::string_view index, const IndexKey& key, std::string value) {
    check_name(index, "an index name");
    std::string stored(index);
    stored.push_back('\0');
    stored += index_layout::cursor_of(key, aggregate_id_);  // the id: unique per aggregate, and the tie-break
    entries_.insert_or_assign(std::move(stored), index_layout::encode_value(aggregate_id_, value));
}

void IndexEntries::count(std::string_view counter) {
    check_name(counter, "a counter name");
    ++counters_[std::string(counter)];
}

namespace index_layout {

std::string model_prefix(std::string_view aggregate_type) {
    check_name(aggregate_type, "an aggregate type");
    std::string prefix(aggregate_type);
    prefix.push_back('\0');
    return prefix;
}

std::string index_prefix(std::string_view aggregate_type, std::string_view index) {
    check_name(index, "an index name");
    std::string prefix = model_prefix(aggregate_type);
    prefix += index;
    prefix.push_back('\0');
    return prefix;
}

std::string cursor_of(const IndexKey& key, std::string_view aggregate_id) {
    return key.bytes() + IndexKey().text(aggregate_id).bytes();
}

std::string encode_value(std::string_view aggregate_id, std::string_view value) {
    std::string stored(aggregate_id);
    stored.push_back('\0');
    stored += value;
    return stored;
}

bool decode_value(std::string_view stored, std::string& aggregate_id, std::string& value) {
    const auto separator = stored.find('\0');
    if (separator == std::string_view::npos) {
        return false;
    }
    aggregate_id.assign(stored.substr(0, separator));
    value.assign(stored.substr(separator + 1));
    return true;
}

IndexChanges diff(std::string_view aggregate_type, const IndexEntries* before, const IndexEntries* after) {
    static const IndexEntries kNone;
    const IndexEntries& old_entries = before != nullptr ? *before : kNone;
    const IndexEntries& new_entries = after != nullptr ? *after : kNone;
    const std::string prefix = model_prefix(aggregate_type);
    IndexChanges changes;
    for (const auto& [key, value] : old_entries.entries()) {
        if (!new_entries.entries().contains(key)) {
            changes.deletes.push_back(prefix + key);
        }
    }
    for (const auto& [key, value] : new_entries.entries()) {
        const auto old = old_entries.entries().find(key);
        if (old == old_entries.entries().end() || old->second != value) {
            changes.puts.emplace_back(prefix + key, value);
        }
    }
    std::map<std::string, std::int64_t> deltas;
    for (const auto& [counter, n] : old_entries.counters()) {
        deltas[counter] -= n;
    }
    for (const auto& [counter, n] : new_entries.counters()) {
        deltas[counter] += n;
    }
    for (const auto& [counter, delta] : deltas) {
        if (delta != 0) {
            changes.counter_deltas.emplace_back(prefix + counter, delta);
        }
    }
    return changes;
}

std::string cursor_to_token(std::string_view cursor) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token;
    token.reserve(cursor.size() * 2);
    for (const char c : cursor) {
        const auto byte = static_cast<unsigned char>(c);
        token.push_back(kHex[byte >> 4]);
        token.push_back(kHex[byte & 0xF]);
    }
    return token;
}

std::optional<std::string> token_to_cursor(std::string_view token) {
    constexpr std::size_t kMaxTokenLength = 4096;
    if (token.size() % 2 != 0 || token.size() > kMaxTokenLength) {
        return std::nullopt;
    }
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    };
    std::string cursor;
    cursor.reserve(token.size() / 2);
    for (std::size_t i = 0; i < token.size(); i += 2) {
        const int high = nibble(token[i]);
        const int low = nibble(token[i + 1]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        cursor.push_back(static_cast<char>((high << 4) | low));
    }
    return cursor;
}

}  // namespace index_layout
}  // namespace gatehouse::kernel
