#include "app/history.h"

#include <google/protobuf/util/time_util.h>

#include "domain/lead.h"
#include "domain/opportunity.h"
#include "gatehouse/kernel/proto_codec.h"

namespace gatehouse::sales {
namespace {

using google::protobuf::util::TimeUtil;

std::string money_text(const common::v1::Money& money) {
    const auto units = money.minor_units();
    std::string cents = std::to_string(units % 100);
    return money.currency_code() + " " + std::to_string(units / 100) + "." + (cents.size() < 2 ? "0" : "") + cents;
}

std::string describe(const v1::AppointmentScheduled& appointment) {
    std::string text = "appointment \"" + appointment.subject() + "\" " + TimeUtil::ToString(appointment.starts_at()) +
                       " - " + TimeUtil::ToString(appointment.ends_at());
    if (appointment.attendees_size() > 0) {
        text += " with";
        for (const auto& attendee : appointment.attendees()) {
            text += " " + attendee;
        }
    }
    if (!appointment.online_meeting_url().empty()) {
        text += " (online: " + appointment.online_meeting_url() + ")";
    }
    return text;
}

std::string describe(const v1::AppointmentRescheduled& rescheduled) {
    return "appointment \"" + rescheduled.subject() + "\" moved to " + TimeUtil::ToString(rescheduled.starts_at()) +
           " - " + TimeUtil::ToString(rescheduled.ends_at()) + " (revision " + std::to_string(rescheduled.sequence()) +
           ")";
}

std::string describe(const v1::AppointmentCancelled& cancelled) {
    return "appointment \"" + cancelled.subject() + "\" cancelled" +
           (cancelled.reason().empty() ? std::string() : ": " + cancelled.reason());
}

std::string describe(const v1::OpportunityUpdated& updated) {
    std::string text;
    for (const auto& field : updated.changed_fields()) {
        text += text.empty() ? "updated: " : "; ";
        if (field == "stage") {
            text += "stage " + std::string(to_string(updated.previous_stage())) + " -> " +
                    std::string(to_string(updated.stage()));
        } else if (field == "estimated_value") {
            text += "estimated value " + money_text(updated.previous_estimated_value()) + " -> " +
                    money_text(updated.estimated_value());
        } else {
            text += field;
        }
    }
    return text;
}

template <class Event>
std::vector<HistoryEntry> history(const kernel::EventStore& store, std::string_view aggregate_type,
                                  const std::string& id) {
    std::vector<HistoryEntry> entries;
    for (const auto& recorded : store.read_stream(kernel::StreamId{std::string(aggregate_type), id})) {
        Event event;
        if (!kernel::decode_oneof_event(recorded.envelope.event_type(), recorded.envelope.payload(), event)) {
            continue;
        }
        entries.push_back({recorded.envelope.occurred_at(), recorded.envelope.event_type(), recorded.envelope.actor(),
                           sales::describe(event)});
    }
    return entries;
}

}  // namespace

std::string describe(const v1::LeadEvent& event) {
    switch (event.event_case()) {
        case v1::LeadEvent::kLeadCreated:
            return "created by replication from the storefront (" + event.lead_created().origin() + ", request " +
                   event.lead_created().prospect_request_number() + ")";
        case v1::LeadEvent::kLeadAssigned:
            return "assigned to " + event.lead_assigned().owner_user_id();
        case v1::LeadEvent::kLeadQualified:
            return "qualified: opportunity " + event.lead_qualified().opportunity_id() + ", account " +
                   event.lead_qualified().account_id() + ", contact " + event.lead_qualified().contact_id();
        case v1::LeadEvent::kLeadDisqualified:
            return "disqualified: " + event.lead_disqualified().reason();
        case v1::LeadEvent::kAppointmentScheduled:
            return describe(event.appointment_scheduled());
        case v1::LeadEvent::kAppointmentRescheduled:
            return describe(event.appointment_rescheduled());
        case v1::LeadEvent::kAppointmentCancelled:
            return describe(event.appointment_cancelled());
        case v1::LeadEvent::kNoteAdded:
            return "note: " + event.note_added().text();
        case v1::LeadEvent::EVENT_NOT_SET:
            break;
    }
    return "";
}

std::string describe(const v1::OpportunityEvent& event) {
    switch (event.event_case()) {
        case v1::OpportunityEvent::kOpportunityCreated:
            return "created from lead " + event.opportunity_created().lead_id() + ", estimated " +
                   money_text(event.opportunity_created().estimated_value()) + ", closing " +
                   event.opportunity_created().estimated_close_date();
        case v1::OpportunityEvent::kOpportunityWon:
            return "closed as won";
        case v1::OpportunityEvent::kOpportunityLost:
            return "closed as lost: " + event.opportunity_lost().reason();
        case v1::OpportunityEvent::kAppointmentScheduled:
            return describe(event.appointment_scheduled());
        case v1::OpportunityEvent::kOpportunityUpdated:
            return describe(event.opportunity_updated());
        case v1::OpportunityEvent::kAppointmentRescheduled:
            return describe(event.appointment_rescheduled());
        case v1::OpportunityEvent::kAppointmentCancelled:
            return describe(event.appointment_cancelled());
        case v1::OpportunityEvent::kNoteAdded:
            return "note: " + event.note_added().text();
        case v1::OpportunityEvent::EVENT_NOT_SET:
            break;
    }
    return "";
}

std::vector<HistoryEntry> lead_history(const kernel::EventStore& store, const std::string& lead_id) {
    return history<v1::LeadEvent>(store, Lead::kAggregateType, lead_id);
}

std::vector<HistoryEntry> opportunity_history(const kernel::EventStore& store, const std::string& opportunity_id) {
    return history<v1::OpportunityEvent>(store, Opportunity::kAggregateType, opportunity_id);
}

}  // namespace gatehouse::sales
