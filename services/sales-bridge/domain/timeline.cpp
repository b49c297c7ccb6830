#include "domain/timeline.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>

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

Problem check_appointment(const v1::AppointmentScheduled& appointment) {
    using google::protobuf::util::TimeUtil;
    if (auto found = platform::check_text("subject", appointment.subject(), 1, 200)) {
        return found;
    }
    const auto valid = [](const google::protobuf::Timestamp& at) {
        return at.seconds() > 0 && at.seconds() < 253'402'300'800 && at.nanos() >= 0 && at.nanos() < 1'000'000'000;
    };
    if (!appointment.has_starts_at() || !valid(appointment.starts_at())) {
        return problem("starts_at", "is required");
    }
    if (!appointment.has_ends_at() || !valid(appointment.ends_at()) ||
        !(appointment.starts_at() < appointment.ends_at())) {
        return problem("ends_at", "must be after starts_at");
    }
    if (appointment.ends_at() - appointment.starts_at() > TimeUtil::HoursToDuration(24)) {
        return problem("ends_at", "an appointment lasts at most 24 hours");
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

}  // namespace gatehouse::sales
