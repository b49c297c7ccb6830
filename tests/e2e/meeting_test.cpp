// Seed 002's lead-to-cash meeting, end to end: a verified CRM-mode request becomes a lead, the
// sales user schedules a meeting with an online link and the requester receives an iCalendar
// invitation (parsed here), then its update and its cancellation; qualification and a stage / value
// change of the opportunity are posted in the sales channel. Four service processes, Kafka, the
// real SMTP server and a webhook receiver; driven through the public APIs only.
#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/util/time_util.h>

#include "onboarding_process.h"  // valid_request()
#include "platform.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace ob = gatehouse::onboarding::v1;
namespace sa = gatehouse::sales::v1;

namespace {

constexpr auto kFlow = 60s;

// 08:00 UTC, `days` days from today (the notifier invites only to meetings that are not over), and
// a time as an iCalendar UTC DATE-TIME.
std::int64_t future_morning(int days) {
    const std::int64_t today = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) / 86'400;
    return (today + days) * 86'400 + 8 * 3'600;
}

std::string ical_utc(std::int64_t seconds) {
    const std::time_t time = seconds;
    std::tm tm{};
    gmtime_r(&time, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
    return text;
}

// The VEVENT's properties of a received calendar part (lines unfolded, parameters dropped), and
// the calendar's METHOD.
struct Invitation {
    std::string method;
    std::map<std::string, std::string> event;
    int attendees = 0;
};

Invitation parse(const std::string& calendar) {
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; (end = calendar.find("\r\n", start)) != std::string::npos; start = end + 2) {
        const std::string physical = calendar.substr(start, end - start);
        if (!physical.empty() && physical[0] == ' ' && !lines.empty()) {
            lines.back() += physical.substr(1);
        } else {
            lines.push_back(physical);
        }
    }
    Invitation parsed;
    bool in_event = false;
    for (const auto& line : lines) {
        in_event = (in_event || line == "BEGIN:VEVENT") && line != "END:VEVENT";
        const auto colon = line.find(':');
        const std::string name = line.substr(0, std::min(colon, line.find(';')));
        if (line.rfind("METHOD:", 0) == 0) {
            parsed.method = line.substr(colon + 1);
        } else if (in_event && name == "ATTENDEE") {
            ++parsed.attendees;
        } else if (in_event && colon != std::string::npos) {
            parsed.event[name] = line.substr(colon + 1);
        }
    }
    return parsed;
}

// The one email to `address` whose subject starts with `subject_start`, once it arrived.
nlohmann::json email(Platform& platform, const std::string& address, const std::string& subject_start) {
    std::vector<nlohmann::json> found;
    REQUIRE(wait_until(
        [&] {
            found.clear();
            for (auto& received : emails_to(platform.smtp(), address, "")) {
                if (received["subject"].get<std::string>().rfind(subject_start, 0) == 0) {
                    found.push_back(received);
                }
            }
            return !found.empty();
        },
        kFlow));
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].contains("calendar"));
    return found[0];
}

// The sales channel's post that contains `text`, once it arrived.
std::string sales_post(Platform& platform, const std::string& text) {
    std::string post;
    REQUIRE(wait_until(
        [&] {
            for (const auto& received : platform.webhook().received()) {
                const std::string body = received["body"]["text"];
                if (received["path"] == "/sales" && body.find(text) != std::string::npos) {
                    post = body;
                    return true;
                }
            }
            return false;
        },
        kFlow));
    return post;
}

}  // namespace

TEST_CASE(
    "seed 002: the prospect gets the meeting as an iCalendar invitation, its update and its cancellation, "
    "and the sales channel follows the opportunity",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka, {.approval_mode = "crm"});
    const std::string requester = "ada@lovelace-engines.example";
    ob::SubmitRequestResponse submitted;
    REQUIRE(platform.onboarding()
                ->SubmitRequest(call_as().get(), valid_request(requester, "Lovelace Engines GmbH"), &submitted)
                .ok());
    std::vector<nlohmann::json> confirmation;
    REQUIRE(wait_until(
        [&] { return !(confirmation = emails_to(platform.smtp(), requester, submitted.request_number())).empty(); },
        kFlow));
    ob::VerifyEmailRequest verify;
    verify.set_request_number(submitted.request_number());
    verify.set_token(link_token(confirmation[0]));
    ob::VerifyEmailResponse verified;
    REQUIRE(platform.onboarding()->VerifyEmail(call_as().get(), verify, &verified).ok());

    // The lead, taken by the sales user, who schedules the meeting with its online link.
    const std::string lead_id = "LEAD-" + submitted.request_number();
    sa::AssignLeadRequest assign;
    assign.set_lead_id(lead_id);
    assign.set_owner_user_id("sam");
    sa::AssignLeadResponse assigned;
    REQUIRE(
        wait_until([&] { return platform.sales()->AssignLead(call_as(kSales).get(), assign, &assigned).ok(); }, kFlow));
    sa::ScheduleAppointmentRequest schedule;
    schedule.set_lead_id(lead_id);
    schedule.set_subject("Lovelace Engines: introduction");
    const std::int64_t starts = future_morning(45);
    *schedule.mutable_starts_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(starts);
    *schedule.mutable_ends_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(starts + 3'600);
    schedule.add_attendees(requester);
    schedule.set_online_meeting_url("https://meet.example/lovelace-intro");
    sa::ScheduleAppointmentResponse scheduled;
    REQUIRE(platform.sales()->ScheduleAppointment(call_as(kSales).get(), schedule, &scheduled).ok());

    // The requester's invitation: German (the company is in Germany), the calendar request inside.
    const auto invitation = email(platform, requester, "Einladung: Lovelace Engines: introduction");
    CHECK_THAT(invitation["text"].get<std::string>(), Catch::Contains("https://meet.example/lovelace-intro"));
    CHECK_THAT(invitation["calendar_content_type"].get<std::string>(), Catch::Contains("method=\"REQUEST\""));
    const Invitation request = parse(invitation["calendar"]);
    CHECK(request.method == "REQUEST");
    const std::string uid = request.event.at("UID");
    CHECK(uid.rfind(scheduled.appointment_id() + "@", 0) == 0);
    CHECK(request.event.at("SEQUENCE") == "0");
    CHECK(request.event.at("DTSTART") == ical_utc(starts));
    CHECK(request.event.at("DTEND") == ical_utc(starts + 3'600));
    CHECK(request.event.at("ORGANIZER") == "mailto:sam@sales.example");
    CHECK(request.event.at("URL") == "https://meet.example/lovelace-intro");
    CHECK(request.event.count("DTSTAMP") == 1);
    CHECK(request.attendees == 1);

    // Moved by an hour: the update of the same meeting.
    sa::RescheduleAppointmentRequest reschedule;
    reschedule.set_lead_id(lead_id);
    reschedule.set_appointment_id(scheduled.appointment_id());
    *reschedule.mutable_starts_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(starts + 3'600);
    *reschedule.mutable_ends_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(starts + 7'200);
    sa::RescheduleAppointmentResponse rescheduled;
    REQUIRE(platform.sales()->RescheduleAppointment(call_as(kSales).get(), reschedule, &rescheduled).ok());
    CHECK(rescheduled.sequence() == 1);
    const Invitation update = parse(email(platform, requester, "Aktualisierte Einladung:")["calendar"]);
    CHECK(update.method == "REQUEST");
    CHECK(update.event.at("UID") == uid);
    CHECK(update.event.at("SEQUENCE") == "1");
    CHECK(update.event.at("DTSTART") == ical_utc(starts + 3'600));

    // Qualified: the sales channel hears of the opportunity; then of its move to Develop at a new value.
    sa::QualifyLeadRequest qualify;
    qualify.set_lead_id(lead_id);
    qualify.mutable_estimated_value()->set_currency_code("EUR");
    qualify.mutable_estimated_value()->set_minor_units(4'000'000);
    qualify.set_estimated_close_date("2027-03-31");
    sa::QualifyLeadResponse qualified;
    REQUIRE(platform.sales()->QualifyLead(call_as(kSales).get(), qualify, &qualified).ok());
    CHECK_THAT(sales_post(platform, "New opportunity *" + qualified.opportunity_id() + "*"),
               Catch::Contains("stage Qualify") && Catch::Contains("40000.00 EUR"));
    sa::UpdateOpportunityRequest update_opportunity;
    update_opportunity.set_opportunity_id(qualified.opportunity_id());
    update_opportunity.set_stage(sa::OPPORTUNITY_STAGE_DEVELOP);
    update_opportunity.mutable_estimated_value()->set_currency_code("EUR");
    update_opportunity.mutable_estimated_value()->set_minor_units(4'500'000);
    sa::UpdateOpportunityResponse updated;
    REQUIRE(platform.sales()->UpdateOpportunity(call_as(kSales).get(), update_opportunity, &updated).ok());
    CHECK_THAT(
        sales_post(platform, "Opportunity *" + qualified.opportunity_id() + "* updated"),
        Catch::Contains("stage Qualify → Develop") && Catch::Contains("estimated value 40000.00 EUR → 45000.00 EUR"));

    // The meeting is called off (the lead is qualified by now: cancelling is still possible).
    sa::CancelAppointmentRequest cancel;
    cancel.set_lead_id(lead_id);
    cancel.set_appointment_id(scheduled.appointment_id());
    cancel.set_reason("Wir sprechen im Opportunity-Termin weiter");
    sa::CancelAppointmentResponse cancelled;
    REQUIRE(platform.sales()->CancelAppointment(call_as(kSales).get(), cancel, &cancelled).ok());
    const auto cancellation = email(platform, requester, "Abgesagt:");
    CHECK_THAT(cancellation["text"].get<std::string>(),
               Catch::Contains("Grund: Wir sprechen im Opportunity-Termin weiter"));
    const Invitation cancelled_meeting = parse(cancellation["calendar"]);
    CHECK(cancelled_meeting.method == "CANCEL");
    CHECK(cancelled_meeting.event.at("UID") == uid);
    CHECK(cancelled_meeting.event.at("SEQUENCE") == "2");
    CHECK(cancelled_meeting.event.at("STATUS") == "CANCELLED");
}
