// The Lead aggregate: a verified onboarding request (approval mode "crm") as the sales team works
// it, from creation to qualification (→ opportunity, account, contact) or disqualification.
//
//   (none) --create--> Open --qualify----> Qualified
//                       |  \--disqualify-> Disqualified   (both also by HQ's decision: ApplyHqDecision)
//                       '-- assign, appointment (schedule, reschedule), note (stay Open;
//                           notes and cancelling an appointment also later)
//
// Pure decider (no I/O, no clock: commands carry `now`). Ids are derived from the onboarding
// request number (lead_id_for etc.), so a redelivered or replayed request can never make a
// second lead, and a repeated qualification never a second opportunity, account or contact.
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "domain/hq_decision.h"
#include "domain/timeline.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::sales {

inline constexpr std::string_view kCommerceOrigin = "Commerce B2B";

std::string lead_id_for(std::string_view request_number);         // "LEAD-PR-000123"
std::string opportunity_id_for(std::string_view request_number);  // "OPP-PR-000123"
std::string account_id_for(std::string_view request_number);      // "ACC-PR-000123"
std::string contact_id_for(std::string_view request_number);      // "CON-PR-000123"

enum class LeadStatus { none, open, qualified, disqualified };
std::string_view to_string(LeadStatus status);

// Create the lead (complete LeadCreated, owner possibly set). Creating an existing lead does
// nothing: the same request delivered twice is one lead.
struct CreateLead final {
    v1::LeadCreated lead;
    std::string assigned_by = "sales-bridge";  // for the LeadAssigned that follows an initial owner
};

struct AssignLead final {
    Actor actor;
    std::string owner_user_id;
    std::string owner_email;
    Clock::time_point now;
};

struct QualifyLead final {
    Actor actor;
    common::v1::Money estimated_value;
    std::string estimated_close_date;  // YYYY-MM-DD
    Clock::time_point now;
};

struct DisqualifyLead final {
    Actor actor;
    std::string reason;
    Clock::time_point now;
};

struct LeadState final {
    LeadStatus status = LeadStatus::none;
    v1::LeadCreated lead;  // as created; owner below is the current one
    std::string owner_user_id;
    std::string owner_email;
    Clock::time_point created_at{};
    // After qualification: the ids, value and close date the opportunity is created with.
    std::string opportunity_id;
    std::string account_id;
    std::string contact_id;
    v1::LeadQualified qualification;
    // Who closed it (qualified / disqualified), when and why.
    std::string decided_by;
    std::string decision_reason;
    Clock::time_point decided_at{};
    bool decided_by_hq = false;      // closed because HQ decided the request (ApplyHqDecision)
    bool hq_decision_noted = false;  // the note of a contrary HQ decision is on the timeline
    int appointments = 0;
    int notes = 0;
    Appointments appointment_records;  // as they now are, by id
};

struct Lead final {
    using Event = v1::LeadEvent;
    using Command = std::variant<CreateLead, AssignLead, QualifyLead, DisqualifyLead, ScheduleAppointment, AddNote,
                                 RescheduleAppointment, CancelAppointment, ApplyHqDecision>;
    using State = LeadState;
    static constexpr std::string_view kAggregateType = "lead";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

static_assert(kernel::Decider<Lead>);

}  // namespace gatehouse::sales
