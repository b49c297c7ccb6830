#include "domain/timeline.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>

#include "gatehouse/kernel/time.h"

namespace gatehouse::sales {
namespace {

using platform::problem;

}  // namespace

std::optional<kernel::Rejection> check_owner(const Actor& actor, const std::string& owner_user_id,
                                             std::string_view what) {
    if (actor.manager || (!owner_user_id.empty() && owner_user_id == actor.user_id)) {
        return std::nullopt;
    }
    if (owner_user_id.empty()) {
        return kernel::Rejection{kernel::RejectionCode::permission_denied,
                                 std::string(what) + " is unassigned; assign it to yourself first"};
    }
    return kernel::Rejection{
        kernel::RejectionCode::permission_denied,
        std::string(what) + " is owned by " + owner_user_id + "; only its owner or a sales manager can change it"};
}

Problem check_meeting_url(std::string_view field, std::string_view url) {
    if (url.empty()) {
        return std::nullopt;
    }
    constexpr std::string_view kScheme = "https://";
    if (url.size() > 2000 || url.substr(0, kScheme.size()) != kScheme || url.size() == kScheme.size() ||
        std::any_of(url.begin(), url.end(), [](char c) {
            return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c));
        })) {
        return problem(field, "must be an https:// link of at most 2000 characters without spaces");
    }
    return std::nullopt;
}

Problem check_date(std::string_view field, std::string_view date) {
    if (date.empty()) {
        return problem(field, "is required");
    }
    const bool shaped = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
                        std::all_of(date.begin(), date.end(), [](char c) { return c == '-' || std::isdigit(c); });
    if (!shaped) {
        return problem(field, "must be a date YYYY-MM-DD");
    }
    const int year = std::stoi(std::string(date.substr(0, 4)));
    const int month = std::stoi(std::string(date.substr(5, 2)));
    const int day = std::stoi(std::string(date.substr(8, 2)));
    const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (year < 2000 || !ymd.ok()) {
        return problem(field, "must be a date YYYY-MM-DD that exists (from year 2000)");
    }
    return std::nullopt;
}

Problem check_money(std::string_view field, const common::v1::Money& money) {
    const std::string& currency = money.currency_code();
    if (currency.size() != 3 ||
        !std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        return problem(std::string(field) + ".currency_code", "must be an ISO 4217 code such as EUR");
    }
    if (money.minor_units() < 0) {
        return problem(std::string(field) + ".minor_units", "must not be negative");
    }
    return std::nullopt;
}

Problem check_appointment_times(const google::protobuf::Timestamp& starts_at,
                                const google::protobuf::Timestamp& ends_at) {
    using google::protobuf::util::TimeUtil;
    const auto valid = [](const google::protobuf::Timestamp& at) {
        return at.seconds() > 0 && at.seconds() < 253'402'300'800 && at.nanos() >= 0 && at.nanos() < 1'000'000'000;
    };
    if (!valid(starts_at)) {
        return problem("starts_at", "is required");
    }
    if (!valid(ends_at) || !(starts_at < ends_at)) {
        return problem("ends_at", "must be after starts_at");
    }
    if (ends_at - starts_at > TimeUtil::HoursToDuration(24)) {
        return problem("ends_at", "an appointment lasts at most 24 hours");
    }
    return std::nullopt;
}

Problem check_appointment(const v1::AppointmentScheduled& appointment) {
    if (auto found = platform::check_text("subject", appointment.subject(), 1, 200)) {
        return found;
    }
    if (auto found = check_appointment_times(appointment.starts_at(), appointment.ends_at())) {
        return found;
    }
    if (!appointment.language().empty() && (appointment.language().size() != 2 ||
                                            !std::all_of(appointment.language().begin(), appointment.language().end(),
                                                         [](char c) { return c >= 'a' && c <= 'z'; }))) {
        return problem("language", "must be a two-letter language code such as en or de");
    }
    if (appointment.attendees_size() > 50) {
        return problem("attendees", "at most 50");
    }
    for (int i = 0; i < appointment.attendees_size(); ++i) {
        if (auto found = platform::check_email("attendees[" + std::to_string(i) + "]", appointment.attendees(i))) {
            return found;
        }
    }
    return check_meeting_url("online_meeting_url", appointment.online_meeting_url());
}

Problem check_note(const v1::NoteAdded& note) {
    return platform::check_text("text", note.text(), 1, 5000, platform::Lines::many);
}

namespace {

// The appointment to change, or the rejection naming why there is none.
std::variant<const AppointmentRecord*, kernel::Rejection> find_appointment(const Appointments& appointments,
                                                                           const std::string& appointment_id,
                                                                           std::string_view what) {
    const auto found = appointments.find(appointment_id);
    if (found == appointments.end()) {
        return kernel::Rejection{kernel::RejectionCode::not_found,
                                 "appointment_id: " + std::string(what) + " has no appointment " + appointment_id};
    }
    return &found->second;
}

}  // namespace

AppointmentChange<v1::AppointmentRescheduled> reschedule_appointment(const Appointments& appointments,
                                                                     const RescheduleAppointment& command,
                                                                     std::string_view what) {
    const auto found = find_appointment(appointments, command.appointment_id, what);
    if (const auto* rejection = std::get_if<kernel::Rejection>(&found)) {
        return *rejection;
    }
    const AppointmentRecord& record = *std::get<const AppointmentRecord*>(found);
    if (record.cancelled) {
        return kernel::Rejection{kernel::RejectionCode::failed_precondition,
                                 "appointment " + command.appointment_id + " is Cancelled; it cannot be rescheduled"};
    }
    if (auto problem = check_appointment_times(command.starts_at, command.ends_at)) {
        return kernel::Rejection{kernel::RejectionCode::invalid_argument, *problem};
    }
    const auto& current = record.appointment;
    if (current.starts_at() == command.starts_at && current.ends_at() == command.ends_at) {
        return std::monostate{};  // already at these times: nothing to tell anyone
    }
    v1::AppointmentRescheduled event;
    event.set_appointment_id(current.appointment_id());
    event.set_lead_id(current.lead_id());
    event.set_opportunity_id(current.opportunity_id());
    event.set_prospect_request_number(current.prospect_request_number());
    event.set_subject(current.subject());
    *event.mutable_starts_at() = command.starts_at;
    *event.mutable_ends_at() = command.ends_at;
    *event.mutable_previous_starts_at() = current.starts_at();
    *event.mutable_previous_ends_at() = current.ends_at();
    *event.mutable_attendees() = current.attendees();
    event.set_online_meeting_url(current.online_meeting_url());
    event.set_organizer_email(current.organizer_email());
    event.set_sequence(record.sequence + 1);
    event.set_rescheduled_by(command.actor.user_id);
    *event.mutable_rescheduled_at() = kernel::to_timestamp(command.now);
    event.set_company_name(current.company_name());
    event.set_language(current.language());
    event.set_company_country_code(current.company_country_code());
    return event;
}

AppointmentChange<v1::AppointmentCancelled> cancel_appointment(const Appointments& appointments,
                                                               const CancelAppointment& command,
                                                               std::string_view what) {
    const auto found = find_appointment(appointments, command.appointment_id, what);
    if (const auto* rejection = std::get_if<kernel::Rejection>(&found)) {
        return *rejection;
    }
    const AppointmentRecord& record = *std::get<const AppointmentRecord*>(found);
    if (auto problem = platform::check_text("reason", command.reason, 0, 1000, platform::Lines::many)) {
        return kernel::Rejection{kernel::RejectionCode::invalid_argument, *problem};
    }
    if (record.cancelled) {
        return std::monostate{};  // called off already
    }
    const auto& current = record.appointment;
    v1::AppointmentCancelled event;
    event.set_appointment_id(current.appointment_id());
    event.set_lead_id(current.lead_id());
    event.set_opportunity_id(current.opportunity_id());
    event.set_prospect_request_number(current.prospect_request_number());
    event.set_subject(current.subject());
    *event.mutable_starts_at() = current.starts_at();
    *event.mutable_ends_at() = current.ends_at();
    *event.mutable_attendees() = current.attendees();
    event.set_online_meeting_url(current.online_meeting_url());
    event.set_organizer_email(current.organizer_email());
    event.set_sequence(record.sequence + 1);
    event.set_reason(command.reason);
    event.set_cancelled_by(command.actor.user_id);
    *event.mutable_cancelled_at() = kernel::to_timestamp(command.now);
    event.set_company_name(current.company_name());
    event.set_language(current.language());
    event.set_company_country_code(current.company_country_code());
    return event;
}

void apply_appointment(Appointments& appointments, const v1::AppointmentScheduled& scheduled) {
    appointments[scheduled.appointment_id()] = AppointmentRecord{scheduled, 0, false};
}

void apply_appointment(Appointments& appointments, const v1::AppointmentRescheduled& rescheduled) {
    const auto found = appointments.find(rescheduled.appointment_id());
    if (found == appointments.end()) {
        return;
    }
    *found->second.appointment.mutable_starts_at() = rescheduled.starts_at();
    *found->second.appointment.mutable_ends_at() = rescheduled.ends_at();
    found->second.sequence = rescheduled.sequence();
}

void apply_appointment(Appointments& appointments, const v1::AppointmentCancelled& cancelled) {
    const auto found = appointments.find(cancelled.appointment_id());
    if (found == appointments.end()) {
        return;
    }
    found->second.cancelled = true;
    found->second.sequence = cancelled.sequence();
}

}  // namespace gatehouse::sales
