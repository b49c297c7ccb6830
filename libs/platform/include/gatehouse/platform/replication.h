// The replication rule (docs/replication.md), written once for both services that implement it:
// customers (commerce, HQ) and sales-bridge (the CRM). Every replicated field carries the stamp
// (changed_at, side) of the change that set it. An incoming change to a field is applied only when
// its stamp is greater (rule 2): later changed_at wins, and at an equal changed_at the customers
// side beats sales. A local edit overwrites the value its user sees, even when the other side's
// clock runs ahead: its stamp moves just past the stored ones (rule 4), and is published so, so
// that the other side orders it the same way. Both services order the same changes the same way,
// so they converge whatever the delivery order. Pure functions, safe from any thread.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "gatehouse/common/v1/common.pb.h"

namespace gatehouse::platform::replication {

// Which side made a change, in the order that breaks a tie of changed_at. none: never changed.
enum class Side : int { none = 0, sales = 1, customers = 2 };

// When and where the value of one field was last set.
struct Stamp final {
    std::int64_t changed_at_nanos = 0;  // since the Unix epoch
    Side side = Side::none;
    // changed_at first, then side (the members' order).
    auto operator<=>(const Stamp&) const = default;
};

// The stamp of an event's or command's changed_at, made on `side`.
[[nodiscard]] Stamp stamp_of(const google::protobuf::Timestamp& changed_at, Side side);
// The changed_at an event publishes for a stamp (nanosecond precision: nothing is rounded away).
[[nodiscard]] google::protobuf::Timestamp changed_at_of(const Stamp& stamp);

// The side that made an event, read by the service of side `home`: LOCAL is home, REPLICATED the
// other side. And back: the origin an event of `side` carries in home's log.
[[nodiscard]] Side side_of(common::v1::ChangeOrigin origin, Side home);
[[nodiscard]] common::v1::ChangeOrigin origin_of(Side side, Side home);

// Rule 2: a change with stamp `incoming` replaces the value stored with `stored` (none: never set).
[[nodiscard]] bool wins(const Stamp& incoming, const std::optional<Stamp>& stored);

// Rule 4: the stamp of a local edit proposed at `proposed` of fields stored with `stored`: the
// proposal, or one nanosecond past the greatest stored changed_at when that is not earlier (the
// local side then wins even a tie it would lose).
[[nodiscard]] Stamp local_edit_stamp(const Stamp& proposed, std::span<const Stamp> stored);

// Both sides require a change to say when it was made: "changed_at: is required", or nothing.
[[nodiscard]] std::optional<std::string> check_changed_at(const google::protobuf::Timestamp& changed_at);

}  // namespace gatehouse::platform::replication
