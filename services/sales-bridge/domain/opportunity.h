// The Opportunity aggregate: what a qualified lead becomes, until it is closed as won (the
// onboarding request is approved) or lost (rejected).
//
//   (none) --create--> Open --win--> Won
//                        '---lose--> Lost      (appointments while Open, notes always)
//
// Pure decider (no I/O, no clock). Created by qualifying a lead, with the id the lead named.
#pragma once

#include <string>
#include <variant>

#include "domain/timeline.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::sales {

enum class OpportunityStatus { none, open, won, lost };
std::string_view to_string(OpportunityStatus status);

// Creating an existing opportunity does nothing (a repeated qualification step).
struct CreateOpportunity final {
    v1::OpportunityCreated opportunity;
};

struct WinOpportunity final {
    Actor actor;
    Clock::time_point now;
};

struct LoseOpportunity final {
    Actor actor;
    std::string reason;
    Clock::time_point now;
};

struct OpportunityState final {
    OpportunityStatus status = OpportunityStatus::none;
    v1::OpportunityCreated opportunity;
    std::string closed_by;
    std::string close_reason;
    Clock::time_point closed_at{};
    int appointments = 0;
    int notes = 0;
};

struct Opportunity final {
    using Event = v1::OpportunityEvent;
    using Command = std::variant<CreateOpportunity, WinOpportunity, LoseOpportunity, ScheduleAppointment, AddNote>;
    using State = OpportunityState;
    static constexpr std::string_view kAggregateType = "opportunity";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

static_assert(kernel::Decider<Opportunity>);

}  // namespace gatehouse::sales
