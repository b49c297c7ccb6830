// Given events / when command / then events (or rejection), for every transition of a Lead.
#include "domain/lead.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse::sales;
using namespace gatehouse::testing;
using gatehouse::kernel::RejectionCode;
using namespace std::chrono_literals;

namespace {

const Actor kBob{"bob", "bob@sales.example", false};
const Actor kCarol{"carol", "carol@sales.example", false};
const Actor kManager{"maria", "maria@sales.example", true};

v1::LeadCreated lead(const std::string& owner = "") {
    v1::LeadCreated created;
    created.set_lead_id(lead_id_for("PR-000001"));
    created.set_prospect_request_number("PR-000001");
    created.set_topic("B2B partner request: Acme GmbH");
    created.set_company_name("Acme GmbH");
    created.mutable_contact()->set_email("jane@acme.example");
    created.set_origin(std::string(kCommerceOrigin));
    created.set_owner_user_id(owner);
    created.set_owner_email(owner.empty() ? "" : owner + "@sales.example");
    *created.mutable_created_at() = stamp(kNow);
    return created;
}

v1::LeadEvent created_event(const std::string& owner = "") {
    v1::LeadEvent event;
    *event.mutable_lead_created() = lead(owner);
    return event;
}

v1::LeadEvent assigned_event(const std::string& owner) {
    v1::LeadEvent event;
    event.mutable_lead_assigned()->set_owner_user_id(owner);
    event.mutable_lead_assigned()->set_owner_email(owner + "@sales.example");
    return event;
}

v1::LeadEvent disqualified_event() {
    v1::LeadEvent event;
    event.mutable_lead_disqualified()->set_reason("not a reseller");
    return event;
}

QualifyLead qualify(const Actor& actor) {
    QualifyLead command{actor, {}, "2026-12-31", kNow + 1h};
    command.estimated_value.set_currency_code("EUR");
    command.estimated_value.set_minor_units(1'500'000);
    return command;
}

ScheduleAppointment appointment(const Actor& actor) {
    ScheduleAppointment command{actor, {}};
    command.appointment.set_appointment_id("apt-1");
    command.appointment.set_subject("Introduction call");
    *command.appointment.mutable_starts_at() = stamp(kNow + 24h);
    *command.appointment.mutable_ends_at() = stamp(kNow + 25h);
    command.appointment.add_attendees("jane@acme.example");
    command.appointment.set_online_meeting_url("https://meet.example/acme-intro");
    return command;
}

AddNote note(const Actor& actor, const std::string& text = "Called Jane, sends trade licence") {
    AddNote command{actor, {}};
    command.note.set_note_id("note-1");
    command.note.set_text(text);
    *command.note.mutable_added_at() = stamp(kNow + 2h);
    return command;
}

}  // namespace

TEST_CASE("create: an Open lead, created again (redelivery), nothing new", "[lead]") {
    const auto events = then_events<Lead>({}, CreateLead{lead()});
    REQUIRE(events.size() == 1);
    CHECK(events[0].lead_created().lead_id() == "LEAD-PR-000001");
    const auto state = given<Lead>(events);
    CHECK(state.status == LeadStatus::open);
    CHECK(state.owner_user_id.empty());
    CHECK(then_events<Lead>({created_event()}, CreateLead{lead()}).empty());
    CHECK(then_events<Lead>({created_event(), disqualified_event()}, CreateLead{lead()}).empty());
}

TEST_CASE("create with an owner (round-robin): the lead and its assignment", "[lead]") {
    const auto events = then_events<Lead>({}, CreateLead{lead("bob")});
    REQUIRE(events.size() == 2);
    CHECK(events[1].lead_assigned().owner_user_id() == "bob");
    CHECK(events[1].lead_assigned().owner_email() == "bob@sales.example");
    CHECK(events[1].lead_assigned().assigned_by() == "sales-bridge");
    CHECK(events[1].lead_assigned().prospect_request_number() == "PR-000001");
    CHECK(given<Lead>(events).owner_user_id == "bob");
}

TEST_CASE("create without a request number is refused", "[lead]") {
    auto incomplete = lead();
    incomplete.clear_prospect_request_number();
    CHECK(then_rejected<Lead>({}, CreateLead{incomplete}).code == RejectionCode::invalid_argument);
}

TEST_CASE("assign: a sales user takes an unassigned lead, a manager gives it to anyone", "[lead]") {
    const auto taken = then_events<Lead>({created_event()}, AssignLead{kBob, "bob", "bob@sales.example", kNow});
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].lead_assigned().owner_user_id() == "bob");
    CHECK(taken[0].lead_assigned().assigned_by() == "bob");
    CHECK(taken[0].lead_assigned().company_name() == "Acme GmbH");

    const auto given_away = then_events<Lead>({created_event(), assigned_event("bob")},
                                              AssignLead{kManager, "carol", "carol@sales.example", kNow});
    REQUIRE(given_away.size() == 1);
    CHECK(given_away[0].lead_assigned().previous_owner_user_id() == "bob");
    // The owner may hand their own lead on.
    CHECK(then_events<Lead>({created_event(), assigned_event("bob")}, AssignLead{kBob, "carol", "", kNow}).size() == 1);
    // Same owner again: nothing.
    CHECK(then_events<Lead>({created_event(), assigned_event("bob")}, AssignLead{kBob, "bob", "", kNow}).empty());
}

TEST_CASE("assign: a sales user may not take someone else's lead or give an unassigned one away", "[lead]") {
    const auto taken =
        then_rejected<Lead>({created_event(), assigned_event("bob")}, AssignLead{kCarol, "carol", "", kNow});
    CHECK(taken.code == RejectionCode::permission_denied);
    CHECK(taken.message == "lead LEAD-PR-000001 is owned by bob; only its owner or a sales manager can change it");
    CHECK(then_rejected<Lead>({created_event()}, AssignLead{kCarol, "bob", "", kNow}).code ==
          RejectionCode::permission_denied);
    CHECK(then_rejected<Lead>({created_event()}, AssignLead{kManager, "", "", kNow}).code ==
          RejectionCode::invalid_argument);
    CHECK(then_rejected<Lead>({}, AssignLead{kManager, "bob", "", kNow}).code == RejectionCode::not_found);
    const auto closed =
        then_rejected<Lead>({created_event(), disqualified_event()}, AssignLead{kManager, "bob", "", kNow});
    CHECK(closed.code == RejectionCode::failed_precondition);
    CHECK(closed.message == "lead LEAD-PR-000001 is Disqualified; only an Open lead can be assigned");
}

TEST_CASE("qualify: the owner qualifies, ids of opportunity, account, contact follow the request", "[lead]") {
    const auto events = then_events<Lead>({created_event(), assigned_event("bob")}, qualify(kBob));
    REQUIRE(events.size() == 1);
    const auto& qualified = events[0].lead_qualified();
    CHECK(qualified.opportunity_id() == "OPP-PR-000001");
    CHECK(qualified.account_id() == "ACC-PR-000001");
    CHECK(qualified.contact_id() == "CON-PR-000001");
    CHECK(qualified.qualified_by() == "bob");
    CHECK(qualified.estimated_value().minor_units() == 1'500'000);
    CHECK(qualified.estimated_close_date() == "2026-12-31");
    const auto state = given<Lead>({created_event(), assigned_event("bob"), events[0]});
    CHECK(state.status == LeadStatus::qualified);
    CHECK(state.opportunity_id == "OPP-PR-000001");

    const auto again = then_rejected<Lead>({created_event(), assigned_event("bob"), events[0]}, qualify(kBob));
    CHECK(again.code == RejectionCode::failed_precondition);
    CHECK(again.message == "lead LEAD-PR-000001 is Qualified; only an Open lead can be qualified");
}

TEST_CASE("qualify: only the owner or a manager, with a valid value and close date", "[lead]") {
    CHECK(then_rejected<Lead>({created_event()}, qualify(kBob)).message ==
          "lead LEAD-PR-000001 is unassigned; assign it to yourself first");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, qualify(kCarol)).code ==
          RejectionCode::permission_denied);
    CHECK(then_events<Lead>({created_event()}, qualify(kManager)).size() == 1);

    auto bad_currency = qualify(kBob);
    bad_currency.estimated_value.set_currency_code("euro");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, bad_currency).message ==
          "estimated_value.currency_code: must be an ISO 4217 code such as EUR");
    auto negative = qualify(kBob);
    negative.estimated_value.set_minor_units(-1);
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, negative).message ==
          "estimated_value.minor_units: must not be negative");
    auto bad_date = qualify(kBob);
    bad_date.estimated_close_date = "2026-02-30";
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, bad_date).message ==
          "estimated_close_date: must be a date YYYY-MM-DD that exists (from year 2000)");
    bad_date.estimated_close_date = "31.12.2026";
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, bad_date).message ==
          "estimated_close_date: must be a date YYYY-MM-DD");
}

TEST_CASE("disqualify: with a reason, the request number travels for onboarding", "[lead]") {
    const auto events =
        then_events<Lead>({created_event(), assigned_event("bob")}, DisqualifyLead{kBob, "not a reseller", kNow});
    REQUIRE(events.size() == 1);
    CHECK(events[0].lead_disqualified().prospect_request_number() == "PR-000001");
    CHECK(events[0].lead_disqualified().reason() == "not a reseller");
    CHECK(events[0].lead_disqualified().disqualified_by() == "bob");
    CHECK(given<Lead>({created_event(), events[0]}).status == LeadStatus::disqualified);

    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, DisqualifyLead{kBob, "", kNow}).message ==
          "reason: is required");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, DisqualifyLead{kCarol, "x", kNow}).code ==
          RejectionCode::permission_denied);
    CHECK(then_rejected<Lead>({created_event(), disqualified_event()}, DisqualifyLead{kManager, "x", kNow}).code ==
          RejectionCode::failed_precondition);
    CHECK(then_rejected<Lead>({}, DisqualifyLead{kManager, "x", kNow}).code == RejectionCode::not_found);
}

TEST_CASE("appointment: on an open lead, with subject, times, attendees and meeting link", "[lead]") {
    const auto events = then_events<Lead>({created_event(), assigned_event("bob")}, appointment(kBob));
    REQUIRE(events.size() == 1);
    const auto& scheduled = events[0].appointment_scheduled();
    CHECK(scheduled.lead_id() == "LEAD-PR-000001");
    CHECK(scheduled.scheduled_by() == "bob");
    CHECK(scheduled.company_name() == "Acme GmbH");
    CHECK(scheduled.online_meeting_url() == "https://meet.example/acme-intro");
    CHECK(given<Lead>({created_event(), events[0]}).appointments == 1);

    const std::vector<v1::LeadEvent> owned = {created_event(), assigned_event("bob")};
    auto no_subject = appointment(kBob);
    no_subject.appointment.clear_subject();
    CHECK(then_rejected<Lead>(owned, no_subject).message == "subject: is required");
    auto backwards = appointment(kBob);
    *backwards.appointment.mutable_ends_at() = stamp(kNow + 23h);
    CHECK(then_rejected<Lead>(owned, backwards).message == "ends_at: must be after starts_at");
    auto bad_attendee = appointment(kBob);
    bad_attendee.appointment.add_attendees("not an email");
    CHECK(then_rejected<Lead>(owned, bad_attendee).message ==
          "attendees[1]: must be an email address such as name@example.com");
    auto insecure = appointment(kBob);
    insecure.appointment.set_online_meeting_url("http://meet.example/x");
    CHECK(then_rejected<Lead>(owned, insecure).message ==
          "online_meeting_url: must be an https:// link of at most 2000 characters without spaces");
    CHECK(then_rejected<Lead>(owned, appointment(kCarol)).code == RejectionCode::permission_denied);
    CHECK(then_rejected<Lead>({created_event(), disqualified_event()}, appointment(kManager)).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("note: by the owner or a manager, also on a closed lead", "[lead]") {
    const auto events = then_events<Lead>({created_event(), assigned_event("bob")}, note(kBob));
    REQUIRE(events.size() == 1);
    CHECK(events[0].note_added().author() == "bob");
    CHECK(events[0].note_added().lead_id() == "LEAD-PR-000001");
    CHECK(then_events<Lead>({created_event(), disqualified_event()}, note(kManager)).size() == 1);
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, note(kBob, "")).message == "text: is required");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, note(kBob, std::string(5001, 'x'))).message ==
          "text: must have at most 5000 characters");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, note(kBob, "bell\a")).message ==
          "text: must be valid UTF-8 text without control characters");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, note(kCarol)).code ==
          RejectionCode::permission_denied);
    CHECK(then_rejected<Lead>({}, note(kManager)).code == RejectionCode::not_found);
}

namespace {

// The lead's appointment "apt-1" as scheduled by bob (the lead in Germany, for the invitation's language).
std::vector<v1::LeadEvent> with_appointment() {
    auto created = created_event();
    created.mutable_lead_created()->mutable_company_address()->set_country_code("DE");
    std::vector<v1::LeadEvent> history = {created, assigned_event("bob")};
    const auto scheduled = then_events<Lead>(history, appointment(kBob));
    history.insert(history.end(), scheduled.begin(), scheduled.end());
    return history;
}

RescheduleAppointment reschedule(const Actor& actor, std::chrono::hours from, std::chrono::hours to) {
    return RescheduleAppointment{actor, "apt-1", stamp(kNow + from), stamp(kNow + to), kNow + 3h};
}

}  // namespace

TEST_CASE("appointment: the invitation's organizer and the company's country travel with it", "[lead]") {
    const auto history = with_appointment();
    const auto& scheduled = history.back().appointment_scheduled();
    CHECK(scheduled.organizer_email() == "bob@sales.example");
    CHECK(scheduled.company_country_code() == "DE");
    auto german = appointment(kBob);
    german.appointment.set_language("de");
    CHECK(then_events<Lead>({created_event(), assigned_event("bob")}, german)[0].appointment_scheduled().language() ==
          "de");
    german.appointment.set_language("Deutsch");
    CHECK(then_rejected<Lead>({created_event(), assigned_event("bob")}, german).message ==
          "language: must be a two-letter language code such as en or de");
    const auto state = given<Lead>(history);
    REQUIRE(state.appointment_records.count("apt-1") == 1);
    CHECK(state.appointment_records.at("apt-1").sequence == 0);
    CHECK_FALSE(state.appointment_records.at("apt-1").cancelled);
}

TEST_CASE("reschedule: new times, the same appointment with the next revision, the invitation's fields kept",
          "[lead]") {
    auto history = with_appointment();
    const auto events = then_events<Lead>(history, reschedule(kBob, 48h, 49h));
    REQUIRE(events.size() == 1);
    const auto& moved = events[0].appointment_rescheduled();
    CHECK(moved.appointment_id() == "apt-1");
    CHECK(moved.lead_id() == "LEAD-PR-000001");
    CHECK(moved.sequence() == 1);
    CHECK(moved.starts_at() == stamp(kNow + 48h));
    CHECK(moved.ends_at() == stamp(kNow + 49h));
    CHECK(moved.previous_starts_at() == stamp(kNow + 24h));
    CHECK(moved.previous_ends_at() == stamp(kNow + 25h));
    CHECK(moved.subject() == "Introduction call");
    CHECK(moved.attendees_size() == 1);
    CHECK(moved.attendees(0) == "jane@acme.example");
    CHECK(moved.online_meeting_url() == "https://meet.example/acme-intro");
    CHECK(moved.organizer_email() == "bob@sales.example");
    CHECK(moved.company_country_code() == "DE");
    CHECK(moved.rescheduled_by() == "bob");
    CHECK(moved.rescheduled_at() == stamp(kNow + 3h));
    history.push_back(events[0]);
    CHECK(given<Lead>(history).appointment_records.at("apt-1").appointment.starts_at() == stamp(kNow + 48h));

    // Again to the same times: nothing. Once more elsewhere: revision 2.
    CHECK(then_events<Lead>(history, reschedule(kBob, 48h, 49h)).empty());
    const auto again = then_events<Lead>(history, reschedule(kManager, 72h, 73h));
    REQUIRE(again.size() == 1);
    CHECK(again[0].appointment_rescheduled().sequence() == 2);
}

TEST_CASE("reschedule: refused for bad times, another's lead, an unknown or cancelled appointment, a closed lead",
          "[lead]") {
    const auto history = with_appointment();
    CHECK(then_rejected<Lead>(history, reschedule(kBob, 49h, 48h)).message == "ends_at: must be after starts_at");
    CHECK(then_rejected<Lead>(history, reschedule(kBob, 48h, 73h)).message ==
          "ends_at: an appointment lasts at most 24 hours");
    CHECK(then_rejected<Lead>(history, reschedule(kCarol, 48h, 49h)).code == RejectionCode::permission_denied);
    auto unknown = reschedule(kBob, 48h, 49h);
    unknown.appointment_id = "apt-9";
    const auto missing = then_rejected<Lead>(history, unknown);
    CHECK(missing.code == RejectionCode::not_found);
    CHECK(missing.message == "appointment_id: lead LEAD-PR-000001 has no appointment apt-9");
    auto cancelled = history;
    cancelled.push_back(then_events<Lead>(history, CancelAppointment{kBob, "apt-1", "", kNow})[0]);
    const auto gone = then_rejected<Lead>(cancelled, reschedule(kBob, 48h, 49h));
    CHECK(gone.code == RejectionCode::failed_precondition);
    CHECK(gone.message == "appointment apt-1 is Cancelled; it cannot be rescheduled");
    auto closed = history;
    closed.push_back(disqualified_event());
    CHECK(then_rejected<Lead>(closed, reschedule(kBob, 48h, 49h)).code == RejectionCode::failed_precondition);
    CHECK(then_rejected<Lead>({}, reschedule(kBob, 48h, 49h)).code == RejectionCode::not_found);
}

TEST_CASE("cancel: the next revision with a reason, once, also on a closed lead, not by another user", "[lead]") {
    auto history = with_appointment();
    history.push_back(then_events<Lead>(history, reschedule(kBob, 48h, 49h))[0]);
    const auto events = then_events<Lead>(history, CancelAppointment{kBob, "apt-1", "Jane is ill", kNow + 4h});
    REQUIRE(events.size() == 1);
    const auto& cancelled = events[0].appointment_cancelled();
    CHECK(cancelled.appointment_id() == "apt-1");
    CHECK(cancelled.sequence() == 2);
    CHECK(cancelled.reason() == "Jane is ill");
    CHECK(cancelled.cancelled_by() == "bob");
    CHECK(cancelled.starts_at() == stamp(kNow + 48h));  // the time it had
    CHECK(cancelled.attendees(0) == "jane@acme.example");
    CHECK(cancelled.organizer_email() == "bob@sales.example");
    history.push_back(events[0]);
    CHECK(given<Lead>(history).appointment_records.at("apt-1").cancelled);
    CHECK(then_events<Lead>(history, CancelAppointment{kBob, "apt-1", "", kNow}).empty());

    auto closed = with_appointment();
    closed.push_back(disqualified_event());
    CHECK(then_events<Lead>(closed, CancelAppointment{kManager, "apt-1", "", kNow}).size() == 1);
    CHECK(then_rejected<Lead>(closed, CancelAppointment{kCarol, "apt-1", "", kNow}).code ==
          RejectionCode::permission_denied);
    CHECK(then_rejected<Lead>(closed, CancelAppointment{kBob, "apt-2", "", kNow}).code == RejectionCode::not_found);
    CHECK(then_rejected<Lead>(closed, CancelAppointment{kBob, "apt-1", std::string(1001, 'x'), kNow}).message ==
          "reason: must have at most 1000 characters");
    CHECK(then_rejected<Lead>({}, CancelAppointment{kBob, "apt-1", "", kNow}).code == RejectionCode::not_found);
}
