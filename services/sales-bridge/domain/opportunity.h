// The Opportunity aggregate: what a qualified lead becomes, until it is closed as won (the
// onboarding request is approved) or lost (rejected).
//
//   (none) --create--> Open --win--> Won
//                        '---lose--> Lost      (appointments while Open, notes always)
//   Open --ApplyHqDecision--> Won / Lost (decided_by_hq: HQ decided the request; see hq_decision.h)
//   Open --update--> Open   (sales stage Qualify → Develop → Propose → Close, in any order, and
//                            the estimated value; nothing recorded when nothing changes)
//
// Pure decider (no I/O, no clock). Created by qualifying a lead, with the id the lead named.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "domain/hq_decision.h"
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

// Change the stage and / or the estimated value of an open opportunity (unset: unchanged).
struct UpdateOpportunity final {
    Actor actor;
    std::optional<v1::OpportunityStage> stage;
    std::optional<common::v1::Money> estimated_value;
    Clock::time_point now;
};

// The stage's name for people ("Qualify", ...); the stage of an opportunity recorded without one
// is Qualify.
std::string_view to_string(v1::OpportunityStage stage);

struct OpportunityState final {
    OpportunityStatus status = OpportunityStatus::none;
    v1::OpportunityCreated opportunity;
    std::string closed_by;
    std::string close_reason;
    Clock::time_point closed_at{};
    bool decided_by_hq = false;      // closed because HQ decided the request (ApplyHqDecision)
    bool hq_decision_noted = false;  // the note of a contrary HQ decision is on the timeline
    int appointments = 0;
    int notes = 0;
    Appointments appointment_records;  // as they now are, by id
};

struct Opportunity final {
    using Event = v1::OpportunityEvent;
    using Command = std::variant<CreateOpportunity, WinOpportunity, LoseOpportunity, ScheduleAppointment, AddNote,
                                 UpdateOpportunity, RescheduleAppointment, CancelAppointment, ApplyHqDecision>;
    using State = OpportunityState;
    static constexpr std::string_view kAggregateType = "opportunity";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

static_assert(kernel::Decider<Opportunity>);

}  // namespace gatehouse::sales
