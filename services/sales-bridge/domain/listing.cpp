#include "domain/listing.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace gatehouse::sales {

std::int64_t nanos_of(const google::protobuf::Timestamp& at) {
    return google::protobuf::util::TimeUtil::TimestampToNanoseconds(at);
}

kernel::IndexKey& append_position(kernel::IndexKey& key, std::int64_t created_nanos, std::string_view id) {
    return key.i64_descending(created_nanos).text_descending(id);
}

std::string resume_cursor(const Listing& listing, std::int64_t created_nanos, std::string_view id) {
    kernel::IndexKey key = listing.prefix;
    append_position(key, created_nanos, id);
    return kernel::index_layout::cursor_of(key, id);  // the row itself
}

std::string lower_ascii(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return lower;
}

std::string search_text(std::string_view first_field, std::string_view second_field) {
    // Length-prefixed, so that any bytes may occur in either field.
    return std::to_string(first_field.size()) + ":" + lower_ascii(first_field) + lower_ascii(second_field);
}

bool search_text_contains(std::string_view stored, std::string_view lowered) {
    const auto colon = stored.find(':');
    std::size_t first_size = 0;
    if (colon == std::string_view::npos || colon == 0) {
        return false;
    }
    for (const char c : stored.substr(0, colon)) {
        if (c < '0' || c > '9' || first_size > stored.size()) {
            return false;
        }
        first_size = first_size * 10 + static_cast<std::size_t>(c - '0');
    }
    const std::string_view fields = stored.substr(colon + 1);
    if (first_size > fields.size()) {
        return false;
    }
    return fields.substr(0, first_size).find(lowered) != std::string_view::npos ||
           fields.substr(first_size).find(lowered) != std::string_view::npos;
}

}  // namespace gatehouse::sales
