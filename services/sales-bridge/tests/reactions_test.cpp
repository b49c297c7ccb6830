// The reactions against a real event store (RocksDB in a temporary directory), without Kafka:
// a verified request becomes one lead (round-robin owner, other modes ignored, bad input poison),
// customers' changes are filtered (origin, type, CRM link), and an interrupted qualification is
// completed once.
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include "gatehouse/kernel/inbox_consumer.h"
#include "reactions/customers_reactions.h"
#include "reactions/onboarding_reactions.h"
#include "reactions/qualification.h"
#include "sales_store.h"
#include "temp_dir.h"

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
    return react_to_onboarding_event(event, aggregates.leads, assignment).kind;
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
    CHECK(lead->first.status == LeadStatus::open);
    CHECK(lead->first.lead.origin() == "Commerce B2B");
    CHECK(lead->first.lead.topic() == "B2B partner request: Acme GmbH");
    // The same request under another event id (a replayed onboarding topic): nothing new.
    CHECK(react(aggregates, verified_envelope("PR-000001", onboarding::v1::APPROVAL_MODE_CRM, "event-2")) ==
          kernel::HandlerVerdict::Kind::ignored);
    CHECK(aggregates.leads.find("LEAD-PR-000001")->second.value == 1);
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
    CHECK(aggregates.leads.find("LEAD-PR-000001")->first.owner_user_id == "bob");
    CHECK(aggregates.leads.find("LEAD-PR-000002")->first.owner_user_id == "carol");
    CHECK(aggregates.leads.find("LEAD-PR-000003")->first.owner_user_id == "bob");
    CHECK(aggregates.leads.find("LEAD-PR-000003")->first.owner_email == "bob@sales.example");
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
    CHECK(opportunity->first.opportunity.owner_user_id() == "maria");  // an unassigned lead: the qualifier's
    CHECK(opportunity->first.opportunity.account_id() == "ACC-PR-000001");
    REQUIRE(aggregates.accounts.find("ACC-PR-000001"));
    CHECK(aggregates.accounts.find("ACC-PR-000001")->first.record.name() == "Acme GmbH");
    REQUIRE(aggregates.contacts.find("CON-PR-000001"));
    CHECK(aggregates.contacts.find("CON-PR-000001")->first.record.email() == "jane@acme.example");
    // Again (the next start): nothing to do, nothing written.
    CHECK(complete_pending_qualifications(aggregates.all) == 0);
    CHECK(aggregates.accounts.find("ACC-PR-000001")->second.value == 1);
    CHECK_FALSE(complete_qualification(aggregates.all, aggregates.leads.find("LEAD-PR-000001")->first, ""));
    CHECK(aggregates.opportunities.find("OPP-PR-000001")->second.value == 1);
}
