// What the lead and opportunity lists share: the order of their indexes and where a page resumes.
//
// Every list index of the sales read models (lead_read_model.h, opportunity_read_model.h) orders
// its rows newest first by creation time and, at equal times, larger id first — the order the
// lists have always had. A row's key is the list's filters (a prefix) followed by that position,
// so a page is a prefix scan that resumes after the previous page's last row (keyset paging:
// O(log n + page) whatever the history), and the size of every filtered range is a counter.
// Pure, no I/O.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gatehouse/kernel/read_model.h"

namespace gatehouse::sales {

// One filtered list: the index it reads, the key prefix of the range its filters select, and the
// read model counter that holds how many rows that range has (a list's `total`).
struct Listing final {
    std::string index;
    kernel::IndexKey prefix;
    std::string counter;
};

// Nanoseconds since the epoch (the position's time).
std::int64_t nanos_of(const google::protobuf::Timestamp& at);

// Appends a row's position to `key`: newest first by `created_nanos`, then larger `id` first.
kernel::IndexKey& append_position(kernel::IndexKey& key, std::int64_t created_nanos, std::string_view id);

// The cursor after which a page of `listing` resumes when the previous page ended with the row
// (created_nanos, id): the rows strictly after that position, whether or not such a row exists.
std::string resume_cursor(const Listing& listing, std::int64_t created_nanos, std::string_view id);

// ASCII lower case (what the lists' `text` filter compares).
std::string lower_ascii(std::string_view text);

// The text a `text` filter searches, as stored in an index entry's value: the lower-cased
// fields, each searched on its own (a match never spans two fields).
std::string search_text(std::string_view first_field, std::string_view second_field);
// Whether `lowered` (lower-cased) occurs in either field of a search_text value.
bool search_text_contains(std::string_view stored, std::string_view lowered);

}  // namespace gatehouse::sales
