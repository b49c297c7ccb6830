// The reactions against a real event store (RocksDB in a temporary directory), without Kafka:
// a verified request becomes one lead (round-robin owner, other modes ignored, bad input poison),
// customers' changes are filtered (origin, type, CRM link), and an interrupted qualification is
// completed once.
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include "app/qualification.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/testing/temp_dir.h"
#include "reactions/customers_reactions.h"
#include "reactions/onboarding_reactions.h"
#include "sales_store.h"

using namespace gatehouse;
using namespace gatehouse::sales;
using google::protobuf::util::TimeUtil;

namespace {

using Aggregates = gatehouse::sales::testing::SalesStore;

kernel::v1::EventEnvelope verified_envelope(const std::string& number, onboarding::v1::ApprovalMode mode,
                                            const std::string& event_id) {
    onboarding::v1::EmailVerified verified;
    *verified.mutable_verified_at() = TimeUtil::SecondsToTimestamp(1'764'000'000);
    verified.mutable_prospect()->set_request_number(number);
    verified.mutable_prospect()->set_approval_mode(mode);
    verified.mutable_prospect()->mutable_company()->set_name("Acme GmbH");
    verified.mutable_prospect()->mutable_contact()->set_email("jane@acme.example");
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(event_id);
    envelope.set_event_type("gatehouse.onboarding.v1.EmailVerified");
    envelope.set_aggregate_id(number);
    envelope.set_payload(verified.SerializeAsString());
    return envelope;
}

kernel::HandlerVerdict::Kind react(Aggregates& aggregates, const kernel::v1::EventEnvelope& envelope,
                                   const LeadAssignment& assignment = {}) {
    const kernel::InboundEvent event{envelope, "gatehouse.onboarding.events.v1", 0, 0,
                                     kernel::InboxConsumer::inbox_key("sales-bridge", envelope.event_id())};
    return react_to_onboarding_event(event, aggregates.all, assignment).kind;
}

customers::v1::CustomerUpdated customer_change(common::v1::ChangeOrigin origin, customers::v1::CustomerType type) {
    customers::v1::CustomerUpdated updated;
    updated.set_type(type);
    updated.set_origin(origin);
    updated.set_crm_account_id("ACC-PR-000001");
    updated.set_crm_contact_id(type == customers::v1::CUSTOMER_TYPE_PERSON ? "CON-PR-000001" : "");
    updated.add_changed_fields("phone");
    updated.mutable_details()->set_phone("+49 1");
    *updated.mutable_changed_at() = TimeUtil::SecondsToTimestamp(1'764'000'000);
    return updated;
}

}  // namespace

TEST_CASE("EmailVerified in crm mode: one lead, with the inbox record in its commit", "[reactions]") {
    Aggregates aggregates;
    const auto envelope = verified_envelope("PR-000001", onboarding::v1::APPROVAL_MODE_CRM, "event-1");
    CHECK(react(aggregates, envelope) == kernel::HandlerVerdict::Kind::applied);
    CHECK(aggregates.store->was_processed(kernel::InboxConsumer::inbox_key("sales-bridge", "event-1")));
    const auto lead = aggregates.leads.find("LEAD-PR-000001");
    REQUIRE(lead);
    CHECK(lead->state.status == LeadStatus::open);
    CHECK(lead->state.lead.origin() == "Commerce B2B");
    CHECK(lead->state.lead.topic() == "B2B partner request: Acme GmbH");
    // The same request under another event id (a replayed onboarding topic): nothing new.
    CHECK(react(aggregates, verified_envelope("PR-000001", onboarding::v1::APPROVAL_MODE_CRM, "event-2")) ==
          kernel::HandlerVerdict::Kind::ignored);
    CHECK(aggregates.leads.find("LEAD-PR-000001")->version.value == 1);
}

TEST_CASE("EmailVerified: direct mode and other events are ignored, a missing request number is poison",
          "[reactions]") {
    Aggregates aggregates;
    CHECK(react(aggregates, verified_envelope("PR-000001", onboarding::v1::APPROVAL_MODE_DIRECT, "e1")) ==
          kernel::HandlerVerdict::Kind::ignored);
    CHECK_FALSE(aggregates.leads.find("LEAD-PR-000001"));
    auto other = verified_envelope("PR-000002", onboarding::v1::APPROVAL_MODE_CRM, "e2");
    other.set_event_type("gatehouse.onboarding.v1.RequestSubmitted");
    CHECK(react(aggregates, other) == kernel::HandlerVerdict::Kind::ignored);
    CHECK(react(aggregates, verified_envelope("", onboarding::v1::APPROVAL_MODE_CRM, "e3")) ==
          kernel::HandlerVerdict::Kind::poison);
    auto garbage = verified_envelope("PR-000003", onboarding::v1::APPROVAL_MODE_CRM, "e4");
    garbage.set_payload("\xff\xff\xff");
    CHECK(react(aggregates, garbage) == kernel::HandlerVerdict::Kind::poison);
}

TEST_CASE("round-robin: the n-th lead goes to the n-th sales user", "[reactions]") {
    Aggregates aggregates;
    const LeadAssignment assignment{true, {{"bob", "bob@sales.example"}, {"carol", "carol@sales.example"}}};
    for (int i = 1; i <= 3; ++i) {
        const std::string number = "PR-00000" + std::to_string(i);
        REQUIRE(react(aggregates, verified_envelope(number, onboarding::v1::APPROVAL_MODE_CRM, "e" + number),
                      assignment) == kernel::HandlerVerdict::Kind::applied);
    }
    CHECK(aggregates.leads.find("LEAD-PR-000001")->state.owner_user_id == "bob");
    CHECK(aggregates.leads.find("LEAD-PR-000002")->state.owner_user_id == "carol");
    CHECK(aggregates.leads.find("LEAD-PR-000003")->state.owner_user_id == "bob");
    CHECK(aggregates.leads.find("LEAD-PR-000003")->state.owner_email == "bob@sales.example");
}

TEST_CASE("customers' changes: only LOCAL ones, organizations to accounts, persons to contacts", "[reactions]") {
    using customers::v1::CUSTOMER_TYPE_ORGANIZATION;
    using customers::v1::CUSTOMER_TYPE_PERSON;
    const auto organization =
        account_change_from(customer_change(common::v1::CHANGE_ORIGIN_LOCAL, CUSTOMER_TYPE_ORGANIZATION));
    REQUIRE(organization);
    CHECK(organization->side == Side::customers);
    CHECK(organization->change.phone() == "+49 1");
    CHECK_FALSE(contact_change_from(customer_change(common::v1::CHANGE_ORIGIN_LOCAL, CUSTOMER_TYPE_ORGANIZATION)));
    // A person carries its contact's account id too: it changes the contact, never the account.
    CHECK_FALSE(account_change_from(customer_change(common::v1::CHANGE_ORIGIN_LOCAL, CUSTOMER_TYPE_PERSON)));
    REQUIRE(contact_change_from(customer_change(common::v1::CHANGE_ORIGIN_LOCAL, CUSTOMER_TYPE_PERSON)));
    // No echo: what customers applied from us comes back REPLICATED and is not applied.
    CHECK_FALSE(account_change_from(customer_change(common::v1::CHANGE_ORIGIN_REPLICATED, CUSTOMER_TYPE_ORGANIZATION)));
    CHECK_FALSE(contact_change_from(customer_change(common::v1::CHANGE_ORIGIN_REPLICATED, CUSTOMER_TYPE_PERSON)));
    auto unlinked = customer_change(common::v1::CHANGE_ORIGIN_LOCAL, CUSTOMER_TYPE_ORGANIZATION);
    unlinked.clear_crm_account_id();
    CHECK_FALSE(account_change_from(unlinked));

    customers::v1::CustomerCreated created;
    created.set_type(CUSTOMER_TYPE_ORGANIZATION);
    created.mutable_details()->set_name("Acme GmbH");
    created.mutable_details()->mutable_address()->set_city("Berlin");
    const auto as_changed = as_update(created);
    CHECK(std::vector<std::string>(as_changed.changed_fields().begin(), as_changed.changed_fields().end()) ==
          std::vector<std::string>{"name", "address"});
}

TEST_CASE("an interrupted qualification is completed once: opportunity, account and contact", "[reactions]") {
    Aggregates aggregates;
    REQUIRE(react(aggregates, verified_envelope("PR-000001", onboarding::v1::APPROVAL_MODE_CRM, "e1")) ==
            kernel::HandlerVerdict::Kind::applied);
    QualifyLead qualify{Actor{"maria", "maria@sales.example", true}, {}, "2026-12-31", Clock::now()};
    qualify.estimated_value.set_currency_code("EUR");
    REQUIRE(
        std::holds_alternative<kernel::Accepted<v1::LeadEvent>>(aggregates.leads.execute("LEAD-PR-000001", qualify)));
    // As if the process died right after the lead's commit: nothing else exists yet.
    CHECK_FALSE(aggregates.opportunities.find("OPP-PR-000001"));
    CHECK(complete_pending_qualifications(aggregates.all) == 1);
    const auto opportunity = aggregates.opportunities.find("OPP-PR-000001");
    REQUIRE(opportunity);
    CHECK(opportunity->state.opportunity.owner_user_id() == "maria");  // an unassigned lead: the qualifier's
    CHECK(opportunity->state.opportunity.account_id() == "ACC-PR-000001");
    REQUIRE(aggregates.accounts.find("ACC-PR-000001"));
    CHECK(aggregates.accounts.find("ACC-PR-000001")->state.record.name() == "Acme GmbH");
    REQUIRE(aggregates.contacts.find("CON-PR-000001"));
    CHECK(aggregates.contacts.find("CON-PR-000001")->state.record.email() == "jane@acme.example");
    // Again (the next start): nothing to do, nothing written.
    CHECK(complete_pending_qualifications(aggregates.all) == 0);
    CHECK(aggregates.accounts.find("ACC-PR-000001")->version.value == 1);
    CHECK_FALSE(complete_qualification(aggregates.all, aggregates.leads.find("LEAD-PR-000001")->state, ""));
    CHECK(aggregates.opportunities.find("OPP-PR-000001")->version.value == 1);
}

namespace {

// onboarding's decision on a request, as sales-bridge receives it.
template <class Decided>
kernel::v1::EventEnvelope decision_envelope(const std::string& number, onboarding::v1::ApprovalMode mode,
                                            onboarding::v1::DecisionPath path, const std::string& event_id) {
    Decided decided;
    decided.set_path(path);
    decided.mutable_prospect()->set_request_number(number);
    decided.mutable_prospect()->set_approval_mode(mode);
    kernel::v1::EventEnvelope envelope;
    if constexpr (std::is_same_v<Decided, onboarding::v1::ProspectApproved>) {
        decided.set_approved_by("hq-alice");
        decided.set_override_reason("key account");
        *decided.mutable_approved_at() = TimeUtil::SecondsToTimestamp(1'764'007'200);
        envelope.set_event_type("gatehouse.onboarding.v1.ProspectApproved");
    } else {
        decided.set_rejected_by("hq-alice");
        decided.set_reason("sanctions list");
        decided.set_override_reason("sanctions list");
        *decided.mutable_rejected_at() = TimeUtil::SecondsToTimestamp(1'764'007'200);
        envelope.set_event_type("gatehouse.onboarding.v1.ProspectRejected");
    }
    envelope.set_event_id(event_id);
    envelope.set_aggregate_id(number);
    envelope.set_payload(decided.SerializeAsString());
    return envelope;
}

const auto kOverride = onboarding::v1::DECISION_PATH_HQ_OVERRIDE;
const auto kCrm = onboarding::v1::APPROVAL_MODE_CRM;

}  // namespace

TEST_CASE("HQ approves a crm-mode request: its open lead is qualified and the opportunity won by HQ, once",
          "[reactions]") {
    Aggregates aggregates;
    REQUIRE(react(aggregates, verified_envelope("PR-000001", kCrm, "verified-1")) ==
            kernel::HandlerVerdict::Kind::applied);
    const auto approved =
        decision_envelope<onboarding::v1::ProspectApproved>("PR-000001", kCrm, kOverride, "approved-1");
    CHECK(react(aggregates, approved) == kernel::HandlerVerdict::Kind::applied);
    CHECK(aggregates.store->was_processed(kernel::InboxConsumer::inbox_key("sales-bridge", "approved-1")));
    const auto lead = aggregates.leads.find("LEAD-PR-000001");
    REQUIRE(lead);
    CHECK(lead->state.status == LeadStatus::qualified);
    CHECK(lead->state.decided_by_hq);
    CHECK(lead->state.decided_by == "hq-alice");
    const auto opportunity = aggregates.opportunities.find("OPP-PR-000001");
    REQUIRE(opportunity);
    CHECK(opportunity->state.status == OpportunityStatus::won);
    CHECK(opportunity->state.decided_by_hq);
    CHECK(opportunity->state.closed_by == "hq-alice");
    CHECK(opportunity->state.opportunity.owner_user_id().empty());  // unassigned lead: not HQ's opportunity
    CHECK(aggregates.accounts.find("ACC-PR-000001"));
    CHECK(aggregates.contacts.find("CON-PR-000001"));
    // Redelivered, or replayed under a new event id: nothing new anywhere.
    const auto lead_version = lead->version.value;
    const auto opportunity_version = opportunity->version.value;
    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectApproved>("PR-000001", kCrm, kOverride,
                                                                                "approved-replayed")) ==
          kernel::HandlerVerdict::Kind::applied);
    CHECK(aggregates.leads.find("LEAD-PR-000001")->version.value == lead_version);
    CHECK(aggregates.opportunities.find("OPP-PR-000001")->version.value == opportunity_version);
    CHECK(aggregates.accounts.find("ACC-PR-000001")->version.value == 1);
    // And the CRM can no longer change it.
    const auto refused = aggregates.opportunities.execute(
        "OPP-PR-000001", LoseOpportunity{Actor{"maria", "maria@sales.example", true}, "budget", Clock::now()});
    REQUIRE(std::holds_alternative<kernel::Rejection>(refused));
    CHECK(std::get<kernel::Rejection>(refused).code == kernel::RejectionCode::failed_precondition);
    CHECK_THAT(std::get<kernel::Rejection>(refused).message, Catch::Contains("HQ decided request PR-000001"));
}

TEST_CASE("HQ rejects crm-mode requests: an open lead is disqualified, an open opportunity lost", "[reactions]") {
    Aggregates aggregates;
    for (const char* number : {"PR-000001", "PR-000002"}) {
        REQUIRE(react(aggregates, verified_envelope(number, kCrm, std::string("verified-") + number)) ==
                kernel::HandlerVerdict::Kind::applied);
    }
    // PR-000002's lead was qualified by the CRM: its opportunity is open.
    QualifyLead qualify{Actor{"maria", "maria@sales.example", true}, {}, "2026-12-31", Clock::now()};
    qualify.estimated_value.set_currency_code("EUR");
    REQUIRE(
        std::holds_alternative<kernel::Accepted<v1::LeadEvent>>(aggregates.leads.execute("LEAD-PR-000002", qualify)));
    REQUIRE_FALSE(complete_qualification(aggregates.all, aggregates.leads.find("LEAD-PR-000002")->state, ""));

    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectRejected>(
                                "PR-000001", kCrm, kOverride, "rejected-1")) == kernel::HandlerVerdict::Kind::applied);
    const auto lead = aggregates.leads.find("LEAD-PR-000001")->state;
    CHECK(lead.status == LeadStatus::disqualified);
    CHECK(lead.decided_by_hq);
    CHECK(lead.decision_reason == "decided by HQ: sanctions list");
    CHECK_FALSE(aggregates.opportunities.find("OPP-PR-000001"));

    // A rejection recorded before rejections in crm mode were overrides (path HQ) is HQ's too.
    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectRejected>(
                                "PR-000002", kCrm, onboarding::v1::DECISION_PATH_HQ, "rejected-2")) ==
          kernel::HandlerVerdict::Kind::applied);
    CHECK(aggregates.leads.find("LEAD-PR-000002")->state.status == LeadStatus::qualified);
    const auto opportunity = aggregates.opportunities.find("OPP-PR-000002")->state;
    CHECK(opportunity.status == OpportunityStatus::lost);
    CHECK(opportunity.decided_by_hq);
    CHECK(opportunity.close_reason == "decided by HQ: sanctions list");
    CHECK(opportunity.opportunity.owner_user_id() == "maria");
}

TEST_CASE("the CRM's own decisions and direct-mode requests close nothing, bad decisions are poison", "[reactions]") {
    Aggregates aggregates;
    REQUIRE(react(aggregates, verified_envelope("PR-000001", kCrm, "verified-1")) ==
            kernel::HandlerVerdict::Kind::applied);
    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectRejected>(
                                "PR-000001", kCrm, onboarding::v1::DECISION_PATH_CRM, "by-crm")) ==
          kernel::HandlerVerdict::Kind::ignored);
    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectApproved>(
                                "PR-000001", onboarding::v1::APPROVAL_MODE_DIRECT, onboarding::v1::DECISION_PATH_HQ,
                                "direct")) == kernel::HandlerVerdict::Kind::ignored);
    CHECK(aggregates.leads.find("LEAD-PR-000001")->state.status == LeadStatus::open);
    CHECK(aggregates.leads.find("LEAD-PR-000001")->version.value == 1);
    // No lead for the request (never verified here): nothing to close.
    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectApproved>(
                                "PR-000009", kCrm, kOverride, "unknown")) == kernel::HandlerVerdict::Kind::ignored);
    auto garbage = decision_envelope<onboarding::v1::ProspectApproved>("PR-000001", kCrm, kOverride, "garbage");
    garbage.set_payload("\xff\xff\xff");
    CHECK(react(aggregates, garbage) == kernel::HandlerVerdict::Kind::poison);
    CHECK(react(aggregates, decision_envelope<onboarding::v1::ProspectApproved>("", kCrm, kOverride, "no-number")) ==
          kernel::HandlerVerdict::Kind::poison);
}

namespace {

customers::v1::CustomerCreated made_in_commerce(const std::string& id, customers::v1::CustomerType type,
                                                const std::string& organization = "") {
    customers::v1::CustomerCreated created;
    created.set_customer_id(id);
    created.set_type(type);
    created.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    created.set_source(customers::v1::CUSTOMER_SOURCE_HQ);
    *created.mutable_changed_at() = TimeUtil::SecondsToTimestamp(1'764'000'123);
    auto& details = *created.mutable_details();
    if (type == customers::v1::CUSTOMER_TYPE_ORGANIZATION) {
        details.set_name("Initech AG");
        details.set_phone("+49 89 1");
        details.mutable_address()->set_city("Munich");
        details.mutable_address()->set_country_code("DE");
    } else {
        details.set_first_name("Peter");
        details.set_last_name("Gibbons");
        details.set_email("peter@initech.example");
        created.set_organization_customer_id(organization);
    }
    return created;
}

kernel::HandlerVerdict::Kind from_customers(Aggregates& aggregates, const google::protobuf::Message& message,
                                            const std::string& event_id) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(event_id);
    envelope.set_event_type(message.GetDescriptor()->full_name());
    envelope.set_payload(message.SerializeAsString());
    const kernel::InboundEvent event{envelope, "gatehouse.customers.events.v1", 0, 0,
                                     kernel::InboxConsumer::inbox_key("sales-bridge", event_id)};
    return react_to_customers_event(event, aggregates.all).kind;
}

}  // namespace

TEST_CASE("a customer made in commerce is written to the CRM: which ones, with which ids and stamp", "[reactions]") {
    using customers::v1::CUSTOMER_TYPE_ORGANIZATION;
    using customers::v1::CUSTOMER_TYPE_PERSON;
    const auto organization = made_in_commerce("CU-000007", CUSTOMER_TYPE_ORGANIZATION);
    const auto account = account_for_customer(organization, false);
    REQUIRE(account);
    CHECK(account->account.account_id() == "ACC-CU-000007");
    CHECK(account->account.customer_id() == "CU-000007");
    CHECK(account->account.name() == "Initech AG");
    CHECK(account->account.address().city() == "Munich");
    CHECK(account->origin == common::v1::CHANGE_ORIGIN_REPLICATED);
    CHECK(account->now == organization.changed_at());  // the customer's stamp, not the time it arrived here
    CHECK_FALSE(contact_for_customer(organization, false));

    const auto person = made_in_commerce("CU-000008", CUSTOMER_TYPE_PERSON, "CU-000007");
    const auto contact = contact_for_customer(person, false);
    REQUIRE(contact);
    CHECK(contact->contact.contact_id() == "CON-CU-000008");
    CHECK(contact->contact.account_id() == "ACC-CU-000007");
    CHECK(contact->contact.email() == "peter@initech.example");
    CHECK_FALSE(account_for_customer(person, false));
    // A person of an organisation linked to a CRM account (e.g. one made at qualification) goes
    // into that account: customers names it as the person's crm_account_id.
    auto in_crm_organization = made_in_commerce("CU-000010", CUSTOMER_TYPE_PERSON, "CU-000002");
    in_crm_organization.set_crm_account_id("ACC-PR-000001");
    const auto contact_in_crm_account = contact_for_customer(in_crm_organization, false);
    REQUIRE(contact_in_crm_account);
    CHECK(contact_in_crm_account->contact.account_id() == "ACC-PR-000001");
    CHECK(contact_in_crm_account->contact.contact_id() == "CON-CU-000010");

    // Not written: a customer made from the CRM (REPLICATED), one already linked, one of a
    // CRM-mode request (its qualification writes it), a person without an organisation.
    auto replicated = organization;
    replicated.set_origin(common::v1::CHANGE_ORIGIN_REPLICATED);
    CHECK_FALSE(account_for_customer(replicated, false));
    auto linked = organization;
    linked.set_crm_account_id("ACC-PR-000001");
    CHECK_FALSE(account_for_customer(linked, false));
    CHECK_FALSE(account_for_customer(organization, true));
    CHECK_FALSE(contact_for_customer(made_in_commerce("CU-000009", CUSTOMER_TYPE_PERSON), false));
}

TEST_CASE("a customer made in commerce becomes one account, and changes before the link reach it", "[reactions]") {
    using customers::v1::CUSTOMER_TYPE_ORGANIZATION;
    Aggregates aggregates;
    const auto organization = made_in_commerce("CU-000007", CUSTOMER_TYPE_ORGANIZATION);
    CHECK(from_customers(aggregates, organization, "created-1") == kernel::HandlerVerdict::Kind::applied);
    const auto account = aggregates.accounts.find("ACC-CU-000007");
    REQUIRE(account);
    CHECK(account->state.record.origin() == common::v1::CHANGE_ORIGIN_REPLICATED);
    CHECK(account->state.record.customer_id() == "CU-000007");
    CHECK(account->state.record.changed_at() == organization.changed_at());
    // The same creation again (a replay under another event id): one account, one event.
    CHECK(from_customers(aggregates, organization, "created-2") == kernel::HandlerVerdict::Kind::applied);
    CHECK(aggregates.accounts.find("ACC-CU-000007")->version.value == 1);

    // HQ changes the phone before customers has recorded the link: the change names no CRM id.
    customers::v1::CustomerUpdated updated;
    updated.set_customer_id("CU-000007");
    updated.set_type(CUSTOMER_TYPE_ORGANIZATION);
    updated.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    updated.add_changed_fields("phone");
    updated.mutable_details()->set_phone("+49 89 2");
    *updated.mutable_changed_at() = TimeUtil::SecondsToTimestamp(1'764'000'200);
    CHECK(from_customers(aggregates, updated, "updated-1") == kernel::HandlerVerdict::Kind::applied);
    CHECK(aggregates.accounts.find("ACC-CU-000007")->state.record.phone() == "+49 89 2");
    // A customer nobody wrote to the CRM: nothing to change.
    updated.set_customer_id("CU-000099");
    CHECK(from_customers(aggregates, updated, "updated-2") == kernel::HandlerVerdict::Kind::ignored);
}

TEST_CASE("the Account decider: a replicated creation needs the customer's id and keeps its stamp and origin",
          "[reactions]") {
    CreateAccount create;
    create.account.set_account_id("ACC-CU-000001");
    create.account.set_name("Initech AG");
    create.now = TimeUtil::SecondsToTimestamp(1'764'000'000);
    create.origin = common::v1::CHANGE_ORIGIN_REPLICATED;
    const auto refused = Account::decide(create, {});
    REQUIRE(std::holds_alternative<kernel::Rejection>(refused));
    CHECK(std::get<kernel::Rejection>(refused).code == kernel::RejectionCode::invalid_argument);
    create.account.set_customer_id("CU-000001");
    const auto decided = Account::decide(create, {});
    REQUIRE(std::holds_alternative<std::vector<v1::AccountEvent>>(decided));
    const auto& created = std::get<std::vector<v1::AccountEvent>>(decided).at(0).account_created();
    CHECK(created.origin() == common::v1::CHANGE_ORIGIN_REPLICATED);
    CHECK(created.changed_at() == create.now);
    CHECK(std::vector<std::string>(created.changed_fields().begin(), created.changed_fields().end()) ==
          std::vector<std::string>{"name"});
}
