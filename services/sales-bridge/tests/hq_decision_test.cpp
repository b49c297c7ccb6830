// Given events / when ApplyHqDecision / then events (or rejection), for the Lead and the
// Opportunity: HQ decided the request in onboarding (approval mode crm), and the CRM records close
// to agree, once, and refuse later CRM actions naming HQ's decision.
#include "domain/lead.h"
#include "domain/opportunity.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse::sales;
using namespace gatehouse::testing;
using gatehouse::kernel::RejectionCode;
using namespace std::chrono_literals;

namespace {

Actor bob() { return {"bob", "bob@sales.example", false}; }
Actor manager() { return {"maria", "maria@sales.example", true}; }

// HQ's decisions on PR-000001, as onboarding's ProspectApproved / ProspectRejected carry them.
ApplyHqDecision approved_by_hq() { return {true, "hq-alice", "key account, signed on paper", kNow + 2h}; }
ApplyHqDecision rejected_by_hq() { return {false, "hq-alice", "sanctions list", kNow + 2h}; }

v1::LeadEvent lead_created(const std::string& owner = "bob") {
    v1::LeadEvent event;
    auto& created = *event.mutable_lead_created();
    created.set_lead_id(lead_id_for("PR-000001"));
    created.set_prospect_request_number("PR-000001");
    created.set_company_name("Acme GmbH");
    created.set_owner_user_id(owner);
    *created.mutable_created_at() = stamp(kNow);
    return event;
}

v1::LeadEvent lead_disqualified_by_crm() {
    v1::LeadEvent event;
    event.mutable_lead_disqualified()->set_reason("not a reseller");
    event.mutable_lead_disqualified()->set_disqualified_by("bob");
    return event;
}

v1::OpportunityEvent opportunity_created() {
    v1::OpportunityEvent event;
    auto& created = *event.mutable_opportunity_created();
    created.set_opportunity_id("OPP-PR-000001");
    created.set_lead_id("LEAD-PR-000001");
    created.set_prospect_request_number("PR-000001");
    created.set_company_name("Acme GmbH");
    created.set_account_id("ACC-PR-000001");
    created.mutable_estimated_value()->set_currency_code("EUR");
    created.mutable_estimated_value()->set_minor_units(1'500'000);
    created.set_owner_user_id("bob");
    return event;
}

v1::OpportunityEvent won_by_crm() {
    v1::OpportunityEvent event;
    event.mutable_opportunity_won()->set_won_by("bob");
    return event;
}

}  // namespace

TEST_CASE("HQ approves: an Open lead is qualified by the HQ user, marked decided_by_hq, once", "[hq-decision]") {
    const auto events = then_events<Lead>({lead_created()}, approved_by_hq());
    REQUIRE(events.size() == 1);
    const auto& qualified = events[0].lead_qualified();
    CHECK(qualified.decided_by_hq());
    CHECK(qualified.qualified_by() == "hq-alice");
    CHECK(qualified.opportunity_id() == opportunity_id_for("PR-000001"));
    CHECK(qualified.account_id() == account_id_for("PR-000001"));
    CHECK(qualified.contact_id() == contact_id_for("PR-000001"));
    CHECK(qualified.qualified_at() == stamp(kNow + 2h));
    const auto after = given<Lead>({lead_created(), events[0]});
    CHECK(after.status == LeadStatus::qualified);
    CHECK(after.decided_by_hq);
    // Redelivered: nothing new; the other decision after it: nothing either (the lead is closed).
    CHECK(then_events<Lead>({lead_created(), events[0]}, approved_by_hq()).empty());
    CHECK(then_events<Lead>({lead_created(), events[0]}, rejected_by_hq()).empty());
}

TEST_CASE("HQ rejects: an Open lead is disqualified with reason \"decided by HQ\", once", "[hq-decision]") {
    const auto events = then_events<Lead>({lead_created()}, rejected_by_hq());
    REQUIRE(events.size() == 1);
    const auto& disqualified = events[0].lead_disqualified();
    CHECK(disqualified.decided_by_hq());
    CHECK(disqualified.disqualified_by() == "hq-alice");
    CHECK(disqualified.reason() == "decided by HQ: sanctions list");
    CHECK(disqualified.prospect_request_number() == "PR-000001");
    CHECK(then_events<Lead>({lead_created(), events[0]}, rejected_by_hq()).empty());
    const ApplyHqDecision without_reason{false, "hq-alice", "", kNow + 2h};
    CHECK(then_events<Lead>({lead_created()}, without_reason)[0].lead_disqualified().reason() == "decided by HQ");
}

TEST_CASE("after HQ decided, CRM actions on the lead are refused with FAILED_PRECONDITION naming HQ", "[hq-decision]") {
    const auto closed = then_events<Lead>({lead_created()}, rejected_by_hq());
    const std::vector<v1::LeadEvent> history{lead_created(), closed[0]};
    QualifyLead qualify{bob(), {}, "2026-12-31", kNow + 3h};
    qualify.estimated_value.set_currency_code("EUR");
    const auto refused = then_rejected<Lead>(history, qualify);
    CHECK(refused.code == RejectionCode::failed_precondition);
    CHECK(refused.message ==
          "lead LEAD-PR-000001 is Disqualified: HQ decided request PR-000001 (rejected by hq-alice), so the lead can "
          "no longer be qualified");
    const auto disqualify = then_rejected<Lead>(history, DisqualifyLead{manager(), "duplicate", kNow + 3h});
    CHECK(disqualify.code == RejectionCode::failed_precondition);
    CHECK_THAT(disqualify.message, Catch::Contains("HQ decided request PR-000001"));
    CHECK(then_rejected<Lead>(history, AssignLead{manager(), "carol", "carol@sales.example", kNow + 3h}).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("HQ approves a lead the CRM disqualified meanwhile: one note on its timeline, nothing else",
          "[hq-decision]") {
    const std::vector<v1::LeadEvent> history{lead_created(), lead_disqualified_by_crm()};
    const auto events = then_events<Lead>(history, approved_by_hq());
    REQUIRE(events.size() == 1);
    const auto& note = events[0].note_added();
    CHECK(note.note_id() == hq_decision_note_id("PR-000001"));
    CHECK(note.author() == "hq-alice");
    CHECK_THAT(note.text(), Catch::Contains("HQ approved request PR-000001"));
    auto noted = history;
    noted.push_back(events[0]);
    CHECK(given<Lead>(noted).hq_decision_noted);
    CHECK(then_events<Lead>(noted, approved_by_hq()).empty());  // redelivered: no second note
    // A rejection agrees with the CRM's disqualification: nothing.
    CHECK(then_events<Lead>(history, rejected_by_hq()).empty());
    // A lead the CRM qualified: the opportunity follows HQ, the lead records nothing.
    v1::LeadEvent qualified;
    qualified.mutable_lead_qualified()->set_qualified_by("bob");
    CHECK(then_events<Lead>({lead_created(), qualified}, rejected_by_hq()).empty());
    CHECK(then_rejected<Lead>({}, approved_by_hq()).code == RejectionCode::not_found);
}

TEST_CASE("HQ decides: an Open opportunity is won / lost by the HQ user, marked decided_by_hq, once", "[hq-decision]") {
    const auto won = then_events<Opportunity>({opportunity_created()}, approved_by_hq());
    REQUIRE(won.size() == 1);
    CHECK(won[0].opportunity_won().decided_by_hq());
    CHECK(won[0].opportunity_won().won_by() == "hq-alice");
    CHECK(won[0].opportunity_won().prospect_request_number() == "PR-000001");
    CHECK(won[0].opportunity_won().account_id() == "ACC-PR-000001");
    CHECK(won[0].opportunity_won().estimated_value().minor_units() == 1'500'000);
    CHECK(then_events<Opportunity>({opportunity_created(), won[0]}, approved_by_hq()).empty());

    const auto lost = then_events<Opportunity>({opportunity_created()}, rejected_by_hq());
    REQUIRE(lost.size() == 1);
    CHECK(lost[0].opportunity_lost().decided_by_hq());
    CHECK(lost[0].opportunity_lost().lost_by() == "hq-alice");
    CHECK(lost[0].opportunity_lost().reason() == "decided by HQ: sanctions list");
    const std::vector<v1::OpportunityEvent> history{opportunity_created(), lost[0]};
    CHECK(then_events<Opportunity>(history, rejected_by_hq()).empty());
    const auto state = given<Opportunity>(history);
    CHECK(state.status == OpportunityStatus::lost);
    CHECK(state.decided_by_hq);
    CHECK(state.closed_by == "hq-alice");

    const auto win = then_rejected<Opportunity>(history, WinOpportunity{bob(), kNow + 3h});
    CHECK(win.code == RejectionCode::failed_precondition);
    CHECK(win.message ==
          "opportunity OPP-PR-000001 is Lost: HQ decided request PR-000001 (rejected by hq-alice), so the "
          "opportunity can no longer be closed as won");
    CHECK_THAT(then_rejected<Opportunity>(history, LoseOpportunity{manager(), "budget", kNow + 3h}).message,
               Catch::Contains("HQ decided request PR-000001"));
}

TEST_CASE("HQ rejects an opportunity the CRM won meanwhile: one note, agreeing decisions add nothing",
          "[hq-decision]") {
    const std::vector<v1::OpportunityEvent> history{opportunity_created(), won_by_crm()};
    const auto events = then_events<Opportunity>(history, rejected_by_hq());
    REQUIRE(events.size() == 1);
    CHECK(events[0].note_added().note_id() == hq_decision_note_id("PR-000001"));
    CHECK(events[0].note_added().opportunity_id() == "OPP-PR-000001");
    CHECK_THAT(events[0].note_added().text(),
               Catch::Contains("HQ rejected request PR-000001") && Catch::Contains("closed as Won here"));
    auto noted = history;
    noted.push_back(events[0]);
    CHECK(then_events<Opportunity>(noted, rejected_by_hq()).empty());
    CHECK(then_events<Opportunity>(history, approved_by_hq()).empty());  // won here, approved there: agreed
    CHECK(then_rejected<Opportunity>({}, approved_by_hq()).code == RejectionCode::not_found);
}
