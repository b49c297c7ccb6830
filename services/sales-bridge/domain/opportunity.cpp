#include "domain/opportunity.h"

#include "gatehouse/kernel/time.h"

namespace gatehouse::sales {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;

using Events = std::vector<v1::OpportunityEvent>;

Rejection no_such_opportunity() { return Rejection{RejectionCode::not_found, "opportunity_id: no such opportunity"}; }

std::string name_of(const OpportunityState& state) { return "opportunity " + state.opportunity.opportunity_id(); }

std::optional<Rejection> require_open(const OpportunityState& state, std::string_view action) {
    if (state.status == OpportunityStatus::none) {
        return no_such_opportunity();
    }
    if (state.status != OpportunityStatus::open) {
        return Rejection{RejectionCode::failed_precondition,
                         name_of(state) + " is " + std::string(to_string(state.status)) +
                             "; only an Open opportunity can be " + std::string(action)};
    }
    return std::nullopt;
}

// Open, and the actor owns it (or manages).
std::optional<Rejection> require_changeable(const OpportunityState& state, const Actor& actor,
                                            std::string_view action) {
    if (auto wrong = require_open(state, action)) {
        return wrong;
    }
    return check_owner(actor, state.opportunity.owner_user_id(), name_of(state));
}

Decision<v1::OpportunityEvent> decide_create(const CreateOpportunity& command, const OpportunityState& state) {
    if (state.status != OpportunityStatus::none) {
        return Events{};
    }
    if (command.opportunity.opportunity_id().empty() || command.opportunity.lead_id().empty()) {
        return Rejection{RejectionCode::invalid_argument, "lead_id: is required"};
    }
    Events events(1);
    *events[0].mutable_opportunity_created() = command.opportunity;
    return events;
}

Decision<v1::OpportunityEvent> decide_win(const WinOpportunity& command, const OpportunityState& state) {
    if (auto refused = require_changeable(state, command.actor, "closed as won")) {
        return *refused;
    }
    const auto& opportunity = state.opportunity;
    Events events(1);
    auto& won = *events[0].mutable_opportunity_won();
    won.set_opportunity_id(opportunity.opportunity_id());
    won.set_lead_id(opportunity.lead_id());
    won.set_prospect_request_number(opportunity.prospect_request_number());
    won.set_won_by(command.actor.user_id);
    won.set_won_by_email(command.actor.email);
    won.set_company_name(opportunity.company_name());
    *won.mutable_estimated_value() = opportunity.estimated_value();
    *won.mutable_won_at() = kernel::to_timestamp(command.now);
    won.set_account_id(opportunity.account_id());
    return events;
}

Decision<v1::OpportunityEvent> decide_lose(const LoseOpportunity& command, const OpportunityState& state) {
    if (auto refused = require_changeable(state, command.actor, "closed as lost")) {
        return *refused;
    }
    if (auto problem = platform::check_text("reason", command.reason, 1, 1000, platform::Lines::many)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    const auto& opportunity = state.opportunity;
    Events events(1);
    auto& lost = *events[0].mutable_opportunity_lost();
    lost.set_opportunity_id(opportunity.opportunity_id());
    lost.set_lead_id(opportunity.lead_id());
    lost.set_prospect_request_number(opportunity.prospect_request_number());
    lost.set_reason(command.reason);
    lost.set_lost_by(command.actor.user_id);
    lost.set_company_name(opportunity.company_name());
    *lost.mutable_estimated_value() = opportunity.estimated_value();
    *lost.mutable_lost_at() = kernel::to_timestamp(command.now);
    return events;
}

Decision<v1::OpportunityEvent> decide_appointment(const ScheduleAppointment& command, const OpportunityState& state) {
    if (auto refused = require_changeable(state, command.actor, "given an appointment")) {
        return *refused;
    }
    if (auto problem = check_appointment(command.appointment)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    Events events(1);
    auto& appointment = *events[0].mutable_appointment_scheduled();
    appointment = command.appointment;
    appointment.set_opportunity_id(state.opportunity.opportunity_id());
    appointment.set_lead_id(state.opportunity.lead_id());
    appointment.set_prospect_request_number(state.opportunity.prospect_request_number());
    appointment.set_company_name(state.opportunity.company_name());
    appointment.set_scheduled_by(command.actor.user_id);
    return events;
}

Decision<v1::OpportunityEvent> decide_note(const AddNote& command, const OpportunityState& state) {
    if (state.status == OpportunityStatus::none) {
        return no_such_opportunity();
    }
    if (auto denied = check_owner(command.actor, state.opportunity.owner_user_id(), name_of(state))) {
        return *denied;
    }
    if (auto problem = check_note(command.note)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    Events events(1);
    auto& note = *events[0].mutable_note_added();
    note = command.note;
    note.set_opportunity_id(state.opportunity.opportunity_id());
    note.set_lead_id(state.opportunity.lead_id());
    note.set_prospect_request_number(state.opportunity.prospect_request_number());
    note.set_author(command.actor.user_id);
    return events;
}

}  // namespace

std::string_view to_string(OpportunityStatus status) {
    switch (status) {
        case OpportunityStatus::none:
            return "unknown";
        case OpportunityStatus::open:
            return "Open";
        case OpportunityStatus::won:
            return "Won";
        case OpportunityStatus::lost:
            return "Lost";
    }
    return "unknown";
}

kernel::Decision<v1::OpportunityEvent> Opportunity::decide(const Command& command, const State& state) {
    return std::visit(
        [&](const auto& c) -> kernel::Decision<v1::OpportunityEvent> {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, CreateOpportunity>) {
                return decide_create(c, state);
            } else if constexpr (std::is_same_v<C, WinOpportunity>) {
                return decide_win(c, state);
            } else if constexpr (std::is_same_v<C, LoseOpportunity>) {
                return decide_lose(c, state);
            } else if constexpr (std::is_same_v<C, ScheduleAppointment>) {
                return decide_appointment(c, state);
            } else {
                return decide_note(c, state);
            }
        },
        command);
}

OpportunityState Opportunity::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kOpportunityCreated:
            state.status = OpportunityStatus::open;
            state.opportunity = event.opportunity_created();
            break;
        case Event::kOpportunityWon:
            state.status = OpportunityStatus::won;
            state.closed_by = event.opportunity_won().won_by();
            state.closed_at = kernel::to_time_point(event.opportunity_won().won_at());
            break;
        case Event::kOpportunityLost:
            state.status = OpportunityStatus::lost;
            state.closed_by = event.opportunity_lost().lost_by();
            state.close_reason = event.opportunity_lost().reason();
            state.closed_at = kernel::to_time_point(event.opportunity_lost().lost_at());
            break;
        case Event::kAppointmentScheduled:
            ++state.appointments;
            break;
        case Event::kNoteAdded:
            ++state.notes;
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::sales
