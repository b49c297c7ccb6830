// How every list RPC reads its page request, so that the four services page alike: a page size of
// 0 means kDefaultPageSize, 1 to kMaxPageSize are accepted, anything else is refused (never
// silently clamped); a page token is empty (the first page) or exactly what the previous page's
// next_page_token said: a read-model cursor as printable text (kernel::index_layout). Tokens are
// opaque to clients and not stable across a rebuild of the read model's keys. Pure, any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace gatehouse::platform {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

struct PageRequest final {
    std::size_t size = kDefaultPageSize;
    // The read-model cursor to start after; empty: from the first entry.
    std::string after;
};

// The request, or the problem as "field: rule" ("page_size: must be between 1 and 500",
// "page_token: is not a token from a previous page") for an INVALID_ARGUMENT.
std::variant<PageRequest, std::string> read_page_request(int page_size, std::string_view page_token);

// The next_page_token of a page whose last entry has read-model cursor `last_cursor`.
std::string next_page_token(std::string_view last_cursor);

}  // namespace gatehouse::platform
