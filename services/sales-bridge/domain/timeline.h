// What leads and opportunities share: who acts (and whether they may change a record they do
// not own), and the timeline entries both carry, appointments and notes. Pure, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace gatehouse::sales
