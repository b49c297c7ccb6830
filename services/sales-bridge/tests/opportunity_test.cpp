// Given events / when command / then events (or rejection), for every transition of an Opportunity.
#include "domain/opportunity.h"
#include "given_when_then.h"

using namespace gatehouse::sales;
using namespace gatehouse::sales::testing;
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
