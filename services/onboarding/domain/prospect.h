// The Prospect aggregate: one onboarding request, from submission to approval or rejection.
//
//   (none) --submit--> AwaitingVerification --verify--> Pending --approve--> Approved
//                            |   ^ reissue                 |
//                            |   '-----'                   '--reject--> Rejected
//                            '--expire--> Closed
//
// Pure decider (no I/O, no clock: every command carries `now`). See docs/architecture.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gatehouse/kernel/decider.h"
#include "gatehouse/onboarding/v1/events.pb.h"

namespace gatehouse::onboarding {

using Clock = std::chrono::system_clock;

enum class ProspectStatus { none, awaiting_verification, pending, approved, rejected, closed };
std::string_view to_string(ProspectStatus status);

inline constexpr std::string_view kProspectType = "B2B prospect";

struct SubmitRequest {
    v1::RequestSubmitted request;  // complete, validated, with request number and verification link
    std::vector<v1::DuplicateMatch> possible_duplicates;
};

struct VerifyEmail {
    std::string token_hash;
    Clock::time_point now;
};

struct ReissueVerification {
    v1::VerificationLink verification;
    Clock::time_point now;
    std::chrono::seconds min_interval{60};
    unsigned max_reissues = 5;
};

struct ExpireVerification {
    Clock::time_point now;
};

struct Approve {
    std::string approver;  // user id (HQ), or the CRM user who won the opportunity
    // Required on every path: compared (as mailbox_key) with the requester's verified email to
    // refuse self-approval; an approval without it is refused.
    std::string approver_email;
    v1::DecisionPath path = v1::DECISION_PATH_HQ;
    std::string override_reason;
    std::string crm_reference;
    Clock::time_point now;
};

// An HQ rejection (path HQ) of a request in approval mode crm is recorded as an override
// (DECISION_PATH_HQ_OVERRIDE, override_reason = reason).
struct Reject {
    std::string rejecter;
    std::string reason;
    v1::DecisionPath path = v1::DECISION_PATH_HQ;
    std::string crm_reference;
    Clock::time_point now;
};

struct ProspectState {
    ProspectStatus status = ProspectStatus::none;
    v1::RequestSubmitted request;
    std::string token_hash;
    Clock::time_point verification_expires_at{};
    Clock::time_point last_link_sent_at{};
    unsigned reissue_count = 0;
    Clock::time_point verified_at{};
    std::vector<v1::DuplicateMatch> possible_duplicates;
    std::string decided_by;
    std::string decision_reason;
    v1::DecisionPath decision_path = v1::DECISION_PATH_UNSPECIFIED;
    Clock::time_point decided_at{};
};

struct Prospect final {
    using Event = v1::ProspectEvent;
    using Command = std::variant<SubmitRequest, VerifyEmail, ReissueVerification, ExpireVerification, Approve, Reject>;
    using State = ProspectState;
    static constexpr std::string_view kAggregateType = "prospect";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

static_assert(kernel::Decider<Prospect>);

// The prospects' runtime: loads prospects on demand, executes commands, keeps the read model.
using ProspectRuntime = kernel::AggregateRuntime<Prospect>;

}  // namespace gatehouse::onboarding
