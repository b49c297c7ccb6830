// What leads and opportunities share: who acts (and whether they may change a record they do
// not own), and the timeline entries both carry, appointments (scheduled, rescheduled,
// cancelled) and notes. Pure, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/platform/validation.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::sales {

using Clock = std::chrono::system_clock;

// The user behind a command. Reactions act as the system ("sales-bridge", manager rights).
struct Actor final {
    std::string user_id;
    std::string email;
    bool manager = false;  // role sales-manager: may change records owned by others

    static Actor system() { return {"sales-bridge", "", true}; }
};

// A sales user changes only the records they own; a manager changes any. `what` names the record
// ("lead LEAD-PR-000001") for the message.
std::optional<kernel::Rejection> check_owner(const Actor& actor, const std::string& owner_user_id,
                                             std::string_view what);

// "field: rule" problems (for INVALID_ARGUMENT), or nothing. Text and email are checked by the
// platform's rules (gatehouse/platform/validation.h); what is here is the CRM's own.
using Problem = platform::Problem;
Problem check_meeting_url(std::string_view field, std::string_view url);
// ISO 8601 calendar date "YYYY-MM-DD" that exists.
Problem check_date(std::string_view field, std::string_view date);
// ISO 4217-shaped currency (three upper-case letters) and a non-negative amount.
Problem check_money(std::string_view field, const common::v1::Money& money);

// Schedule an appointment on a lead or an opportunity. The event is complete except for the
// record's own fields (lead / opportunity id, request number, company), which the decider fills.
struct ScheduleAppointment final {
    Actor actor;
    v1::AppointmentScheduled appointment;
};

// Add a note to a lead or an opportunity (as for ScheduleAppointment).
struct AddNote final {
    Actor actor;
    v1::NoteAdded note;
};

// The content rules of an appointment / a note, fields named as in the API.
Problem check_appointment(const v1::AppointmentScheduled& appointment);
Problem check_note(const v1::NoteAdded& note);
// starts_at / ends_at of an appointment: both set, ends after it starts, at most 24 hours.
Problem check_appointment_times(const google::protobuf::Timestamp& starts_at,
                                const google::protobuf::Timestamp& ends_at);

// An appointment as it now is on a record's timeline: its times after any reschedule, the
// revision of its invitation (iCalendar SEQUENCE) and whether it was called off.
struct AppointmentRecord final {
    v1::AppointmentScheduled appointment;
    std::uint32_t sequence = 0;
    bool cancelled = false;
};
using Appointments = std::map<std::string, AppointmentRecord>;  // by appointment id

// Move an appointment of a lead or an opportunity to other times.
struct RescheduleAppointment final {
    Actor actor;
    std::string appointment_id;
    google::protobuf::Timestamp starts_at;
    google::protobuf::Timestamp ends_at;
    Clock::time_point now;
};

// Call an appointment of a lead or an opportunity off.
struct CancelAppointment final {
    Actor actor;
    std::string appointment_id;
    std::string reason;  // optional
    Clock::time_point now;
};

// What a reschedule / cancellation decides once the record itself allows it (exists, the actor
// may change it): nothing (std::monostate: the appointment already is so), the event, or a
// rejection (no such appointment, a cancelled one cannot move, bad times or reason). `what`
// names the record ("lead LEAD-PR-000001") for messages.
template <class Event>
using AppointmentChange = std::variant<std::monostate, Event, kernel::Rejection>;
AppointmentChange<v1::AppointmentRescheduled> reschedule_appointment(const Appointments& appointments,
                                                                     const RescheduleAppointment& command,
                                                                     std::string_view what);
AppointmentChange<v1::AppointmentCancelled> cancel_appointment(const Appointments& appointments,
                                                               const CancelAppointment& command, std::string_view what);

// A change as the record's decider answers it: the rejection, no events (nothing changes), or one
// `RecordEvent` (a LeadEvent, an OpportunityEvent) holding the change where `place` says, e.g.
// `[](v1::LeadEvent& e) { return e.mutable_appointment_cancelled(); }`.
template <class RecordEvent, class Event, class Place>
std::variant<std::vector<RecordEvent>, kernel::Rejection> decision_of(AppointmentChange<Event> change, Place place) {
    if (auto* rejection = std::get_if<kernel::Rejection>(&change)) {
        return std::move(*rejection);
    }
    if (std::holds_alternative<std::monostate>(change)) {
        return std::vector<RecordEvent>{};
    }
    std::vector<RecordEvent> events(1);
    *place(events[0]) = std::move(std::get<Event>(change));
    return events;
}

// The appointments after an event of the timeline.
void apply_appointment(Appointments& appointments, const v1::AppointmentScheduled& scheduled);
void apply_appointment(Appointments& appointments, const v1::AppointmentRescheduled& rescheduled);
void apply_appointment(Appointments& appointments, const v1::AppointmentCancelled& cancelled);

}  // namespace gatehouse::sales
