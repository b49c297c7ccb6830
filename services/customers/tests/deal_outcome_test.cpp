// A customer made at a lead's qualification (seed 000) waits for its deal: given events / when
// RecordDealOutcome / then events for the Customer, and what the read model lists and frees for a
// closed customer (on a real, temporary store).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "domain/customer.h"
#include "domain/customer_read_model.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/testing/given_when_then.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse;
using namespace gatehouse::customers;
using gatehouse::kernel::Rejection;
using gatehouse::kernel::RejectionCode;
using namespace std::chrono_literals;

namespace {

const Clock::time_point kT0 = Clock::from_time_t(1'764'000'000);

v1::CustomerCreated replicated_person(const std::string& id, v1::PartnerStatus status) {
    v1::CustomerCreated created;
    created.set_customer_id(id);
    created.set_type(v1::CUSTOMER_TYPE_PERSON);
    created.mutable_details()->set_first_name("Jane");
    created.mutable_details()->set_last_name("Doe");
    created.mutable_details()->set_name("Jane Doe");
    created.mutable_details()->set_email("jane@acme.example");
    created.set_source(v1::CUSTOMER_SOURCE_CRM);
    created.set_origin(common::v1::CHANGE_ORIGIN_REPLICATED);
    *created.mutable_changed_at() = kernel::to_timestamp(kT0);
    created.set_crm_account_id("ACC-PR-000001");
    created.set_crm_contact_id("CON-PR-000001");
    created.set_prospect_request_number("PR-000001");
    created.set_partner_status(status);
    return created;
}

v1::CustomerEvent created_event(v1::PartnerStatus status) {
    v1::CustomerEvent event;
    *event.mutable_customer_created() = replicated_person("CU-000002", status);
    return event;
}

CustomerState given(const std::vector<v1::CustomerEvent>& history) { return testing::given<Customer>(history); }

std::vector<v1::CustomerEvent> then_events(const std::vector<v1::CustomerEvent>& history,
                                           const Customer::Command& command) {
    return testing::then_events<Customer>(history, command);
}

RecordDealOutcome won() { return {true, "PR-000001", "OPP-PR-000001", "", "bob", kT0 + 1h}; }
RecordDealOutcome lost() { return {false, "PR-000001", "OPP-PR-000001", "budget cut", "bob", kT0 + 1h}; }

}  // namespace

TEST_CASE("deal won: a prospective customer becomes a partner's, once", "[customer][deal]") {
    CHECK(given({created_event(v1::PARTNER_STATUS_PROSPECTIVE)}).partner_status == v1::PARTNER_STATUS_PROSPECTIVE);
    const auto events = then_events({created_event(v1::PARTNER_STATUS_PROSPECTIVE)}, won());
    REQUIRE(events.size() == 1);
    const auto& changed = events[0].partner_status_changed();
    CHECK(changed.customer_id() == "CU-000002");
    CHECK(changed.type() == v1::CUSTOMER_TYPE_PERSON);
    CHECK(changed.partner_status() == v1::PARTNER_STATUS_PARTNER);
    CHECK(changed.previous_partner_status() == v1::PARTNER_STATUS_PROSPECTIVE);
    CHECK(changed.opportunity_id() == "OPP-PR-000001");
    CHECK(changed.prospect_request_number() == "PR-000001");
    CHECK(changed.decided_by() == "bob");
    CHECK(changed.decided_at() == kernel::to_timestamp(kT0 + 1h));
    const std::vector<v1::CustomerEvent> history{created_event(v1::PARTNER_STATUS_PROSPECTIVE), events[0]};
    CHECK(given(history).partner_status == v1::PARTNER_STATUS_PARTNER);
    CHECK(then_events(history, won()).empty());   // redelivered
    CHECK(then_events(history, lost()).empty());  // decided: a late contrary outcome changes nothing
}

TEST_CASE("deal lost: a prospective customer is closed with the reason, once", "[customer][deal]") {
    const auto events = then_events({created_event(v1::PARTNER_STATUS_PROSPECTIVE)}, lost());
    REQUIRE(events.size() == 1);
    CHECK(events[0].partner_status_changed().partner_status() == v1::PARTNER_STATUS_CLOSED);
    CHECK(events[0].partner_status_changed().reason() == "budget cut");
    const std::vector<v1::CustomerEvent> history{created_event(v1::PARTNER_STATUS_PROSPECTIVE), events[0]};
    const auto closed = given(history);
    CHECK(closed.partner_status == v1::PARTNER_STATUS_CLOSED);
    CHECK(list_status_of(closed) == ListStatus::closed);
    CHECK(then_events(history, lost()).empty());
}

TEST_CASE("deal outcome: customers waiting for no deal change nothing, an unknown customer is not found",
          "[customer][deal]") {
    CHECK(then_events({created_event(v1::PARTNER_STATUS_UNSPECIFIED)}, lost()).empty());
    CHECK(then_events({created_event(v1::PARTNER_STATUS_UNSPECIFIED)}, won()).empty());
    CHECK(list_status_of(given({created_event(v1::PARTNER_STATUS_UNSPECIFIED)})) == ListStatus::active);
    const auto decision = Customer::decide(won(), Customer::initial());
    REQUIRE(std::holds_alternative<Rejection>(decision));
    CHECK(std::get<Rejection>(decision).code == RejectionCode::not_found);
}

TEST_CASE("read model: a closed customer is listed as closed and frees its person email", "[customer][deal]") {
    const gatehouse::testing::TempDir directory;
    const auto store = kernel::EventStore::open(directory.path() / "log");
    kernel::AggregateRuntime<Customer> customers(*store, {"customers"}, customer_read_model());
    REQUIRE(std::holds_alternative<kernel::Accepted<v1::CustomerEvent>>(customers.execute(
        "CU-000002", CreateCustomer{replicated_person("CU-000002", v1::PARTNER_STATUS_PROSPECTIVE)})));
    const auto email = kernel::IndexKey().text("jane@acme.example");
    CHECK(customers.lookup(customer_index::kPersonEmail, email, 1).size() == 1);
    CHECK(customers.count(list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::active)) == 1);

    REQUIRE(std::holds_alternative<kernel::Accepted<v1::CustomerEvent>>(customers.execute("CU-000002", lost())));
    CHECK(customers.lookup(customer_index::kPersonEmail, email, 1).empty());
    CHECK(customers.count(list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::active)) == 0);
    CHECK(customers.count(list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::closed)) == 1);
    CHECK(customers.count(list_segment(v1::CUSTOMER_TYPE_PERSON, ListStatus::closed)) == 1);
    const auto page = customers.page(
        customer_index::kList, list_prefix(list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::closed)), {}, 10);
    REQUIRE(page.hits.size() == 1);
    CHECK(page.hits.front().aggregate_id == "CU-000002");
}
