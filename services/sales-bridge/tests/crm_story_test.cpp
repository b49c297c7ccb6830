// The CRM approval story across three real processes (onboarding in approval mode crm,
// sales-bridge, customers) on one Kafka (mock cluster or the real broker), with one topic prefix:
// submit → verify → lead → qualify → account and contact replicated as Organization and Person
// customers → edits on both sides converge without echo → win → prospect approved → hierarchy
// from the replicated customers; and disqualify / lose → rejected. Restarting sales-bridge in
// the middle creates nothing twice.
#include <grpcpp/grpcpp.h>
#include <sodium.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <memory>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/temp_dir.h"
#include "gatehouse/testing/wait_until.h"

using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace ob = gatehouse::onboarding::v1;
namespace cu = gatehouse::customers::v1;
namespace sv = gatehouse::sales::v1;

namespace {

constexpr const char* kHq = "story-hq-token-0123456789";
constexpr const char* kBob = "story-bob-token-0123456789";

// One service binary as a child process: environment, ready line, a channel to its gRPC port.
class Service final {
  public:
    Service(std::string name, std::string binary, std::vector<std::string> environment)
        : name_(std::move(name)), binary_(std::move(binary)), environment_(std::move(environment)) {
        start();
    }
    ~Service() { stop(); }

    void start() {
        std::vector<std::string> command = {"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + data_.path().string()};
        command.insert(command.end(), environment_.begin(), environment_.end());
        command.push_back(binary_);
        process_ = std::make_unique<ChildProcess>(command);
        const std::string ready = name_ + " ready grpc=";
        while (auto line = process_->read_line(60s)) {
            if (line->rfind(ready, 0) == 0) {
                channel_ = grpc::CreateChannel(
                    "127.0.0.1:" + line->substr(ready.size(), line->find(' ', ready.size()) - ready.size()),
                    grpc::InsecureChannelCredentials());
                return;
            }
        }
        throw std::runtime_error(name_ + " did not become ready");
    }
    int stop() {
        if (!process_) {
            return -1;
        }
        process_->kill(SIGTERM);
        const int code = process_->wait();
        process_.reset();
        return code;
    }
    std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  private:
    std::string name_;
    std::string binary_;
    std::vector<std::string> environment_;
    TempDir data_;
    std::unique_ptr<ChildProcess> process_;
    std::shared_ptr<grpc::Channel> channel_;
};

std::unique_ptr<grpc::ClientContext> as(const char* token = nullptr) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + 10s);
    if (token != nullptr) {
        context->AddMetadata("authorization", std::string("Bearer ") + token);
    }
    return context;
}

bool eventually(const std::function<bool()>& condition) { return wait_until(condition, 60s, 100ms); }

struct Platform {
    KafkaTestCluster& kafka;
    std::string prefix = unique_topic("story") + ".";
    unsigned char public_key[crypto_box_PUBLICKEYBYTES]{};
    unsigned char secret_key[crypto_box_SECRETKEYBYTES]{};
    std::unique_ptr<Service> onboarding;
    std::unique_ptr<Service> sales;
    std::unique_ptr<Service> customers;

    explicit Platform(KafkaTestCluster& cluster) : kafka(cluster) {
        REQUIRE(sodium_init() >= 0);
        crypto_box_keypair(public_key, secret_key);
        for (const char* topic :
             {"gatehouse.onboarding.events.v1", "gatehouse.sales.events.v1", "gatehouse.customers.events.v1"}) {
            kafka.create_topic(prefix + topic, 3);
        }
        for (const char* topic : {"gatehouse.onboarding.dead-letters.v1", "gatehouse.sales-bridge.dead-letters.v1",
                                  "gatehouse.customers.dead-letters.v1"}) {
            kafka.create_topic(prefix + topic, 1);
        }
        char key[64];
        sodium_bin2base64(key, sizeof key, public_key, sizeof public_key, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        const std::vector<std::string> common = {"GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
                                                 "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(),
                                                 "GATEHOUSE_LOG_LEVEL=warn", "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix,
                                                 std::string("GATEHOUSE_NOTIFIER_PUBLIC_KEY=") + key};
        auto with = [&](std::vector<std::string> extra) {
            extra.insert(extra.end(), common.begin(), common.end());
            return extra;
        };
        onboarding = std::make_unique<Service>(
            "onboarding", GATEHOUSE_ONBOARDING_BINARY,
            with({"GATEHOUSE_ONBOARDING_APPROVAL_MODE=crm",
                  std::string("GATEHOUSE_AUTH_TOKENS=") + kHq + "=hq:alice:alice@hq.example"}));
        customers = std::make_unique<Service>(
            "customers", GATEHOUSE_CUSTOMERS_BINARY,
            with({std::string("GATEHOUSE_AUTH_TOKENS=") + kHq + "=hq:alice:alice@hq.example"}));
        // sales-bridge has no notifier key setting: it gets only its own.
        sales = std::make_unique<Service>(
            "sales-bridge", GATEHOUSE_SALES_BINARY,
            std::vector<std::string>{"GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
                                     "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(),
                                     "GATEHOUSE_LOG_LEVEL=warn", "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix,
                                     "GATEHOUSE_SALES_USERS=bob=bob@sales.example",
                                     std::string("GATEHOUSE_AUTH_TOKENS=") + kBob + "=sales:bob:bob@sales.example"});
    }

    auto onboarding_api() { return ob::OnboardingService::NewStub(onboarding->channel()); }
    auto sales_api() { return sv::SalesService::NewStub(sales->channel()); }
    auto customers_api() { return cu::CustomersService::NewStub(customers->channel()); }

    std::string unseal(const std::string& sealed) const {
        if (sealed.size() < crypto_box_SEALBYTES) {
            return {};
        }
        std::string token(sealed.size() - crypto_box_SEALBYTES, '\0');
        if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(token.data()),
                                 reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(), public_key,
                                 secret_key) != 0) {
            return {};
        }
        return token;
    }

    // The envelopes on a topic of this platform, by event type.
    std::multimap<std::string, gatehouse::kernel::v1::EventEnvelope> events(const std::string& topic,
                                                                            std::size_t at_least) {
        std::multimap<std::string, gatehouse::kernel::v1::EventEnvelope> found;
        for (const auto& record : kafka.read_all(prefix + topic, at_least, 30s)) {
            gatehouse::kernel::v1::EventEnvelope envelope;
            REQUIRE(envelope.ParseFromString(record.value));
            found.emplace(envelope.event_type(), envelope);
        }
        return found;
    }

    // Submits a request and confirms its email as the requester would (with the sealed token).
    std::string submit_and_verify(const std::string& company, const std::string& email) {
        ob::SubmitRequestRequest request;
        auto& details = *request.mutable_company();
        details.set_name(company);
        details.mutable_address()->set_street("Hauptstrasse 1");
        details.mutable_address()->set_city("Berlin");
        details.mutable_address()->set_postal_code("10115");
        details.mutable_address()->set_country_code("DE");
        details.set_phone("+49 30 1234567");
        auto& contact = *request.mutable_contact();
        contact.set_first_name("Jane");
        contact.set_last_name("Doe");
        contact.set_email(email);
        contact.set_phone("+49 30 7654321");
        contact.set_job_title("Purchasing manager");
        ob::SubmitRequestResponse submitted;
        const auto status = onboarding_api()->SubmitRequest(as().get(), request, &submitted);
        REQUIRE(status.error_message() == "");
        const std::string number = submitted.request_number();
        std::string token;
        REQUIRE(eventually([&] {
            for (const auto& [type, envelope] : events("gatehouse.onboarding.events.v1", 1)) {
                ob::RequestSubmitted event;
                if (type == "gatehouse.onboarding.v1.RequestSubmitted" && event.ParseFromString(envelope.payload()) &&
                    event.request_number() == number) {
                    token = unseal(event.verification().token_sealed_for_notifier());
                }
            }
            return !token.empty();
        }));
        ob::VerifyEmailRequest verify;
        verify.set_request_number(number);
        verify.set_token(token);
        ob::VerifyEmailResponse verified;
        REQUIRE(onboarding_api()->VerifyEmail(as().get(), verify, &verified).ok());
        return number;
    }

    ob::RequestStatus status_of(const std::string& number, const std::string& email) {
        ob::GetRequestStatusRequest request;
        request.set_request_number(number);
        request.set_email(email);
        ob::GetRequestStatusResponse response;
        return onboarding_api()->GetRequestStatus(as().get(), request, &response).ok() ? response.status()
                                                                                       : ob::REQUEST_STATUS_UNSPECIFIED;
    }

    // Waits for the lead of `number` and has bob take it.
    std::string lead_taken_by_bob(const std::string& number) {
        const std::string lead = "LEAD-" + number;
        sv::GetLeadRequest get;
        get.set_lead_id(lead);
        sv::GetLeadResponse found;
        REQUIRE(eventually([&] { return sales_api()->GetLead(as(kBob).get(), get, &found).ok(); }));
        CHECK(found.summary().origin() == "Commerce B2B");
        sv::AssignLeadRequest assign;
        assign.set_lead_id(lead);
        assign.set_owner_user_id("bob");
        sv::AssignLeadResponse assigned;
        REQUIRE(sales_api()->AssignLead(as(kBob).get(), assign, &assigned).ok());
        return lead;
    }

    sv::QualifyLeadResponse qualify(const std::string& lead) {
        sv::QualifyLeadRequest request;
        request.set_lead_id(lead);
        request.mutable_estimated_value()->set_currency_code("EUR");
        request.mutable_estimated_value()->set_minor_units(2'500'000);
        request.set_estimated_close_date("2026-12-31");
        sv::QualifyLeadResponse response;
        const auto status = sales_api()->QualifyLead(as(kBob).get(), request, &response);
        REQUIRE(status.error_message() == "");
        return response;
    }

    // The customers linked to a CRM id (by the list's text search, which matches CRM ids).
    std::vector<cu::Customer> customers_linked_to(const std::string& crm_id) {
        cu::ListCustomersRequest request;
        request.set_text(crm_id);
        cu::ListCustomersResponse response;
        if (!customers_api()->ListCustomers(as(kHq).get(), request, &response).ok()) {
            return {};
        }
        std::vector<cu::Customer> linked;
        for (const auto& customer : response.customers()) {
            if (customer.crm_account_id() == crm_id || customer.crm_contact_id() == crm_id) {
                linked.push_back(customer);
            }
        }
        return linked;
    }
};

}  // namespace

TEST_CASE("CRM story: lead, qualify, replicated customers, edits converge, won approves with a hierarchy",
          "[story][kafka]") {
    KafkaTestCluster kafka;
    Platform platform(kafka);
    const std::string number = platform.submit_and_verify("Acme GmbH", "jane@acme.example");
    CHECK(platform.status_of(number, "jane@acme.example") == ob::REQUEST_STATUS_PENDING);
    const std::string lead = platform.lead_taken_by_bob(number);
    const auto ids = platform.qualify(lead);

    // The account and contact become an Organization and a Person customer, linked by CRM id.
    REQUIRE(eventually([&] {
        return platform.customers_linked_to(ids.account_id()).size() >= 2 &&
               !platform.customers_linked_to(ids.contact_id()).empty();
    }));
    // Restarting sales-bridge replays nothing twice.
    REQUIRE(platform.sales->stop() == 0);
    platform.sales->start();
    const auto organizations = [&] {
        std::vector<cu::Customer> found;
        for (const auto& customer : platform.customers_linked_to(ids.account_id())) {
            if (customer.type() == cu::CUSTOMER_TYPE_ORGANIZATION) {
                found.push_back(customer);
            }
        }
        return found;
    };
    REQUIRE(organizations().size() == 1);
    const cu::Customer organization = organizations().front();
    CHECK(organization.details().name() == "Acme GmbH");
    CHECK(organization.prospect_request_number() == number);
    const auto people = platform.customers_linked_to(ids.contact_id());
    REQUIRE(people.size() == 1);
    CHECK(people[0].details().email() == "jane@acme.example");

    // HQ changes the phone in customers; sales changes the website in the CRM: both arrive on the
    // other side, and neither change comes back (no echo).
    cu::UpdateCustomerRequest hq_edit;
    hq_edit.set_customer_id(organization.customer_id());
    hq_edit.mutable_details()->set_phone("+49 30 9999999");
    hq_edit.add_fields("phone");
    cu::UpdateCustomerResponse hq_edited;
    const auto hq_status = platform.customers_api()->UpdateCustomer(as(kHq).get(), hq_edit, &hq_edited);
    REQUIRE(hq_status.error_message() == "");
    sv::UpdateAccountRequest crm_edit;
    crm_edit.set_account_id(ids.account_id());
    crm_edit.mutable_account()->set_website("https://acme.example");
    crm_edit.add_changed_fields("website");
    sv::UpdateAccountResponse crm_edited;
    REQUIRE(platform.sales_api()->UpdateAccount(as(kBob).get(), crm_edit, &crm_edited).ok());
    sv::GetAccountRequest get_account;
    get_account.set_account_id(ids.account_id());
    sv::GetAccountResponse account;
    REQUIRE(eventually([&] {
        return platform.sales_api()->GetAccount(as(kBob).get(), get_account, &account).ok() &&
               account.account().phone() == "+49 30 9999999";
    }));
    cu::GetCustomerRequest get_customer;
    get_customer.set_customer_id(organization.customer_id());
    cu::GetCustomerResponse customer;
    REQUIRE(eventually([&] {
        return platform.customers_api()->GetCustomer(as(kHq).get(), get_customer, &customer).ok() &&
               customer.customer().details().website() == "https://acme.example";
    }));
    CHECK(account.account().website() == "https://acme.example");
    CHECK(customer.customer().details().phone() == "+49 30 9999999");

    // Won: the prospect is approved, and the hierarchy is built from the replicated customers.
    sv::WinOpportunityRequest win;
    win.set_opportunity_id(ids.opportunity_id());
    sv::WinOpportunityResponse won;
    REQUIRE(platform.sales_api()->WinOpportunity(as(kBob).get(), win, &won).ok());
    REQUIRE(eventually([&] { return platform.status_of(number, "jane@acme.example") == ob::REQUEST_STATUS_APPROVED; }));
    cu::ListHierarchiesRequest hierarchies;
    hierarchies.set_organization_customer_id(organization.customer_id());
    cu::ListHierarchiesResponse listed;
    REQUIRE(eventually([&] {
        return platform.customers_api()->ListHierarchies(as(kHq).get(), hierarchies, &listed).ok() &&
               listed.hierarchies_size() == 1;
    }));
    // Still one Organization and one Person for this request: approval reused them.
    CHECK(organizations().size() == 1);
    CHECK(platform.customers_linked_to(ids.contact_id()).size() == 1);

    // On the topics: each side's edit crossed once (LOCAL on its side, REPLICATED on the other).
    const auto sales_events = platform.events("gatehouse.sales.events.v1", 8);
    std::map<int, int> account_updates_by_origin;
    for (auto [it, end] = sales_events.equal_range("gatehouse.sales.v1.AccountUpdated"); it != end; ++it) {
        sv::AccountUpdated updated;
        REQUIRE(updated.ParseFromString(it->second.payload()));
        ++account_updates_by_origin[updated.origin()];
    }
    CHECK(account_updates_by_origin[gatehouse::common::v1::CHANGE_ORIGIN_LOCAL] == 1);
    CHECK(account_updates_by_origin[gatehouse::common::v1::CHANGE_ORIGIN_REPLICATED] == 1);
    CHECK(sales_events.count("gatehouse.sales.v1.LeadCreated") == 1);
    CHECK(sales_events.count("gatehouse.sales.v1.AccountCreated") == 1);
    CHECK(sales_events.count("gatehouse.sales.v1.OpportunityWon") == 1);
}

TEST_CASE("CRM story: a disqualified lead and a lost opportunity reject their requests", "[story][kafka]") {
    KafkaTestCluster kafka;
    Platform platform(kafka);
    const std::string disqualified = platform.submit_and_verify("Globex AG", "max@globex.example");
    const std::string lost = platform.submit_and_verify("Initech", "bill@initech.example");

    sv::DisqualifyLeadRequest disqualify;
    disqualify.set_lead_id(platform.lead_taken_by_bob(disqualified));
    disqualify.set_reason("not a reseller");
    sv::DisqualifyLeadResponse disqualify_response;
    REQUIRE(platform.sales_api()->DisqualifyLead(as(kBob).get(), disqualify, &disqualify_response).ok());

    const auto ids = platform.qualify(platform.lead_taken_by_bob(lost));
    sv::LoseOpportunityRequest lose;
    lose.set_opportunity_id(ids.opportunity_id());
    lose.set_reason("went with a competitor");
    sv::LoseOpportunityResponse lose_response;
    REQUIRE(platform.sales_api()->LoseOpportunity(as(kBob).get(), lose, &lose_response).ok());

    CHECK(eventually(
        [&] { return platform.status_of(disqualified, "max@globex.example") == ob::REQUEST_STATUS_REJECTED; }));
    CHECK(eventually([&] { return platform.status_of(lost, "bill@initech.example") == ob::REQUEST_STATUS_REJECTED; }));
    ob::GetProspectRequest get;
    get.set_request_number(lost);
    ob::GetProspectResponse prospect;
    REQUIRE(platform.onboarding_api()->GetProspect(as(kHq).get(), get, &prospect).ok());
    CHECK(prospect.decision_reason() == "went with a competitor");
    CHECK(prospect.decision_path() == ob::DECISION_PATH_CRM);
}
