// Customers made at a lead's qualification wait for their deal (seed 000; issue 17 item 7), against
// the real gatehouse-customers process: an opportunity's outcome before and after its account and
// contact arrive (they travel on other keys, in no order), redelivered, and what the API shows.
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include "customers_process.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/wait_until.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace cv1 = gatehouse::customers::v1;

namespace {

bool eventually(const std::function<bool()>& condition) { return wait_until(condition, 60s); }

std::string sales_record(const google::protobuf::Message& event, const std::string& id,
                         const std::string& aggregate_type, const std::string& key) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(id);
    envelope.set_event_type(event.GetDescriptor()->full_name());
    envelope.set_aggregate_type(aggregate_type);
    envelope.set_aggregate_id(key);
    envelope.set_aggregate_version(1);
    envelope.set_producer("sales-bridge");
    envelope.set_correlation_id(id);
    envelope.set_payload(event.SerializeAsString());
    return envelope.SerializeAsString();
}

// The account and contact a qualification of `request` creates, produced as sales-bridge does.
void produce_account_and_contact(KafkaTestCluster& kafka, CustomersProcess& service, const std::string& request) {
    const auto at = kernel::to_timestamp(std::chrono::system_clock::now() - 60s);
    sales::v1::AccountCreated account;
    account.set_account_id("ACC-" + request);
    account.set_prospect_request_number(request);
    account.set_name("Company of " + request);
    account.add_changed_fields("name");
    *account.mutable_changed_at() = at;
    account.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    kafka.produce(service.sales_topic(), "ACC-" + request,
                  sales_record(account, "account-" + request, "account", "ACC-" + request));
    sales::v1::ContactCreated contact;
    contact.set_contact_id("CON-" + request);
    contact.set_account_id("ACC-" + request);
    contact.set_prospect_request_number(request);
    contact.set_first_name("Pat");
    contact.set_last_name("Prospect");
    contact.set_email("pat@" + request + ".example");
    for (const char* field : {"first_name", "last_name", "email"}) {
        contact.add_changed_fields(field);
    }
    *contact.mutable_changed_at() = at;
    contact.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    kafka.produce(service.sales_topic(), "CON-" + request,
                  sales_record(contact, "contact-" + request, "contact", "CON-" + request));
}

void produce_outcome(KafkaTestCluster& kafka, CustomersProcess& service, const std::string& request, bool won,
                     const std::string& event_id) {
    const std::string opportunity = "OPP-" + request;
    if (won) {
        sales::v1::OpportunityWon event;
        event.set_opportunity_id(opportunity);
        event.set_prospect_request_number(request);
        event.set_won_by("bob");
        *event.mutable_won_at() = kernel::to_timestamp(std::chrono::system_clock::now());
        kafka.produce(service.sales_topic(), opportunity, sales_record(event, event_id, "opportunity", opportunity));
    } else {
        sales::v1::OpportunityLost event;
        event.set_opportunity_id(opportunity);
        event.set_prospect_request_number(request);
        event.set_reason("chose a competitor");
        event.set_lost_by("bob");
        *event.mutable_lost_at() = kernel::to_timestamp(std::chrono::system_clock::now());
        kafka.produce(service.sales_topic(), opportunity, sales_record(event, event_id, "opportunity", opportunity));
    }
}

// The request's customers (Organization and Person: found by their CRM ids), with `status`.
std::vector<cv1::Customer> customers_of(CustomersProcess& service, const std::string& request,
                                        cv1::CustomerStatus status = cv1::CUSTOMER_STATUS_UNSPECIFIED) {
    cv1::ListCustomersRequest list;
    list.set_text("-" + request);
    list.set_status(status);
    cv1::ListCustomersResponse response;
    if (!service.api().ListCustomers(as(kHqToken).get(), list, &response).ok()) {
        return {};
    }
    return {response.customers().begin(), response.customers().end()};
}

bool both(CustomersProcess& service, const std::string& request, cv1::PartnerStatus partner_status,
          cv1::CustomerStatus status) {
    const auto found = customers_of(service, request, status);
    return found.size() == 2 && std::all_of(found.begin(), found.end(), [&](const cv1::Customer& customer) {
               return customer.partner_status() == partner_status && customer.status() == status;
           });
}

}  // namespace

TEST_CASE("deal: customers made at qualification are prospective, closed when it is lost, partners' when won",
          "[api][kafka][deal]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    // Qualified first (the usual order): PROSPECTIVE, active, not yet a partner's.
    produce_account_and_contact(kafka, service, "PR-000011");
    produce_account_and_contact(kafka, service, "PR-000012");
    REQUIRE(eventually([&] {
        return both(service, "PR-000011", cv1::PARTNER_STATUS_PROSPECTIVE, cv1::CUSTOMER_STATUS_ACTIVE) &&
               both(service, "PR-000012", cv1::PARTNER_STATUS_PROSPECTIVE, cv1::CUSTOMER_STATUS_ACTIVE);
    }));
    produce_outcome(kafka, service, "PR-000011", false, "lost-11");
    produce_outcome(kafka, service, "PR-000011", false, "lost-11");  // redelivered
    produce_outcome(kafka, service, "PR-000012", true, "won-12");
    REQUIRE(eventually([&] {
        return both(service, "PR-000011", cv1::PARTNER_STATUS_CLOSED, cv1::CUSTOMER_STATUS_CLOSED) &&
               both(service, "PR-000012", cv1::PARTNER_STATUS_PARTNER, cv1::CUSTOMER_STATUS_ACTIVE);
    }));
    // A closed Person no longer holds its email: HQ may create a Person with it.
    cv1::CreateCustomerRequest create;
    create.set_type(cv1::CUSTOMER_TYPE_PERSON);
    create.mutable_details()->set_first_name("Pat");
    create.mutable_details()->set_last_name("Prospect");
    create.mutable_details()->set_email("pat@PR-000011.example");
    cv1::CreateCustomerResponse created;
    const auto status = service.api().CreateCustomer(as(kHqToken).get(), create, &created);
    INFO(status.error_message());
    CHECK(status.ok());
    create.mutable_details()->set_email("pat@PR-000012.example");  // the won deal's Person still holds it
    CHECK(service.api().CreateCustomer(as(kHqToken).get(), create, &created).error_code() ==
          grpc::StatusCode::ALREADY_EXISTS);
}

TEST_CASE("deal: an outcome that arrives before the account and contact makes them decided at once",
          "[api][kafka][deal]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    produce_outcome(kafka, service, "PR-000021", false, "lost-21");
    produce_outcome(kafka, service, "PR-000022", true, "won-22");
    // The outcomes are processed (nothing to wait for on this consumer) before the records arrive.
    REQUIRE(eventually([&] { return service.metric("gatehouse_inbox_applied") >= 2; }));
    produce_account_and_contact(kafka, service, "PR-000021");
    produce_account_and_contact(kafka, service, "PR-000022");
    REQUIRE(eventually([&] {
        return both(service, "PR-000021", cv1::PARTNER_STATUS_CLOSED, cv1::CUSTOMER_STATUS_CLOSED) &&
               both(service, "PR-000022", cv1::PARTNER_STATUS_PARTNER, cv1::CUSTOMER_STATUS_ACTIVE);
    }));
    CHECK(customers_of(service, "PR-000021", cv1::CUSTOMER_STATUS_ACTIVE).empty());
}
