// The sales-bridge API over loopback, against the real service process, fed by onboarding and
// customers events produced onto its input topics as those services publish them.
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/settings_docs.h"
#include "gatehouse/testing/wait_until.h"
#include "sales_process.h"

using namespace gatehouse::testing;
using namespace gatehouse::sales;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;
namespace onboarding = gatehouse::onboarding;
namespace customers = gatehouse::customers;

namespace {

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 30s) {
    return wait_until(condition, timeout);
}

std::string envelope(const google::protobuf::Message& event, const std::string& event_id,
                     const std::string& aggregate_type, const std::string& aggregate_id, const std::string& producer) {
    gatehouse::kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(event_id);
    envelope.set_event_type(event.GetDescriptor()->full_name());
    envelope.set_aggregate_type(aggregate_type);
    envelope.set_aggregate_id(aggregate_id);
    envelope.set_aggregate_version(2);
    envelope.set_producer(producer);
    envelope.set_payload(event.SerializeAsString());
    return envelope.SerializeAsString();
}

onboarding::v1::EmailVerified verified(const std::string& request_number, const std::string& company,
                                       onboarding::v1::ApprovalMode mode = onboarding::v1::APPROVAL_MODE_CRM,
                                       int minutes = 0) {
    onboarding::v1::EmailVerified event;
    *event.mutable_verified_at() = TimeUtil::SecondsToTimestamp(1'764'000'000 + 60 * minutes);
    event.set_prospect_type("B2B prospect");
    auto& prospect = *event.mutable_prospect();
    prospect.set_request_number(request_number);
    prospect.set_approval_mode(mode);
    prospect.set_comments("We resell in DACH");
    auto& details = *prospect.mutable_company();
    details.set_name(company);
    details.mutable_address()->set_street("Hauptstrasse 1");
    details.mutable_address()->set_city("Berlin");
    details.mutable_address()->set_country_code("DE");
    details.set_phone("+49 30 1234567");
    details.set_tax_id("DE136695976");
    auto& contact = *prospect.mutable_contact();
    contact.set_first_name("Jane");
    contact.set_last_name("Doe");
    contact.set_email("jane@" + request_number + ".example");
    contact.set_phone("+49 30 7654321");
    contact.set_job_title("Purchasing manager");
    return event;
}

// Produces the EmailVerified as onboarding would publish it (event id = "verified-<number>",
// key = the request number unless `key` puts it behind another request's events on its partition).
void verify_on_topic(KafkaTestCluster& kafka, SalesProcess& service, const onboarding::v1::EmailVerified& event,
                     const std::string& event_id = "", const std::string& key = "") {
    const std::string& number = event.prospect().request_number();
    kafka.produce(
        service.onboarding_topic(), key.empty() ? number : key,
        envelope(event, event_id.empty() ? "verified-" + number : event_id, "prospect", number, "onboarding"));
}

v1::ListLeadsResponse list(SalesProcess& service, v1::LeadView view, const char* token = kMariaToken,
                           const std::function<void(v1::ListLeadsRequest&)>& refine = {}) {
    v1::ListLeadsRequest request;
    request.set_view(view);
    if (refine) {
        refine(request);
    }
    v1::ListLeadsResponse response;
    const auto status = service.api().ListLeads(as(token).get(), request, &response);
    REQUIRE(status.error_message() == "");
    return response;
}

// Waits until the ALL view holds `count` leads.
void wait_for_leads(SalesProcess& service, int count) {
    REQUIRE(eventually([&] { return list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B).total() == count; }));
}

// The events on the sales topic, by type, decoded as envelopes.
std::multimap<std::string, gatehouse::kernel::v1::EventEnvelope> sales_events(KafkaTestCluster& kafka,
                                                                              SalesProcess& service,
                                                                              std::size_t at_least) {
    std::multimap<std::string, gatehouse::kernel::v1::EventEnvelope> found;
    for (const auto& record : kafka.read_all(service.sales_topic(), at_least, 30s)) {
        gatehouse::kernel::v1::EventEnvelope parsed;
        REQUIRE(parsed.ParseFromString(record.value));
        found.emplace(parsed.event_type(), parsed);
    }
    return found;
}

template <class Event>
Event payload(const gatehouse::kernel::v1::EventEnvelope& envelope) {
    Event event;
    REQUIRE(event.ParseFromString(envelope.payload()));
    return event;
}

grpc::Status assign(SalesProcess& service, const std::string& lead, const std::string& owner, const char* token) {
    v1::AssignLeadRequest request;
    request.set_lead_id(lead);
    request.set_owner_user_id(owner);
    v1::AssignLeadResponse response;
    return service.api().AssignLead(as(token).get(), request, &response);
}

v1::QualifyLeadRequest qualify_request(const std::string& lead) {
    v1::QualifyLeadRequest request;
    request.set_lead_id(lead);
    request.mutable_estimated_value()->set_currency_code("EUR");
    request.mutable_estimated_value()->set_minor_units(2'500'000);
    request.set_estimated_close_date("2026-12-31");
    return request;
}

v1::QualifyLeadResponse qualify(SalesProcess& service, const std::string& lead, const char* token) {
    v1::QualifyLeadResponse response;
    const auto status = service.api().QualifyLead(as(token).get(), qualify_request(lead), &response);
    REQUIRE(status.error_message() == "");
    return response;
}

v1::GetLeadResponse get_lead(SalesProcess& service, const std::string& lead) {
    v1::GetLeadRequest request;
    request.set_lead_id(lead);
    v1::GetLeadResponse response;
    REQUIRE(service.api().GetLead(as(kBobToken).get(), request, &response).ok());
    return response;
}

}  // namespace

TEST_CASE("a verified crm request becomes exactly one lead, however often it arrives, also across restarts",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    // Direct mode: HQ decides, no lead. Other onboarding events: ignored.
    verify_on_topic(kafka, service, verified("PR-000002", "Direct AG", onboarding::v1::APPROVAL_MODE_DIRECT));
    wait_for_leads(service, 1);

    // Redelivered (same event id) and replayed from a rebuilt onboarding log (new event id).
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"), "replayed-verified-PR-000001");
    // A marker behind the repeats on their partition: once its lead exists, the repeats were handled.
    verify_on_topic(kafka, service, verified("PR-000003", "Globex AG", onboarding::v1::APPROVAL_MODE_CRM, 5), "",
                    "PR-000001");
    wait_for_leads(service, 2);

    const auto lead = get_lead(service, "LEAD-PR-000001");
    CHECK(lead.summary().status() == v1::LEAD_STATUS_OPEN);
    CHECK(lead.summary().origin() == "Commerce B2B");
    CHECK(lead.summary().owner_user_id().empty());
    CHECK(lead.lead().company_name() == "Acme GmbH");
    CHECK(lead.lead().contact().email() == "jane@PR-000001.example");
    CHECK(lead.lead().company_tax_id() == "DE136695976");
    REQUIRE(lead.timeline_size() == 1);
    CHECK(lead.timeline(0).detail() == "created by replication from the storefront (Commerce B2B, request PR-000001)");
    CHECK(lead.timeline(0).actor() == "sales-bridge");

    // Qualify, then restart: the same state, and the same events redelivered create nothing.
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());
    const auto qualified = qualify(service, "LEAD-PR-000001", kBobToken);
    REQUIRE(service.stop() == 0);
    service.start();
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"), "after-restart-PR-000001");
    verify_on_topic(kafka, service, verified("PR-000004", "Initech", onboarding::v1::APPROVAL_MODE_CRM, 9), "",
                    "PR-000001");
    wait_for_leads(service, 3);
    service.crash();  // kill -9, then once more
    service.start();
    CHECK(list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B).total() == 3);
    CHECK(get_lead(service, "LEAD-PR-000001").summary().status() == v1::LEAD_STATUS_QUALIFIED);

    const auto events = sales_events(kafka, service, 9);
    CHECK(events.count("gatehouse.sales.v1.LeadCreated") == 3);
    CHECK(events.count("gatehouse.sales.v1.LeadQualified") == 1);
    CHECK(events.count("gatehouse.sales.v1.OpportunityCreated") == 1);
    CHECK(events.count("gatehouse.sales.v1.AccountCreated") == 1);
    CHECK(events.count("gatehouse.sales.v1.ContactCreated") == 1);
    const auto account = payload<v1::AccountCreated>(events.find("gatehouse.sales.v1.AccountCreated")->second);
    CHECK(account.account_id() == qualified.account_id());
    CHECK(account.prospect_request_number() == "PR-000001");
    CHECK(account.name() == "Acme GmbH");
    CHECK(account.origin() == gatehouse::common::v1::CHANGE_ORIGIN_LOCAL);
    CHECK(account.primary_contact_id() == qualified.contact_id());
    const auto contact = payload<v1::ContactCreated>(events.find("gatehouse.sales.v1.ContactCreated")->second);
    CHECK(contact.account_id() == qualified.account_id());
    CHECK(contact.email() == "jane@PR-000001.example");
    const auto created = payload<v1::LeadCreated>(events.find("gatehouse.sales.v1.LeadCreated")->second);
    CHECK(created.origin() == "Commerce B2B");
}

TEST_CASE("undecodable and invalid input events are dead-lettered and the service keeps going", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    kafka.produce(service.onboarding_topic(), "PR-000009", "not an envelope at all");
    auto no_number = verified("", "Nameless GmbH");
    kafka.produce(service.onboarding_topic(), "PR-000009",
                  envelope(no_number, "verified-without-number", "prospect", "PR-000009", "onboarding"));
    gatehouse::kernel::v1::EventEnvelope garbled;
    garbled.set_event_id("customers-garbled");
    garbled.set_event_type("gatehouse.customers.v1.CustomerUpdated");
    garbled.set_aggregate_id("CU-000001");
    garbled.set_producer("customers");  // from the topic's owner: reaches the reaction, which cannot decode it
    garbled.set_payload("\xff\xff\xff");
    kafka.produce(service.customers_topic(), "CU-000001", garbled.SerializeAsString());
    // Behind them on the same partition: a good request, which still becomes a lead.
    verify_on_topic(kafka, service, verified("PR-000010", "Acme GmbH"), "", "PR-000009");
    wait_for_leads(service, 1);

    const auto dead = kafka.read_all(service.dead_letter_topic(), 3, 30s);
    REQUIRE(dead.size() == 3);
    std::vector<std::string> reasons;
    for (const auto& record : dead) {
        reasons.push_back(record.headers.at("gatehouse.dlq.reason"));
    }
    std::sort(reasons.begin(), reasons.end());
    CHECK_THAT(reasons[0], Catch::Contains("EmailVerified without prospect.request_number"));
    CHECK_THAT(reasons[1], Catch::Contains("undecodable"));
    CHECK_THAT(reasons[2], Catch::Contains("undecodable"));
}

TEST_CASE("views: All commerce B2B leads and My open leads, with filters and paging", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    for (int i = 1; i <= 5; ++i) {
        verify_on_topic(kafka, service,
                        verified("PR-00000" + std::to_string(i), i == 3 ? "Globex AG" : "Company " + std::to_string(i),
                                 onboarding::v1::APPROVAL_MODE_CRM, i));
    }
    wait_for_leads(service, 5);
    // Unassigned commerce leads are in nobody's "My open leads".
    CHECK(list(service, v1::LEAD_VIEW_MY_OPEN, kBobToken).total() == 0);
    REQUIRE(assign(service, "LEAD-PR-000002", "bob", kBobToken).ok());    // bob takes one
    REQUIRE(assign(service, "LEAD-PR-000004", "bob", kMariaToken).ok());  // the manager gives him one
    REQUIRE(assign(service, "LEAD-PR-000005", "carol", kMariaToken).ok());
    const auto mine = list(service, v1::LEAD_VIEW_MY_OPEN, kBobToken);
    REQUIRE(mine.total() == 2);
    CHECK(mine.leads(0).lead_id() == "LEAD-PR-000004");  // newest first
    CHECK(mine.leads(1).lead_id() == "LEAD-PR-000002");

    const auto all = list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B, kCarolToken);
    CHECK(all.total() == 5);
    CHECK(all.leads(0).lead_id() == "LEAD-PR-000005");
    // Paging: 2 + 2 + 1, every lead once.
    std::vector<std::string> seen;
    std::string token;
    do {
        const auto page = list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B, kCarolToken, [&](auto& request) {
            request.set_page_size(2);
            request.set_page_token(token);
        });
        for (const auto& lead : page.leads()) {
            seen.push_back(lead.lead_id());
        }
        token = page.next_page_token();
    } while (!token.empty());
    CHECK(seen == std::vector<std::string>{"LEAD-PR-000005", "LEAD-PR-000004", "LEAD-PR-000003", "LEAD-PR-000002",
                                           "LEAD-PR-000001"});
    // Filters: owner, unassigned ("-"), text, status.
    CHECK(list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B, kBobToken, [](auto& r) {
              r.set_owner_user_id("bob");
          }).total() == 2);
    CHECK(list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B, kBobToken, [](auto& r) { r.set_owner_user_id("-"); }).total() ==
          2);
    const auto globex = list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B, kBobToken, [](auto& r) { r.set_text("GLOBEX"); });
    REQUIRE(globex.total() == 1);
    CHECK(globex.leads(0).lead_id() == "LEAD-PR-000003");
    v1::DisqualifyLeadRequest disqualify;
    disqualify.set_lead_id("LEAD-PR-000002");
    disqualify.set_reason("not a reseller");
    v1::DisqualifyLeadResponse disqualified;
    REQUIRE(service.api().DisqualifyLead(as(kBobToken).get(), disqualify, &disqualified).ok());
    CHECK(list(service, v1::LEAD_VIEW_MY_OPEN, kBobToken).total() == 1);
    CHECK(list(service, v1::LEAD_VIEW_ALL_COMMERCE_B2B, kBobToken, [](auto& r) {
              r.set_status(v1::LEAD_STATUS_DISQUALIFIED);
          }).total() == 1);
}

TEST_CASE("round-robin assignment over the configured sales users", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka, {{"GATEHOUSE_SALES_LEAD_ASSIGNMENT", "round_robin"}});
    for (int i = 1; i <= 4; ++i) {
        verify_on_topic(kafka, service,
                        verified("PR-00000" + std::to_string(i), "Company " + std::to_string(i),
                                 onboarding::v1::APPROVAL_MODE_CRM, i));
        wait_for_leads(service, i);  // one at a time: the order the inbox sees them
    }
    // Users in id order: bob, carol, maria, bob.
    CHECK(get_lead(service, "LEAD-PR-000001").summary().owner_user_id() == "bob");
    CHECK(get_lead(service, "LEAD-PR-000002").summary().owner_user_id() == "carol");
    CHECK(get_lead(service, "LEAD-PR-000003").summary().owner_user_id() == "maria");
    CHECK(get_lead(service, "LEAD-PR-000004").summary().owner_user_id() == "bob");
    CHECK(list(service, v1::LEAD_VIEW_MY_OPEN, kBobToken).total() == 2);
    const auto events = sales_events(kafka, service, 8);
    REQUIRE(events.count("gatehouse.sales.v1.LeadAssigned") == 4);
    const auto assigned = payload<v1::LeadAssigned>(events.find("gatehouse.sales.v1.LeadAssigned")->second);
    CHECK(assigned.assigned_by() == "sales-bridge");
    CHECK(assigned.owner_email().find("@sales.example") != std::string::npos);
}

TEST_CASE("roles and ownership: sales users change only their own leads and opportunities, managers any",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);

    v1::ListLeadsRequest request;
    request.set_view(v1::LEAD_VIEW_ALL_COMMERCE_B2B);
    v1::ListLeadsResponse response;
    CHECK(service.api().ListLeads(as().get(), request, &response).error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(service.api().ListLeads(as("not-a-valid-token-at-all").get(), request, &response).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(service.api().ListLeads(as(kHqToken).get(), request, &response).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);

    // Unassigned: nobody but a manager may qualify; bob takes it; carol can neither take nor change it.
    v1::QualifyLeadResponse qualified;
    const auto unassigned =
        service.api().QualifyLead(as(kBobToken).get(), qualify_request("LEAD-PR-000001"), &qualified);
    CHECK(unassigned.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK_THAT(unassigned.error_message(), Catch::Contains("unassigned"));
    CHECK(assign(service, "LEAD-PR-000001", "carol", kBobToken).error_code() == grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());
    CHECK(assign(service, "LEAD-PR-000001", "carol", kCarolToken).error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(
        service.api().QualifyLead(as(kCarolToken).get(), qualify_request("LEAD-PR-000001"), &qualified).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
    CHECK(assign(service, "LEAD-PR-000001", "mallory", kMariaToken).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);  // not a sales user

    const auto ids = qualify(service, "LEAD-PR-000001", kBobToken);
    CHECK(ids.opportunity_id() == "OPP-PR-000001");
    v1::WinOpportunityRequest win;
    win.set_opportunity_id(ids.opportunity_id());
    v1::WinOpportunityResponse won;
    CHECK(service.api().WinOpportunity(as(kCarolToken).get(), win, &won).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::UpdateAccountRequest update;
    update.set_account_id(ids.account_id());
    update.mutable_account()->set_phone("+49 30 999");
    update.add_changed_fields("phone");
    v1::UpdateAccountResponse updated;
    CHECK(service.api().UpdateAccount(as(kCarolToken).get(), update, &updated).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(service.api().UpdateAccount(as(kMariaToken).get(), update, &updated).ok());  // a manager may
    REQUIRE(service.api().WinOpportunity(as(kMariaToken).get(), win, &won).ok());
    CHECK(won.status() == v1::OPPORTUNITY_STATUS_WON);
}

TEST_CASE("qualify, win and lose: the events onboarding and the notifier consume, wrong states refused",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    verify_on_topic(kafka, service, verified("PR-000002", "Globex AG", onboarding::v1::APPROVAL_MODE_CRM, 1));
    verify_on_topic(kafka, service, verified("PR-000003", "Initech", onboarding::v1::APPROVAL_MODE_CRM, 2));
    wait_for_leads(service, 3);
    for (const char* lead : {"LEAD-PR-000001", "LEAD-PR-000002", "LEAD-PR-000003"}) {
        REQUIRE(assign(service, lead, "bob", kMariaToken).ok());
    }
    const auto won_ids = qualify(service, "LEAD-PR-000001", kBobToken);
    const auto lost_ids = qualify(service, "LEAD-PR-000002", kBobToken);

    v1::QualifyLeadResponse again;
    const auto twice = service.api().QualifyLead(as(kBobToken).get(), qualify_request("LEAD-PR-000001"), &again);
    CHECK(twice.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(twice.error_message(), Catch::Contains("Qualified"));

    v1::WinOpportunityRequest win;
    win.set_opportunity_id(won_ids.opportunity_id());
    v1::WinOpportunityResponse won;
    REQUIRE(service.api().WinOpportunity(as(kBobToken).get(), win, &won).ok());
    const auto won_twice = service.api().WinOpportunity(as(kBobToken).get(), win, &won);
    CHECK(won_twice.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(won_twice.error_message(), Catch::Contains("Won"));

    v1::LoseOpportunityRequest lose;
    lose.set_opportunity_id(lost_ids.opportunity_id());
    v1::LoseOpportunityResponse lost;
    const auto no_reason = service.api().LoseOpportunity(as(kBobToken).get(), lose, &lost);
    CHECK(no_reason.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(no_reason.error_message(), Catch::StartsWith("reason"));
    lose.set_reason("went with a competitor");
    REQUIRE(service.api().LoseOpportunity(as(kBobToken).get(), lose, &lost).ok());

    v1::DisqualifyLeadRequest disqualify;
    disqualify.set_lead_id("LEAD-PR-000003");
    disqualify.set_reason("no trade licence");
    v1::DisqualifyLeadResponse disqualified;
    REQUIRE(service.api().DisqualifyLead(as(kBobToken).get(), disqualify, &disqualified).ok());
    CHECK(service.api().DisqualifyLead(as(kBobToken).get(), disqualify, &disqualified).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
    win.set_opportunity_id("OPP-PR-999999");
    CHECK(service.api().WinOpportunity(as(kMariaToken).get(), win, &won).error_code() == grpc::StatusCode::NOT_FOUND);

    const auto events = sales_events(kafka, service, 3 + 3 + 2 * 4 + 3);
    REQUIRE(events.count("gatehouse.sales.v1.OpportunityWon") == 1);
    const auto won_event = payload<v1::OpportunityWon>(events.find("gatehouse.sales.v1.OpportunityWon")->second);
    CHECK(won_event.prospect_request_number() == "PR-000001");
    CHECK(won_event.company_name() == "Acme GmbH");
    CHECK(won_event.estimated_value().minor_units() == 2'500'000);
    CHECK(won_event.won_by() == "bob");
    REQUIRE(events.count("gatehouse.sales.v1.OpportunityLost") == 1);
    const auto lost_event = payload<v1::OpportunityLost>(events.find("gatehouse.sales.v1.OpportunityLost")->second);
    CHECK(lost_event.prospect_request_number() == "PR-000002");
    CHECK(lost_event.reason() == "went with a competitor");
    REQUIRE(events.count("gatehouse.sales.v1.LeadDisqualified") == 1);
    const auto disqualified_event =
        payload<v1::LeadDisqualified>(events.find("gatehouse.sales.v1.LeadDisqualified")->second);
    CHECK(disqualified_event.prospect_request_number() == "PR-000003");
    CHECK(disqualified_event.reason() == "no trade licence");

    v1::GetOpportunityRequest get;
    get.set_opportunity_id(lost_ids.opportunity_id());
    v1::GetOpportunityResponse opportunity;
    REQUIRE(service.api().GetOpportunity(as(kCarolToken).get(), get, &opportunity).ok());
    CHECK(opportunity.summary().status() == v1::OPPORTUNITY_STATUS_LOST);
    CHECK(opportunity.close_reason() == "went with a competitor");
    REQUIRE(opportunity.timeline_size() == 2);
    CHECK(opportunity.timeline(0).detail() ==
          "created from lead LEAD-PR-000002, estimated EUR 25000.00, closing 2026-12-31");
    v1::ListOpportunitiesRequest mine;
    mine.set_mine(true);
    mine.set_status(v1::OPPORTUNITY_STATUS_LOST);
    v1::ListOpportunitiesResponse listed;
    REQUIRE(service.api().ListOpportunities(as(kBobToken).get(), mine, &listed).ok());
    REQUIRE(listed.total() == 1);
    CHECK(listed.opportunities(0).opportunity_id() == lost_ids.opportunity_id());
}

TEST_CASE("appointments and notes on the timeline, retried with an idempotency key once", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());

    v1::ScheduleAppointmentRequest appointment;
    appointment.set_lead_id("LEAD-PR-000001");
    appointment.set_subject("Introduction call");
    *appointment.mutable_starts_at() = TimeUtil::SecondsToTimestamp(1'800'000'000);
    *appointment.mutable_ends_at() = TimeUtil::SecondsToTimestamp(1'800'001'800);
    appointment.add_attendees("jane@PR-000001.example");
    appointment.set_online_meeting_url("https://meet.example/acme");
    appointment.set_idempotency_key("appointment-1");
    v1::ScheduleAppointmentResponse scheduled;
    REQUIRE(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled).ok());
    v1::ScheduleAppointmentResponse retried;
    REQUIRE(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &retried).ok());
    CHECK(retried.appointment_id() == scheduled.appointment_id());
    CHECK(service.api().ScheduleAppointment(as(kCarolToken).get(), appointment, &retried).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);

    v1::AddNoteRequest note;
    note.set_lead_id("LEAD-PR-000001");
    note.set_text("Jane sends the trade register extract");
    v1::AddNoteResponse noted;
    REQUIRE(service.api().AddNote(as(kBobToken).get(), note, &noted).ok());
    CHECK_FALSE(noted.note_id().empty());

    const auto lead = get_lead(service, "LEAD-PR-000001");
    REQUIRE(lead.timeline_size() == 4);  // created, assigned, appointment (once), note
    CHECK(lead.timeline(2).event_type() == "gatehouse.sales.v1.AppointmentScheduled");
    CHECK_THAT(lead.timeline(2).detail(), Catch::Contains("Introduction call") &&
                                              Catch::Contains("https://meet.example/acme") &&
                                              Catch::Contains("jane@PR-000001.example"));
    CHECK(lead.timeline(2).actor() == "bob");
    CHECK(lead.timeline(3).detail() == "note: Jane sends the trade register extract");

    // On the opportunity too.
    const auto ids = qualify(service, "LEAD-PR-000001", kBobToken);
    note.clear_lead_id();
    note.set_opportunity_id(ids.opportunity_id());
    REQUIRE(service.api().AddNote(as(kBobToken).get(), note, &noted).ok());
    appointment.clear_lead_id();
    appointment.set_opportunity_id(ids.opportunity_id());
    appointment.set_idempotency_key("appointment-2");
    REQUIRE(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled).ok());
    v1::GetOpportunityRequest get;
    get.set_opportunity_id(ids.opportunity_id());
    v1::GetOpportunityResponse opportunity;
    REQUIRE(service.api().GetOpportunity(as(kBobToken).get(), get, &opportunity).ok());
    CHECK(opportunity.timeline_size() == 3);
    const auto events = sales_events(kafka, service, 10);
    CHECK(events.count("gatehouse.sales.v1.AppointmentScheduled") == 2);
    CHECK(events.count("gatehouse.sales.v1.NoteAdded") == 2);
}

TEST_CASE("bad input is INVALID_ARGUMENT naming the field", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());

    const auto expect_invalid = [](const grpc::Status& status, const std::string& field) {
        INFO(field << ": " << status.error_message());
        CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
        CHECK_THAT(status.error_message(), Catch::StartsWith(field));
    };
    v1::ListLeadsRequest no_view;
    v1::ListLeadsResponse leads;
    expect_invalid(service.api().ListLeads(as(kBobToken).get(), no_view, &leads), "view");
    v1::ListLeadsRequest big_page;
    big_page.set_view(v1::LEAD_VIEW_ALL_COMMERCE_B2B);
    big_page.set_page_size(501);  // over the platform's maximum (gatehouse/platform/paging.h)
    expect_invalid(service.api().ListLeads(as(kBobToken).get(), big_page, &leads), "page_size");
    big_page.set_page_size(10);
    big_page.set_page_token("garbage");
    expect_invalid(service.api().ListLeads(as(kBobToken).get(), big_page, &leads), "page_token");

    v1::QualifyLeadResponse qualified;
    auto qualify = qualify_request("LEAD-PR-000001");
    qualify.mutable_estimated_value()->set_currency_code("eur");
    expect_invalid(service.api().QualifyLead(as(kBobToken).get(), qualify, &qualified),
                   "estimated_value.currency_code");
    qualify = qualify_request("LEAD-PR-000001");
    qualify.set_estimated_close_date("next week");
    expect_invalid(service.api().QualifyLead(as(kBobToken).get(), qualify, &qualified), "estimated_close_date");
    qualify.set_lead_id("LEAD PR 1");
    expect_invalid(service.api().QualifyLead(as(kBobToken).get(), qualify, &qualified), "lead_id");
    expect_invalid(assign(service, "", "bob", kBobToken), "lead_id");

    v1::ScheduleAppointmentRequest appointment;
    appointment.set_lead_id("LEAD-PR-000001");
    appointment.set_subject("Call");
    *appointment.mutable_starts_at() = TimeUtil::SecondsToTimestamp(1'800'000'000);
    *appointment.mutable_ends_at() = TimeUtil::SecondsToTimestamp(1'799'999'000);
    v1::ScheduleAppointmentResponse scheduled;
    expect_invalid(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled), "ends_at");
    *appointment.mutable_ends_at() = TimeUtil::SecondsToTimestamp(1'800'001'000);
    appointment.set_online_meeting_url("ftp://meet.example");
    expect_invalid(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled),
                   "online_meeting_url");
    appointment.set_opportunity_id("OPP-PR-000001");
    expect_invalid(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled), "lead_id");
    v1::AddNoteRequest note;
    note.set_lead_id("LEAD-PR-000001");
    v1::AddNoteResponse noted;
    expect_invalid(service.api().AddNote(as(kBobToken).get(), note, &noted), "text");
    note.set_text("ok");
    note.set_idempotency_key("spaces are not allowed");
    expect_invalid(service.api().AddNote(as(kBobToken).get(), note, &noted), "idempotency_key");

    const auto ids = ::qualify(service, "LEAD-PR-000001", kBobToken);
    v1::UpdateAccountRequest update;
    update.set_account_id(ids.account_id());
    v1::UpdateAccountResponse updated;
    expect_invalid(service.api().UpdateAccount(as(kBobToken).get(), update, &updated), "changed_fields");
    update.add_changed_fields("credit_limit");
    expect_invalid(service.api().UpdateAccount(as(kBobToken).get(), update, &updated), "changed_fields");
    update.clear_changed_fields();
    update.add_changed_fields("address");
    update.mutable_account()->mutable_address()->set_country_code("Germany");
    expect_invalid(service.api().UpdateAccount(as(kBobToken).get(), update, &updated), "account.address.country_code");
    v1::UpdateContactRequest contact;
    contact.set_contact_id(ids.contact_id());
    contact.add_changed_fields("email");
    contact.mutable_contact()->set_email("jane");
    v1::UpdateContactResponse contact_updated;
    expect_invalid(service.api().UpdateContact(as(kBobToken).get(), contact, &contact_updated), "contact.email");
}

TEST_CASE("replication: customers' LOCAL changes win per field, REPLICATED ones and unknown ids are ignored",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());
    const auto ids = qualify(service, "LEAD-PR-000001", kBobToken);

    // A local edit in the CRM: published LOCAL.
    v1::UpdateAccountRequest update;
    update.set_account_id(ids.account_id());
    update.mutable_account()->set_phone("+49 30 5550000");
    update.mutable_account()->set_name("Acme GmbH");  // unchanged: not a change
    update.add_changed_fields("phone");
    update.add_changed_fields("name");
    v1::UpdateAccountResponse updated;
    REQUIRE(service.api().UpdateAccount(as(kBobToken).get(), update, &updated).ok());
    REQUIRE(updated.changed_fields_size() == 1);
    CHECK(updated.changed_fields(0) == "phone");

    const auto customer_change = [&](const std::string& event_id, gatehouse::common::v1::ChangeOrigin origin,
                                     std::int64_t changed_at_seconds, const std::string& account_id,
                                     const std::string& field, const std::string& value) {
        customers::v1::CustomerUpdated change;
        change.set_customer_id("CU-000001");
        change.set_type(customers::v1::CUSTOMER_TYPE_ORGANIZATION);
        change.add_changed_fields(field);
        change.add_changed_fields("email");  // organizations have one, accounts do not: skipped
        change.mutable_details()->set_name(field == "name" ? value : "");
        change.mutable_details()->set_phone(field == "phone" ? value : "");
        change.mutable_details()->set_email("info@acme.example");
        *change.mutable_changed_at() = TimeUtil::SecondsToTimestamp(changed_at_seconds);
        change.set_origin(origin);
        change.set_crm_account_id(account_id);
        kafka.produce(service.customers_topic(), "CU-000001",
                      envelope(change, event_id, "customer", "CU-000001", "customers"));
    };
    const auto now = TimeUtil::GetCurrentTime().seconds();
    // HQ renamed the company just now (wins: later than the qualification that set the name) and
    // changed the phone an hour ago (loses: the CRM edit above is later).
    customer_change("customers-1", gatehouse::common::v1::CHANGE_ORIGIN_LOCAL, now + 60, ids.account_id(), "name",
                    "Acme Holding GmbH");
    customer_change("customers-2", gatehouse::common::v1::CHANGE_ORIGIN_LOCAL, now - 3600, ids.account_id(), "phone",
                    "+49 30 1111111");
    // An echo of our own change (REPLICATED) and a change for an account we do not know: ignored.
    customer_change("customers-3", gatehouse::common::v1::CHANGE_ORIGIN_REPLICATED, now + 120, ids.account_id(), "name",
                    "Echo GmbH");
    customer_change("customers-4", gatehouse::common::v1::CHANGE_ORIGIN_LOCAL, now + 120, "ACC-UNKNOWN", "name",
                    "Other");
    // A person's change for our contact.
    customers::v1::CustomerUpdated person;
    person.set_customer_id("CU-000002");
    person.set_type(customers::v1::CUSTOMER_TYPE_PERSON);
    person.add_changed_fields("job_title");
    person.mutable_details()->set_job_title("Head of purchasing");
    *person.mutable_changed_at() = TimeUtil::SecondsToTimestamp(now + 120);
    person.set_origin(gatehouse::common::v1::CHANGE_ORIGIN_LOCAL);
    person.set_crm_contact_id(ids.contact_id());
    // And the first change redelivered; the contact's change comes last on the same partition.
    customer_change("customers-1", gatehouse::common::v1::CHANGE_ORIGIN_LOCAL, now + 60, ids.account_id(), "name",
                    "Acme Holding GmbH");
    kafka.produce(service.customers_topic(), "CU-000001",
                  envelope(person, "customers-5", "customer", "CU-000002", "customers"));

    v1::GetContactRequest get_contact;
    get_contact.set_contact_id(ids.contact_id());
    v1::GetContactResponse contact;
    REQUIRE(eventually([&] {
        return service.api().GetContact(as(kBobToken).get(), get_contact, &contact).ok() &&
               contact.contact().job_title() == "Head of purchasing";
    }));
    v1::GetAccountRequest get_account;
    get_account.set_account_id(ids.account_id());
    v1::GetAccountResponse account;
    REQUIRE(service.api().GetAccount(as(kBobToken).get(), get_account, &account).ok());
    CHECK(account.account().name() == "Acme Holding GmbH");
    CHECK(account.account().phone() == "+49 30 5550000");

    // What the topic shows: one LOCAL update (ours), one REPLICATED (the name), one for the contact.
    const auto events = sales_events(kafka, service, 9);
    std::vector<v1::AccountUpdated> account_updates;
    for (auto [it, end] = events.equal_range("gatehouse.sales.v1.AccountUpdated"); it != end; ++it) {
        account_updates.push_back(payload<v1::AccountUpdated>(it->second));
    }
    REQUIRE(account_updates.size() == 2);
    std::sort(account_updates.begin(), account_updates.end(),
              [](const auto& a, const auto& b) { return a.origin() < b.origin(); });
    CHECK(account_updates[0].origin() == gatehouse::common::v1::CHANGE_ORIGIN_LOCAL);
    CHECK(account_updates[0].changed_fields_size() == 1);
    CHECK(account_updates[1].origin() == gatehouse::common::v1::CHANGE_ORIGIN_REPLICATED);
    REQUIRE(account_updates[1].changed_fields_size() == 1);
    CHECK(account_updates[1].changed_fields(0) == "name");
    CHECK(account_updates[1].changed_at().seconds() == now + 60);  // kept as it was made
    REQUIRE(events.count("gatehouse.sales.v1.ContactUpdated") == 1);
    CHECK(payload<v1::ContactUpdated>(events.find("gatehouse.sales.v1.ContactUpdated")->second).origin() ==
          gatehouse::common::v1::CHANGE_ORIGIN_REPLICATED);
}

// Runs an integrator example to its end: its exit status and what it printed.
std::pair<int, std::string> run_example(const std::vector<std::string>& command) {
    ChildProcess example(command, true);
    std::string output;
    while (auto line = example.read_line(60s)) {
        output += *line + "\n";
    }
    return {example.wait(), output};
}

// What both examples print for the story below, from the beginning or from `since`.
void check_example_output(const std::pair<int, std::string>& run, bool from_beginning) {
    const auto& [code, output] = run;
    INFO(output);
    CHECK(code == 0);
    if (from_beginning) {
        CHECK_THAT(output, Catch::Contains("LeadCreated        LEAD-PR-000001  v1  "));
        CHECK_THAT(output, Catch::Contains("LeadAssigned       LEAD-PR-000001  v2  "));
        CHECK_THAT(output, Catch::Contains("LeadQualified      LEAD-PR-000001  v3  "));
        CHECK_THAT(output, Catch::Contains("OpportunityCreated OPP-PR-000001   v1  "));
        CHECK_THAT(output, Catch::Contains(R"("ownerEmail":"bob@sales.example")"));
    } else {
        CHECK_THAT(output, !Catch::Contains("LeadCreated") && !Catch::Contains("OpportunityCreated"));
    }
    CHECK_THAT(output, Catch::Contains("OpportunityWon     OPP-PR-000001   v2  "));
    CHECK_THAT(output, Catch::Contains("  by bob  "));
    CHECK_THAT(output, Catch::Contains(R"("prospectRequestNumber":"PR-000001")"));
    // The redelivered OpportunityWon is recognised by its ce_id and skipped.
    CHECK_THAT(output, Catch::Contains(std::string("-- ") + (from_beginning ? "5" : "1") +
                                       " lead and opportunity events, 1 duplicates skipped"));
}

TEST_CASE("the integrator examples follow leads and opportunities by CloudEvents headers with generated classes",
          "[examples]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());
    const auto ids = qualify(service, "LEAD-PR-000001", kBobToken);
    // Lead created, assigned, qualified; opportunity, account and contact created: all on the topic.
    REQUIRE(kafka.read_all(service.sales_topic(), 6, 30s).size() == 6);
    // (Not TimeUtil::GetCurrentTime(): protobuf 3.21's has whole seconds.)
    const std::string since = TimeUtil::ToString(TimeUtil::NanosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count()));
    v1::WinOpportunityRequest win;
    win.set_opportunity_id(ids.opportunity_id());
    v1::WinOpportunityResponse won;
    REQUIRE(service.api().WinOpportunity(as(kBobToken).get(), win, &won).ok());
    // The OpportunityWon record once more, as a redelivery brings it: same value, same headers.
    const auto records = kafka.read_all(service.sales_topic(), 7, 30s);
    REQUIRE(records.size() == 7);
    const auto won_record = std::find_if(records.begin(), records.end(), [](const ConsumedRecord& record) {
        return record.headers.at("ce_type") == "gatehouse.sales.v1.OpportunityWon";
    });
    REQUIRE(won_record != records.end());
    kafka.produce(service.sales_topic(), won_record->key, won_record->value, won_record->headers);

    const auto python = [&](const std::string& from) {
        std::vector<std::string> command = {"/usr/bin/python3",
                                            GATEHOUSE_SOURCE_DIR "/examples/python/follow_sales_events.py",
                                            "--generated",
                                            GATEHOUSE_PYTHON_EXAMPLE_GEN,
                                            "-b",
                                            kafka.bootstrap(),
                                            "--topic",
                                            service.sales_topic(),
                                            "--from",
                                            from,
                                            "--exit"};
        for (const auto& [name, value] : kafka.sasl_properties()) {  // an integrator's credentials
            command.insert(command.end(), {"-X", name + "=" + value});
        }
        return run_example(command);
    };
    check_example_output(python("beginning"), true);
    check_example_output(python(since), false);

    const std::string java_jar = GATEHOUSE_JAVA_EXAMPLE_JAR;
    INFO("the Java example is built by the example_java_consumer target (needs a JDK and Maven)");
    REQUIRE(!java_jar.empty());
    const auto java = [&](const std::string& from) {
        std::vector<std::string> command = {
            GATEHOUSE_JAVA,        "-jar",  java_jar, "-b",   kafka.bootstrap(), "-topic",
            service.sales_topic(), "-from", from,     "-exit"};
        if (!kafka.broker_dir().empty()) {  // the SASL broker: a Java client's settings (kafka.sh)
            command.insert(command.end(), {"-config", kafka.broker_dir() + "/admin.properties"});
        }
        return run_example(command);
    };
    check_example_output(java("beginning"), true);
    check_example_output(java(since), false);
}

TEST_CASE("the gatehouse CLI works the lead to a won opportunity, with exit codes", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    const auto cli = [&](std::vector<std::string> words, const char* token = kBobToken) {
        std::vector<std::string> command = {GATEHOUSE_CLI_BINARY, "--sales", service.address(), "--token", token};
        command.insert(command.end(), words.begin(), words.end());
        ChildProcess process(command, true);
        std::string output;
        while (auto line = process.read_line(30s)) {
            output += *line + "\n";
        }
        return std::make_pair(process.wait(), output);
    };
    auto [code, output] = cli({"leads", "list", "--view", "all"});
    CHECK(code == 0);
    CHECK_THAT(output,
               Catch::Contains("LEAD-PR-000001") && Catch::Contains("(unassigned)") && Catch::Contains("1 of 1 shown"));
    std::tie(code, output) =
        cli({"leads", "qualify", "LEAD-PR-000001", "--value", "25000", "--close-date", "2026-12-31"});
    CHECK(code == 1);  // refused: unassigned
    CHECK_THAT(output, Catch::Contains("PERMISSION_DENIED"));
    std::tie(code, output) = cli({"leads", "assign", "LEAD-PR-000001", "bob"});
    CHECK(code == 0);
    std::tie(code, output) =
        cli({"leads", "qualify", "LEAD-PR-000001", "--value", "25k", "--close-date", "2026-12-31"});
    CHECK(code == 2);  // bad usage, caught before calling
    std::tie(code, output) =
        cli({"leads", "qualify", "LEAD-PR-000001", "--value", "25000.50", "--close-date", "2026-12-31"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("opportunity OPP-PR-000001"));
    std::tie(code, output) = cli({"appointments", "schedule", "OPP-PR-000001", "--subject", "Contract review",
                                  "--start", "2026-12-01T10:00:00Z", "--end", "2026-12-01T11:00:00Z", "--attendee",
                                  "jane@PR-000001.example", "--meeting-url", "https://meet.example/acme"});
    CHECK(code == 0);
    std::tie(code, output) = cli({"notes", "add", "LEAD-PR-000001", "Signed the NDA"});
    CHECK(code == 0);
    std::tie(code, output) = cli({"opportunities", "win", "OPP-PR-000001"}, kCarolToken);
    CHECK(code == 1);
    std::tie(code, output) = cli({"opportunities", "win", "OPP-PR-000001"});
    CHECK(code == 0);
    std::tie(code, output) = cli({"opportunities", "show", "OPP-PR-000001"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("Won") && Catch::Contains("EUR 25000.50") &&
                           Catch::Contains("Contract review") && Catch::Contains("closed as won"));
    std::tie(code, output) = cli({"--json", "leads", "show", "LEAD-PR-000001"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("\"leadId\": \"LEAD-PR-000001\"") && Catch::Contains("Signed the NDA"));
}

TEST_CASE("docs/configuration.md lists every sales-bridge setting as the binary describes it", "[docs]") {
    check_settings_documented(GATEHOUSE_SALES_BINARY);
}

TEST_CASE("a bad setting stops gatehouse-sales-bridge with a message naming it", "[docs]") {
    TempDir dir;
    const auto run = [&](const std::string& setting) {
        ChildProcess service(
            {"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(), setting, GATEHOUSE_SALES_BINARY}, true);
        std::string output;
        while (auto line = service.read_line(10s)) {
            output += *line + "\n";
        }
        return std::make_pair(service.wait(), output);
    };
    const auto [mode_code, mode_output] = run("GATEHOUSE_SALES_LEAD_ASSIGNMENT=sometimes");
    CHECK(mode_code == 2);
    CHECK_THAT(mode_output, Catch::Contains("sales.lead_assignment") && Catch::Contains("sometimes"));
    const auto [users_code, users_output] = run("GATEHOUSE_SALES_LEAD_ASSIGNMENT=round_robin");
    CHECK(users_code == 2);
    CHECK_THAT(users_output, Catch::Contains("sales.users"));
    const auto [token_code, token_output] = run("GATEHOUSE_AUTH_TOKENS=short=sales:bob:bob@sales.example");
    CHECK(token_code == 2);
    CHECK_THAT(token_output, Catch::Contains("auth.tokens"));
}

TEST_CASE("UpdateOpportunity: stage and value by the owner or a manager, once per change, on the topic",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());
    const auto ids = qualify(service, "LEAD-PR-000001", kBobToken);

    v1::GetOpportunityRequest get;
    get.set_opportunity_id(ids.opportunity_id());
    v1::GetOpportunityResponse opportunity;
    REQUIRE(eventually([&] { return service.api().GetOpportunity(as(kBobToken).get(), get, &opportunity).ok(); }));
    CHECK(opportunity.summary().stage() == v1::OPPORTUNITY_STAGE_QUALIFY);

    v1::UpdateOpportunityRequest update;
    update.set_opportunity_id(ids.opportunity_id());
    update.set_stage(v1::OPPORTUNITY_STAGE_DEVELOP);
    update.mutable_estimated_value()->set_currency_code("EUR");
    update.mutable_estimated_value()->set_minor_units(3'000'000);
    v1::UpdateOpportunityResponse updated;
    REQUIRE(service.api().UpdateOpportunity(as(kBobToken).get(), update, &updated).error_message() == "");
    CHECK(std::vector<std::string>(updated.changed_fields().begin(), updated.changed_fields().end()) ==
          std::vector<std::string>{"stage", "estimated_value"});
    CHECK(updated.summary().stage() == v1::OPPORTUNITY_STAGE_DEVELOP);
    CHECK(updated.summary().estimated_value().minor_units() == 3'000'000);
    // The same again: nothing changes, nothing is recorded.
    REQUIRE(service.api().UpdateOpportunity(as(kBobToken).get(), update, &updated).ok());
    CHECK(updated.changed_fields().empty());
    // Another sales user may not; a manager may.
    update.set_stage(v1::OPPORTUNITY_STAGE_PROPOSE);
    update.clear_estimated_value();
    const auto denied = service.api().UpdateOpportunity(as(kCarolToken).get(), update, &updated);
    CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(denied.error_message() ==
          "opportunity OPP-PR-000001 is owned by bob; only its owner or a sales manager "
          "can change it");
    REQUIRE(service.api().UpdateOpportunity(as(kMariaToken).get(), update, &updated).ok());
    CHECK(updated.changed_fields_size() == 1);

    // Bad input names the field; unknown ids are NOT_FOUND; a closed one FAILED_PRECONDITION.
    v1::UpdateOpportunityRequest empty;
    empty.set_opportunity_id(ids.opportunity_id());
    const auto nothing = service.api().UpdateOpportunity(as(kBobToken).get(), empty, &updated);
    CHECK(nothing.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(nothing.error_message() == "stage: name a stage or an estimated_value to change");
    auto bad_stage = update;
    bad_stage.set_stage(static_cast<v1::OpportunityStage>(9));
    CHECK(service.api().UpdateOpportunity(as(kBobToken).get(), bad_stage, &updated).error_message() ==
          "stage: must be one of QUALIFY, DEVELOP, PROPOSE, CLOSE");
    auto bad_value = update;
    bad_value.clear_stage();
    bad_value.mutable_estimated_value()->set_currency_code("euro");
    const auto currency = service.api().UpdateOpportunity(as(kBobToken).get(), bad_value, &updated);
    CHECK(currency.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(currency.error_message(), Catch::StartsWith("estimated_value.currency_code"));
    auto unknown = update;
    unknown.set_opportunity_id("OPP-PR-999999");
    CHECK(service.api().UpdateOpportunity(as(kBobToken).get(), unknown, &updated).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    v1::WinOpportunityRequest win;
    win.set_opportunity_id(ids.opportunity_id());
    v1::WinOpportunityResponse won;
    REQUIRE(service.api().WinOpportunity(as(kBobToken).get(), win, &won).ok());
    const auto closed = service.api().UpdateOpportunity(as(kBobToken).get(), update, &updated);
    CHECK(closed.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(closed.error_message() == "opportunity OPP-PR-000001 is Won; only an Open opportunity can be updated");
    CHECK(service.api().UpdateOpportunity(as("not-a-token-0123456789").get(), update, &updated).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);

    REQUIRE(service.api().GetOpportunity(as(kBobToken).get(), get, &opportunity).ok());
    CHECK(opportunity.summary().stage() == v1::OPPORTUNITY_STAGE_PROPOSE);
    bool timeline_says = false;
    for (const auto& entry : opportunity.timeline()) {
        timeline_says |=
            entry.detail() == "updated: stage Qualify -> Develop; estimated value EUR 25000.00 -> EUR 30000.00";
    }
    CHECK(timeline_says);
    // On the topic: two updates (bob's, maria's), each once; the created event carries its stage.
    const auto events = sales_events(kafka, service, 9);
    REQUIRE(events.count("gatehouse.sales.v1.OpportunityUpdated") == 2);
    CHECK(payload<v1::OpportunityCreated>(events.find("gatehouse.sales.v1.OpportunityCreated")->second).stage() ==
          v1::OPPORTUNITY_STAGE_QUALIFY);
    std::set<std::string> by;
    for (auto [it, end] = events.equal_range("gatehouse.sales.v1.OpportunityUpdated"); it != end; ++it) {
        by.insert(payload<v1::OpportunityUpdated>(it->second).updated_by());
    }
    CHECK(by == std::set<std::string>{"bob", "maria"});
}

TEST_CASE("RescheduleAppointment and CancelAppointment: revisions on the timeline and the topic, errors",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());

    v1::ScheduleAppointmentRequest appointment;
    appointment.set_lead_id("LEAD-PR-000001");
    appointment.set_subject("Introduction call");
    *appointment.mutable_starts_at() = TimeUtil::SecondsToTimestamp(1'800'000'000);
    *appointment.mutable_ends_at() = TimeUtil::SecondsToTimestamp(1'800'001'800);
    appointment.add_attendees("jane@PR-000001.example");
    appointment.set_online_meeting_url("https://meet.example/acme");
    appointment.set_language("de");
    v1::ScheduleAppointmentResponse scheduled;
    REQUIRE(service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled).ok());
    appointment.set_language("german");
    const auto bad_language = service.api().ScheduleAppointment(as(kBobToken).get(), appointment, &scheduled);
    CHECK(bad_language.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(bad_language.error_message(), Catch::StartsWith("language:"));

    v1::RescheduleAppointmentRequest move;
    move.set_lead_id("LEAD-PR-000001");
    move.set_appointment_id(scheduled.appointment_id());
    *move.mutable_starts_at() = TimeUtil::SecondsToTimestamp(1'800'086'400);
    *move.mutable_ends_at() = TimeUtil::SecondsToTimestamp(1'800'088'200);
    v1::RescheduleAppointmentResponse moved;
    REQUIRE(service.api().RescheduleAppointment(as(kBobToken).get(), move, &moved).error_message() == "");
    CHECK(moved.changed());
    CHECK(moved.sequence() == 1);
    REQUIRE(service.api().RescheduleAppointment(as(kBobToken).get(), move, &moved).ok());  // the same times again
    CHECK_FALSE(moved.changed());
    CHECK(moved.sequence() == 1);
    CHECK(service.api().RescheduleAppointment(as(kCarolToken).get(), move, &moved).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    auto backwards = move;
    *backwards.mutable_ends_at() = TimeUtil::SecondsToTimestamp(1'800'000'000);
    const auto bad_times = service.api().RescheduleAppointment(as(kBobToken).get(), backwards, &moved);
    CHECK(bad_times.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(bad_times.error_message() == "ends_at: must be after starts_at");
    auto unknown = move;
    unknown.set_appointment_id("no-such-appointment");
    const auto missing = service.api().RescheduleAppointment(as(kBobToken).get(), unknown, &moved);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message() == "appointment_id: lead LEAD-PR-000001 has no appointment no-such-appointment");
    auto both = move;
    both.set_opportunity_id("OPP-PR-000001");
    CHECK(service.api().RescheduleAppointment(as(kBobToken).get(), both, &moved).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    auto no_id = move;
    no_id.clear_appointment_id();
    CHECK(service.api().RescheduleAppointment(as(kBobToken).get(), no_id, &moved).error_message() ==
          "appointment_id: is required");

    v1::CancelAppointmentRequest cancel;
    cancel.set_lead_id("LEAD-PR-000001");
    cancel.set_appointment_id(scheduled.appointment_id());
    cancel.set_reason("Jane is ill");
    v1::CancelAppointmentResponse cancelled;
    CHECK(service.api().CancelAppointment(as(kCarolToken).get(), cancel, &cancelled).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(service.api().CancelAppointment(as(kBobToken).get(), cancel, &cancelled).ok());
    CHECK(cancelled.changed());
    CHECK(cancelled.sequence() == 2);
    REQUIRE(service.api().CancelAppointment(as(kBobToken).get(), cancel, &cancelled).ok());
    CHECK_FALSE(cancelled.changed());
    const auto after_cancel = service.api().RescheduleAppointment(as(kBobToken).get(), move, &moved);
    CHECK(after_cancel.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

    const auto lead = get_lead(service, "LEAD-PR-000001");
    REQUIRE(lead.timeline_size() == 5);  // created, assigned, scheduled, moved, cancelled
    CHECK(lead.timeline(3).event_type() == "gatehouse.sales.v1.AppointmentRescheduled");
    CHECK_THAT(lead.timeline(3).detail(), Catch::Contains("moved to") && Catch::Contains("(revision 1)"));
    CHECK(lead.timeline(4).detail() == "appointment \"Introduction call\" cancelled: Jane is ill");

    const auto events = sales_events(kafka, service, 5);
    REQUIRE(events.count("gatehouse.sales.v1.AppointmentScheduled") == 1);
    const auto first =
        payload<v1::AppointmentScheduled>(events.find("gatehouse.sales.v1.AppointmentScheduled")->second);
    CHECK(first.organizer_email() == "bob@sales.example");
    CHECK(first.language() == "de");
    CHECK(first.company_country_code() == "DE");
    CHECK(first.scheduled_at().seconds() > 0);
    REQUIRE(events.count("gatehouse.sales.v1.AppointmentRescheduled") == 1);
    const auto second =
        payload<v1::AppointmentRescheduled>(events.find("gatehouse.sales.v1.AppointmentRescheduled")->second);
    CHECK(second.appointment_id() == scheduled.appointment_id());
    CHECK(second.sequence() == 1);
    CHECK(second.attendees(0) == "jane@PR-000001.example");
    REQUIRE(events.count("gatehouse.sales.v1.AppointmentCancelled") == 1);
    CHECK(
        payload<v1::AppointmentCancelled>(events.find("gatehouse.sales.v1.AppointmentCancelled")->second).sequence() ==
        2);
}

TEST_CASE("gatehouse opportunities update and appointments reschedule / cancel", "[api][kafka]") {
    KafkaTestCluster kafka;
    SalesProcess service(kafka);
    verify_on_topic(kafka, service, verified("PR-000001", "Acme GmbH"));
    wait_for_leads(service, 1);
    REQUIRE(assign(service, "LEAD-PR-000001", "bob", kBobToken).ok());
    const auto cli = [&](std::vector<std::string> words, const char* token = kBobToken) {
        std::vector<std::string> command = {GATEHOUSE_CLI_BINARY, "--sales", service.address(), "--token", token};
        command.insert(command.end(), words.begin(), words.end());
        ChildProcess process(command, true);
        std::string output;
        while (auto line = process.read_line(30s)) {
            output += *line + "\n";
        }
        return std::make_pair(process.wait(), output);
    };
    auto [code, output] = cli({"--json", "appointments", "schedule", "LEAD-PR-000001", "--subject", "Intro", "--start",
                               "2026-12-01T10:00:00Z", "--end", "2026-12-01T11:00:00Z", "--attendee",
                               "jane@PR-000001.example", "--language", "de"});
    REQUIRE(code == 0);
    const auto id_at = output.find("\"appointmentId\": \"");
    REQUIRE(id_at != std::string::npos);
    const auto id_start = id_at + std::string("\"appointmentId\": \"").size();
    const std::string appointment_id = output.substr(id_start, output.find('"', id_start) - id_start);
    std::tie(code, output) = cli({"appointments", "reschedule", "LEAD-PR-000001", appointment_id, "--start",
                                  "2026-12-02T10:00:00Z", "--end", "2026-12-02T11:00:00Z"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("moved (revision 1)"));
    std::tie(code, output) = cli({"appointments", "cancel", "LEAD-PR-000001", appointment_id, "--reason", "ill"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("cancelled"));
    std::tie(code, output) = cli({"appointments", "cancel", "LEAD-PR-000001", appointment_id});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("was already cancelled"));

    qualify(service, "LEAD-PR-000001", kBobToken);
    std::tie(code, output) =
        cli({"opportunities", "update", "OPP-PR-000001", "--stage", "propose", "--value", "30000"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("OPP-PR-000001: stage Propose, estimated EUR 30000.00"));
    std::tie(code, output) = cli({"opportunities", "update", "OPP-PR-000001", "--stage", "propose"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("(unchanged)"));
    std::tie(code, output) = cli({"opportunities", "update", "OPP-PR-000001", "--stage", "negotiate"});
    CHECK(code == 2);  // bad usage, caught before calling
    std::tie(code, output) = cli({"opportunities", "update", "OPP-PR-000001"});
    CHECK(code == 2);
    std::tie(code, output) = cli({"opportunities", "update", "OPP-PR-000001", "--stage", "close"}, kCarolToken);
    CHECK(code == 1);
    CHECK_THAT(output, Catch::Contains("PERMISSION_DENIED"));
    std::tie(code, output) = cli({"opportunities", "list"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("STAGE") && Catch::Contains("Propose"));
}
