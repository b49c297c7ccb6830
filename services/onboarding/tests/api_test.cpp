// The onboarding API over loopback, against the real service process.
#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <thread>

#include "gatehouse/kernel/envelope_view.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/settings_docs.h"
#include "gatehouse/testing/wait_until.h"
#include "onboarding_process.h"

using namespace gatehouse::testing;
using namespace gatehouse::onboarding;
using namespace std::chrono_literals;

namespace {

std::string submit(OnboardingProcess& service, const v1::SubmitRequestRequest& request) {
    v1::SubmitRequestResponse response;
    const grpc::Status status = service.api().SubmitRequest(as().get(), request, &response);
    REQUIRE(status.error_message() == "");
    REQUIRE(status.ok());
    return response.request_number();
}

// The RequestSubmitted events of the onboarding topic, by request number.
std::map<std::string, v1::RequestSubmitted> submitted_on_topic(KafkaTestCluster& kafka,
                                                               const OnboardingProcess& service, std::size_t at_least) {
    std::map<std::string, v1::RequestSubmitted> found;
    for (const auto& record : kafka.read_all(service.onboarding_topic(), at_least, 30s)) {
        gatehouse::kernel::v1::EventEnvelope envelope;
        REQUIRE(envelope.ParseFromString(record.value));
        if (envelope.event_type() == "gatehouse.onboarding.v1.RequestSubmitted") {
            v1::RequestSubmitted event;
            REQUIRE(event.ParseFromString(envelope.payload()));
            found[event.request_number()] = event;
        }
    }
    return found;
}

// Submits and confirms the email with the token the notifier would have received.
std::string submit_and_verify(OnboardingProcess& service, KafkaTestCluster& kafka,
                              const v1::SubmitRequestRequest& request) {
    const std::string number = submit(service, request);
    std::string token;
    for (int attempt = 0; attempt < 50 && token.empty(); ++attempt) {
        const auto events = submitted_on_topic(kafka, service, 1);
        if (auto it = events.find(number); it != events.end()) {
            token = service.unseal(it->second.verification().token_sealed_for_notifier());
        }
    }
    REQUIRE_FALSE(token.empty());
    v1::VerifyEmailRequest verify;
    verify.set_request_number(number);
    verify.set_token(token);
    v1::VerifyEmailResponse verified;
    REQUIRE(service.api().VerifyEmail(as().get(), verify, &verified).ok());
    REQUIRE(verified.status() == v1::REQUEST_STATUS_PENDING);
    return number;
}

v1::RequestStatus status_of(OnboardingProcess& service, const std::string& number, const std::string& email) {
    v1::GetRequestStatusRequest request;
    request.set_request_number(number);
    request.set_email(email);
    v1::GetRequestStatusResponse response;
    return service.api().GetRequestStatus(as().get(), request, &response).ok() ? response.status()
                                                                               : v1::REQUEST_STATUS_UNSPECIFIED;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 30s) {
    return wait_until(condition, timeout);
}

// The reasons of the dead letters on the service's dead-letter topic, once there are `at_least`.
std::vector<std::string> dead_letter_reasons(KafkaTestCluster& kafka, const OnboardingProcess& service,
                                             std::size_t at_least) {
    std::vector<std::string> reasons;
    wait_until(
        [&] {
            reasons.clear();
            for (const auto& record : kafka.read_all(service.dead_letter_topic(), at_least, 2s, 100ms)) {
                const auto reason = record.headers.find("gatehouse.dlq.reason");
                reasons.push_back(reason == record.headers.end() ? std::string() : reason->second);
            }
            return reasons.size() >= at_least;
        },
        30s);
    std::sort(reasons.begin(), reasons.end());
    return reasons;
}

gatehouse::sales::v1::OpportunityWon opportunity_won(const std::string& number, const std::string& winner_email) {
    gatehouse::sales::v1::OpportunityWon won;
    won.set_opportunity_id("OPP-" + number);
    won.set_prospect_request_number(number);
    won.set_won_by("bob");
    won.set_won_by_email(winner_email);
    return won;
}

// Generous per-address limits, so that a test meets only the limit it is about.
std::map<std::string, std::string> open_doors(std::map<std::string, std::string> settings = {}) {
    settings.try_emplace("GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "1000");
    settings.try_emplace("GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "1000");
    return settings;
}

std::string sales_envelope(const google::protobuf::Message& event, const std::string& id, const std::string& key) {
    gatehouse::kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(id);
    envelope.set_event_type(event.GetDescriptor()->full_name());
    envelope.set_aggregate_type("opportunity");
    envelope.set_aggregate_id(key);
    envelope.set_aggregate_version(1);
    envelope.set_producer("sales-bridge");
    envelope.set_payload(event.SerializeAsString());
    return envelope.SerializeAsString();
}

}  // namespace

TEST_CASE("self-serve: submit, confirm with the sealed token, a Pending B2B prospect", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    auto request = valid_request();
    request.set_idempotency_key("form-42");
    const std::string number = submit(service, request);
    CHECK(number == "PR-000001");
    CHECK(submit(service, request) == number);  // a retry returns the first answer
    CHECK(status_of(service, number, "jane@acme.example") == v1::REQUEST_STATUS_AWAITING_VERIFICATION);

    const auto events = submitted_on_topic(kafka, service, 1);
    REQUIRE(events.count(number) == 1);
    const auto& submitted = events.at(number);
    CHECK(submitted.company().tax_id() == "DE136695976");
    const std::string token = service.unseal(submitted.verification().token_sealed_for_notifier());
    REQUIRE(token.size() >= 22);  // 128 random bits, base64url
    // The token itself is nowhere on the topic.
    for (const auto& record : kafka.read_all(service.onboarding_topic(), 1, 10s)) {
        CHECK(record.value.find(token) == std::string::npos);
    }

    v1::VerifyEmailRequest verify;
    verify.set_request_number(number);
    verify.set_token(token + "x");
    v1::VerifyEmailResponse verified;
    const auto wrong = service.api().VerifyEmail(as().get(), verify, &verified);
    CHECK(wrong.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    verify.set_request_number("PR-999999");
    const auto unknown = service.api().VerifyEmail(as().get(), verify, &verified);
    CHECK(unknown.error_code() == wrong.error_code());
    CHECK(unknown.error_message() == wrong.error_message());
    verify.set_request_number(number);
    verify.set_token(token);
    REQUIRE(service.api().VerifyEmail(as().get(), verify, &verified).ok());
    CHECK(verified.status() == v1::REQUEST_STATUS_PENDING);
    CHECK(status_of(service, number, "JANE@ACME.EXAMPLE") == v1::REQUEST_STATUS_PENDING);
    CHECK(status_of(service, number, "other@acme.example") == v1::REQUEST_STATUS_UNSPECIFIED);  // NOT_FOUND
}

TEST_CASE("bad input is INVALID_ARGUMENT naming the field and rule", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    const std::vector<std::pair<std::string, std::function<void(v1::SubmitRequestRequest&)>>> cases = {
        {"company.name: is required", [](auto& r) { r.mutable_company()->clear_name(); }},
        {"company.address.country_code: must be an ISO 3166-1",
         [](auto& r) { r.mutable_company()->mutable_address()->set_country_code("ZZ"); }},
        {"company.tax_id: has a wrong check digit", [](auto& r) { r.mutable_company()->set_tax_id("DE136695977"); }},
        {"contact.email: must be an email address", [](auto& r) { r.mutable_contact()->set_email("jane"); }},
        {"contact.phone: must have 7 to 15 digits", [](auto& r) { r.mutable_contact()->set_phone("12"); }},
        {"idempotency_key: at most 128", [](auto& r) { r.set_idempotency_key("no spaces allowed"); }},
    };
    for (const auto& [expected, spoil] : cases) {
        auto request = valid_request();
        spoil(request);
        v1::SubmitRequestResponse response;
        const auto status = service.api().SubmitRequest(as().get(), request, &response);
        INFO(expected);
        CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
        CHECK_THAT(status.error_message(), Catch::StartsWith(expected));
    }
    v1::ListProspectsRequest list;
    list.set_page_size(501);  // above the platform's most (platform::kMaxPageSize)
    v1::ListProspectsResponse listed;
    const auto page = service.api().ListProspects(as(kHqToken).get(), list, &listed);
    CHECK(page.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(page.error_message(), Catch::StartsWith("page_size"));
}

TEST_CASE("HQ: roles, list, timeline, approve with confirmation, reject with reason", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    const std::string first = submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));
    const std::string second = submit_and_verify(service, kafka, valid_request("max@globex.example", "Globex AG"));
    const std::string own = submit_and_verify(service, kafka, valid_request("alice@hq.example", "Alice Trading"));

    v1::ListProspectsRequest list;
    v1::ListProspectsResponse listed;
    CHECK(service.api().ListProspects(as().get(), list, &listed).error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(service.api().ListProspects(as("not-a-valid-token-at-all").get(), list, &listed).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(service.api().ListProspects(as(kSalesToken).get(), list, &listed).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(service.api().ListProspects(as(kHqToken).get(), list, &listed).ok());
    CHECK(listed.total() == 3);
    CHECK(listed.prospects(0).request_number() == own);  // newest first
    CHECK(listed.prospects(0).prospect_type() == "B2B prospect");

    list.set_page_size(2);
    REQUIRE(service.api().ListProspects(as(kHqToken).get(), list, &listed).ok());
    REQUIRE(listed.prospects_size() == 2);
    REQUIRE_FALSE(listed.next_page_token().empty());
    list.set_page_token(listed.next_page_token());
    v1::ListProspectsResponse next;
    REQUIRE(service.api().ListProspects(as(kHqToken).get(), list, &next).ok());
    REQUIRE(next.prospects_size() == 1);
    CHECK(next.prospects(0).request_number() == first);
    v1::ListProspectsRequest search;
    search.set_text("GLOBEX");
    REQUIRE(service.api().ListProspects(as(kHqToken).get(), search, &listed).ok());
    REQUIRE(listed.prospects_size() == 1);
    CHECK(listed.prospects(0).request_number() == second);

    v1::ApproveProspectRequest approve;
    approve.set_request_number(first);
    v1::ApproveProspectResponse approved;
    const auto unconfirmed = service.api().ApproveProspect(as(kHqToken).get(), approve, &approved);
    CHECK(unconfirmed.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(unconfirmed.error_message(), Catch::StartsWith("confirmed"));
    approve.set_confirmed(true);
    CHECK(service.api().ApproveProspect(as(kSalesToken).get(), approve, &approved).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(service.api().ApproveProspect(as(kHqToken).get(), approve, &approved).ok());
    CHECK(approved.status() == v1::REQUEST_STATUS_APPROVED);
    REQUIRE(service.api().ApproveProspect(as(kHqToken).get(), approve, &approved).ok());  // idempotent

    v1::ApproveProspectRequest self_approval;
    self_approval.set_request_number(own);
    self_approval.set_confirmed(true);
    CHECK(service.api().ApproveProspect(as(kHqToken).get(), self_approval, &approved).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);

    v1::RejectProspectRequest reject;
    reject.set_request_number(second);
    v1::RejectProspectResponse rejected;
    const auto no_reason = service.api().RejectProspect(as(kHqToken).get(), reject, &rejected);
    CHECK(no_reason.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(no_reason.error_message(), Catch::StartsWith("reason"));
    reject.set_reason("no trade licence");
    REQUIRE(service.api().RejectProspect(as(kHqToken).get(), reject, &rejected).ok());
    CHECK(rejected.status() == v1::REQUEST_STATUS_REJECTED);
    approve.set_request_number(second);
    const auto wrong_state = service.api().ApproveProspect(as(kHqToken).get(), approve, &approved);
    CHECK(wrong_state.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(wrong_state.error_message(), Catch::Contains("Rejected"));
    approve.set_request_number("PR-424242");
    CHECK(service.api().ApproveProspect(as(kHqToken).get(), approve, &approved).error_code() ==
          grpc::StatusCode::NOT_FOUND);

    v1::GetProspectRequest get;
    get.set_request_number(second);
    v1::GetProspectResponse prospect;
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    CHECK(prospect.decision_reason() == "no trade licence");
    CHECK(prospect.decided_by() == "alice");
    REQUIRE(prospect.timeline_size() == 3);
    CHECK(prospect.timeline(0).event_type() == "gatehouse.onboarding.v1.RequestSubmitted");
    CHECK(prospect.timeline(0).actor() == "anonymous");
    CHECK(prospect.timeline(2).actor() == "alice");
    CHECK(prospect.timeline(2).detail() == "rejected: no trade licence");
    CHECK(prospect.request().verification().token_hash().empty());
}

TEST_CASE("a request resembling a pending prospect is flagged, and the requester is not told", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    const std::string original = submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));
    auto again = valid_request("purchasing@acme.example", "ACME gmbh");
    again.mutable_company()->set_tax_id("");
    v1::SubmitRequestResponse answer;
    REQUIRE(service.api().SubmitRequest(as().get(), again, &answer).ok());
    CHECK(answer.status() == v1::REQUEST_STATUS_AWAITING_VERIFICATION);  // nothing about the match

    v1::GetProspectRequest get;
    get.set_request_number(answer.request_number());
    v1::GetProspectResponse prospect;
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    REQUIRE(prospect.possible_duplicates_size() == 1);
    CHECK(prospect.possible_duplicates(0).request_number() == original);
    CHECK(prospect.possible_duplicates(0).rule() == "company_name_and_email_domain");
}

TEST_CASE("crm mode: the opportunity decides and redelivered and reordered CRM events change nothing", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka, {{"GATEHOUSE_ONBOARDING_APPROVAL_MODE", "crm"}});
    const std::string won = submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));
    const std::string lost = submit_and_verify(service, kafka, valid_request("max@globex.example", "Globex AG"));

    v1::ApproveProspectRequest approve;
    approve.set_request_number(won);
    approve.set_confirmed(true);
    v1::ApproveProspectResponse approved;
    const auto refused = service.api().ApproveProspect(as(kHqToken).get(), approve, &approved);
    CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(refused.error_message(), Catch::Contains("opportunity decides"));

    gatehouse::sales::v1::OpportunityWon won_event;
    won_event.set_opportunity_id("OPP-1");
    won_event.set_prospect_request_number(won);
    won_event.set_won_by("bob");
    won_event.set_won_by_email("bob@sales.example");
    const std::string won_record = sales_envelope(won_event, "sales-event-1", "OPP-1");
    kafka.produce(service.sales_topic(), "OPP-1", won_record);
    CHECK(eventually([&] { return status_of(service, won, "jane@acme.example") == v1::REQUEST_STATUS_APPROVED; }));

    // Redelivered, then a contradicting "lost" arriving late: the prospect stays approved, once.
    kafka.produce(service.sales_topic(), "OPP-1", won_record);
    gatehouse::sales::v1::OpportunityLost late;
    late.set_opportunity_id("OPP-1");
    late.set_prospect_request_number(won);
    late.set_reason("late event");
    kafka.produce(service.sales_topic(), "OPP-1", sales_envelope(late, "sales-event-2", "OPP-1"));

    gatehouse::sales::v1::LeadDisqualified disqualified;
    disqualified.set_lead_id("LEAD-2");
    disqualified.set_prospect_request_number(lost);
    disqualified.set_reason("not a reseller");
    kafka.produce(service.sales_topic(), "LEAD-2", sales_envelope(disqualified, "sales-event-3", "LEAD-2"));
    CHECK(eventually([&] { return status_of(service, lost, "max@globex.example") == v1::REQUEST_STATUS_REJECTED; }));

    v1::GetProspectRequest get;
    get.set_request_number(won);
    v1::GetProspectResponse prospect;
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    CHECK(prospect.summary().status() == v1::REQUEST_STATUS_APPROVED);
    CHECK(prospect.decision_path() == v1::DECISION_PATH_CRM);
    CHECK(prospect.timeline_size() == 3);  // submitted, verified, approved: once
    get.set_request_number(lost);
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    CHECK(prospect.decision_reason() == "not a reseller");

    approve.set_request_number(lost);
    approve.set_override_reason("escalated by the CFO");
    CHECK(service.api().ApproveProspect(as(kHqToken).get(), approve, &approved).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);  // rejected already
}

TEST_CASE("a CRM decision for a request in direct mode is dead-lettered with its reason, never applied",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    const std::string number = submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));
    // What anyone able to write to the sales topic could produce.
    kafka.produce(service.sales_topic(), "OPP-1",
                  sales_envelope(opportunity_won(number, "bob@sales.example"), "forged-won", "OPP-1"));
    gatehouse::sales::v1::LeadDisqualified disqualified;
    disqualified.set_lead_id("LEAD-1");
    disqualified.set_prospect_request_number(number);
    disqualified.set_reason("forged");
    kafka.produce(service.sales_topic(), "LEAD-1", sales_envelope(disqualified, "forged-disqualified", "LEAD-1"));

    const auto reasons = dead_letter_reasons(kafka, service, 2);
    REQUIRE(reasons.size() == 2);
    CHECK_THAT(reasons[0],
               Catch::Contains("LeadDisqualified for " + number) && Catch::Contains("approval mode direct"));
    CHECK_THAT(reasons[1], Catch::Contains("OpportunityWon for " + number) && Catch::Contains("approval mode direct"));
    CHECK(status_of(service, number, "jane@acme.example") == v1::REQUEST_STATUS_PENDING);
}

TEST_CASE(
    "crm mode: a win for an unverified or unknown request, by the requester or without the winner's email is "
    "dead-lettered",
    "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka, {{"GATEHOUSE_ONBOARDING_APPROVAL_MODE", "crm"}});
    const std::string unverified = submit(service, valid_request("max@globex.example", "Globex AG"));
    const std::string own = submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));

    // Submitted by a sales user for themselves, assigned to self, qualified and won.
    kafka.produce(service.sales_topic(), "OPP-1",
                  sales_envelope(opportunity_won(own, " Jane@ACME.example"), "won-by-requester", "OPP-1"));
    kafka.produce(service.sales_topic(), "OPP-1", sales_envelope(opportunity_won(own, ""), "won-no-email", "OPP-1"));
    kafka.produce(service.sales_topic(), "OPP-2",
                  sales_envelope(opportunity_won(unverified, "bob@sales.example"), "won-unverified", "OPP-2"));
    kafka.produce(service.sales_topic(), "OPP-3",
                  sales_envelope(opportunity_won("PR-999999", "bob@sales.example"), "won-unknown", "OPP-3"));

    const auto reasons = dead_letter_reasons(kafka, service, 4);
    REQUIRE(reasons.size() == 4);
    const auto has = [&](const std::string& request, const std::string& why) {
        return std::any_of(reasons.begin(), reasons.end(), [&](const std::string& reason) {
            return reason.find("OpportunityWon for " + request) != std::string::npos &&
                   reason.find(why) != std::string::npos;
        });
    };
    CHECK(has(own, "may not approve their own request"));
    CHECK(has(own, "has no email"));
    CHECK(has(unverified, "AwaitingVerification"));
    CHECK(has("PR-999999", "no such request"));
    CHECK(status_of(service, own, "jane@acme.example") == v1::REQUEST_STATUS_PENDING);
    CHECK(status_of(service, unverified, "max@globex.example") == v1::REQUEST_STATUS_AWAITING_VERIFICATION);

    // Another sales user's win approves it.
    kafka.produce(service.sales_topic(), "OPP-1",
                  sales_envelope(opportunity_won(own, "bob@sales.example"), "won-by-bob", "OPP-1"));
    CHECK(eventually([&] { return status_of(service, own, "jane@acme.example") == v1::REQUEST_STATUS_APPROVED; }));
}

TEST_CASE("HQ: self-approval is refused with normalised emails", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    // alice's credential names alice@hq.example; the request names a sub-address of that mailbox.
    const std::string own =
        submit_and_verify(service, kafka, valid_request(" Alice+Partners@HQ.example ", "Alice Trading"));
    v1::ApproveProspectRequest approve;
    approve.set_request_number(own);
    approve.set_confirmed(true);
    v1::ApproveProspectResponse approved;
    const auto refused = service.api().ApproveProspect(as(kHqToken).get(), approve, &approved);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK_THAT(refused.error_message(), Catch::Contains("own request"));
    CHECK(status_of(service, own, "alice+partners@hq.example") == v1::REQUEST_STATUS_PENDING);
}

TEST_CASE("mail before verification is capped per recipient and per domain, with one answer that reveals nothing",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka, open_doors({{"GATEHOUSE_VERIFICATION_MAX_UNVERIFIED_PER_RECIPIENT", "2"},
                                                 {"GATEHOUSE_VERIFICATION_MAX_UNVERIFIED_PER_DOMAIN", "4"}}));
    auto first = valid_request("a@one.example", "One");
    first.set_idempotency_key("form-1");
    const std::string first_number = submit(service, first);
    (void)submit(service, valid_request("a@one.example", "One"));
    const auto refused = [&](const std::string& email) {
        v1::SubmitRequestResponse response;
        const auto status = service.api().SubmitRequest(as().get(), valid_request(email, "One"), &response);
        CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
        return status.error_message();
    };
    // A third for the same mailbox, also written differently, is refused.
    const std::string per_recipient = refused("A+news@ONE.example");
    CHECK_THAT(per_recipient, Catch::Contains("too many unconfirmed requests"));
    // A retry of an accepted submission is still answered with its number.
    CHECK(submit(service, first) == first_number);
    (void)submit(service, valid_request("b@one.example", "One"));
    (void)submit(service, valid_request("c@one.example", "One"));
    const std::string per_domain = refused("d@one.example");
    CHECK(per_domain == per_recipient);  // which cap was hit is not told

    // Confirmed requests do not count: the answer for the address of a prospect is the answer for
    // a fresh address, so it reveals no prospect or partner.
    (void)submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));
    (void)submit(service, valid_request("jane@acme.example", "Acme GmbH"));
    (void)submit(service, valid_request("jane@acme.example", "Acme GmbH"));
    CHECK(refused("jane@acme.example") == per_recipient);
    (void)submit(service, valid_request("x@fresh.example", "Fresh"));
    (void)submit(service, valid_request("x@fresh.example", "Fresh"));
    CHECK(refused("x@fresh.example") == per_recipient);

    v1::ListProspectsResponse listed;
    REQUIRE(service.api().ListProspects(as(kHqToken).get(), {}, &listed).ok());
    CHECK(listed.total() == 9);  // nothing was written for a refused submission
}

TEST_CASE("a ceiling caps anonymous submissions from all client addresses together", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka, open_doors({{"GATEHOUSE_RATE_LIMIT_SUBMITS_PER_SECOND", "1"},
                                                 {"GATEHOUSE_RATE_LIMIT_SUBMITS_BURST", "2"}}));
    grpc::Status limited;
    int accepted = 0;
    for (int i = 0; i < 10 && limited.ok(); ++i) {
        v1::SubmitRequestResponse response;
        const std::string email = "buyer@firm" + std::to_string(i) + ".example";
        limited = service.api().SubmitRequest(as().get(), valid_request(email, "Firm " + std::to_string(i)), &response);
        accepted += limited.ok() ? 1 : 0;
    }
    CHECK(limited.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(limited.error_message(), Catch::Contains("too many requests are being submitted"));
    CHECK(accepted >= 2);
}

TEST_CASE("unverified requests close when their verification link expires", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(
        kafka, {{"GATEHOUSE_VERIFICATION_TTL", "1s"}, {"GATEHOUSE_VERIFICATION_SWEEP_INTERVAL", "200ms"}});
    const std::string number = submit(service, valid_request());
    CHECK(status_of(service, number, "jane@acme.example") == v1::REQUEST_STATUS_AWAITING_VERIFICATION);
    CHECK(
        eventually([&] { return status_of(service, number, "jane@acme.example") == v1::REQUEST_STATUS_CLOSED; }, 10s));
}

TEST_CASE("anonymous calls are rate limited per client address", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(
        kafka, {{"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "0"}, {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "3"}});
    (void)submit(service, valid_request("a@acme.example"));
    (void)submit(service, valid_request("b@acme.example"));
    (void)submit(service, valid_request("c@acme.example"));
    v1::SubmitRequestResponse response;
    const auto limited = service.api().SubmitRequest(as().get(), valid_request("d@acme.example"), &response);
    CHECK(limited.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    // HQ calls are not anonymous and not limited by it.
    v1::ListProspectsResponse listed;
    CHECK(service.api().ListProspects(as(kHqToken).get(), {}, &listed).ok());
    CHECK(listed.total() == 3);
}

TEST_CASE("behind a trusted proxy the client is the address x-forwarded-for names, elsewhere the header is ignored",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    const std::map<std::string, std::string> limits = {{"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "0"},
                                                       {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "2"}};
    const auto submit_from = [](OnboardingProcess& service, const std::string& forwarded_for,
                                const std::string& email) {
        auto context = as();
        context->AddMetadata("x-forwarded-for", forwarded_for);
        v1::SubmitRequestResponse response;
        return service.api().SubmitRequest(context.get(), valid_request(email), &response).error_code();
    };
    {
        // The tests' calls come from 127.0.0.1: here a trusted proxy in front of two clients.
        auto settings = limits;
        settings["GATEHOUSE_GRPC_TRUSTED_PROXIES"] = "127.0.0.0/8, ::1";
        OnboardingProcess service(kafka, settings);
        CHECK(submit_from(service, "198.51.100.1", "a1@one.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "198.51.100.1", "a2@one.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "198.51.100.1", "a3@one.example") == grpc::StatusCode::RESOURCE_EXHAUSTED);
        // Another client behind the same proxy has its own budget; one that prepends a forged
        // address is still known by the address the proxy saw.
        CHECK(submit_from(service, "198.51.100.2", "b1@two.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "203.0.113.9, 198.51.100.1", "a4@one.example") ==
              grpc::StatusCode::RESOURCE_EXHAUSTED);
        // IPv6: one /64 is one client.
        CHECK(submit_from(service, "2001:db8:1:2::1", "c1@three.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "2001:db8:1:2::ffff", "c2@three.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "2001:db8:1:2:abcd::7", "c3@three.example") == grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
    {
        // Without trusted proxies a caller cannot choose its own key with the header.
        OnboardingProcess service(kafka, limits);
        CHECK(submit_from(service, "198.51.100.1", "d1@four.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "198.51.100.2", "d2@four.example") == grpc::StatusCode::OK);
        CHECK(submit_from(service, "198.51.100.3", "d3@four.example") == grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
}

TEST_CASE("after a restart the state rebuilt from the log is the state before", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    const std::string first = submit_and_verify(service, kafka, valid_request("jane@acme.example", "Acme GmbH"));
    (void)submit(service, valid_request("max@globex.example", "Globex AG"));
    v1::ApproveProspectRequest approve;
    approve.set_request_number(first);
    approve.set_confirmed(true);
    v1::ApproveProspectResponse approved;
    REQUIRE(service.api().ApproveProspect(as(kHqToken).get(), approve, &approved).ok());

    const auto snapshot = [&] {
        v1::ListProspectsResponse listed;
        REQUIRE(service.api().ListProspects(as(kHqToken).get(), {}, &listed).ok());
        v1::GetProspectRequest get;
        get.set_request_number(first);
        v1::GetProspectResponse prospect;
        REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
        return std::make_pair(listed, prospect);
    };
    const auto before = snapshot();
    REQUIRE(service.stop() == 0);
    service.start();
    const auto after = snapshot();
    CHECK(google::protobuf::util::MessageDifferencer::Equals(before.first, after.first));
    CHECK(google::protobuf::util::MessageDifferencer::Equals(before.second, after.second));
    // The number sequence continues after the restart.
    CHECK(submit(service, valid_request("new@initech.example", "Initech")) == "PR-000003");
}

TEST_CASE("resend: a new link replaces the old one and the answer never reveals a request", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka, {{"GATEHOUSE_VERIFICATION_RESEND_INTERVAL", "0s"}});
    const std::string number = submit(service, valid_request());
    v1::ResendVerificationRequest resend;
    resend.set_request_number(number);
    resend.set_email("someone-else@acme.example");
    v1::ResendVerificationResponse answer;
    REQUIRE(service.api().ResendVerification(as().get(), resend, &answer).ok());  // same answer for a mismatch
    resend.set_request_number("PR-999999");
    REQUIRE(service.api().ResendVerification(as().get(), resend, &answer).ok());  // and for an unknown number
    resend.set_email("not an email");
    const auto bad = service.api().ResendVerification(as().get(), resend, &answer);
    CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(bad.error_message(), Catch::StartsWith("email"));

    resend.set_request_number(number);
    resend.set_email("jane@acme.example");
    REQUIRE(service.api().ResendVerification(as().get(), resend, &answer).ok());
    // Two links went out: the first (in RequestSubmitted) and the reissued one.
    std::string first_token;
    std::string new_token;
    REQUIRE(eventually([&] {
        for (const auto& record : kafka.read_all(service.onboarding_topic(), 2, 5s)) {
            gatehouse::kernel::v1::EventEnvelope envelope;
            envelope.ParseFromString(record.value);
            if (envelope.event_type() == "gatehouse.onboarding.v1.RequestSubmitted") {
                v1::RequestSubmitted event;
                event.ParseFromString(envelope.payload());
                first_token = service.unseal(event.verification().token_sealed_for_notifier());
            } else if (envelope.event_type() == "gatehouse.onboarding.v1.VerificationReissued") {
                v1::VerificationReissued event;
                event.ParseFromString(envelope.payload());
                new_token = service.unseal(event.verification().token_sealed_for_notifier());
            }
        }
        return !first_token.empty() && !new_token.empty();
    }));
    v1::VerifyEmailRequest verify;
    verify.set_request_number(number);
    verify.set_token(first_token);
    v1::VerifyEmailResponse verified;
    CHECK(service.api().VerifyEmail(as().get(), verify, &verified).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    verify.set_token(new_token);
    REQUIRE(service.api().VerifyEmail(as().get(), verify, &verified).ok());
    CHECK(verified.status() == v1::REQUEST_STATUS_PENDING);
}

TEST_CASE("a rejected organisation may apply again: the new request is linked to the old one", "[api][kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka);
    const std::string old_request = submit_and_verify(service, kafka, valid_request());
    v1::RejectProspectRequest reject;
    reject.set_request_number(old_request);
    reject.set_reason("incomplete trade register extract");
    v1::RejectProspectResponse rejected;
    REQUIRE(service.api().RejectProspect(as(kHqToken).get(), reject, &rejected).ok());

    const std::string new_request = submit(service, valid_request());
    CHECK(new_request != old_request);
    v1::GetProspectRequest get;
    get.set_request_number(new_request);
    v1::GetProspectResponse prospect;
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    CHECK(prospect.request().previous_request_number() == old_request);
    CHECK(prospect.possible_duplicates_size() == 0);  // a rejected request is no duplicate
}

TEST_CASE("docs/configuration.md lists every onboarding setting as the binary describes it", "[docs]") {
    check_settings_documented(GATEHOUSE_ONBOARDING_BINARY);
}

TEST_CASE("a bad setting stops gatehouse-onboarding with a message naming it", "[docs]") {
    TempDir dir;
    ChildProcess service({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(),
                          "GATEHOUSE_ONBOARDING_APPROVAL_MODE=sometimes", GATEHOUSE_ONBOARDING_BINARY},
                         true);
    std::string output;
    while (auto line = service.read_line(10s)) {
        output += *line + "\n";
    }
    CHECK(service.wait() == 2);
    CHECK_THAT(output, Catch::Contains("onboarding.approval_mode") && Catch::Contains("sometimes"));
    ChildProcess no_key({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(), GATEHOUSE_ONBOARDING_BINARY},
                        true);
    output.clear();
    while (auto line = no_key.read_line(10s)) {
        output += *line + "\n";
    }
    CHECK(no_key.wait() == 2);
    CHECK_THAT(output, Catch::Contains("notifier.public_key"));
}
