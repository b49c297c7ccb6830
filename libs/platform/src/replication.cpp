#include "gatehouse/platform/replication.h"

#include <algorithm>

namespace gatehouse::platform::replication {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

Stamp stamp_of(const google::protobuf::Timestamp& changed_at, Side side) {
    return Stamp{changed_at.seconds() * kNanosPerSecond + changed_at.nanos(), side};
}

google::protobuf::Timestamp changed_at_of(const Stamp& stamp) {
    google::protobuf::Timestamp at;
    // Floor division: a time before the epoch keeps nanos in [0, 1e9) as Timestamp requires.
    std::int64_t seconds = stamp.changed_at_nanos / kNanosPerSecond;
    std::int64_t nanos = stamp.changed_at_nanos % kNanosPerSecond;
    if (nanos < 0) {
        nanos += kNanosPerSecond;
        --seconds;
    }
    at.set_seconds(seconds);
    at.set_nanos(static_cast<std::int32_t>(nanos));
    return at;
}

Side side_of(common::v1::ChangeOrigin origin, Side home) {
    if (origin != common::v1::CHANGE_ORIGIN_REPLICATED) {
        return home;
    }
    return home == Side::customers ? Side::sales : Side::customers;
}

common::v1::ChangeOrigin origin_of(Side side, Side home) {
    return side == home ? common::v1::CHANGE_ORIGIN_LOCAL : common::v1::CHANGE_ORIGIN_REPLICATED;
}

bool wins(const Stamp& incoming, const std::optional<Stamp>& stored) { return !stored || *stored < incoming; }

Stamp local_edit_stamp(const Stamp& proposed, std::span<const Stamp> stored) {
    Stamp result = proposed;
    for (const Stamp& previous : stored) {
        if (!(previous < result)) {
            result.changed_at_nanos = std::max(result.changed_at_nanos, previous.changed_at_nanos + 1);
        }
    }
    return result;
}

std::optional<std::string> check_changed_at(const google::protobuf::Timestamp& changed_at) {
    if (changed_at.seconds() <= 0 && changed_at.nanos() <= 0) {
        return "changed_at: is required";
    }
    return std::nullopt;
}

}  // namespace gatehouse::platform::replication
