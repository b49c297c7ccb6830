// CRM mode ends with both sides agreeing (issue 17, items 5 and 7), end to end: four service
// processes, Kafka, the real SMTP server. HQ decides instead of the CRM and the lead / opportunity
// close to agree, attributed to HQ, and refuse later CRM actions; the customers made at a lead's
// qualification (seed 000) are not yet a partner's until the deal is won, and closed when it is lost.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "gatehouse/kernel/v1/envelope.pb.h"
#include "onboarding_process.h"  // valid_request()
#include "platform.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace ob = gatehouse::onboarding::v1;
namespace cu = gatehouse::customers::v1;
namespace sa = gatehouse::sales::v1;

namespace {

constexpr auto kFlow = 60s;  // the longest any hop of a story may take (consumer group joins included)

std::string submit_and_verify(Platform& platform, const std::string& email, const std::string& company) {
    ob::SubmitRequestResponse submitted;
    const auto status =
        platform.onboarding()->SubmitRequest(call_as().get(), valid_request(email, company), &submitted);
    REQUIRE(status.error_message().empty());
    const std::string number = submitted.request_number();
    std::vector<nlohmann::json> confirmation;
    REQUIRE(wait_until([&] { return !(confirmation = emails_to(platform.smtp(), email, number)).empty(); }, kFlow));
    ob::VerifyEmailRequest verify;
    verify.set_request_number(number);
    verify.set_token(link_token(confirmation[0]));
    ob::VerifyEmailResponse verified;
    REQUIRE(platform.onboarding()->VerifyEmail(call_as().get(), verify, &verified).ok());
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

// The lead of a request, once sales-bridge has made it.
std::string lead_of(Platform& platform, const std::string& number) {
    sa::GetLeadRequest request;
    request.set_lead_id("LEAD-" + number);
    sa::GetLeadResponse response;
    REQUIRE(wait_until([&] { return platform.sales()->GetLead(call_as(kSalesManager).get(), request, &response).ok(); },
                       kFlow));
    return response.summary().lead_id();
}

sa::GetLeadResponse get_lead(Platform& platform, const std::string& lead_id) {
    sa::GetLeadRequest request;
    request.set_lead_id(lead_id);
    sa::GetLeadResponse response;
    (void)platform.sales()->GetLead(call_as(kSalesManager).get(), request, &response);
    return response;
}

sa::GetOpportunityResponse get_opportunity(Platform& platform, const std::string& opportunity_id) {
    sa::GetOpportunityRequest request;
    request.set_opportunity_id(opportunity_id);
    sa::GetOpportunityResponse response;
    (void)platform.sales()->GetOpportunity(call_as(kSalesManager).get(), request, &response);
    return response;
}

sa::QualifyLeadResponse qualify(Platform& platform, const std::string& lead_id) {
    sa::QualifyLeadRequest request;
    request.set_lead_id(lead_id);
    request.mutable_estimated_value()->set_currency_code("EUR");
    request.mutable_estimated_value()->set_minor_units(250000);
    request.set_estimated_close_date("2026-12-31");
    sa::QualifyLeadResponse response;
    const auto status = platform.sales()->QualifyLead(call_as(kSalesManager).get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
}

// The customers a request made (its Organization and its Person), as ListCustomers shows them.
std::vector<cu::Customer> customers_of(Platform& platform, const std::string& number, cu::CustomerStatus status = {}) {
    cu::ListCustomersRequest request;
    request.set_text(number);  // found in the CRM ids ACC-<number>, CON-<number>
    request.set_status(status);
    request.set_page_size(200);
    cu::ListCustomersResponse response;
    if (!platform.customers()->ListCustomers(call_as(kHq).get(), request, &response).ok()) {
        return {};
    }
    std::vector<cu::Customer> found;
    std::copy_if(response.customers().begin(), response.customers().end(), std::back_inserter(found),
                 [&](const cu::Customer& c) { return c.prospect_request_number() == number; });
    return found;
}

// Waits until the request's Organization and Person both satisfy `wanted`.
bool both_customers(Platform& platform, const std::string& number,
                    const std::function<bool(const cu::Customer&)>& wanted, cu::CustomerStatus status = {}) {
    const auto found = customers_of(platform, number, status);
    return found.size() == 2 && std::all_of(found.begin(), found.end(), wanted);
}

// Every event on a topic about one aggregate, by type.
std::vector<std::string> event_types(Platform& platform, const std::string& topic, const std::string& aggregate_id) {
    std::vector<std::string> types;
    for (const auto& record : platform.kafka().read_all(platform.topic(topic), 3, 10s)) {
        kernel::v1::EventEnvelope envelope;
        REQUIRE(envelope.ParseFromString(record.value));
        if (envelope.aggregate_id() == aggregate_id) {
            types.push_back(envelope.event_type());
        }
    }
    return types;
}

}  // namespace

TEST_CASE(
    "CRM story, HQ overrides: HQ approves an open lead's request, the lead is qualified and the opportunity won by "
    "HQ, the partner is onboarded once and the CRM can no longer change it",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka, {.approval_mode = "crm"});
    const std::string email = "ada@lovelace.example";
    const std::string number = submit_and_verify(platform, email, "Lovelace Engines Ltd");
    const std::string lead_id = lead_of(platform, number);

    // HQ decides instead of the CRM while the lead is still open.
    ob::ApproveProspectRequest approve;
    approve.set_request_number(number);
    approve.set_confirmed(true);
    approve.set_override_reason("key account, contract signed at HQ");
    ob::ApproveProspectResponse approved;
    const auto approve_status = platform.onboarding()->ApproveProspect(call_as(kHq).get(), approve, &approved);
    INFO(approve_status.error_message());
    REQUIRE(approve_status.ok());
    CHECK(approved.status() == ob::REQUEST_STATUS_APPROVED);

    // The CRM agrees: the lead qualified, the opportunity won, both by HQ's user.
    REQUIRE(
        wait_until([&] { return get_lead(platform, lead_id).summary().status() == sa::LEAD_STATUS_QUALIFIED; }, kFlow));
    const auto lead = get_lead(platform, lead_id);
    CHECK(lead.decided_by_hq());
    CHECK(lead.decided_by() == "hilda");
    const std::string opportunity_id = "OPP-" + number;
    REQUIRE(wait_until(
        [&] { return get_opportunity(platform, opportunity_id).summary().status() == sa::OPPORTUNITY_STATUS_WON; },
        kFlow));
    const auto opportunity = get_opportunity(platform, opportunity_id);
    CHECK(opportunity.decided_by_hq());
    CHECK(opportunity.closed_by() == "hilda");
    CHECK(opportunity.summary().owner_user_id().empty());  // the lead was unassigned; HQ is no sales user

    // Commerce: one Organization and one Person, linked to the CRM's account and contact, a partner's.
    std::vector<nlohmann::json> welcome;
    REQUIRE(
        wait_until([&] { return !(welcome = emails_to(platform.smtp(), email, "partner account")).empty(); }, kFlow));
    REQUIRE(wait_until(
        [&] {
            return both_customers(platform, number, [](const cu::Customer& c) {
                return !c.crm_account_id().empty() && c.status() == cu::CUSTOMER_STATUS_ACTIVE &&
                       c.partner_status() != cu::PARTNER_STATUS_PROSPECTIVE;
            });
        },
        kFlow));

    // Later CRM actions are refused, saying HQ decided.
    sa::DisqualifyLeadRequest disqualify;
    disqualify.set_lead_id(lead_id);
    disqualify.set_reason("changed our mind");
    sa::DisqualifyLeadResponse disqualified;
    const auto refused_lead = platform.sales()->DisqualifyLead(call_as(kSalesManager).get(), disqualify, &disqualified);
    CHECK(refused_lead.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(refused_lead.error_message(), Catch::Contains("HQ decided request " + number));
    sa::LoseOpportunityRequest lose;
    lose.set_opportunity_id(opportunity_id);
    lose.set_reason("chose a competitor");
    sa::LoseOpportunityResponse lost;
    const auto refused_loss = platform.sales()->LoseOpportunity(call_as(kSalesManager).get(), lose, &lost);
    CHECK(refused_loss.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(refused_loss.error_message(), Catch::Contains("approved by hilda"));

    // No loop: onboarding recorded one decision, took the CRM's closure for none, and is still approved.
    CHECK(status_of(platform, number, email) == ob::REQUEST_STATUS_APPROVED);
    const auto decisions = event_types(platform, "gatehouse.onboarding.events.v1", number);
    CHECK(std::count(decisions.begin(), decisions.end(), "gatehouse.onboarding.v1.ProspectApproved") == 1);
    CHECK(std::count(decisions.begin(), decisions.end(), "gatehouse.onboarding.v1.ProspectRejected") == 0);
    const auto closures = event_types(platform, "gatehouse.sales.events.v1", opportunity_id);
    CHECK(std::count(closures.begin(), closures.end(), "gatehouse.sales.v1.OpportunityWon") == 1);
    CHECK(kafka.read_all(platform.topic("gatehouse.onboarding.dead-letters.v1"), 1, 2s).empty());
    CHECK(emails_to(platform.smtp(), email, "partner account").size() == 1);
}

TEST_CASE(
    "CRM story, HQ rejects and deals are lost: the lead / opportunity close by HQ, the customers made at "
    "qualification wait as not yet partners, are closed when the deal is lost and become partners when it is won",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka, {.approval_mode = "crm"});
    const std::string open_lead = submit_and_verify(platform, "bea@one.example", "One Open Lead GmbH");
    const std::string qualified = submit_and_verify(platform, "cy@two.example", "Two Qualified GmbH");
    const std::string lost = submit_and_verify(platform, "di@three.example", "Three Lost GmbH");
    const std::string won = submit_and_verify(platform, "ed@four.example", "Four Won GmbH");
    const std::string open_lead_id = lead_of(platform, open_lead);
    for (const auto& number : {qualified, lost, won}) {
        qualify(platform, lead_of(platform, number));
    }
    // Seed 000's timing: the Organization and the Person exist after qualification, not yet partners'.
    for (const auto& number : {qualified, lost, won}) {
        REQUIRE(wait_until(
            [&] {
                return both_customers(platform, number, [](const cu::Customer& c) {
                    return c.partner_status() == cu::PARTNER_STATUS_PROSPECTIVE &&
                           c.status() == cu::CUSTOMER_STATUS_ACTIVE;
                });
            },
            kFlow));
    }

    // HQ rejects two of them (an override in crm mode), the CRM loses one and wins one.
    for (const auto& number : {open_lead, qualified}) {
        ob::RejectProspectRequest reject;
        reject.set_request_number(number);
        reject.set_reason("on the sanctions list");
        ob::RejectProspectResponse rejected;
        REQUIRE(platform.onboarding()->RejectProspect(call_as(kHq).get(), reject, &rejected).ok());
    }
    sa::LoseOpportunityRequest lose;
    lose.set_opportunity_id("OPP-" + lost);
    lose.set_reason("chose a competitor");
    sa::LoseOpportunityResponse lost_response;
    REQUIRE(platform.sales()->LoseOpportunity(call_as(kSalesManager).get(), lose, &lost_response).ok());
    sa::WinOpportunityRequest win;
    win.set_opportunity_id("OPP-" + won);
    sa::WinOpportunityResponse won_response;
    REQUIRE(platform.sales()->WinOpportunity(call_as(kSalesManager).get(), win, &won_response).ok());

    // The open lead: disqualified by HQ; the qualified one's opportunity: lost by HQ.
    REQUIRE(wait_until(
        [&] { return get_lead(platform, open_lead_id).summary().status() == sa::LEAD_STATUS_DISQUALIFIED; }, kFlow));
    const auto disqualified = get_lead(platform, open_lead_id);
    CHECK(disqualified.decided_by_hq());
    CHECK(disqualified.decision_reason() == "decided by HQ: on the sanctions list");
    REQUIRE(wait_until(
        [&] { return get_opportunity(platform, "OPP-" + qualified).summary().status() == sa::OPPORTUNITY_STATUS_LOST; },
        kFlow));
    CHECK(get_opportunity(platform, "OPP-" + qualified).decided_by_hq());
    CHECK_FALSE(get_opportunity(platform, "OPP-" + lost).decided_by_hq());

    // Customers: closed for both lost deals, listed as closed; the won deal's are partners'.
    for (const auto& number : {qualified, lost}) {
        REQUIRE(wait_until(
            [&] {
                return both_customers(
                    platform, number,
                    [](const cu::Customer& c) { return c.partner_status() == cu::PARTNER_STATUS_CLOSED; },
                    cu::CUSTOMER_STATUS_CLOSED);
            },
            kFlow));
    }
    REQUIRE(wait_until(
        [&] {
            return both_customers(platform, won, [](const cu::Customer& c) {
                return c.partner_status() == cu::PARTNER_STATUS_PARTNER && c.status() == cu::CUSTOMER_STATUS_ACTIVE;
            });
        },
        kFlow));
    CHECK(customers_of(platform, won, cu::CUSTOMER_STATUS_CLOSED).empty());
    cu::GetCustomerRequest get;
    get.set_customer_id(customers_of(platform, lost).front().customer_id());
    cu::GetCustomerResponse closed;
    REQUIRE(platform.customers()->GetCustomer(call_as(kHq).get(), get, &closed).ok());
    CHECK(closed.customer().status() == cu::CUSTOMER_STATUS_CLOSED);
    CHECK(closed.customer().partner_status() == cu::PARTNER_STATUS_CLOSED);

    // Every request ends decided once, the way it was decided; nothing was dead-lettered.
    CHECK(wait_until(
        [&] {
            return status_of(platform, open_lead, "bea@one.example") == ob::REQUEST_STATUS_REJECTED &&
                   status_of(platform, qualified, "cy@two.example") == ob::REQUEST_STATUS_REJECTED &&
                   status_of(platform, lost, "di@three.example") == ob::REQUEST_STATUS_REJECTED &&
                   status_of(platform, won, "ed@four.example") == ob::REQUEST_STATUS_APPROVED;
        },
        kFlow));
    for (const auto& number : {open_lead, qualified}) {
        const auto decisions = event_types(platform, "gatehouse.onboarding.events.v1", number);
        CHECK(std::count(decisions.begin(), decisions.end(), "gatehouse.onboarding.v1.ProspectRejected") == 1);
    }
    for (const char* service : {"onboarding", "customers", "sales-bridge"}) {
        INFO(service);
        CHECK(kafka.read_all(platform.topic(std::string("gatehouse.") + service + ".dead-letters.v1"), 1, 2s).empty());
    }
}
