// Meeting invitations (RFC 5545 iCalendar, RFC 5546 iTIP by email) and the sales channel's
// opportunity posts: the iCalendar object against the RFC's rules (folding, escaping, required
// properties), the MIME message that carries it, the planner and the templates in en and de.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "domain/icalendar.h"
#include "domain/planner.h"
#include "domain/templates.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "transport/transport.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
namespace sa = gatehouse::sales::v1;

namespace {

const std::filesystem::path kTemplates = GATEHOUSE_NOTIFIER_TEMPLATES_DIR;
const auto kNow = std::chrono::system_clock::from_time_t(1'764'000'000);  // 2025-11-24T16:00:00Z

google::protobuf::Timestamp at(std::int64_t seconds) {
    google::protobuf::Timestamp stamp;
    stamp.set_seconds(seconds);
    return stamp;
}

v1::CalendarInvitation invitation() {
    v1::CalendarInvitation calendar;
    calendar.set_method("REQUEST");
    calendar.set_uid("0193a1b2-0000-7000-8000-000000000001");
    calendar.set_sequence(0);
    calendar.set_summary("Intro; Acme, Inc. \\ Q4\nagenda");
    *calendar.mutable_starts_at() = at(1'764'180'000);  // 2025-11-26T18:00:00Z
    *calendar.mutable_ends_at() = at(1'764'181'800);
    *calendar.mutable_stamp() = at(1'764'000'000);
    calendar.set_organizer_email("bob@sales.example");
    calendar.add_attendees("jane@acme.example");
    calendar.add_attendees("carol@sales.example");
    calendar.set_url("https://meet.example/acme-intro?pwd=a;b");
    return calendar;
}

// The content lines of an iCalendar object: physical lines split at CRLF, folded lines joined
// (RFC 5545 3.1: a CRLF followed by one space or tab is removed).
std::vector<std::string> unfold(const std::string& object) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < object.size()) {
        const auto end = object.find("\r\n", start);
        REQUIRE(end != std::string::npos);  // every line ends with CRLF, the last one too
        const std::string physical = object.substr(start, end - start);
        if (!physical.empty() && (physical[0] == ' ' || physical[0] == '\t')) {
            REQUIRE_FALSE(lines.empty());
            lines.back() += physical.substr(1);
        } else {
            lines.push_back(physical);
        }
        start = end + 2;
    }
    return lines;
}

// Name (with parameters) -> values, of the lines inside the VEVENT.
std::multimap<std::string, std::string> event_properties(const std::vector<std::string>& lines) {
    std::multimap<std::string, std::string> properties;
    bool inside = false;
    for (const auto& line : lines) {
        if (line == "BEGIN:VEVENT") {
            inside = true;
        } else if (line == "END:VEVENT") {
            inside = false;
        } else if (inside) {
            const auto colon = line.find(':');
            REQUIRE(colon != std::string::npos);
            properties.emplace(line.substr(0, colon), line.substr(colon + 1));
        }
    }
    return properties;
}

std::string only(const std::multimap<std::string, std::string>& properties, const std::string& name) {
    REQUIRE(properties.count(name) == 1);
    return properties.find(name)->second;
}

template <class Message>
std::vector<v1::NotificationQueued> plan_sales(const Message& message, const PlannerSettings& settings,
                                               const std::string& event_id = "evt-42") {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(event_id);
    envelope.set_event_type(Message::descriptor()->full_name());
    envelope.set_payload(message.SerializeAsString());
    *envelope.mutable_occurred_at() = at(1'764'000'500);
    std::string error;
    auto planned = plan_notifications(InputTopic::sales, envelope, settings, kNow, error);
    CHECK(error.empty());
    return planned;
}

sa::AppointmentScheduled scheduled() {
    sa::AppointmentScheduled appointment;
    appointment.set_appointment_id("apt-1");
    appointment.set_lead_id("LEAD-PR-000001");
    appointment.set_subject("Introduction call");
    *appointment.mutable_starts_at() = at(1'764'180'000);
    *appointment.mutable_ends_at() = at(1'764'181'800);
    appointment.add_attendees("jane@acme.example");
    appointment.add_attendees("carol@sales.example");
    appointment.add_attendees("jane@acme.example");  // listed twice: one email
    appointment.set_online_meeting_url("https://meet.example/acme-intro");
    appointment.set_organizer_email("bob@sales.example");
    appointment.set_company_name("Acme GmbH");
    appointment.set_company_country_code("DE");
    *appointment.mutable_scheduled_at() = at(1'764'000'000);
    return appointment;
}

}  // namespace

TEST_CASE("iCalendar TEXT values are escaped: backslash, semicolon, comma, line breaks", "[icalendar]") {
    CHECK(escape_ical_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf");
    CHECK(escape_ical_text("tab\there, bell\a gone") == "tab here\\, bell gone");
    CHECK(escape_ical_text("Grüße: 10:00") == "Grüße: 10:00");  // colons and UTF-8 stay as they are
}

TEST_CASE("iCalendar lines are folded at 75 octets with CRLF and a space, never inside a UTF-8 character",
          "[icalendar]") {
    CHECK(fold_ical_line("SUMMARY:short") == "SUMMARY:short\r\n");
    const std::string exact = "X:" + std::string(73, 'a');  // 75 octets: not folded
    CHECK(fold_ical_line(exact) == exact + "\r\n");
    const std::string long_line = "DESCRIPTION:" + std::string(200, 'x');
    const std::string folded = fold_ical_line(long_line);
    std::vector<std::string> physical;
    for (std::size_t start = 0, end; (end = folded.find("\r\n", start)) != std::string::npos; start = end + 2) {
        physical.push_back(folded.substr(start, end - start));
    }
    REQUIRE(physical.size() == 3);
    CHECK(physical[0].size() == 75);
    CHECK(physical[1].size() == 75);
    CHECK(physical[1][0] == ' ');
    CHECK(physical[2][0] == ' ');
    CHECK(unfold(folded) == std::vector<std::string>{long_line});

    // 'ü' is two octets: a line of them breaks between characters, each line at most 75 octets.
    std::string umlauts = "SUMMARY:";
    for (int i = 0; i < 100; ++i) {
        umlauts += "ü";
    }
    const std::string folded_umlauts = fold_ical_line(umlauts);
    for (std::size_t start = 0, end; (end = folded_umlauts.find("\r\n", start)) != std::string::npos; start = end + 2) {
        const std::string line = folded_umlauts.substr(start, end - start);
        CHECK(line.size() <= 75);
        const auto first = static_cast<unsigned char>(line[start == 0 ? 0 : 1]);
        CHECK((first & 0xC0) != 0x80);  // no line starts with a continuation byte
    }
    CHECK(unfold(folded_umlauts) == std::vector<std::string>{umlauts});
}

TEST_CASE("an iCalendar REQUEST has what RFC 5545 and RFC 5546 require, in UTC, with RSVP", "[icalendar]") {
    const std::string object =
        render_icalendar(invitation(), {.uid_domain = "gatehouse.test",
                                        .organizer = "Gatehouse <no-reply@gatehouse.test>",
                                        .description = "Hello,\nsee you; bring the contract, please."});
    const auto lines = unfold(object);
    REQUIRE(lines.size() > 4);
    CHECK(lines.front() == "BEGIN:VCALENDAR");
    CHECK(lines.back() == "END:VCALENDAR");
    CHECK(std::count(lines.begin(), lines.end(), "VERSION:2.0") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "METHOD:REQUEST") == 1);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("PRODID:", 0) == 0; }) ==
          1);
    for (std::size_t start = 0, end; (end = object.find("\r\n", start)) != std::string::npos; start = end + 2) {
        CHECK(end - start <= 75);
    }
    CHECK(object.find('\n') == object.find("\r\n") + 1);  // no bare LF anywhere
    for (std::size_t i = 0; i < object.size(); ++i) {
        if (object[i] == '\n') {
            CHECK(object[i - 1] == '\r');
        }
    }

    const auto event = event_properties(lines);
    CHECK(only(event, "UID") == "0193a1b2-0000-7000-8000-000000000001@gatehouse.test");
    CHECK(only(event, "SEQUENCE") == "0");
    CHECK(only(event, "DTSTAMP") == "20251124T160000Z");
    CHECK(only(event, "DTSTART") == "20251126T180000Z");
    CHECK(only(event, "DTEND") == "20251126T183000Z");
    CHECK(only(event, "SUMMARY") == "Intro\\; Acme\\, Inc. \\\\ Q4\\nagenda");
    CHECK(only(event, "DESCRIPTION") == "Hello\\,\\nsee you\\; bring the contract\\, please.");
    CHECK(only(event, "LOCATION") == "https://meet.example/acme-intro?pwd=a\\;b");
    CHECK(only(event, "URL") == "https://meet.example/acme-intro?pwd=a;b");
    CHECK(only(event, "ORGANIZER") == "mailto:bob@sales.example");
    const auto attendees =
        event.equal_range("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE");
    std::vector<std::string> invited;
    for (auto it = attendees.first; it != attendees.second; ++it) {
        invited.push_back(it->second);
    }
    CHECK(invited == std::vector<std::string>{"mailto:jane@acme.example", "mailto:carol@sales.example"});
    CHECK(only(event, "STATUS") == "CONFIRMED");
}

TEST_CASE("an update keeps the UID with a higher SEQUENCE, a CANCEL is STATUS:CANCELLED without RSVP", "[icalendar]") {
    const CalendarRendering rendering{.uid_domain = "gatehouse.test", .organizer = "no-reply@gatehouse.test"};
    auto update = invitation();
    update.set_sequence(1);
    const auto first = event_properties(unfold(render_icalendar(invitation(), rendering)));
    const auto updated = event_properties(unfold(render_icalendar(update, rendering)));
    CHECK(only(updated, "UID") == only(first, "UID"));
    CHECK(only(updated, "SEQUENCE") == "1");

    auto cancel = invitation();
    cancel.set_method("CANCEL");
    cancel.set_sequence(2);
    cancel.clear_organizer_email();  // then the notifier's sender organizes
    const auto lines = unfold(render_icalendar(
        cancel, {.uid_domain = "gatehouse.test", .organizer = "Gatehouse Sales <sales@gatehouse.test>"}));
    CHECK(std::count(lines.begin(), lines.end(), "METHOD:CANCEL") == 1);
    const auto cancelled = event_properties(lines);
    CHECK(only(cancelled, "UID") == only(first, "UID"));
    CHECK(only(cancelled, "SEQUENCE") == "2");
    CHECK(only(cancelled, "STATUS") == "CANCELLED");
    CHECK(only(cancelled, "ORGANIZER;CN=\"Gatehouse Sales\"") == "mailto:sales@gatehouse.test");
    CHECK(cancelled.count("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE") == 2);
    CHECK(cancelled.count("DESCRIPTION") == 0);  // none given: none written
}

TEST_CASE("the MIME message of an invitation: text, HTML and a base64 text/calendar part with its method", "[mime]") {
    OutgoingEmail email;
    email.message_id = "<N-abc@gatehouse.test>";
    email.from = "no-reply@gatehouse.test";
    email.to = "jane@acme.example";
    email.subject = "Invitation: Introduction call";
    email.text = "Hello";
    email.html = "<p>Hello</p>";
    email.calendar = render_icalendar(invitation(), {.uid_domain = "gatehouse.test", .organizer = email.from});
    email.calendar_method = "REQUEST";
    const std::string mime = compose_mime(email, std::chrono::system_clock::time_point{});
    CHECK(mime.find("Content-Type: multipart/alternative;") != std::string::npos);
    CHECK(mime.find("Content-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
    const auto calendar = mime.find("Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n");
    REQUIRE(calendar != std::string::npos);
    CHECK(calendar > mime.find("Content-Type: text/html"));  // last: the part calendar clients act on
    CHECK(mime.find("Content-Transfer-Encoding: base64\r\n", calendar) != std::string::npos);
    for (std::size_t start = 0, end; (end = mime.find("\r\n", start)) != std::string::npos; start = end + 2) {
        CHECK(end - start <= 78);
    }
    email.calendar_method = "CANCEL\r\nBcc: x@evil.example";  // a method is a token, whatever it holds
    CHECK(compose_mime(email, {}).find("method=CANCELBccxevilexample;") != std::string::npos);
    email.calendar.clear();
    CHECK(compose_mime(email, {}).find("text/calendar") == std::string::npos);
}

TEST_CASE("appointment scheduled: each attendee once, an invitation with the calendar request", "[planner]") {
    PlannerSettings settings;
    settings.locales = {"en", "de"};
    const auto planned = plan_sales(scheduled(), settings);  // no chat channel needed
    REQUIRE(planned.size() == 2);
    CHECK(planned[0].recipient() == "jane@acme.example");
    CHECK(planned[1].recipient() == "carol@sales.example");
    CHECK(planned[0].notification_id() != planned[1].notification_id());
    for (const auto& queued : planned) {
        CHECK(queued.template_name() == "appointment_invitation");
        CHECK(queued.channel() == v1::CHANNEL_EMAIL);
        CHECK(queued.locale() == "de");  // the lead's company is in Germany
        const auto& calendar = queued.calendar();
        CHECK(calendar.method() == "REQUEST");
        CHECK(calendar.uid() == "apt-1");
        CHECK(calendar.sequence() == 0);
        CHECK(calendar.summary() == "Introduction call");
        CHECK(calendar.stamp().seconds() == 1'764'000'000);
        CHECK(calendar.organizer_email() == "bob@sales.example");
        CHECK(calendar.attendees_size() == 3);
        CHECK(calendar.url() == "https://meet.example/acme-intro");
        CHECK(queued.variables().at("starts_at") == "2025-11-26 18:00 UTC");
        CHECK(queued.variables().at("online_meeting_url") == "https://meet.example/acme-intro");
    }
    auto english = scheduled();
    english.set_language("en");
    CHECK(plan_sales(english, settings)[0].locale() == "en");  // the scheduler's choice wins
    english.clear_scheduled_at();
    CHECK(plan_sales(english, settings)[0].calendar().stamp().seconds() == 1'764'000'500);  // the event's time
    // A meeting that is already over (an old event read again): no invitation.
    auto past = scheduled();
    *past.mutable_starts_at() = at(1'763'990'000);
    *past.mutable_ends_at() = at(1'764'000'000);  // = kNow
    CHECK(plan_sales(past, settings).empty());
}

TEST_CASE("appointment rescheduled: an update with its sequence, cancelled: a CANCEL with the reason", "[planner]") {
    PlannerSettings settings;
    sa::AppointmentRescheduled moved;
    moved.set_appointment_id("apt-1");
    moved.set_subject("Introduction call");
    *moved.mutable_starts_at() = at(1'764'266'400);
    *moved.mutable_ends_at() = at(1'764'268'200);
    *moved.mutable_previous_starts_at() = at(1'764'180'000);
    moved.add_attendees("jane@acme.example");
    moved.set_sequence(1);
    *moved.mutable_rescheduled_at() = at(1'764'001'000);
    const auto updates = plan_sales(moved, settings);
    REQUIRE(updates.size() == 1);
    CHECK(updates[0].template_name() == "appointment_invitation");
    CHECK(updates[0].calendar().method() == "REQUEST");
    CHECK(updates[0].calendar().uid() == "apt-1");
    CHECK(updates[0].calendar().sequence() == 1);
    CHECK(updates[0].calendar().stamp().seconds() == 1'764'001'000);
    CHECK(updates[0].variables().at("previous_starts_at") == "2025-11-26 18:00 UTC");

    sa::AppointmentCancelled cancelled;
    cancelled.set_appointment_id("apt-1");
    cancelled.set_subject("Introduction call");
    *cancelled.mutable_starts_at() = moved.starts_at();
    *cancelled.mutable_ends_at() = moved.ends_at();
    cancelled.add_attendees("jane@acme.example");
    cancelled.set_sequence(2);
    cancelled.set_reason("Jane is ill");
    const auto cancellations = plan_sales(cancelled, settings);
    REQUIRE(cancellations.size() == 1);
    CHECK(cancellations[0].template_name() == "appointment_cancelled");
    CHECK(cancellations[0].calendar().method() == "CANCEL");
    CHECK(cancellations[0].calendar().sequence() == 2);
    CHECK(cancellations[0].variables().at("reason") == "Jane is ill");
    // Each revision is its own cause (event): the update is a new email to the same attendee, not
    // the invitation again, while a redelivered update is the same notification.
    auto first = scheduled();
    first.clear_attendees();
    first.add_attendees("jane@acme.example");
    const auto invited = plan_sales(first, settings, "evt-1");
    const auto update = plan_sales(moved, settings, "evt-2");
    CHECK(invited[0].notification_id() != update[0].notification_id());
    CHECK(plan_sales(moved, settings, "evt-2")[0].notification_id() == update[0].notification_id());
}

TEST_CASE("opportunity created and updated are posted to the sales channel, old -> new", "[planner]") {
    sa::OpportunityCreated created;
    created.set_opportunity_id("OPP-PR-000001");
    created.set_company_name("Acme GmbH");
    created.set_prospect_request_number("PR-000001");
    created.mutable_estimated_value()->set_currency_code("EUR");
    created.mutable_estimated_value()->set_minor_units(2'500'000);
    created.set_estimated_close_date("2026-12-31");
    created.set_owner_email("bob@sales.example");
    created.set_stage(sa::OPPORTUNITY_STAGE_QUALIFY);
    CHECK(plan_sales(created, {}).empty());  // no sales channel: nobody to tell
    PlannerSettings settings;
    settings.chat_channels = {"sales"};
    const auto posts = plan_sales(created, settings);
    REQUIRE(posts.size() == 1);
    CHECK(posts[0].template_name() == "opportunity_created_chat");
    CHECK(posts[0].channel() == v1::CHANNEL_CHAT);
    CHECK(posts[0].recipient() == "sales");
    CHECK(posts[0].variables().at("stage") == "Qualify");
    CHECK(posts[0].variables().at("estimated_value") == "25000.00 EUR");
    CHECK(posts[0].variables().at("owner") == "bob@sales.example");

    sa::OpportunityUpdated updated;
    updated.set_opportunity_id("OPP-PR-000001");
    updated.set_previous_stage(sa::OPPORTUNITY_STAGE_QUALIFY);
    updated.set_stage(sa::OPPORTUNITY_STAGE_PROPOSE);
    *updated.mutable_previous_estimated_value() = created.estimated_value();
    *updated.mutable_estimated_value() = created.estimated_value();
    updated.add_changed_fields("stage");
    updated.set_updated_by("bob");
    const auto stage_post = plan_sales(updated, settings);
    REQUIRE(stage_post.size() == 1);
    CHECK(stage_post[0].template_name() == "opportunity_updated_chat");
    CHECK(stage_post[0].variables().at("old_stage") == "Qualify");
    CHECK(stage_post[0].variables().at("new_stage") == "Propose");
    CHECK(stage_post[0].variables().count("new_value") == 0);  // the value did not change
    updated.clear_changed_fields();
    updated.add_changed_fields("estimated_value");
    updated.mutable_estimated_value()->set_minor_units(3'000'000);
    const auto value_post = plan_sales(updated, settings);
    CHECK(value_post[0].variables().at("old_value") == "25000.00 EUR");
    CHECK(value_post[0].variables().at("new_value") == "30000.00 EUR");
    CHECK(value_post[0].variables().count("new_stage") == 0);
}

TEST_CASE("the invitation, update and cancellation emails and the opportunity posts render, in en and de",
          "[templates]") {
    const TemplateSet templates(kTemplates, "en");
    std::map<std::string, std::string> variables = {{"subject", "Introduction call"},
                                                    {"company_name", "Acme GmbH"},
                                                    {"starts_at", "2025-11-26 18:00 UTC"},
                                                    {"ends_at", "2025-11-26 18:30 UTC"},
                                                    {"online_meeting_url", "https://meet.example/acme-intro"},
                                                    {"organizer", "bob@sales.example"}};
    const auto en = templates.render_email("appointment_invitation", "en", variables);
    CHECK(en.subject == "Invitation: Introduction call (2025-11-26 18:00 UTC)");
    CHECK(en.text.find("bob@sales.example invites you to a meeting about Acme GmbH") != std::string::npos);
    CHECK(en.text.find("Join online: https://meet.example/acme-intro") != std::string::npos);
    CHECK(en.text.find("moved from") == std::string::npos);
    CHECK(en.html.find("href=\"https://meet.example/acme-intro\"") != std::string::npos);
    const auto de = templates.render_email("appointment_invitation", "de", variables);
    CHECK(de.subject == "Einladung: Introduction call (2025-11-26 18:00 UTC)");
    CHECK(de.text.find("Online teilnehmen: https://meet.example/acme-intro") != std::string::npos);
    variables["previous_starts_at"] = "2025-11-25 18:00 UTC";
    CHECK(templates.render_email("appointment_invitation", "en", variables).subject.rfind("Updated invitation", 0) ==
          0);
    CHECK(templates.render_email("appointment_invitation", "de", variables)
              .text.find("verschoben von 2025-11-25 18:00 UTC") != std::string::npos);
    variables.erase("previous_starts_at");
    variables["reason"] = "Jane is ill";
    const auto cancelled_en = templates.render_email("appointment_cancelled", "en", variables);
    CHECK(cancelled_en.subject == "Cancelled: Introduction call (2025-11-26 18:00 UTC)");
    CHECK(cancelled_en.text.find("Reason: Jane is ill") != std::string::npos);
    CHECK(templates.render_email("appointment_cancelled", "de", variables).text.find("Grund: Jane is ill") !=
          std::string::npos);

    CHECK(templates.render_chat("opportunity_created_chat", "en",
                                {{"opportunity_id", "OPP-PR-000001"},
                                 {"company_name", "Smith & Sons"},
                                 {"request_number", "PR-000001"},
                                 {"stage", "Qualify"},
                                 {"estimated_value", "25000.00 EUR"},
                                 {"estimated_close_date", "2026-12-31"},
                                 {"owner", "bob@sales.example"}}) ==
          "New opportunity *OPP-PR-000001*: Smith &amp; Sons (request PR-000001), stage Qualify, estimated 25000.00 "
          "EUR, closing 2026-12-31, owner bob@sales.example.\n");
    CHECK(templates.render_chat("opportunity_updated_chat", "en",
                                {{"opportunity_id", "OPP-PR-000001"},
                                 {"company_name", "Acme GmbH"},
                                 {"request_number", "PR-000001"},
                                 {"old_stage", "Qualify"},
                                 {"new_stage", "Propose"},
                                 {"old_value", "25000.00 EUR"},
                                 {"new_value", "30000.00 EUR"},
                                 {"updated_by", "bob"}}) ==
          "Opportunity *OPP-PR-000001* updated: Acme GmbH (request PR-000001); stage Qualify → Propose; estimated "
          "value 25000.00 EUR → 30000.00 EUR, by bob.\n");
}
