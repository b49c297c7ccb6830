#include "domain/lead.h"

#include "gatehouse/kernel/time.h"

namespace gatehouse::sales {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;

Decision<v1::LeadEvent> nothing() { return std::vector<v1::LeadEvent>{}; }

Rejection no_such_lead() { return Rejection{RejectionCode::not_found, "lead_id: no such lead"}; }

std::string name_of(const LeadState& state) { return "lead " + state.lead.lead_id(); }

std::optional<Rejection> require_open(const LeadState& state, std::string_view action) {
    if (state.status == LeadStatus::none) {
        return no_such_lead();
    }
    if (state.status != LeadStatus::open && state.decided_by_hq) {
        return Rejection{RejectionCode::failed_precondition,
                         name_of(state) + " is " + std::string(to_string(state.status)) + ": HQ decided request " +
                             state.lead.prospect_request_number() + " (" +
                             (state.status == LeadStatus::qualified ? "approved" : "rejected") + " by " +
                             state.decided_by + "), so the lead can no longer be " + std::string(action)};
    }
    if (state.status != LeadStatus::open) {
        return Rejection{RejectionCode::failed_precondition, name_of(state) + " is " +
                                                                 std::string(to_string(state.status)) +
                                                                 "; only an Open lead can be " + std::string(action)};
    }
    return std::nullopt;
}

Decision<v1::LeadEvent> decide_create(const CreateLead& command, const LeadState& state) {
    if (state.status != LeadStatus::none) {
        return nothing();  // exactly one lead per request, however often it arrives
    }
    if (command.lead.lead_id().empty() || command.lead.prospect_request_number().empty()) {
        return Rejection{RejectionCode::invalid_argument, "prospect_request_number: is required"};
    }
    std::vector<v1::LeadEvent> events(1);
    *events[0].mutable_lead_created() = command.lead;
    if (!command.lead.owner_user_id().empty()) {
        auto& assigned = *events.emplace_back().mutable_lead_assigned();
        assigned.set_lead_id(command.lead.lead_id());
        assigned.set_owner_user_id(command.lead.owner_user_id());
        assigned.set_owner_email(command.lead.owner_email());
        assigned.set_assigned_by(command.assigned_by);
        assigned.set_company_name(command.lead.company_name());
        assigned.set_prospect_request_number(command.lead.prospect_request_number());
        *assigned.mutable_assigned_at() = command.lead.created_at();
    }
    return events;
}

Decision<v1::LeadEvent> decide_assign(const AssignLead& command, const LeadState& state) {
    if (auto wrong = require_open(state, "assigned")) {
        return *wrong;
    }
    if (auto problem = platform::check_text("owner_user_id", command.owner_user_id, 1, 64)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    // A sales user may take an unassigned lead; giving a lead to someone else, or taking one that
    // somebody owns, is a manager's call. The owner may hand their own lead on.
    const bool takes_unassigned = state.owner_user_id.empty() && command.owner_user_id == command.actor.user_id;
    if (!takes_unassigned) {
        if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
            return *denied;
        }
    }
    if (command.owner_user_id == state.owner_user_id) {
        return nothing();
    }
    v1::LeadEvent event;
    auto& assigned = *event.mutable_lead_assigned();
    assigned.set_lead_id(state.lead.lead_id());
    assigned.set_owner_user_id(command.owner_user_id);
    assigned.set_owner_email(command.owner_email);
    assigned.set_assigned_by(command.actor.user_id);
    assigned.set_company_name(state.lead.company_name());
    assigned.set_prospect_request_number(state.lead.prospect_request_number());
    assigned.set_previous_owner_user_id(state.owner_user_id);
    *assigned.mutable_assigned_at() = kernel::to_timestamp(command.now);
    return std::vector<v1::LeadEvent>{event};
}

Decision<v1::LeadEvent> decide_qualify(const QualifyLead& command, const LeadState& state) {
    if (auto wrong = require_open(state, "qualified")) {
        return *wrong;
    }
    if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
        return *denied;
    }
    if (auto problem = check_money("estimated_value", command.estimated_value)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    if (auto problem = check_date("estimated_close_date", command.estimated_close_date)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    const std::string& request = state.lead.prospect_request_number();
    v1::LeadEvent event;
    auto& qualified = *event.mutable_lead_qualified();
    qualified.set_lead_id(state.lead.lead_id());
    qualified.set_prospect_request_number(request);
    qualified.set_opportunity_id(opportunity_id_for(request));
    qualified.set_account_id(account_id_for(request));
    qualified.set_contact_id(contact_id_for(request));
    qualified.set_qualified_by(command.actor.user_id);
    *qualified.mutable_qualified_at() = kernel::to_timestamp(command.now);
    qualified.set_company_name(state.lead.company_name());
    *qualified.mutable_estimated_value() = command.estimated_value;
    qualified.set_estimated_close_date(command.estimated_close_date);
    return std::vector<v1::LeadEvent>{event};
}

Decision<v1::LeadEvent> decide_disqualify(const DisqualifyLead& command, const LeadState& state) {
    if (auto wrong = require_open(state, "disqualified")) {
        return *wrong;
    }
    if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
        return *denied;
    }
    if (auto problem = platform::check_text("reason", command.reason, 1, 1000, platform::Lines::many)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    v1::LeadEvent event;
    auto& disqualified = *event.mutable_lead_disqualified();
    disqualified.set_lead_id(state.lead.lead_id());
    disqualified.set_prospect_request_number(state.lead.prospect_request_number());
    disqualified.set_reason(command.reason);
    disqualified.set_disqualified_by(command.actor.user_id);
    *disqualified.mutable_disqualified_at() = kernel::to_timestamp(command.now);
    disqualified.set_company_name(state.lead.company_name());
    return std::vector<v1::LeadEvent>{event};
}

Decision<v1::LeadEvent> decide_appointment(const ScheduleAppointment& command, const LeadState& state) {
    if (auto wrong = require_open(state, "given an appointment")) {
        return *wrong;
    }
    if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
        return *denied;
    }
    if (auto problem = check_appointment(command.appointment)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    v1::LeadEvent event;
    auto& appointment = *event.mutable_appointment_scheduled();
    appointment = command.appointment;
    appointment.set_lead_id(state.lead.lead_id());
    appointment.clear_opportunity_id();
    appointment.set_prospect_request_number(state.lead.prospect_request_number());
    appointment.set_company_name(state.lead.company_name());
    appointment.set_scheduled_by(command.actor.user_id);
    appointment.set_organizer_email(command.actor.email);
    appointment.set_company_country_code(state.lead.company_address().country_code());
    return std::vector<v1::LeadEvent>{event};
}

Decision<v1::LeadEvent> decide_reschedule(const RescheduleAppointment& command, const LeadState& state) {
    if (auto wrong = require_open(state, "given an appointment")) {
        return *wrong;
    }
    if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
        return *denied;
    }
    return decision_of<v1::LeadEvent>(reschedule_appointment(state.appointment_records, command, name_of(state)),
                                      [](v1::LeadEvent& event) { return event.mutable_appointment_rescheduled(); });
}

Decision<v1::LeadEvent> decide_cancel(const CancelAppointment& command, const LeadState& state) {
    if (state.status == LeadStatus::none) {
        return no_such_lead();
    }
    // Also on a closed lead: a meeting may still have to be called off.
    if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
        return *denied;
    }
    return decision_of<v1::LeadEvent>(cancel_appointment(state.appointment_records, command, name_of(state)),
                                      [](v1::LeadEvent& event) { return event.mutable_appointment_cancelled(); });
}

Decision<v1::LeadEvent> decide_note(const AddNote& command, const LeadState& state) {
    if (state.status == LeadStatus::none) {
        return no_such_lead();
    }
    // Notes stay possible on a closed lead (the timeline records what happened afterwards too).
    if (auto denied = check_owner(command.actor, state.owner_user_id, name_of(state))) {
        return *denied;
    }
    if (auto problem = check_note(command.note)) {
        return Rejection{RejectionCode::invalid_argument, *problem};
    }
    v1::LeadEvent event;
    auto& note = *event.mutable_note_added();
    note = command.note;
    note.set_lead_id(state.lead.lead_id());
    note.clear_opportunity_id();
    note.set_prospect_request_number(state.lead.prospect_request_number());
    note.set_author(command.actor.user_id);
    return std::vector<v1::LeadEvent>{event};
}

Decision<v1::LeadEvent> decide_hq_decision(const ApplyHqDecision& command, const LeadState& state) {
    if (state.status == LeadStatus::none) {
        return no_such_lead();
    }
    const std::string& request = state.lead.prospect_request_number();
    if (state.status == LeadStatus::open) {
        v1::LeadEvent event;
        if (command.approved) {
            // The qualification HQ's approval stands for: the opportunity (then won), the account and
            // the contact follow with the usual ids; no value or close date was estimated.
            auto& qualified = *event.mutable_lead_qualified();
            qualified.set_lead_id(state.lead.lead_id());
            qualified.set_prospect_request_number(request);
            qualified.set_opportunity_id(opportunity_id_for(request));
            qualified.set_account_id(account_id_for(request));
            qualified.set_contact_id(contact_id_for(request));
            qualified.set_qualified_by(command.decided_by);
            *qualified.mutable_qualified_at() = kernel::to_timestamp(command.decided_at);
            qualified.set_company_name(state.lead.company_name());
            qualified.set_decided_by_hq(true);
        } else {
            auto& disqualified = *event.mutable_lead_disqualified();
            disqualified.set_lead_id(state.lead.lead_id());
            disqualified.set_prospect_request_number(request);
            disqualified.set_reason(hq_decision_reason(command.reason));
            disqualified.set_disqualified_by(command.decided_by);
            *disqualified.mutable_disqualified_at() = kernel::to_timestamp(command.decided_at);
            disqualified.set_company_name(state.lead.company_name());
            disqualified.set_decided_by_hq(true);
        }
        return std::vector<v1::LeadEvent>{event};
    }
    // Closed already: by this decision (a redelivery), or qualified (the opportunity follows HQ's
    // decision), or disqualified by the CRM, which agrees with a rejection.
    const bool contrary = state.status == LeadStatus::disqualified && command.approved && !state.decided_by_hq;
    if (!contrary || state.hq_decision_noted) {
        return nothing();
    }
    // Disqualified here while HQ approved (both before either side heard of the other): onboarding
    // keeps HQ's approval; the timeline says so, since the CRM cannot reopen the lead.
    v1::LeadEvent event;
    auto& note = *event.mutable_note_added();
    note.set_note_id(hq_decision_note_id(request));
    note.set_lead_id(state.lead.lead_id());
    note.set_prospect_request_number(request);
    note.set_text("HQ approved request " + request + " (" + command.decided_by +
                  (command.reason.empty() ? "" : ": " + command.reason) +
                  ") before this lead's disqualification reached onboarding: the request stays approved and the "
                  "partner is onboarded.");
    note.set_author(command.decided_by);
    *note.mutable_added_at() = kernel::to_timestamp(command.decided_at);
    return std::vector<v1::LeadEvent>{event};
}

std::string id_for(std::string_view prefix, std::string_view request_number) {
    return std::string(prefix) + std::string(request_number);
}

}  // namespace

std::string lead_id_for(std::string_view request_number) { return id_for("LEAD-", request_number); }
std::string opportunity_id_for(std::string_view request_number) { return id_for("OPP-", request_number); }
std::string account_id_for(std::string_view request_number) { return id_for("ACC-", request_number); }
std::string contact_id_for(std::string_view request_number) { return id_for("CON-", request_number); }

std::string_view to_string(LeadStatus status) {
    switch (status) {
        case LeadStatus::none:
            return "unknown";
        case LeadStatus::open:
            return "Open";
        case LeadStatus::qualified:
            return "Qualified";
        case LeadStatus::disqualified:
            return "Disqualified";
    }
    return "unknown";
}

kernel::Decision<v1::LeadEvent> Lead::decide(const Command& command, const State& state) {
    return std::visit(
        [&](const auto& c) -> kernel::Decision<v1::LeadEvent> {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, CreateLead>) {
                return decide_create(c, state);
            } else if constexpr (std::is_same_v<C, AssignLead>) {
                return decide_assign(c, state);
            } else if constexpr (std::is_same_v<C, QualifyLead>) {
                return decide_qualify(c, state);
            } else if constexpr (std::is_same_v<C, DisqualifyLead>) {
                return decide_disqualify(c, state);
            } else if constexpr (std::is_same_v<C, ScheduleAppointment>) {
                return decide_appointment(c, state);
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

LeadState Lead::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kLeadCreated:
            state.status = LeadStatus::open;
            state.lead = event.lead_created();
            state.owner_user_id = state.lead.owner_user_id();
            state.owner_email = state.lead.owner_email();
            state.created_at = kernel::to_time_point(state.lead.created_at());
            break;
        case Event::kLeadAssigned:
            state.owner_user_id = event.lead_assigned().owner_user_id();
            state.owner_email = event.lead_assigned().owner_email();
            break;
        case Event::kLeadQualified: {
            const auto& qualified = event.lead_qualified();
            state.status = LeadStatus::qualified;
            state.opportunity_id = qualified.opportunity_id();
            state.account_id = qualified.account_id();
            state.contact_id = qualified.contact_id();
            state.qualification = qualified;
            state.decided_by = qualified.qualified_by();
            state.decided_at = kernel::to_time_point(qualified.qualified_at());
            state.decided_by_hq = qualified.decided_by_hq();
            break;
        }
        case Event::kLeadDisqualified:
            state.status = LeadStatus::disqualified;
            state.decided_by = event.lead_disqualified().disqualified_by();
            state.decision_reason = event.lead_disqualified().reason();
            state.decided_at = kernel::to_time_point(event.lead_disqualified().disqualified_at());
            state.decided_by_hq = event.lead_disqualified().decided_by_hq();
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
            if (event.note_added().note_id() == hq_decision_note_id(state.lead.prospect_request_number())) {
                state.hq_decision_noted = true;
            }
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::sales
