// Given events / when command / then events (or rejection), for every transition of an Opportunity.
#include "domain/opportunity.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse::sales;
using namespace gatehouse::testing;
using gatehouse::kernel::RejectionCode;
using namespace std::chrono_literals;

namespace {

const Actor kBob{"bob", "bob@sales.example", false};
const Actor kCarol{"carol", "carol@sales.example", false};
const Actor kManager{"maria", "maria@sales.example", true};

v1::OpportunityCreated opportunity() {
    v1::OpportunityCreated created;
    created.set_opportunity_id("OPP-PR-000001");
    created.set_lead_id("LEAD-PR-000001");
    created.set_prospect_request_number("PR-000001");
    created.set_company_name("Acme GmbH");
    created.set_account_id("ACC-PR-000001");
    created.mutable_estimated_value()->set_currency_code("EUR");
    created.mutable_estimated_value()->set_minor_units(1'500'000);
    created.set_estimated_close_date("2026-12-31");
    created.set_owner_user_id("bob");
    return created;
}

v1::OpportunityEvent created_event() {
    v1::OpportunityEvent event;
    *event.mutable_opportunity_created() = opportunity();
    return event;
}

v1::OpportunityEvent won_event() {
    v1::OpportunityEvent event;
    event.mutable_opportunity_won()->set_won_by("bob");
    return event;
}

v1::OpportunityEvent lost_event() {
    v1::OpportunityEvent event;
    event.mutable_opportunity_lost()->set_reason("budget");
    return event;
}

}  // namespace

TEST_CASE("create: an Open opportunity, created again, nothing new", "[opportunity]") {
    const auto events = then_events<Opportunity>({}, CreateOpportunity{opportunity()});
    REQUIRE(events.size() == 1);
    CHECK(given<Opportunity>(events).status == OpportunityStatus::open);
    CHECK(then_events<Opportunity>({created_event()}, CreateOpportunity{opportunity()}).empty());
    auto no_lead = opportunity();
    no_lead.clear_lead_id();
    CHECK(then_rejected<Opportunity>({}, CreateOpportunity{no_lead}).code == RejectionCode::invalid_argument);
}

TEST_CASE("win: the owner closes as won, the event names the request, company and value", "[opportunity]") {
    const auto events = then_events<Opportunity>({created_event()}, WinOpportunity{kBob, kNow});
    REQUIRE(events.size() == 1);
    const auto& won = events[0].opportunity_won();
    CHECK(won.prospect_request_number() == "PR-000001");
    CHECK(won.lead_id() == "LEAD-PR-000001");
    CHECK(won.won_by() == "bob");
    CHECK(won.won_by_email() == "bob@sales.example");  // onboarding checks self-approval with it
    CHECK(won.company_name() == "Acme GmbH");
    CHECK(won.estimated_value().minor_units() == 1'500'000);
    CHECK(won.account_id() == "ACC-PR-000001");
    CHECK(given<Opportunity>({created_event(), events[0]}).status == OpportunityStatus::won);
    CHECK(then_events<Opportunity>({created_event()}, WinOpportunity{kManager, kNow}).size() == 1);
}

TEST_CASE("win: not by another sales user, not twice, not after lost", "[opportunity]") {
    const auto other = then_rejected<Opportunity>({created_event()}, WinOpportunity{kCarol, kNow});
    CHECK(other.code == RejectionCode::permission_denied);
    CHECK(other.message ==
          "opportunity OPP-PR-000001 is owned by bob; only its owner or a sales manager can change it");
    const auto twice = then_rejected<Opportunity>({created_event(), won_event()}, WinOpportunity{kBob, kNow});
    CHECK(twice.code == RejectionCode::failed_precondition);
    CHECK(twice.message == "opportunity OPP-PR-000001 is Won; only an Open opportunity can be closed as won");
    CHECK(then_rejected<Opportunity>({created_event(), lost_event()}, WinOpportunity{kBob, kNow}).code ==
          RejectionCode::failed_precondition);
    CHECK(then_rejected<Opportunity>({}, WinOpportunity{kBob, kNow}).code == RejectionCode::not_found);
}

TEST_CASE("lose: with a reason, by the owner or a manager, only while Open", "[opportunity]") {
    const auto events =
        then_events<Opportunity>({created_event()}, LoseOpportunity{kBob, "went with a competitor", kNow});
    REQUIRE(events.size() == 1);
    CHECK(events[0].opportunity_lost().reason() == "went with a competitor");
    CHECK(events[0].opportunity_lost().prospect_request_number() == "PR-000001");
    CHECK(events[0].opportunity_lost().estimated_value().currency_code() == "EUR");
    const auto state = given<Opportunity>({created_event(), events[0]});
    CHECK(state.status == OpportunityStatus::lost);
    CHECK(state.close_reason == "went with a competitor");

    CHECK(then_rejected<Opportunity>({created_event()}, LoseOpportunity{kBob, "", kNow}).message ==
          "reason: is required");
    CHECK(then_rejected<Opportunity>({created_event()}, LoseOpportunity{kCarol, "x", kNow}).code ==
          RejectionCode::permission_denied);
    CHECK(then_rejected<Opportunity>({created_event(), won_event()}, LoseOpportunity{kManager, "x", kNow}).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("appointments while Open, notes always, both on the opportunity's timeline", "[opportunity]") {
    ScheduleAppointment appointment{kBob, {}};
    appointment.appointment.set_subject("Contract review");
    *appointment.appointment.mutable_starts_at() = stamp(kNow + 48h);
    *appointment.appointment.mutable_ends_at() = stamp(kNow + 49h);
    const auto scheduled = then_events<Opportunity>({created_event()}, appointment);
    REQUIRE(scheduled.size() == 1);
    CHECK(scheduled[0].appointment_scheduled().opportunity_id() == "OPP-PR-000001");
    CHECK(scheduled[0].appointment_scheduled().lead_id() == "LEAD-PR-000001");
    CHECK(then_rejected<Opportunity>({created_event(), won_event()}, appointment).code ==
          RejectionCode::failed_precondition);
    appointment.actor = kCarol;
    CHECK(then_rejected<Opportunity>({created_event()}, appointment).code == RejectionCode::permission_denied);

    AddNote note{kBob, {}};
    note.note.set_text("Signed; welcome pack sent");
    const auto noted = then_events<Opportunity>({created_event(), won_event()}, note);
    REQUIRE(noted.size() == 1);
    CHECK(noted[0].note_added().opportunity_id() == "OPP-PR-000001");
    CHECK(given<Opportunity>({created_event(), won_event(), noted[0]}).notes == 1);
    note.note.clear_text();
    CHECK(then_rejected<Opportunity>({created_event()}, note).message == "text: is required");
    CHECK(then_rejected<Opportunity>({}, note).code == RejectionCode::not_found);
}

namespace {

UpdateOpportunity update(const Actor& actor, std::optional<v1::OpportunityStage> stage,
                         std::optional<std::int64_t> minor_units = std::nullopt, const std::string& currency = "EUR") {
    UpdateOpportunity command{actor, stage, std::nullopt, kNow + 1h};
    if (minor_units) {
        command.estimated_value.emplace();
        command.estimated_value->set_currency_code(currency);
        command.estimated_value->set_minor_units(*minor_units);
    }
    return command;
}

}  // namespace

TEST_CASE("create: a new opportunity starts at stage Qualify", "[opportunity]") {
    const auto events = then_events<Opportunity>({}, CreateOpportunity{opportunity()});
    REQUIRE(events.size() == 1);
    CHECK(events[0].opportunity_created().stage() == v1::OPPORTUNITY_STAGE_QUALIFY);
    // One recorded before stages existed is at Qualify too.
    CHECK(given<Opportunity>({created_event()}).opportunity.stage() == v1::OPPORTUNITY_STAGE_QUALIFY);
}

TEST_CASE("update: stage and value, old and new in the event, the state follows", "[opportunity]") {
    const auto events =
        then_events<Opportunity>({created_event()}, update(kBob, v1::OPPORTUNITY_STAGE_PROPOSE, 2'500'000));
    REQUIRE(events.size() == 1);
    const auto& updated = events[0].opportunity_updated();
    CHECK(updated.opportunity_id() == "OPP-PR-000001");
    CHECK(updated.prospect_request_number() == "PR-000001");
    CHECK(updated.company_name() == "Acme GmbH");
    CHECK(updated.previous_stage() == v1::OPPORTUNITY_STAGE_QUALIFY);
    CHECK(updated.stage() == v1::OPPORTUNITY_STAGE_PROPOSE);
    CHECK(updated.previous_estimated_value().minor_units() == 1'500'000);
    CHECK(updated.estimated_value().minor_units() == 2'500'000);
    CHECK(updated.estimated_value().currency_code() == "EUR");
    CHECK(std::vector<std::string>(updated.changed_fields().begin(), updated.changed_fields().end()) ==
          std::vector<std::string>{"stage", "estimated_value"});
    CHECK(updated.updated_by() == "bob");
    CHECK(updated.updated_at() == stamp(kNow + 1h));
    const auto state = given<Opportunity>({created_event(), events[0]});
    CHECK(state.opportunity.stage() == v1::OPPORTUNITY_STAGE_PROPOSE);
    CHECK(state.opportunity.estimated_value().minor_units() == 2'500'000);
    CHECK(state.status == OpportunityStatus::open);

    // Only the stage: the value is carried unchanged, and only "stage" is named.
    const auto stage_only =
        then_events<Opportunity>({created_event()}, update(kManager, v1::OPPORTUNITY_STAGE_DEVELOP));
    REQUIRE(stage_only.size() == 1);
    CHECK(stage_only[0].opportunity_updated().changed_fields_size() == 1);
    CHECK(stage_only[0].opportunity_updated().estimated_value().minor_units() == 1'500'000);
    // Only the currency changes: that is a value change.
    const auto currency = then_events<Opportunity>({created_event()}, update(kBob, std::nullopt, 1'500'000, "CHF"));
    REQUIRE(currency.size() == 1);
    CHECK(currency[0].opportunity_updated().changed_fields(0) == "estimated_value");
    CHECK(currency[0].opportunity_updated().stage() == v1::OPPORTUNITY_STAGE_QUALIFY);
}

TEST_CASE("update: what it already is records nothing", "[opportunity]") {
    CHECK(then_events<Opportunity>({created_event()}, update(kBob, v1::OPPORTUNITY_STAGE_QUALIFY, 1'500'000)).empty());
    const auto moved = then_events<Opportunity>({created_event()}, update(kBob, v1::OPPORTUNITY_STAGE_CLOSE));
    CHECK(then_events<Opportunity>({created_event(), moved[0]}, update(kBob, v1::OPPORTUNITY_STAGE_CLOSE)).empty());
}

TEST_CASE("update: refused for another's opportunity, a closed one, bad values, an unknown one", "[opportunity]") {
    const auto other = then_rejected<Opportunity>({created_event()}, update(kCarol, v1::OPPORTUNITY_STAGE_DEVELOP));
    CHECK(other.code == RejectionCode::permission_denied);
    const auto closed =
        then_rejected<Opportunity>({created_event(), won_event()}, update(kBob, v1::OPPORTUNITY_STAGE_DEVELOP));
    CHECK(closed.code == RejectionCode::failed_precondition);
    CHECK(closed.message == "opportunity OPP-PR-000001 is Won; only an Open opportunity can be updated");
    CHECK(then_rejected<Opportunity>({created_event()}, update(kBob, std::nullopt, -1)).message ==
          "estimated_value.minor_units: must not be negative");
    CHECK(then_rejected<Opportunity>({created_event()}, update(kBob, std::nullopt, 100, "euro")).message ==
          "estimated_value.currency_code: must be an ISO 4217 code such as EUR");
    CHECK(then_rejected<Opportunity>({created_event()}, update(kBob, v1::OPPORTUNITY_STAGE_UNSPECIFIED)).code ==
          RejectionCode::invalid_argument);
    CHECK(then_rejected<Opportunity>({created_event()}, update(kBob, static_cast<v1::OpportunityStage>(42))).code ==
          RejectionCode::invalid_argument);
    CHECK(then_rejected<Opportunity>({}, update(kBob, v1::OPPORTUNITY_STAGE_DEVELOP)).code == RejectionCode::not_found);
}

TEST_CASE("appointments of an opportunity: rescheduled while Open, cancelled also after it closed", "[opportunity]") {
    ScheduleAppointment appointment{kBob, {}};
    appointment.appointment.set_appointment_id("apt-7");
    appointment.appointment.set_subject("Contract review");
    *appointment.appointment.mutable_starts_at() = stamp(kNow + 48h);
    *appointment.appointment.mutable_ends_at() = stamp(kNow + 49h);
    appointment.appointment.add_attendees("jane@acme.example");
    std::vector<v1::OpportunityEvent> history = {created_event()};
    history.push_back(then_events<Opportunity>(history, appointment)[0]);
    CHECK(history.back().appointment_scheduled().organizer_email() == "bob@sales.example");

    const RescheduleAppointment move{kBob, "apt-7", stamp(kNow + 72h), stamp(kNow + 73h), kNow};
    const auto moved = then_events<Opportunity>(history, move);
    REQUIRE(moved.size() == 1);
    CHECK(moved[0].appointment_rescheduled().opportunity_id() == "OPP-PR-000001");
    CHECK(moved[0].appointment_rescheduled().sequence() == 1);
    CHECK(then_rejected<Opportunity>(history,
                                     RescheduleAppointment{kCarol, "apt-7", stamp(kNow + 72h), stamp(kNow + 73h), kNow})
              .code == RejectionCode::permission_denied);
    auto won = history;
    won.push_back(won_event());
    CHECK(then_rejected<Opportunity>(won, move).code == RejectionCode::failed_precondition);
    const auto cancelled = then_events<Opportunity>(won, CancelAppointment{kBob, "apt-7", "signed already", kNow});
    REQUIRE(cancelled.size() == 1);
    CHECK(cancelled[0].appointment_cancelled().sequence() == 1);
    won.push_back(cancelled[0]);
    CHECK(then_events<Opportunity>(won, CancelAppointment{kBob, "apt-7", "", kNow}).empty());
    CHECK(then_rejected<Opportunity>(won, CancelAppointment{kBob, "apt-8", "", kNow}).code == RejectionCode::not_found);
}
