// Given events / when command / then events (or a rejection), for any of the sales deciders.
#pragma once

#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include <variant>
#include <vector>

#include "gatehouse/kernel/decider.h"

namespace gatehouse::sales::testing {

inline const std::chrono::system_clock::time_point kNow = std::chrono::system_clock::from_time_t(1'764'000'000);

template <class D>
typename D::State given(const std::vector<typename D::Event>& history) {
    typename D::State state = D::initial();
    for (const auto& event : history) {
        state = D::evolve(std::move(state), event);
    }
    return state;
}

template <class D>
std::vector<typename D::Event> then_events(const std::vector<typename D::Event>& history,
                                           const typename D::Command& command) {
    const auto decision = D::decide(command, given<D>(history));
    if (const auto* rejection = std::get_if<kernel::Rejection>(&decision)) {
        FAIL("rejected: " << rejection->message);
    }
    return std::get<std::vector<typename D::Event>>(decision);
}

template <class D>
kernel::Rejection then_rejected(const std::vector<typename D::Event>& history, const typename D::Command& command) {
    const auto decision = D::decide(command, given<D>(history));
    REQUIRE(std::holds_alternative<kernel::Rejection>(decision));
    return std::get<kernel::Rejection>(decision);
}

inline google::protobuf::Timestamp stamp(std::chrono::system_clock::time_point time) {
    return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

}  // namespace gatehouse::sales::testing
