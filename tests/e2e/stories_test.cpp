// The stories of ../shared/design/flows.md, end to end: four service processes, Kafka, the real
// SMTP server; asserted through the public APIs, the topics and the emails received.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "gatehouse/kernel/v1/envelope.pb.h"
#include "onboarding_process.h"  // valid_request()
#include "platform.h"
#include "webhook_receiver.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace ob = gatehouse::onboarding::v1;
namespace cu = gatehouse::customers::v1;
namespace sa = gatehouse::sales::v1;

namespace {

constexpr auto kFlow = 60s;  // the longest any hop of a story may take (consumer group joins included)

// Submits a request and confirms its email with the link the requester received.
std::string submit_and_verify(Platform& platform, const std::string& email, const std::string& company) {
    ob::SubmitRequestResponse submitted;
    const auto status =
        platform.onboarding()->SubmitRequest(call_as().get(), valid_request(email, company), &submitted);
    REQUIRE(status.error_message().empty());
    const std::string number = submitted.request_number();
    std::vector<nlohmann::json> confirmation;
    REQUIRE(wait_until([&] { return !(confirmation = emails_to(platform.smtp(), email, number)).empty(); }, kFlow));
    REQUIRE(confirmation.size() == 1);
    ob::VerifyEmailRequest verify;
    verify.set_request_number(number);
    verify.set_token(link_token(confirmation[0]));
    ob::VerifyEmailResponse verified;
    REQUIRE(platform.onboarding()->VerifyEmail(call_as().get(), verify, &verified).ok());
    CHECK(verified.status() == ob::REQUEST_STATUS_PENDING);
    return number;
}

ob::RequestStatus status_of(Platform& platform, const std::string& number, const std::string& email) {
    ob::GetRequestStatusRequest request;
    request.set_request_number(number);
    request.set_email(email);
    ob::GetRequestStatusResponse response;
    return platform.onboarding()->GetRequestStatus(call_as().get(), request, &response).ok()
               ? response.status()
               : ob::REQUEST_STATUS_UNSPECIFIED;
}

std::vector<cu::Customer> customers_named(Platform& platform, const std::string& text) {
    cu::ListCustomersRequest request;
    request.set_text(text);
    request.set_page_size(200);
    cu::ListCustomersResponse response;
    if (!platform.customers()->ListCustomers(call_as(kHq).get(), request, &response).ok()) {
        return {};
    }
    return {response.customers().begin(), response.customers().end()};
}

const cu::Customer* of_type(const std::vector<cu::Customer>& customers, cu::CustomerType type) {
    for (const auto& customer : customers) {
        if (customer.type() == type) {
            return &customer;
        }
    }
    return nullptr;
}

// Sets the password with the link of `email` and signs in; returns the session token.
std::string set_password_and_sign_in(Platform& platform, const nlohmann::json& email, const std::string& address) {
    cu::SetPasswordRequest set;
    set.set_token(link_token(email));
    set.set_password("correct horse battery staple 42");
    cu::SetPasswordResponse set_done;
    const auto status = platform.customers()->SetPassword(call_as().get(), set, &set_done);
    REQUIRE(status.error_message().empty());
    cu::SignInRequest sign_in;
    sign_in.set_email(address);
    sign_in.set_password("correct horse battery staple 42");
    cu::SignInResponse session;
    REQUIRE(platform.customers()->SignIn(call_as().get(), sign_in, &session).ok());
    CHECK_FALSE(session.session_token().empty());
    return session.session_token();
}

}  // namespace

TEST_CASE(
    "direct approval: request, confirmation, HQ approval, customers and hierarchy, welcome, first sign-in, "
    "a partner user",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka);
    const std::string number = submit_and_verify(platform, "ada@lovelace.example", "Lovelace Engines Ltd");

    // HQ sees it on "All prospects" and approves it.
    ob::ListProspectsRequest list;
    list.set_status(ob::REQUEST_STATUS_PENDING);
    ob::ListProspectsResponse pending;
    REQUIRE(platform.onboarding()->ListProspects(call_as(kHq).get(), list, &pending).ok());
    REQUIRE(pending.prospects_size() == 1);
    CHECK(pending.prospects(0).request_number() == number);
    ob::ApproveProspectRequest approve;
    approve.set_request_number(number);
    approve.set_confirmed(true);
    ob::ApproveProspectResponse approved;
    REQUIRE(platform.onboarding()->ApproveProspect(call_as(kHq).get(), approve, &approved).ok());

    // customers: an Organization, the requester as a Person (B2B admin) and a hierarchy.
    std::vector<cu::Customer> found;
    REQUIRE(wait_until([&] { return (found = customers_named(platform, "Lovelace")).size() >= 1; }, kFlow));
    std::vector<cu::Customer> all_found;
    REQUIRE(wait_until(
        [&] {
            all_found = customers_named(platform, "Lovelace Engines Ltd");
            auto people = customers_named(platform, "ada@lovelace.example");
            all_found.insert(all_found.end(), people.begin(), people.end());
            return of_type(all_found, cu::CUSTOMER_TYPE_ORGANIZATION) != nullptr &&
                   of_type(all_found, cu::CUSTOMER_TYPE_PERSON) != nullptr;
        },
        kFlow));
    const cu::Customer organization = *of_type(all_found, cu::CUSTOMER_TYPE_ORGANIZATION);
    const cu::Customer admin = *of_type(all_found, cu::CUSTOMER_TYPE_PERSON);
    CHECK(admin.b2b_admin());
    CHECK(organization.prospect_request_number() == number);
    cu::ListHierarchiesRequest hierarchies_request;
    hierarchies_request.set_organization_customer_id(organization.customer_id());
    cu::ListHierarchiesResponse hierarchies;
    REQUIRE(platform.customers()->ListHierarchies(call_as(kHq).get(), hierarchies_request, &hierarchies).ok());
    REQUIRE(hierarchies.hierarchies_size() == 1);
    CHECK_THAT(std::vector<std::string>(hierarchies.hierarchies(0).member_customer_ids().begin(),
                                        hierarchies.hierarchies(0).member_customer_ids().end()),
               Catch::VectorContains(admin.customer_id()));

    // The requester, now admin, gets the welcome with the set-password link, and signs in.
    std::vector<nlohmann::json> welcome;
    REQUIRE(wait_until(
        [&] { return !(welcome = emails_to(platform.smtp(), "ada@lovelace.example", "partner account")).empty(); },
        kFlow));
    REQUIRE(welcome.size() == 1);
    CHECK_THAT(welcome[0]["text"].get<std::string>(), Catch::Contains(number));
    const std::string session = set_password_and_sign_in(platform, welcome[0], "ada@lovelace.example");
    CHECK(status_of(platform, number, "ada@lovelace.example") == ob::REQUEST_STATUS_APPROVED);

    // The admin adds a user: Pending, provisioned as a Person in the hierarchy, Active, invited.
    cu::AddPartnerUserRequest add;
    add.set_organization_customer_id(organization.customer_id());
    add.set_email("bob@lovelace.example");
    add.set_first_name("Bob");
    add.set_last_name("Babbage");
    add.set_job_title("Buyer");
    cu::AddPartnerUserResponse added;
    const auto add_status = platform.customers()->AddPartnerUser(call_as(session).get(), add, &added);
    REQUIRE(add_status.error_message().empty());
    CHECK_FALSE(added.user().permissions().view_financials());  // off by default
    std::vector<nlohmann::json> invitation;
    REQUIRE(wait_until(
        [&] { return !(invitation = emails_to(platform.smtp(), "bob@lovelace.example", "invited")).empty(); }, kFlow));
    set_password_and_sign_in(platform, invitation[0], "bob@lovelace.example");
    cu::ListPartnerUsersRequest users_request;
    users_request.set_organization_customer_id(organization.customer_id());
    cu::ListPartnerUsersResponse users;
    REQUIRE(platform.customers()->ListPartnerUsers(call_as(session).get(), users_request, &users).ok());
    CHECK(users.users_size() == 2);
    // HQ's pending chat post told about the prospect.
    CHECK_FALSE(platform.webhook().received().empty());
}

TEST_CASE("direct rejection: HQ rejects with a reason and the requester gets the decline", "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka);
    const std::string number = submit_and_verify(platform, "eve@nope.example", "Nope Trading");
    ob::RejectProspectRequest reject;
    reject.set_request_number(number);
    reject.set_reason("no trade licence");
    ob::RejectProspectResponse rejected;
    REQUIRE(platform.onboarding()->RejectProspect(call_as(kHq).get(), reject, &rejected).ok());
    std::vector<nlohmann::json> decline;
    REQUIRE(wait_until(
        [&] { return !(decline = emails_to(platform.smtp(), "eve@nope.example", "Your partner request")).empty(); },
        kFlow));
    CHECK_THAT(decline[0]["text"].get<std::string>(), Catch::Contains("no trade licence"));
    CHECK(status_of(platform, number, "eve@nope.example") == ob::REQUEST_STATUS_REJECTED);
    CHECK(customers_named(platform, "Nope Trading").empty());
}

namespace {

// The lead of a request (the views filter by company name or contact email).
sa::LeadSummary lead_for(Platform& platform, const std::string& number, const std::string& email) {
    sa::LeadSummary found;
    REQUIRE(wait_until(
        [&] {
            sa::ListLeadsRequest request;
            request.set_view(sa::LEAD_VIEW_ALL_COMMERCE_B2B);
            request.set_text(email);
            sa::ListLeadsResponse response;
            if (!platform.sales()->ListLeads(call_as(kSalesManager).get(), request, &response).ok()) {
                return false;
            }
            for (const auto& lead : response.leads()) {
                if (lead.prospect_request_number() == number) {
                    found = lead;
                    return true;
                }
            }
            return false;
        },
        kFlow));
    return found;
}

}  // namespace

TEST_CASE(
    "CRM approval: lead, qualify, customers replicated from the CRM, won, approved, hierarchy from those "
    "customers",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka, {.approval_mode = "crm"});
    const std::string number = submit_and_verify(platform, "grace@hopper.example", "Hopper Compilers Inc");

    // The lead: origin Commerce B2B, on "All commerce B2B leads", not on anyone's "My open leads".
    const sa::LeadSummary lead = lead_for(platform, number, "grace@hopper.example");
    CHECK(lead.origin() == "Commerce B2B");
    CHECK(lead.owner_user_id().empty());
    sa::ListLeadsRequest mine;
    mine.set_view(sa::LEAD_VIEW_MY_OPEN);
    sa::ListLeadsResponse my_leads;
    REQUIRE(platform.sales()->ListLeads(call_as(kSales).get(), mine, &my_leads).ok());
    CHECK(my_leads.leads_size() == 0);
    sa::GetLeadRequest get_lead;
    get_lead.set_lead_id(lead.lead_id());
    sa::GetLeadResponse lead_details;
    REQUIRE(platform.sales()->GetLead(call_as(kSalesManager).get(), get_lead, &lead_details).ok());
    REQUIRE(lead_details.timeline_size() >= 1);

    // Qualify: opportunity + account + contact, replicated to customers (linked by CRM id).
    sa::QualifyLeadRequest qualify;
    qualify.set_lead_id(lead.lead_id());
    qualify.mutable_estimated_value()->set_currency_code("EUR");
    qualify.mutable_estimated_value()->set_minor_units(5000000);
    qualify.set_estimated_close_date("2026-12-31");
    sa::QualifyLeadResponse qualified;
    const auto qualify_status = platform.sales()->QualifyLead(call_as(kSalesManager).get(), qualify, &qualified);
    INFO(qualify_status.error_message());
    REQUIRE(qualify_status.ok());
    std::vector<cu::Customer> replicated;
    REQUIRE(wait_until(
        [&] {
            replicated = customers_named(platform, "Hopper Compilers Inc");
            auto people = customers_named(platform, "grace@hopper.example");
            replicated.insert(replicated.end(), people.begin(), people.end());
            return of_type(replicated, cu::CUSTOMER_TYPE_ORGANIZATION) != nullptr &&
                   of_type(replicated, cu::CUSTOMER_TYPE_PERSON) != nullptr;
        },
        kFlow));
    const cu::Customer organization = *of_type(replicated, cu::CUSTOMER_TYPE_ORGANIZATION);
    const cu::Customer person = *of_type(replicated, cu::CUSTOMER_TYPE_PERSON);
    CHECK(organization.crm_account_id() == qualified.account_id());
    CHECK(person.crm_contact_id() == qualified.contact_id());
    CHECK(status_of(platform, number, "grace@hopper.example") == ob::REQUEST_STATUS_PENDING);

    // Won: the prospect is approved, the hierarchy is built from THOSE customers, the welcome is sent.
    sa::WinOpportunityRequest win;
    win.set_opportunity_id(qualified.opportunity_id());
    sa::WinOpportunityResponse won;
    REQUIRE(platform.sales()->WinOpportunity(call_as(kSalesManager).get(), win, &won).ok());
    REQUIRE(wait_until(
        [&] { return status_of(platform, number, "grace@hopper.example") == ob::REQUEST_STATUS_APPROVED; }, kFlow));
    std::vector<nlohmann::json> welcome;
    REQUIRE(wait_until(
        [&] { return !(welcome = emails_to(platform.smtp(), "grace@hopper.example", "partner account")).empty(); },
        kFlow));
    cu::ListHierarchiesRequest hierarchies_request;
    hierarchies_request.set_organization_customer_id(organization.customer_id());
    cu::ListHierarchiesResponse hierarchies;
    REQUIRE(platform.customers()->ListHierarchies(call_as(kHq).get(), hierarchies_request, &hierarchies).ok());
    REQUIRE(hierarchies.hierarchies_size() == 1);
    CHECK_THAT(std::vector<std::string>(hierarchies.hierarchies(0).member_customer_ids().begin(),
                                        hierarchies.hierarchies(0).member_customer_ids().end()),
               Catch::VectorContains(person.customer_id()));
    // No duplicates: still one organization and one person for this company.
    auto after = customers_named(platform, "Hopper Compilers Inc");
    CHECK(std::count_if(after.begin(), after.end(),
                        [](const cu::Customer& c) { return c.type() == cu::CUSTOMER_TYPE_ORGANIZATION; }) == 1);
    set_password_and_sign_in(platform, welcome[0], "grace@hopper.example");

    // The sales channel heard about the lead and the win.
    REQUIRE(wait_until([&] { return platform.webhook().received().size() >= 2; }, kFlow));
    bool won_posted = false;
    for (const auto& post : platform.webhook().received()) {
        won_posted = won_posted || (post["path"] == "/sales" &&
                                    post["body"]["text"].get<std::string>().find("won") != std::string::npos);
    }
    CHECK(won_posted);
}

TEST_CASE("CRM rejection: a disqualified lead and a lost opportunity reject their prospects with a decline", "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka, {.approval_mode = "crm"});
    const std::string first = submit_and_verify(platform, "dan@one.example", "One Widgets");
    const std::string second = submit_and_verify(platform, "fay@two.example", "Two Gadgets");

    sa::DisqualifyLeadRequest disqualify;
    disqualify.set_lead_id(lead_for(platform, first, "dan@one.example").lead_id());
    disqualify.set_reason("not a reseller");
    sa::DisqualifyLeadResponse disqualified;
    REQUIRE(platform.sales()->DisqualifyLead(call_as(kSalesManager).get(), disqualify, &disqualified).ok());

    sa::QualifyLeadRequest qualify;
    qualify.set_lead_id(lead_for(platform, second, "fay@two.example").lead_id());
    qualify.mutable_estimated_value()->set_currency_code("EUR");
    qualify.mutable_estimated_value()->set_minor_units(100000);
    qualify.set_estimated_close_date("2026-12-31");
    sa::QualifyLeadResponse qualified;
    REQUIRE(platform.sales()->QualifyLead(call_as(kSalesManager).get(), qualify, &qualified).ok());
    sa::LoseOpportunityRequest lose;
    lose.set_opportunity_id(qualified.opportunity_id());
    lose.set_reason("chose a competitor");
    sa::LoseOpportunityResponse lost;
    REQUIRE(platform.sales()->LoseOpportunity(call_as(kSalesManager).get(), lose, &lost).ok());

    REQUIRE(wait_until(
        [&] {
            return status_of(platform, first, "dan@one.example") == ob::REQUEST_STATUS_REJECTED &&
                   status_of(platform, second, "fay@two.example") == ob::REQUEST_STATUS_REJECTED;
        },
        kFlow));
    std::vector<nlohmann::json> declines;
    REQUIRE(wait_until(
        [&] {
            return !emails_to(platform.smtp(), "dan@one.example", "Your partner request").empty() &&
                   !(declines = emails_to(platform.smtp(), "fay@two.example", "Your partner request")).empty();
        },
        kFlow));
    CHECK_THAT(declines[0]["text"].get<std::string>(), Catch::Contains("chose a competitor"));
    CHECK_THAT(emails_to(platform.smtp(), "dan@one.example", "Your partner request")[0]["text"].get<std::string>(),
               Catch::Contains("not a reseller"));
}

TEST_CASE(
    "webhooks: an endpoint receives every lead and opportunity event of the CRM story once per id, signed, "
    "in order, across a receiver outage",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka, {.approval_mode = "crm"});
    WebhookReceiver receiver;
    namespace nv = gatehouse::notifier::v1;
    nv::AddWebhookEndpointRequest add;
    add.set_url(receiver.url());
    nv::AddWebhookEndpointResponse added;
    REQUIRE(platform.notifier()->AddWebhookEndpoint(call_as(kOperator).get(), add, &added).ok());
    receiver.use_secret(added.secret());

    // The lead reaches the receiver; then the receiver is down while the lead is assigned and
    // qualified and the opportunity won; then it is back.
    const std::string number = submit_and_verify(platform, "hedy@lamarr.example", "Lamarr Frequency Hopping");
    const sa::LeadSummary lead = lead_for(platform, number, "hedy@lamarr.example");
    REQUIRE(wait_until([&] { return !receiver.event_ids().empty(); }, kFlow));
    REQUIRE(receiver.stop() == 0);
    sa::AssignLeadRequest assign;
    assign.set_lead_id(lead.lead_id());
    assign.set_owner_user_id("mia");  // the caller
    sa::AssignLeadResponse assigned;
    REQUIRE(platform.sales()->AssignLead(call_as(kSalesManager).get(), assign, &assigned).ok());
    sa::QualifyLeadRequest qualify;
    qualify.set_lead_id(lead.lead_id());
    qualify.mutable_estimated_value()->set_currency_code("EUR");
    qualify.mutable_estimated_value()->set_minor_units(700000);
    qualify.set_estimated_close_date("2026-12-31");
    sa::QualifyLeadResponse qualified;
    const auto qualify_status = platform.sales()->QualifyLead(call_as(kSalesManager).get(), qualify, &qualified);
    INFO(qualify_status.error_message());
    REQUIRE(qualify_status.ok());
    sa::WinOpportunityRequest win;
    win.set_opportunity_id(qualified.opportunity_id());
    sa::WinOpportunityResponse won;
    REQUIRE(platform.sales()->WinOpportunity(call_as(kSalesManager).get(), win, &won).ok());
    REQUIRE(wait_until(
        [&] { return status_of(platform, number, "hedy@lamarr.example") == ob::REQUEST_STATUS_APPROVED; }, kFlow));
    receiver.start_again();

    // Every lead and opportunity event on the sales topic, by aggregate in version order.
    std::map<std::string, std::vector<std::string>> expected;
    std::set<std::string> expected_ids;
    const auto read_topic = [&] {
        expected.clear();
        expected_ids.clear();
        std::map<std::string, std::map<std::uint64_t, std::string>> by_version;
        for (const auto& record : kafka.read_all(platform.topic("gatehouse.sales.events.v1"), 1, 10s)) {
            kernel::v1::EventEnvelope envelope;
            REQUIRE(envelope.ParseFromString(record.value));
            if (envelope.aggregate_type() == "lead" || envelope.aggregate_type() == "opportunity") {
                by_version[envelope.aggregate_id()][envelope.aggregate_version()] = envelope.event_id();
                expected_ids.insert(envelope.event_id());
            }
        }
        for (const auto& [aggregate, versions] : by_version) {
            for (const auto& [version, id] : versions) {
                expected[aggregate].push_back(id);
            }
        }
    };
    REQUIRE(wait_until(
        [&] {
            read_topic();
            return expected_ids.size() >= 5 && receiver.event_ids() == expected_ids;
        },
        kFlow, 1s));
    CHECK(expected.size() == 2);  // the lead and the opportunity
    CHECK(receiver.rejected() == 0);
    std::map<std::string, std::string> webhook_id_of;
    std::map<std::string, std::vector<std::string>> arrival;
    for (const auto& record : receiver.received()) {
        const std::string event_id = record["event"]["eventId"];
        const auto [at, first] = webhook_id_of.emplace(event_id, record["webhook_id"].get<std::string>());
        CHECK(at->second == record["webhook_id"].get<std::string>());  // once per id: one webhook-id per event
        if (first) {
            arrival[record["event"]["aggregateId"].get<std::string>()].push_back(event_id);
        }
    }
    CHECK(arrival == expected);
}
