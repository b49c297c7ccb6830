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
    if (state.status != OpportunityStatus::open && state.decided_by_hq) {
        return Rejection{RejectionCode::failed_precondition,
                         name_of(state) + " is " + std::string(to_string(state.status)) + ": HQ decided request " +
                             state.opportunity.prospect_request_number() + " (" +
                             (state.status == OpportunityStatus::won ? "approved" : "rejected") + " by " +
                             state.closed_by + "), so the opportunity can no longer be " + std::string(action)};
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
    auto& created = *events[0].mutable_opportunity_created();
    created = command.opportunity;
    if (created.stage() == v1::OPPORTUNITY_STAGE_UNSPECIFIED) {
        created.set_stage(v1::OPPORTUNITY_STAGE_QUALIFY);  // a qualified lead starts the sales process
    }
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
    appointment.set_organizer_email(command.actor.email);
    return events;
}

Decision<v1::OpportunityEvent> decide_update(const UpdateOpportunity& command, const OpportunityState& state) {
    if (auto refused = require_changeable(state, command.actor, "updated")) {
        return *refused;
    }
    if (command.stage &&
        (*command.stage == v1::OPPORTUNITY_STAGE_UNSPECIFIED || !v1::OpportunityStage_IsValid(*command.stage))) {
        return Rejection{RejectionCode::invalid_argument, "stage: must be one of QUALIFY, DEVELOP, PROPOSE, CLOSE"};
    }
    if (command.estimated_value) {
        if (auto problem = check_money("estimated_value", *command.estimated_value)) {
            return Rejection{RejectionCode::invalid_argument, *problem};
        }
    }
    const auto& opportunity = state.opportunity;
    const v1::OpportunityStage current_stage =
        opportunity.stage() == v1::OPPORTUNITY_STAGE_UNSPECIFIED ? v1::OPPORTUNITY_STAGE_QUALIFY : opportunity.stage();
    const bool stage_changes = command.stage && *command.stage != current_stage;
    const bool value_changes =
        command.estimated_value &&
        (command.estimated_value->currency_code() != opportunity.estimated_value().currency_code() ||
         command.estimated_value->minor_units() != opportunity.estimated_value().minor_units());
    if (!stage_changes && !value_changes) {
        return Events{};  // already so: nothing to record, nobody to tell
    }
    Events events(1);
    auto& updated = *events[0].mutable_opportunity_updated();
    updated.set_opportunity_id(opportunity.opportunity_id());
    updated.set_lead_id(opportunity.lead_id());
    updated.set_prospect_request_number(opportunity.prospect_request_number());
    updated.set_company_name(opportunity.company_name());
    updated.set_previous_stage(current_stage);
    updated.set_stage(stage_changes ? *command.stage : current_stage);
    *updated.mutable_previous_estimated_value() = opportunity.estimated_value();
    *updated.mutable_estimated_value() = value_changes ? *command.estimated_value : opportunity.estimated_value();
    if (stage_changes) {
        updated.add_changed_fields("stage");
    }
    if (value_changes) {
        updated.add_changed_fields("estimated_value");
    }
    updated.set_updated_by(command.actor.user_id);
    *updated.mutable_updated_at() = kernel::to_timestamp(command.now);
    return events;
}

Decision<v1::OpportunityEvent> decide_reschedule(const RescheduleAppointment& command, const OpportunityState& state) {
    if (auto refused = require_changeable(state, command.actor, "given an appointment")) {
        return *refused;
    }
    return decision_of<v1::OpportunityEvent>(
        reschedule_appointment(state.appointment_records, command, name_of(state)),
        [](v1::OpportunityEvent& event) { return event.mutable_appointment_rescheduled(); });
}

Decision<v1::OpportunityEvent> decide_cancel(const CancelAppointment& command, const OpportunityState& state) {
    if (state.status == OpportunityStatus::none) {
        return no_such_opportunity();
    }
    // Also on a closed opportunity: a meeting may still have to be called off.
    if (auto denied = check_owner(command.actor, state.opportunity.owner_user_id(), name_of(state))) {
        return *denied;
    }
    return decision_of<v1::OpportunityEvent>(
        cancel_appointment(state.appointment_records, command, name_of(state)),
        [](v1::OpportunityEvent& event) { return event.mutable_appointment_cancelled(); });
}

Decision<v1::OpportunityEvent> decide_hq_decision(const ApplyHqDecision& command, const OpportunityState& state) {
    if (state.status == OpportunityStatus::none) {
        return no_such_opportunity();
    }
    const auto& opportunity = state.opportunity;
    if (state.status == OpportunityStatus::open) {
        Events events(1);
        if (command.approved) {
            auto& won = *events[0].mutable_opportunity_won();
            won.set_opportunity_id(opportunity.opportunity_id());
            won.set_lead_id(opportunity.lead_id());
            won.set_prospect_request_number(opportunity.prospect_request_number());
            won.set_won_by(command.decided_by);
            won.set_company_name(opportunity.company_name());
            *won.mutable_estimated_value() = opportunity.estimated_value();
            *won.mutable_won_at() = kernel::to_timestamp(command.decided_at);
            won.set_account_id(opportunity.account_id());
            won.set_decided_by_hq(true);
        } else {
            auto& lost = *events[0].mutable_opportunity_lost();
            lost.set_opportunity_id(opportunity.opportunity_id());
            lost.set_lead_id(opportunity.lead_id());
            lost.set_prospect_request_number(opportunity.prospect_request_number());
            lost.set_reason(hq_decision_reason(command.reason));
            lost.set_lost_by(command.decided_by);
            lost.set_company_name(opportunity.company_name());
            *lost.mutable_estimated_value() = opportunity.estimated_value();
            *lost.mutable_lost_at() = kernel::to_timestamp(command.decided_at);
            lost.set_decided_by_hq(true);
        }
        return events;
    }
    // Closed already: by this decision (a redelivery), or by the CRM the same way.
    const bool contrary = !state.decided_by_hq && (state.status == OpportunityStatus::won) != command.approved;
    if (!contrary || state.hq_decision_noted) {
        return Events{};
    }
    // Closed here the other way while HQ decided (before either side heard of the other): onboarding
    // keeps HQ's decision; the timeline says so, since the CRM cannot reopen the opportunity.
    Events events(1);
    auto& note = *events[0].mutable_note_added();
    note.set_note_id(hq_decision_note_id(opportunity.prospect_request_number()));
    note.set_opportunity_id(opportunity.opportunity_id());
    note.set_lead_id(opportunity.lead_id());
    note.set_prospect_request_number(opportunity.prospect_request_number());
    note.set_text("HQ " + std::string(command.approved ? "approved" : "rejected") + " request " +
                  opportunity.prospect_request_number() + " (" + command.decided_by +
                  (command.reason.empty() ? "" : ": " + command.reason) + ") before this opportunity was closed as " +
                  std::string(to_string(state.status)) + " here: the request stays " +
                  (command.approved ? "approved" : "rejected") + " in Commerce.");
    note.set_author(command.decided_by);
    *note.mutable_added_at() = kernel::to_timestamp(command.decided_at);
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

std::string_view to_string(v1::OpportunityStage stage) {
    switch (stage) {
        case v1::OPPORTUNITY_STAGE_DEVELOP:
            return "Develop";
        case v1::OPPORTUNITY_STAGE_PROPOSE:
            return "Propose";
        case v1::OPPORTUNITY_STAGE_CLOSE:
            return "Close";
        default:
            break;
    }
    return "Qualify";
}

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
            } else if constexpr (std::is_same_v<C, UpdateOpportunity>) {
                return decide_update(c, state);
            } else if constexpr (std::is_same_v<C, RescheduleAppointment>) {
                return decide_reschedule(c, state);
            } else if constexpr (std::is_same_v<C, CancelAppointment>) {
                return decide_cancel(c, state);
            } else if constexpr (std::is_same_v<C, ApplyHqDecision>) {
                return decide_hq_decision(c, state);
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
            if (state.opportunity.stage() == v1::OPPORTUNITY_STAGE_UNSPECIFIED) {
                state.opportunity.set_stage(v1::OPPORTUNITY_STAGE_QUALIFY);  // recorded before stages existed
            }
            break;
        case Event::kOpportunityWon:
            state.status = OpportunityStatus::won;
            state.closed_by = event.opportunity_won().won_by();
            state.closed_at = kernel::to_time_point(event.opportunity_won().won_at());
            state.decided_by_hq = event.opportunity_won().decided_by_hq();
            break;
        case Event::kOpportunityLost:
            state.status = OpportunityStatus::lost;
            state.closed_by = event.opportunity_lost().lost_by();
            state.close_reason = event.opportunity_lost().reason();
            state.closed_at = kernel::to_time_point(event.opportunity_lost().lost_at());
            state.decided_by_hq = event.opportunity_lost().decided_by_hq();
            break;
        case Event::kOpportunityUpdated:
            state.opportunity.set_stage(event.opportunity_updated().stage());
            *state.opportunity.mutable_estimated_value() = event.opportunity_updated().estimated_value();
            break;
        case Event::kAppointmentScheduled:
            ++state.appointments;
            apply_appointment(state.appointment_records, event.appointment_scheduled());
            break;
        case Event::kAppointmentRescheduled:
            apply_appointment(state.appointment_records, event.appointment_rescheduled());
            break;
        case Event::kAppointmentCancelled:
            apply_appointment(state.appointment_records, event.appointment_cancelled());
            break;
        case Event::kNoteAdded:
            ++state.notes;
            if (event.note_added().note_id() == hq_decision_note_id(state.opportunity.prospect_request_number())) {
                state.hq_decision_noted = true;
            }
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::sales
