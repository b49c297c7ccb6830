// Replication end to end: the real gatehouse-customers and gatehouse-sales-bridge processes on one
// Kafka (mock or real), sharing their topics. A CRM account / contact made by qualifying a lead
// becomes customers; then HQ and the CRM edit the same organisation at the same time, round after
// round, and both sides must end on the same values, with every change crossing at most once.
#include <catch2/catch.hpp>

#include <thread>

#include "customers_process.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "gatehouse/testing/wait_until.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace cv1 = gatehouse::customers::v1;
namespace sv1 = gatehouse::sales::v1;

namespace {

constexpr const char* kSalesManagerToken = "sales-maria-token-0123456789";

// gatehouse-sales-bridge on the customers process's topics.
class SalesBridge final {
  public:
    SalesBridge(KafkaTestCluster& kafka, const std::string& prefix) {
        kafka.create_topic(prefix + "gatehouse.sales-bridge.dead-letters.v1", 1);
        process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
            "/usr/bin/env", "GATEHOUSE_DATA_DIR=" + data_.path().string(),
            "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
            "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(), "GATEHOUSE_LOG_LEVEL=warn",
            "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix, "GATEHOUSE_SALES_USERS=maria=maria@sales.example",
            std::string("GATEHOUSE_AUTH_TOKENS=") + kSalesManagerToken + "=sales-manager:maria:maria@sales.example",
            GATEHOUSE_SALES_BINARY});
        const std::string ready = "sales-bridge ready grpc=";
        while (auto line = process_->read_line(60s)) {
            if (line->rfind(ready, 0) == 0) {
                stub_ = sv1::SalesService::NewStub(grpc::CreateChannel(
                    "127.0.0.1:" + line->substr(ready.size(), line->find(' ', ready.size()) - ready.size()),
                    grpc::InsecureChannelCredentials()));
                return;
            }
        }
        throw std::runtime_error("gatehouse-sales-bridge did not become ready");
    }
    ~SalesBridge() {
        process_->kill(SIGTERM);
        process_->wait();
    }
    sv1::SalesService::Stub& api() { return *stub_; }

  private:
    TempDir data_;
    std::unique_ptr<ChildProcess> process_;
    std::unique_ptr<sv1::SalesService::Stub> stub_;
};

std::string prefix_of(const CustomersProcess& service) {
    const std::string topic = service.customers_topic();
    return topic.substr(0, topic.size() - std::string("gatehouse.customers.events.v1").size());
}

onboarding::v1::EmailVerified verified(const std::string& request_number) {
    onboarding::v1::EmailVerified event;
    event.set_prospect_type("B2B prospect");
    auto& prospect = *event.mutable_prospect();
    prospect.set_request_number(request_number);
    prospect.set_approval_mode(onboarding::v1::APPROVAL_MODE_CRM);
    auto& company = *prospect.mutable_company();
    company.set_name("Acme GmbH");
    company.mutable_address()->set_street("Hauptstrasse 1");
    company.mutable_address()->set_city("Berlin");
    company.mutable_address()->set_country_code("DE");
    company.set_phone("+49 30 1234567");
    auto& contact = *prospect.mutable_contact();
    contact.set_first_name("Jane");
    contact.set_last_name("Doe");
    contact.set_email("jane@acme.example");
    contact.set_phone("+49 30 7654321");
    contact.set_job_title("Purchasing manager");
    return event;
}

std::string envelope(const google::protobuf::Message& event, const std::string& id, const std::string& key) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(id);
    envelope.set_event_type(event.GetDescriptor()->full_name());
    envelope.set_aggregate_type("prospect");
    envelope.set_aggregate_id(key);
    envelope.set_aggregate_version(2);
    envelope.set_producer("onboarding");
    envelope.set_correlation_id(id);
    envelope.set_payload(event.SerializeAsString());
    return envelope.SerializeAsString();
}

std::unique_ptr<grpc::ClientContext> as_sales() { return as(kSalesManagerToken); }

// Counts the events of `type` on `topic` whose origin is LOCAL / REPLICATED.
template <class Message>
std::pair<int, int> origins(KafkaTestCluster& kafka, const std::string& topic) {
    int local = 0;
    int replicated = 0;
    for (const auto& record : kafka.read_all(topic, 1, 20s, 1s)) {
        kernel::v1::EventEnvelope parsed;
        REQUIRE(parsed.ParseFromString(record.value));
        if (parsed.event_type() == Message::descriptor()->full_name()) {
            Message message;
            REQUIRE(message.ParseFromString(parsed.payload()));
            (message.origin() == common::v1::CHANGE_ORIGIN_LOCAL ? local : replicated) += 1;
        }
    }
    return {local, replicated};
}

}  // namespace

TEST_CASE("customers and sales-bridge converge under concurrent edits, and nothing echoes", "[convergence][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess customers(kafka);
    SalesBridge sales(kafka, prefix_of(customers));

    // A verified CRM-mode request becomes a lead; qualifying it makes the account and contact.
    kafka.produce(customers.onboarding_topic(), "PR-000001",
                  envelope(verified("PR-000001"), "verified-PR-000001", "PR-000001"));
    std::string lead_id;
    REQUIRE(wait_until(
        [&] {
            sv1::ListLeadsRequest request;
            request.set_view(sv1::LEAD_VIEW_ALL_COMMERCE_B2B);
            sv1::ListLeadsResponse response;
            if (sales.api().ListLeads(as_sales().get(), request, &response).ok() && response.leads_size() == 1) {
                lead_id = response.leads(0).lead_id();
            }
            return !lead_id.empty();
        },
        60s, 100ms));
    sv1::AssignLeadRequest assign;
    assign.set_lead_id(lead_id);
    assign.set_owner_user_id("maria");
    sv1::AssignLeadResponse assigned;
    REQUIRE(sales.api().AssignLead(as_sales().get(), assign, &assigned).ok());
    sv1::QualifyLeadRequest qualify;
    qualify.set_lead_id(lead_id);
    qualify.mutable_estimated_value()->set_currency_code("EUR");
    qualify.mutable_estimated_value()->set_minor_units(2'500'000);
    qualify.set_estimated_close_date("2026-12-31");
    sv1::QualifyLeadResponse qualified;
    const auto status = sales.api().QualifyLead(as_sales().get(), qualify, &qualified);
    REQUIRE(status.error_message() == "");

    // The account became an Organization customer, linked, once.
    std::string organization;
    REQUIRE(wait_until(
        [&] {
            cv1::ListCustomersRequest request;
            request.set_text(qualified.account_id());
            request.set_type(cv1::CUSTOMER_TYPE_ORGANIZATION);
            cv1::ListCustomersResponse response;
            if (customers.api().ListCustomers(as(kHqToken).get(), request, &response).ok() &&
                response.customers_size() == 1) {
                organization = response.customers(0).customer_id();
            }
            return !organization.empty();
        },
        60s, 100ms));

    auto customer_view = [&] {
        cv1::GetCustomerRequest request;
        request.set_customer_id(organization);
        cv1::GetCustomerResponse response;
        REQUIRE(customers.api().GetCustomer(as(kHqToken).get(), request, &response).ok());
        return response.customer().details();
    };
    auto account_view = [&] {
        sv1::GetAccountRequest request;
        request.set_account_id(qualified.account_id());
        sv1::GetAccountResponse response;
        REQUIRE(sales.api().GetAccount(as_sales().get(), request, &response).ok());
        return response.account();
    };

    constexpr int kRounds = 4;
    for (int round = 1; round <= kRounds; ++round) {
        INFO("round " << round);
        const std::string suffix = " " + std::to_string(round);
        // Both sides change the name at once; HQ also the website, the CRM also the phone.
        std::thread hq([&] {
            cv1::UpdateCustomerRequest edit;
            edit.set_customer_id(organization);
            edit.mutable_details()->set_name("Acme (HQ)" + suffix);
            edit.mutable_details()->set_website("https://hq" + std::to_string(round) + ".example");
            edit.add_fields("name");
            edit.add_fields("website");
            cv1::UpdateCustomerResponse response;
            CHECK(customers.api().UpdateCustomer(as(kHqToken).get(), edit, &response).ok());
        });
        std::thread crm([&] {
            sv1::UpdateAccountRequest edit;
            edit.set_account_id(qualified.account_id());
            edit.mutable_account()->set_name("Acme (CRM)" + suffix);
            edit.mutable_account()->set_phone("+49 40 " + std::to_string(round));
            edit.add_changed_fields("name");
            edit.add_changed_fields("phone");
            sv1::UpdateAccountResponse response;
            const auto updated = sales.api().UpdateAccount(as_sales().get(), edit, &response);
            CHECK(updated.error_message() == "");
        });
        hq.join();
        crm.join();
        // Both sides end on the same values; the fields only one side changed survive on both.
        const bool converged = wait_until(
            [&] {
                const auto mine = customer_view();
                const auto theirs = account_view();
                return mine.name() == theirs.name() && mine.phone() == theirs.phone() &&
                       mine.website() == theirs.website() && mine.phone() == "+49 40 " + std::to_string(round) &&
                       mine.website() == "https://hq" + std::to_string(round) + ".example";
            },
            60s, 100ms);
        const auto mine = customer_view();
        const auto theirs = account_view();
        INFO("customers: " << mine.ShortDebugString() << "\nsales: " << theirs.ShortDebugString());
        REQUIRE(converged);
        CHECK((mine.name() == "Acme (HQ)" + suffix || mine.name() == "Acme (CRM)" + suffix));
    }

    // No echo: each side made one LOCAL change per round (customers: + the customer creations are
    // REPLICATED); each applied at most one change per round from the other side.
    const auto [customers_local, customers_replicated] =
        origins<cv1::CustomerUpdated>(kafka, customers.customers_topic());
    const auto [sales_local, sales_replicated] = origins<sales::v1::AccountUpdated>(kafka, customers.sales_topic());
    CHECK(customers_local == kRounds);
    CHECK(sales_local == kRounds);
    CHECK(customers_replicated <= kRounds);
    CHECK(sales_replicated <= kRounds);
    CHECK(customers_replicated >= 1);  // the CRM's phone changes arrived
    CHECK(sales_replicated >= 1);      // HQ's website changes arrived
}

TEST_CASE("customers made in HQ are written to the CRM, linked, and edits cross both ways", "[convergence][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess customers(kafka);
    SalesBridge sales(kafka, prefix_of(customers));

    // HQ creates an organisation and a person in it (seed 000: customers made in one system are
    // written to the other).
    cv1::CreateCustomerRequest organization_request;
    organization_request.set_type(cv1::CUSTOMER_TYPE_ORGANIZATION);
    organization_request.mutable_details()->set_name("Initech AG");
    organization_request.mutable_details()->set_phone("+49 89 1");
    cv1::CreateCustomerResponse organization;
    REQUIRE(customers.api().CreateCustomer(as(kHqToken).get(), organization_request, &organization).ok());
    const std::string organization_id = organization.customer().customer_id();
    cv1::CreateCustomerRequest person_request;
    person_request.set_type(cv1::CUSTOMER_TYPE_PERSON);
    person_request.mutable_details()->set_first_name("Peter");
    person_request.mutable_details()->set_last_name("Gibbons");
    person_request.mutable_details()->set_email("peter@initech.example");
    person_request.set_organization_customer_id(organization_id);
    cv1::CreateCustomerResponse person;
    REQUIRE(customers.api().CreateCustomer(as(kHqToken).get(), person_request, &person).ok());
    const std::string person_id = person.customer().customer_id();

    // The CRM gets an account and a contact in it, carrying HQ's values.
    const std::string account_id = "ACC-" + organization_id;
    const std::string contact_id = "CON-" + person_id;
    auto account_view = [&] {
        sv1::GetAccountRequest request;
        request.set_account_id(account_id);
        sv1::GetAccountResponse response;
        const auto status = sales.api().GetAccount(as_sales().get(), request, &response);
        return status.ok() ? std::optional(response.account()) : std::nullopt;
    };
    REQUIRE(wait_until([&] { return account_view().has_value(); }, 60s, 100ms));
    CHECK(account_view()->name() == "Initech AG");
    CHECK(account_view()->phone() == "+49 89 1");
    CHECK(account_view()->customer_id() == organization_id);
    sv1::GetContactResponse contact;
    REQUIRE(wait_until(
        [&] {
            sv1::GetContactRequest request;
            request.set_contact_id(contact_id);
            return sales.api().GetContact(as_sales().get(), request, &contact).ok();
        },
        60s, 100ms));
    CHECK(contact.contact().account_id() == account_id);
    CHECK(contact.contact().email() == "peter@initech.example");
    CHECK(contact.contact().customer_id() == person_id);

    // Customers records the links.
    auto customer_of = [&](const std::string& id) {
        cv1::GetCustomerRequest request;
        request.set_customer_id(id);
        cv1::GetCustomerResponse response;
        REQUIRE(customers.api().GetCustomer(as(kHqToken).get(), request, &response).ok());
        return response.customer();
    };
    REQUIRE(wait_until([&] { return customer_of(organization_id).crm_account_id() == account_id; }, 60s, 100ms));
    REQUIRE(wait_until([&] { return customer_of(person_id).crm_contact_id() == contact_id; }, 60s, 100ms));

    // A CRM user edits the account: HQ sees it. HQ edits the organisation: the CRM sees it.
    sv1::UpdateAccountRequest crm_edit;
    crm_edit.set_account_id(account_id);
    crm_edit.mutable_account()->set_phone("+49 89 2");
    crm_edit.add_changed_fields("phone");
    sv1::UpdateAccountResponse crm_edited;
    REQUIRE(sales.api().UpdateAccount(as_sales().get(), crm_edit, &crm_edited).error_message() == "");
    REQUIRE(wait_until([&] { return customer_of(organization_id).details().phone() == "+49 89 2"; }, 60s, 100ms));
    cv1::UpdateCustomerRequest hq_edit;
    hq_edit.set_customer_id(organization_id);
    hq_edit.mutable_details()->set_website("https://initech.example");
    hq_edit.add_fields("website");
    cv1::UpdateCustomerResponse hq_edited;
    REQUIRE(customers.api().UpdateCustomer(as(kHqToken).get(), hq_edit, &hq_edited).ok());
    REQUIRE(wait_until([&] { return account_view()->website() == "https://initech.example"; }, 60s, 100ms));

    // Each creation crossed once: one AccountCreated and one ContactCreated, REPLICATED (so
    // customers made no second customer from them), and no customer was created from the CRM.
    const auto [accounts_local, accounts_replicated] = origins<sv1::AccountCreated>(kafka, customers.sales_topic());
    const auto [contacts_local, contacts_replicated] = origins<sv1::ContactCreated>(kafka, customers.sales_topic());
    CHECK(accounts_local == 0);
    CHECK(accounts_replicated == 1);
    CHECK(contacts_local == 0);
    CHECK(contacts_replicated == 1);
    const auto [created_local, created_replicated] = origins<cv1::CustomerCreated>(kafka, customers.customers_topic());
    CHECK(created_local == 2);
    CHECK(created_replicated == 0);
}
