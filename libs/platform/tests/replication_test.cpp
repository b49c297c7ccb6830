// The replication rule's one test suite: what both customers and sales-bridge rely on to converge.
#include "gatehouse/platform/replication.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <optional>
#include <string>

using namespace gatehouse::platform::replication;
namespace common = gatehouse::common::v1;

namespace {

constexpr std::int64_t kHour = 3'600'000'000'000;
constexpr std::int64_t kT0 = 1'780'000'000'000'000'000;  // 2026-05-28

Stamp at(std::int64_t nanos, Side side) { return Stamp{nanos, side}; }

}  // namespace

TEST_CASE("a later change wins, at an equal time customers beats sales, and an equal stamp is no change",
          "[replication]") {
    CHECK(wins(at(kT0, Side::sales), std::nullopt));
    CHECK(wins(at(kT0 + 1, Side::sales), at(kT0, Side::customers)));
    CHECK_FALSE(wins(at(kT0 - 1, Side::customers), at(kT0, Side::sales)));
    CHECK(wins(at(kT0, Side::customers), at(kT0, Side::sales)));
    CHECK_FALSE(wins(at(kT0, Side::sales), at(kT0, Side::customers)));
    // Replaying a change (the same stamp again) applies nothing: both sides stay as they are.
    CHECK_FALSE(wins(at(kT0, Side::sales), at(kT0, Side::sales)));
}

TEST_CASE("a local edit overwrites what its user sees, even when the other side's clock runs ahead", "[replication]") {
    // The CRM's clock is ten hours ahead: HQ's edit now must still replace the CRM's value.
    const std::array stored = {at(kT0 + 10 * kHour, Side::sales), at(kT0 - kHour, Side::customers)};
    const Stamp edit = local_edit_stamp(at(kT0, Side::customers), stored);
    CHECK(edit == at(kT0 + 10 * kHour + 1, Side::customers));
    CHECK(wins(edit, stored[0]));
    // A tie the local side would lose (sales at the time customers wrote) moves past as well.
    const std::array tie = {at(kT0, Side::customers)};
    CHECK(local_edit_stamp(at(kT0, Side::sales), tie) == at(kT0 + 1, Side::sales));
    // A proposal that is already later keeps its time; nothing stored keeps it too.
    const std::array older = {at(kT0 - kHour, Side::sales)};
    CHECK(local_edit_stamp(at(kT0, Side::sales), older) == at(kT0, Side::sales));
    CHECK(local_edit_stamp(at(kT0, Side::sales), {}) == at(kT0, Side::sales));
}

TEST_CASE("both sides converge on the same value whatever order the changes arrive in", "[replication]") {
    struct Change {
        std::string value;
        Stamp stamp;
    };
    std::array<Change, 5> changes = {Change{"hq 1", at(kT0, Side::customers)}, Change{"crm tie", at(kT0, Side::sales)},
                                     Change{"crm later", at(kT0 + 5, Side::sales)},
                                     Change{"hq later, same time", at(kT0 + 5, Side::customers)},
                                     Change{"crm early", at(kT0 - kHour, Side::sales)}};
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.value < b.value; });
    int orders = 0;
    do {
        std::optional<Stamp> stored;
        std::string value;
        for (const auto& change : changes) {
            if (wins(change.stamp, stored)) {
                stored = change.stamp;
                value = change.value;
            }
        }
        CHECK(value == "hq later, same time");
        ++orders;
    } while (std::next_permutation(changes.begin(), changes.end(),
                                   [](const Change& a, const Change& b) { return a.value < b.value; }));
    CHECK(orders == 120);
}

TEST_CASE("a stamp keeps nanoseconds through the event's changed_at, and both sides name origins alike",
          "[replication]") {
    google::protobuf::Timestamp changed_at;
    changed_at.set_seconds(1'780'000'000);
    changed_at.set_nanos(123'456'789);
    const Stamp stamp = stamp_of(changed_at, Side::sales);
    CHECK(stamp.changed_at_nanos == 1'780'000'000'123'456'789);
    const auto back = changed_at_of(Stamp{stamp.changed_at_nanos + 1, Side::sales});
    CHECK(back.seconds() == 1'780'000'000);
    CHECK(back.nanos() == 123'456'790);
    const auto before_epoch = changed_at_of(Stamp{-1, Side::sales});
    CHECK(before_epoch.seconds() == -1);
    CHECK(before_epoch.nanos() == 999'999'999);

    CHECK(side_of(common::CHANGE_ORIGIN_LOCAL, Side::customers) == Side::customers);
    CHECK(side_of(common::CHANGE_ORIGIN_REPLICATED, Side::customers) == Side::sales);
    CHECK(side_of(common::CHANGE_ORIGIN_LOCAL, Side::sales) == Side::sales);
    CHECK(side_of(common::CHANGE_ORIGIN_REPLICATED, Side::sales) == Side::customers);
    CHECK(origin_of(Side::sales, Side::sales) == common::CHANGE_ORIGIN_LOCAL);
    CHECK(origin_of(Side::customers, Side::sales) == common::CHANGE_ORIGIN_REPLICATED);

    CHECK(check_changed_at(google::protobuf::Timestamp{}) == std::optional<std::string>("changed_at: is required"));
    CHECK_FALSE(check_changed_at(changed_at));
}
