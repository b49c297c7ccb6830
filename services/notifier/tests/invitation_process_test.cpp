// gatehouse-notifier as a real process with the real SMTP server (aiosmtpd) and a webhook
// receiver: an appointment's attendees get an iCalendar invitation (text/calendar part, parsed
// here), its update and its cancellation; the sales channel hears of new and changed
// opportunities. Kafka: the mock cluster, or the real broker under the "kafka" label.
#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "gatehouse/kernel/time.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/wait_until.h"
#include "notifier_process.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace sa = gatehouse::sales::v1;

namespace {

const std::string kSmtpSink = GATEHOUSE_SOURCE_DIR "/tests/support/smtp_sink.py";
const std::string kWebhookSink = GATEHOUSE_SOURCE_DIR "/tests/support/webhook_sink.py";
constexpr auto kDeliveryTimeout = 60s;

// 10:00 UTC, `days` days from today: the notifier invites only to meetings that are not over.
std::int64_t future_day(int days) {
    const std::int64_t today = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) / 86'400;
    return (today + days) * 86'400 + 10 * 3'600;
}

// `seconds` as `format` (strftime) in UTC.
std::string utc(std::int64_t seconds, const char* format) {
    const std::time_t time = seconds;
    std::tm tm{};
    gmtime_r(&time, &tm);
    char text[64];
    std::strftime(text, sizeof text, format, &tm);
    return text;
}

google::protobuf::Timestamp at(std::int64_t seconds) {
    google::protobuf::Timestamp stamp;
    stamp.set_seconds(seconds);
    return stamp;
}

// A received iCalendar object, parsed: the lines unfolded (RFC 5545 3.1), the calendar's own
// properties and the VEVENT's, by name (parameters split off into `params`).
struct Calendar {
    std::map<std::string, std::string> calendar;
    std::multimap<std::string, std::string> event;
    std::multimap<std::string, std::string> params;  // name -> ";"-joined parameters, for the event
    bool crlf_only = true;
    std::size_t longest_line = 0;
};

Calendar parse_calendar(const std::string& text) {
    Calendar parsed;
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string physical = text.substr(start, end - start);
        if (physical.empty() || physical.back() != '\r') {
            parsed.crlf_only = false;
        } else {
            physical.pop_back();
        }
        parsed.longest_line = std::max(parsed.longest_line, physical.size());
        if (!physical.empty() && physical[0] == ' ' && !lines.empty()) {
            lines.back() += physical.substr(1);
        } else {
            lines.push_back(physical);
        }
        start = end + 1;
    }
    bool in_event = false;
    for (const auto& line : lines) {
        if (line == "BEGIN:VEVENT") {
            in_event = true;
            continue;
        }
        if (line == "END:VEVENT") {
            in_event = false;
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        const std::string head = line.substr(0, colon);
        const auto semicolon = head.find(';');
        const std::string name = head.substr(0, semicolon);
        if (in_event) {
            parsed.event.emplace(name, line.substr(colon + 1));
            parsed.params.emplace(name, semicolon == std::string::npos ? "" : head.substr(semicolon + 1));
        } else {
            parsed.calendar[name] = line.substr(colon + 1);
        }
    }
    return parsed;
}

std::string one(const std::multimap<std::string, std::string>& properties, const std::string& name) {
    REQUIRE(properties.count(name) == 1);
    return properties.find(name)->second;
}

std::vector<nlohmann::json> to(const std::vector<nlohmann::json>& emails, const std::string& address) {
    std::vector<nlohmann::json> found;
    for (const auto& email : emails) {
        if (email["to"] == address) {
            found.push_back(email);
        }
    }
    return found;
}

}  // namespace

TEST_CASE("attendees get an iCalendar invitation, its update and its cancellation by email", "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);
    NotifierProcess notifier(kafka, {{"GATEHOUSE_EMAIL_TRANSPORT", "smtp"},
                                     {"GATEHOUSE_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp.port())},
                                     {"GATEHOUSE_SMTP_TLS", "none"},
                                     {"GATEHOUSE_SMTP_TIMEOUT", "5s"}});

    sa::AppointmentScheduled scheduled;
    scheduled.set_appointment_id("0193a1b2-0000-7000-8000-0000000000a1");
    scheduled.set_lead_id("LEAD-PR-000001");
    scheduled.set_prospect_request_number("PR-000001");
    scheduled.set_subject("Kick-off; Smith & Sons, Q1 plan");
    const std::int64_t starts = future_day(30);
    const std::int64_t moved_to = starts + 86'400;  // a day later
    *scheduled.mutable_starts_at() = at(starts);
    *scheduled.mutable_ends_at() = at(starts + 3'600);
    scheduled.add_attendees("ada@smith.example");
    scheduled.add_attendees("bernd@mueller.example");
    scheduled.set_online_meeting_url("https://meet.example/kick-off");
    scheduled.set_scheduled_by("bob");
    scheduled.set_organizer_email("bob@sales.example");
    scheduled.set_company_name("Smith & Sons");
    scheduled.set_company_country_code("GB");
    *scheduled.mutable_scheduled_at() = at(1'795'000'000);
    notifier.produce("gatehouse.sales.events.v1", "lead", "LEAD-PR-000001", scheduled, 3);

    REQUIRE(wait_until([&] { return smtp.received().size() >= 2; }, kDeliveryTimeout));
    const auto invitations = to(smtp.received(), "ada@smith.example");
    REQUIRE(invitations.size() == 1);
    const auto& invitation = invitations[0];
    CHECK(invitation["subject"] ==
          "Invitation: Kick-off; Smith & Sons, Q1 plan (" + utc(starts, "%Y-%m-%d %H:%M UTC") + ")");
    CHECK_THAT(invitation["text"].get<std::string>(),
               Catch::Contains("bob@sales.example invites you") && Catch::Contains("https://meet.example/kick-off"));
    REQUIRE(invitation.contains("calendar"));
    // As sent, and as the receiver's MIME parser reads it (which quotes the parameters).
    CHECK_THAT(invitation["raw"].get<std::string>(),
               Catch::Contains("\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n"));
    CHECK(invitation["calendar_content_type"] == "text/calendar; method=\"REQUEST\"; charset=\"UTF-8\"");
    const Calendar request = parse_calendar(invitation["calendar"]);
    CHECK(request.crlf_only);
    CHECK(request.longest_line <= 75);
    CHECK(request.calendar.at("VERSION") == "2.0");
    CHECK(request.calendar.at("METHOD") == "REQUEST");
    CHECK(request.calendar.count("PRODID") == 1);
    const std::string uid = one(request.event, "UID");
    CHECK(uid.rfind("0193a1b2-0000-7000-8000-0000000000a1@", 0) == 0);
    CHECK(one(request.event, "SEQUENCE") == "0");
    CHECK(one(request.event, "DTSTAMP") == "20261118T110640Z");
    CHECK(one(request.event, "DTSTART") == utc(starts, "%Y%m%dT100000Z"));
    CHECK(one(request.event, "DTEND") == utc(starts, "%Y%m%dT110000Z"));
    CHECK(one(request.event, "SUMMARY") == "Kick-off\\; Smith & Sons\\, Q1 plan");
    CHECK(one(request.event, "URL") == "https://meet.example/kick-off");
    CHECK(one(request.event, "ORGANIZER") == "mailto:bob@sales.example");
    CHECK_THAT(one(request.event, "DESCRIPTION"), Catch::Contains("bob@sales.example invites you"));
    CHECK(request.event.count("ATTENDEE") == 2);
    for (auto [it, end] = request.params.equal_range("ATTENDEE"); it != end; ++it) {
        CHECK_THAT(it->second, Catch::Contains("RSVP=TRUE") && Catch::Contains("PARTSTAT=NEEDS-ACTION"));
    }
    CHECK(one(request.event, "STATUS") == "CONFIRMED");
    REQUIRE(to(smtp.received(), "bernd@mueller.example").size() == 1);

    // Moved: an update of the same meeting (same UID, SEQUENCE 1) to both attendees.
    sa::AppointmentRescheduled moved;
    moved.set_appointment_id(scheduled.appointment_id());
    moved.set_lead_id("LEAD-PR-000001");
    moved.set_subject(scheduled.subject());
    *moved.mutable_starts_at() = at(moved_to);
    *moved.mutable_ends_at() = at(moved_to + 3'600);
    *moved.mutable_previous_starts_at() = scheduled.starts_at();
    *moved.mutable_previous_ends_at() = scheduled.ends_at();
    *moved.mutable_attendees() = scheduled.attendees();
    moved.set_online_meeting_url(scheduled.online_meeting_url());
    moved.set_organizer_email("bob@sales.example");
    moved.set_sequence(1);
    moved.set_rescheduled_by("bob");
    *moved.mutable_rescheduled_at() = at(1'795'100'000);
    moved.set_company_name("Smith & Sons");
    moved.set_language("de");  // the scheduler chose German
    notifier.produce("gatehouse.sales.events.v1", "lead", "LEAD-PR-000001", moved, 4);
    REQUIRE(wait_until([&] { return smtp.received().size() >= 4; }, kDeliveryTimeout));
    const auto updates = to(smtp.received(), "ada@smith.example");
    REQUIRE(updates.size() == 2);
    const auto& update = updates[1];
    CHECK_THAT(update["subject"].get<std::string>(), Catch::StartsWith("Aktualisierte Einladung: Kick-off"));
    CHECK_THAT(update["text"].get<std::string>(),
               Catch::Contains("verschoben von " + utc(starts, "%Y-%m-%d 10:00 UTC")));
    const Calendar updated = parse_calendar(update["calendar"]);
    CHECK(updated.calendar.at("METHOD") == "REQUEST");
    CHECK(one(updated.event, "UID") == uid);
    CHECK(one(updated.event, "SEQUENCE") == "1");
    CHECK(one(updated.event, "DTSTART") == utc(moved_to, "%Y%m%dT100000Z"));
    CHECK(one(updated.event, "DTSTAMP") == "20261119T145320Z");
    CHECK(updated.longest_line <= 75);  // the German text in DESCRIPTION is folded too

    // Called off: a cancellation, same UID, SEQUENCE 2.
    sa::AppointmentCancelled cancelled;
    cancelled.set_appointment_id(scheduled.appointment_id());
    cancelled.set_subject(scheduled.subject());
    *cancelled.mutable_starts_at() = moved.starts_at();
    *cancelled.mutable_ends_at() = moved.ends_at();
    *cancelled.mutable_attendees() = scheduled.attendees();
    cancelled.set_organizer_email("bob@sales.example");
    cancelled.set_sequence(2);
    cancelled.set_reason("Ada is ill");
    cancelled.set_cancelled_by("bob");
    *cancelled.mutable_cancelled_at() = at(1'795'200'000);
    notifier.produce("gatehouse.sales.events.v1", "lead", "LEAD-PR-000001", cancelled, 5);
    REQUIRE(wait_until([&] { return smtp.received().size() >= 6; }, kDeliveryTimeout));
    const auto all = to(smtp.received(), "ada@smith.example");
    REQUIRE(all.size() == 3);
    const auto& cancellation = all[2];
    CHECK_THAT(cancellation["subject"].get<std::string>(), Catch::StartsWith("Cancelled: Kick-off"));
    CHECK_THAT(cancellation["text"].get<std::string>(), Catch::Contains("Reason: Ada is ill"));
    CHECK_THAT(cancellation["calendar_content_type"].get<std::string>(), Catch::Contains("method=\"CANCEL\""));
    const Calendar cancel = parse_calendar(cancellation["calendar"]);
    CHECK(cancel.calendar.at("METHOD") == "CANCEL");
    CHECK(one(cancel.event, "UID") == uid);
    CHECK(one(cancel.event, "SEQUENCE") == "2");
    CHECK(one(cancel.event, "STATUS") == "CANCELLED");
    CHECK(cancel.event.count("ATTENDEE") == 2);
    CHECK(smtp.received().size() == 6);  // each attendee once per revision
}

TEST_CASE("the sales channel hears of a new opportunity and of its stage and value changes", "[kafka]") {
    KafkaTestCluster kafka;
    Sink webhook(kWebhookSink);
    NotifierProcess notifier(
        kafka, {{"GATEHOUSE_CHAT_WEBHOOKS", "sales=http://127.0.0.1:" + std::to_string(webhook.port()) + "/sales"}});

    sa::OpportunityCreated created;
    created.set_opportunity_id("OPP-PR-000001");
    created.set_lead_id("LEAD-PR-000001");
    created.set_prospect_request_number("PR-000001");
    created.set_company_name("Smith & Sons");
    created.mutable_estimated_value()->set_currency_code("EUR");
    created.mutable_estimated_value()->set_minor_units(2'500'000);
    created.set_estimated_close_date("2026-12-31");
    created.set_owner_user_id("bob");
    created.set_owner_email("bob@sales.example");
    created.set_stage(sa::OPPORTUNITY_STAGE_QUALIFY);
    notifier.produce("gatehouse.sales.events.v1", "opportunity", "OPP-PR-000001", created, 1);
    sa::OpportunityUpdated updated;
    updated.set_opportunity_id("OPP-PR-000001");
    updated.set_company_name("Smith & Sons");
    updated.set_prospect_request_number("PR-000001");
    updated.set_previous_stage(sa::OPPORTUNITY_STAGE_QUALIFY);
    updated.set_stage(sa::OPPORTUNITY_STAGE_PROPOSE);
    *updated.mutable_previous_estimated_value() = created.estimated_value();
    updated.mutable_estimated_value()->set_currency_code("EUR");
    updated.mutable_estimated_value()->set_minor_units(3'000'000);
    updated.add_changed_fields("stage");
    updated.add_changed_fields("estimated_value");
    updated.set_updated_by("bob");
    notifier.produce("gatehouse.sales.events.v1", "opportunity", "OPP-PR-000001", updated, 2);

    REQUIRE(wait_until([&] { return webhook.received().size() >= 2; }, kDeliveryTimeout));
    const auto posts = webhook.received();
    REQUIRE(posts.size() == 2);
    std::vector<std::string> texts;
    for (const auto& post : posts) {
        CHECK(post["path"] == "/sales");
        texts.push_back(post["body"]["text"]);
    }
    std::sort(texts.begin(), texts.end());  // two notifications: sent in either order
    CHECK(texts[0] ==
          "New opportunity *OPP-PR-000001*: Smith &amp; Sons (request PR-000001), stage Qualify, estimated 25000.00 "
          "EUR, closing 2026-12-31, owner bob@sales.example.\n");
    CHECK(texts[1] ==
          "Opportunity *OPP-PR-000001* updated: Smith &amp; Sons (request PR-000001); stage Qualify → Propose; "
          "estimated value 25000.00 EUR → 30000.00 EUR, by bob.\n");
}
