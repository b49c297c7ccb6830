// Strong types for the kernel's positions and versions, so that a log position can never be passed
// where an aggregate version is expected (and the other way round).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>

namespace gatehouse::kernel {

// Position of an event in one service's log: 1 for the first event, contiguous, never reused.
struct LogPosition final {
    std::uint64_t value = 0;
    auto operator<=>(const LogPosition&) const = default;
    [[nodiscard]] LogPosition next() const { return LogPosition{value + 1}; }
};

// Version of an aggregate: the number of events in its stream (0 = the stream does not exist yet).
struct StreamVersion final {
    std::uint64_t value = 0;
    auto operator<=>(const StreamVersion&) const = default;
};

// Identifies one aggregate's stream: its type (e.g. "prospect") and its id within that type.
struct StreamId final {
    std::string aggregate_type;
    std::string aggregate_id;
    bool operator==(const StreamId&) const = default;
    [[nodiscard]] std::string to_string() const { return aggregate_type + "/" + aggregate_id; }
};

// What a writer expects the stream's version to be before its append.
struct ExpectedVersion final {
    // Append whatever the current version is (no concurrency check).
    static ExpectedVersion any() { return ExpectedVersion{true, StreamVersion{}}; }
    // The stream must not exist yet.
    static ExpectedVersion no_stream() { return ExpectedVersion{false, StreamVersion{0}}; }
    static ExpectedVersion exactly(StreamVersion version) { return ExpectedVersion{false, version}; }

    bool is_any = true;
    StreamVersion version{};
};

}  // namespace gatehouse::kernel
