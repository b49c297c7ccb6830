// Given events / when a command / then events (or a rejection), for any decider (kernel/decider.h).
// What every service's domain tests are written with:
//
//   const auto state = given<Prospect>({submitted_event()});
//   CHECK(then_events(Prospect::decide(VerifyEmail{...}, state)).size() == 1);
//   CHECK(then_rejected<Lead>({created}, Qualify{...}).code == RejectionCode::failed_precondition);
//
// A rejection where events were expected fails the test with the rejection's message, and the
// other way round. Header-only, for Catch2 test cases.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <variant>
#include <vector>

#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::testing {

// A fixed instant for tests that need "now" (2025-11-24T16:00:00Z): results never depend on the clock.
inline const std::chrono::system_clock::time_point kNow = std::chrono::system_clock::from_time_t(1'764'000'000);

// `events` applied to `state`, in order.
template <kernel::Decider D>
typename D::State evolved(typename D::State state, const std::vector<typename D::Event>& events) {
    for (const auto& event : events) {
        state = D::evolve(std::move(state), event);
    }
    return state;
}

// The state after `history`, from the decider's initial state.
template <kernel::Decider D>
typename D::State given(const std::vector<typename D::Event>& history) {
    return evolved<D>(D::initial(), history);
}

// The events of an accepted decision; a rejection fails the test with its message.
template <class Event>
std::vector<Event> then_events(const kernel::Decision<Event>& decision) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&decision)) {
        FAIL("rejected: " << rejection->message);
    }
    return std::get<std::vector<Event>>(decision);
}

// The rejection of a refused decision; accepted events fail the test.
template <class Event>
kernel::Rejection then_rejected(const kernel::Decision<Event>& decision) {
    REQUIRE(std::holds_alternative<kernel::Rejection>(decision));
    return std::get<kernel::Rejection>(decision);
}

// Given `history`, when `command`: the events.
template <kernel::Decider D>
std::vector<typename D::Event> then_events(const std::vector<typename D::Event>& history,
                                           const typename D::Command& command) {
    return then_events(D::decide(command, given<D>(history)));
}

// Given `history`, when `command`: the rejection.
template <kernel::Decider D>
kernel::Rejection then_rejected(const std::vector<typename D::Event>& history, const typename D::Command& command) {
    return then_rejected(D::decide(command, given<D>(history)));
}

// A time as the events carry it.
inline google::protobuf::Timestamp stamp(std::chrono::system_clock::time_point time) {
    return kernel::to_timestamp(time);
}

}  // namespace gatehouse::testing
