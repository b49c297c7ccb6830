// Given events / when command / then events (or rejection), for every transition of a Prospect.
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include "domain/prospect.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse::onboarding;
using gatehouse::kernel::Rejection;
using gatehouse::kernel::RejectionCode;
using google::protobuf::util::TimeUtil;
using namespace std::chrono_literals;

using gatehouse::testing::then_events;
using gatehouse::testing::then_rejected;

namespace {

const Clock::time_point kSubmittedAt = Clock::from_time_t(1'764'000'000);

google::protobuf::Timestamp stamp(Clock::time_point time) {
    return TimeUtil::SecondsToTimestamp(Clock::to_time_t(time));
}

v1::VerificationLink link(const std::string& hash, Clock::time_point issued, std::chrono::hours valid = 72h) {
    v1::VerificationLink verification;
    verification.set_token_hash(hash);
    verification.set_token_sealed_for_notifier("sealed:" + hash);
    *verification.mutable_issued_at() = stamp(issued);
    *verification.mutable_expires_at() = stamp(issued + valid);
    return verification;
}

v1::RequestSubmitted request(v1::ApprovalMode mode = v1::APPROVAL_MODE_DIRECT) {
    v1::RequestSubmitted submitted;
    submitted.set_request_number("PR-000001");
    submitted.mutable_company()->set_name("Acme GmbH");
    submitted.mutable_contact()->set_email("jane@acme.example");
    submitted.set_approval_mode(mode);
    *submitted.mutable_verification() = link("hash-1", kSubmittedAt);
    *submitted.mutable_submitted_at() = stamp(kSubmittedAt);
    return submitted;
}

v1::ProspectEvent submitted_event(v1::ApprovalMode mode = v1::APPROVAL_MODE_DIRECT) {
    v1::ProspectEvent event;
    *event.mutable_request_submitted() = request(mode);
    return event;
}

v1::ProspectEvent verified_event() {
    v1::ProspectEvent event;
    *event.mutable_email_verified()->mutable_verified_at() = stamp(kSubmittedAt + 1h);
    event.mutable_email_verified()->set_prospect_type("B2B prospect");
    return event;
}

ProspectState given(const std::vector<v1::ProspectEvent>& history) {
    return gatehouse::testing::given<Prospect>(history);
}

Approve hq_approve(Clock::time_point now = kSubmittedAt + 2h) {
    return Approve{"hq-alice", "alice@hq.example", v1::DECISION_PATH_HQ, "", "", now};
}

}  // namespace

TEST_CASE("submit: a new request awaits verification and a duplicate is flagged with it", "[prospect]") {
    auto plain = then_events(Prospect::decide(SubmitRequest{request(), {}}, given({})));
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].has_request_submitted());
    CHECK(given(plain).status == ProspectStatus::awaiting_verification);
    CHECK(given(plain).request.verification().token_sealed_for_notifier().empty());  // state keeps no sealed token

    v1::DuplicateMatch match;
    match.set_request_number("PR-000000");
    match.set_rule("email");
    auto flagged = then_events(Prospect::decide(SubmitRequest{request(), {match}}, given({})));
    REQUIRE(flagged.size() == 2);
    CHECK(flagged[1].flagged_as_duplicate().matches(0).request_number() == "PR-000000");
    CHECK(given(flagged).possible_duplicates.size() == 1);

    CHECK(then_rejected(Prospect::decide(SubmitRequest{request(), {}}, given({submitted_event()}))).code ==
          RejectionCode::already_exists);
}

TEST_CASE("verify: the right token in time makes a Pending B2B prospect", "[prospect]") {
    const auto state = given({submitted_event()});
    auto events = then_events(Prospect::decide(VerifyEmail{"hash-1", kSubmittedAt + 1h}, state));
    REQUIRE(events.size() == 1);
    CHECK(events[0].email_verified().prospect_type() == "B2B prospect");
    // Consumers (sales-bridge, notifier) get the request's details with the event.
    const auto& verified_snapshot = events[0].email_verified().prospect();
    CHECK(verified_snapshot.request_number() == request().request_number());
    CHECK(verified_snapshot.contact().email() == request().contact().email());
    CHECK(verified_snapshot.company().name() == request().company().name());
    CHECK(verified_snapshot.approval_mode() == request().approval_mode());
    CHECK(given({submitted_event(), events[0]}).status == ProspectStatus::pending);
    // Verifying again is harmless.
    CHECK(then_events(Prospect::decide(VerifyEmail{"hash-1", kSubmittedAt + 2h}, given({submitted_event(), events[0]})))
              .empty());
}

TEST_CASE("verify: a wrong or expired token gets the same answer", "[prospect]") {
    const auto state = given({submitted_event()});
    const auto wrong = then_rejected(Prospect::decide(VerifyEmail{"hash-x", kSubmittedAt + 1h}, state));
    const auto late = then_rejected(Prospect::decide(VerifyEmail{"hash-1", kSubmittedAt + 73h}, state));
    CHECK(wrong.code == RejectionCode::invalid_argument);
    CHECK(wrong.message == late.message);
    CHECK(wrong.code == late.code);
    CHECK(then_rejected(Prospect::decide(VerifyEmail{"hash-1", kSubmittedAt}, given({}))).code ==
          RejectionCode::not_found);
}

TEST_CASE("reissue: a new link replaces the old one, rate limited", "[prospect]") {
    const auto state = given({submitted_event()});
    const ReissueVerification too_soon{link("hash-2", kSubmittedAt + 10s), kSubmittedAt + 10s, 60s, 2};
    CHECK(then_rejected(Prospect::decide(too_soon, state)).code == RejectionCode::resource_exhausted);

    const ReissueVerification ok{link("hash-2", kSubmittedAt + 2min), kSubmittedAt + 2min, 60s, 2};
    auto reissued = then_events(Prospect::decide(ok, state));
    REQUIRE(reissued.size() == 1);
    CHECK(reissued[0].verification_reissued().reissue_count() == 1);
    CHECK(reissued[0].verification_reissued().prospect().contact().email() == request().contact().email());
    const auto after = given({submitted_event(), reissued[0]});
    // The old link no longer works, the new one does.
    CHECK(std::holds_alternative<Rejection>(Prospect::decide(VerifyEmail{"hash-1", kSubmittedAt + 3min}, after)));
    CHECK(then_events(Prospect::decide(VerifyEmail{"hash-2", kSubmittedAt + 3min}, after)).size() == 1);

    // At most max_reissues.
    v1::ProspectEvent second = reissued[0];
    second.mutable_verification_reissued()->set_reissue_count(2);
    *second.mutable_verification_reissued()->mutable_verification() = link("hash-3", kSubmittedAt + 5min);
    const ReissueVerification third{link("hash-4", kSubmittedAt + 10min), kSubmittedAt + 10min, 60s, 2};
    CHECK(then_rejected(Prospect::decide(third, given({submitted_event(), reissued[0], second}))).code ==
          RejectionCode::resource_exhausted);
    // Not once verified.
    CHECK(then_rejected(Prospect::decide(ok, given({submitted_event(), verified_event()}))).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("expire: an unverified request past its link's expiry is closed", "[prospect]") {
    const auto state = given({submitted_event()});
    CHECK(then_events(Prospect::decide(ExpireVerification{kSubmittedAt + 71h}, state)).empty());
    auto expired = then_events(Prospect::decide(ExpireVerification{kSubmittedAt + 73h}, state));
    REQUIRE(expired.size() == 1);
    const auto closed = given({submitted_event(), expired[0]});
    CHECK(closed.status == ProspectStatus::closed);
    CHECK(then_rejected(Prospect::decide(VerifyEmail{"hash-1", kSubmittedAt + 1h}, closed)).code ==
          RejectionCode::invalid_argument);
    CHECK(then_events(
              Prospect::decide(ExpireVerification{kSubmittedAt + 80h}, given({submitted_event(), verified_event()})))
              .empty());
}

TEST_CASE("approve: only a Pending prospect, recorded with approver and path and idempotent", "[prospect]") {
    const auto pending = given({submitted_event(), verified_event()});
    auto approved = then_events(Prospect::decide(hq_approve(), pending));
    REQUIRE(approved.size() == 1);
    CHECK(approved[0].approved().approved_by() == "hq-alice");
    CHECK(approved[0].approved().path() == v1::DECISION_PATH_HQ);
    CHECK(approved[0].approved().prospect().contact().email() == request().contact().email());
    const auto after = given({submitted_event(), verified_event(), approved[0]});
    CHECK(after.status == ProspectStatus::approved);
    CHECK(then_events(Prospect::decide(hq_approve(), after)).empty());

    const auto awaiting = then_rejected(Prospect::decide(hq_approve(), given({submitted_event()})));
    CHECK(awaiting.code == RejectionCode::failed_precondition);
    CHECK_THAT(awaiting.message, Catch::Contains("AwaitingVerification"));
    CHECK(then_rejected(Prospect::decide(hq_approve(), given({}))).code == RejectionCode::not_found);
}

TEST_CASE("approve: the requester may not approve their own request", "[prospect]") {
    const auto pending = given({submitted_event(), verified_event()});
    Approve self = hq_approve();
    self.approver_email = "JANE@acme.example";
    CHECK(then_rejected(Prospect::decide(self, pending)).code == RejectionCode::permission_denied);
}

TEST_CASE("approve: self-approval is refused with normalised emails, and an approver without email is refused",
          "[prospect]") {
    const auto pending = given({submitted_event(), verified_event()});
    for (const std::string email : {" Jane@ACME.example ", "jane+partners@acme.example", "JANE@acme.example\t"}) {
        INFO(email);
        Approve self = hq_approve();
        self.approver_email = email;
        const auto refused = then_rejected(Prospect::decide(self, pending));
        CHECK(refused.code == RejectionCode::permission_denied);
        CHECK_THAT(refused.message, Catch::Contains("own request"));
    }
    Approve no_email = hq_approve();
    no_email.approver_email = " ";
    const auto refused = then_rejected(Prospect::decide(no_email, pending));
    CHECK(refused.code == RejectionCode::permission_denied);
    CHECK_THAT(refused.message, Catch::Contains("has no email"));

    // The CRM path too: the sales user who won the opportunity is the requester.
    const auto crm_pending = given({submitted_event(v1::APPROVAL_MODE_CRM), verified_event()});
    const Approve won_by_requester{"jane", "Jane@Acme.Example", v1::DECISION_PATH_CRM, "", "OPP-7", kSubmittedAt + 3h};
    CHECK(then_rejected(Prospect::decide(won_by_requester, crm_pending)).code == RejectionCode::permission_denied);
    const Approve won_without_email{"bob", "", v1::DECISION_PATH_CRM, "", "OPP-7", kSubmittedAt + 3h};
    CHECK(then_rejected(Prospect::decide(won_without_email, crm_pending)).code == RejectionCode::permission_denied);
}

TEST_CASE("a CRM decision is refused for a request in approval mode direct, whatever its state", "[prospect]") {
    const Approve won{"bob", "bob@sales.example", v1::DECISION_PATH_CRM, "", "OPP-7", kSubmittedAt + 3h};
    const Reject lost{"bob", "budget cut", v1::DECISION_PATH_CRM, "OPP-7", kSubmittedAt + 3h};
    const auto pending = given({submitted_event(), verified_event()});
    const auto forged = then_rejected(Prospect::decide(won, pending));
    CHECK(forged.code == RejectionCode::failed_precondition);
    CHECK_THAT(forged.message, Catch::Contains("approval mode direct"));
    CHECK(then_rejected(Prospect::decide(lost, pending)).code == RejectionCode::failed_precondition);
    const auto approved =
        given({submitted_event(), verified_event(), then_events(Prospect::decide(hq_approve(), pending))[0]});
    CHECK_THAT(then_rejected(Prospect::decide(won, approved)).message, Catch::Contains("approval mode direct"));
    // And in crm mode, only a verified prospect is approved.
    const auto unverified = then_rejected(Prospect::decide(won, given({submitted_event(v1::APPROVAL_MODE_CRM)})));
    CHECK(unverified.code == RejectionCode::failed_precondition);
    CHECK_THAT(unverified.message, Catch::Contains("AwaitingVerification"));
}

TEST_CASE("approve in crm mode: HQ is refused unless it overrides with a reason and the CRM path approves",
          "[prospect]") {
    const auto pending = given({submitted_event(v1::APPROVAL_MODE_CRM), verified_event()});
    const auto refused = then_rejected(Prospect::decide(hq_approve(), pending));
    CHECK(refused.code == RejectionCode::failed_precondition);
    CHECK_THAT(refused.message, Catch::Contains("opportunity decides"));

    Approve override_without_reason = hq_approve();
    override_without_reason.path = v1::DECISION_PATH_HQ_OVERRIDE;
    CHECK(then_rejected(Prospect::decide(override_without_reason, pending)).code == RejectionCode::invalid_argument);
    Approve override = override_without_reason;
    override.override_reason = "customer escalation";
    CHECK(then_events(Prospect::decide(override, pending))[0].approved().override_reason() == "customer escalation");

    const Approve crm{"bob", "bob@sales.example", v1::DECISION_PATH_CRM, "", "OPP-7", kSubmittedAt + 3h};
    auto won = then_events(Prospect::decide(crm, pending));
    CHECK(won[0].approved().crm_reference() == "OPP-7");
}

TEST_CASE("reject: a reason is mandatory and only from Pending and idempotent", "[prospect]") {
    const auto pending = given({submitted_event(), verified_event()});
    const Reject no_reason{"hq-alice", "", v1::DECISION_PATH_HQ, "", kSubmittedAt + 2h};
    CHECK(then_rejected(Prospect::decide(no_reason, pending)).code == RejectionCode::invalid_argument);
    const Reject with_reason{"hq-alice", "no trade licence", v1::DECISION_PATH_HQ, "", kSubmittedAt + 2h};
    auto rejected = then_events(Prospect::decide(with_reason, pending));
    REQUIRE(rejected.size() == 1);
    const auto after = given({submitted_event(), verified_event(), rejected[0]});
    CHECK(after.status == ProspectStatus::rejected);
    CHECK(after.decision_reason == "no trade licence");
    CHECK(then_events(Prospect::decide(with_reason, after)).empty());
    const auto approve_rejected = then_rejected(Prospect::decide(hq_approve(), after));
    CHECK(approve_rejected.code == RejectionCode::failed_precondition);
    CHECK_THAT(approve_rejected.message, Catch::Contains("Rejected"));
    const Reject crm_lost{"sales-bridge", "budget cut", v1::DECISION_PATH_CRM, "OPP-7", kSubmittedAt + 3h};
    const auto lost =
        then_events(Prospect::decide(crm_lost, given({submitted_event(v1::APPROVAL_MODE_CRM), verified_event()})));
    CHECK(lost[0].rejected().path() == v1::DECISION_PATH_CRM);
    CHECK(lost[0].rejected().prospect().request_number() == request().request_number());
    CHECK(then_rejected(Prospect::decide(with_reason, given({submitted_event()}))).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("reject in crm mode: HQ's rejection is recorded as an override with its reason, direct mode stays HQ",
          "[prospect]") {
    const auto crm_pending = given({submitted_event(v1::APPROVAL_MODE_CRM), verified_event()});
    const Reject hq{"hq-alice", "sanctions list", v1::DECISION_PATH_HQ, "", kSubmittedAt + 2h};
    const auto rejected = then_events(Prospect::decide(hq, crm_pending));
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].rejected().path() == v1::DECISION_PATH_HQ_OVERRIDE);
    CHECK(rejected[0].rejected().override_reason() == "sanctions list");
    CHECK(rejected[0].rejected().reason() == "sanctions list");
    CHECK(rejected[0].rejected().rejected_by() == "hq-alice");
    CHECK(rejected[0].rejected().prospect().approval_mode() == v1::APPROVAL_MODE_CRM);
    const auto after = given({submitted_event(v1::APPROVAL_MODE_CRM), verified_event(), rejected[0]});
    CHECK(after.status == ProspectStatus::rejected);
    CHECK(after.decision_path == v1::DECISION_PATH_HQ_OVERRIDE);
    // A CRM "lost" arriving afterwards adds nothing.
    const Reject crm_lost{"bob", "budget cut", v1::DECISION_PATH_CRM, "OPP-PR-000001", kSubmittedAt + 3h};
    CHECK(then_events(Prospect::decide(crm_lost, after)).empty());

    const auto direct = then_events(Prospect::decide(hq, given({submitted_event(), verified_event()})));
    CHECK(direct[0].rejected().path() == v1::DECISION_PATH_HQ);
    CHECK(direct[0].rejected().override_reason().empty());
    // The CRM path in crm mode stays CRM, with no override reason.
    const auto by_crm = then_events(Prospect::decide(crm_lost, crm_pending));
    CHECK(by_crm[0].rejected().path() == v1::DECISION_PATH_CRM);
    CHECK(by_crm[0].rejected().override_reason().empty());
}
