// The onboarding use cases, between the API (and the runtime's sweeper) and the Prospect aggregate:
// submitting a request (the ceiling on submissions, the caps on mail to unconfirmed addresses,
// duplicate detection, the sealed verification link), verifying, resending, the requester's status
// lookup, HQ's list, view and decisions, and closing requests whose link expired.
//
// Guarantees: every operation checks its input values first (a kernel::Rejection invalid_argument
// that names the field), in the order the API documents, and answers a domain value or a
// Rejection whose code and message are what the caller sees (kernel::to_grpc_status). Nothing here
// knows about gRPC or the API's messages; authentication and per-address rate limits are the
// API's. Lookups go through the prospect read model (domain/prospect_read_model.h), see README.
//
// Threads: any member may be called from any thread at once (gRPC workers, the sweeper); the
// state is the runtime's, and submissions to one email domain are serialised from the
// unconfirmed-mail count to the commit.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/prospect.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/kernel/sealed_token.h"

namespace gatehouse::onboarding {

struct OnboardingSettings final {
    v1::ApprovalMode approval_mode = v1::APPROVAL_MODE_DIRECT;
    std::chrono::seconds verification_ttl{72 * 3600};
    std::chrono::seconds resend_interval{60};
    unsigned max_resends = 5;
    // The notifier's X25519 public key (32 bytes): verification tokens are sealed to it.
    std::string notifier_public_key;  // base64url, as gatehouse-keygen prints it
    // Mail to addresses nobody has confirmed: an anonymous caller can name any address, so the
    // requests still awaiting (or never given) confirmation are capped per recipient mailbox and
    // per email domain within a window (0: no cap).
    unsigned max_unverified_per_recipient = 3;
    std::chrono::seconds unverified_recipient_window{24 * 3600};
    unsigned max_unverified_per_domain = 20;
    std::chrono::seconds unverified_domain_window{3600};
    // A ceiling on SubmitRequest from all anonymous callers together, whatever their address
    // (0: none): what an attacker rotating addresses can make the service mail.
    unsigned submits_per_second = 10;
    unsigned submits_burst = 20;
};

// A value, or why not.
template <class Value>
using Outcome = std::variant<Value, kernel::Rejection>;

// What the storefront's sign-up form sends.
struct Submission final {
    v1::CompanyDetails company;
    common::v1::ContactPerson contact;
    std::string comments;
    std::string idempotency_key;  // empty: none
};

struct Submitted final {
    std::string request_number;
    ProspectStatus status = ProspectStatus::none;
};

// What HQ's list asks for.
struct ProspectQuery final {
    // nullopt: any status; ProspectStatus::none: a status the caller named that does not exist.
    std::optional<ProspectStatus> status;
    std::string prospect_type;  // empty or kProspectType (verified requests only)
    std::string text;           // in the company name or contact email, any case
    std::optional<Clock::time_point> submitted_from;
    std::optional<Clock::time_point> submitted_to;
    int page_size = 0;  // platform paging: 0 is the default
    std::string page_token;
};

struct ProspectPage final {
    std::vector<ProspectState> prospects;  // newest first
    std::string next_page_token;           // empty on the last page
    std::int64_t total = 0;                // every match, on all pages
};

// One line of a prospect's history, for HQ.
struct TimelineEntry final {
    google::protobuf::Timestamp at;
    std::string event_type;
    std::string actor;
    std::string detail;  // what happened and why, in words
};

struct ProspectView final {
    ProspectState state;
    std::vector<TimelineEntry> timeline;  // oldest first
};

class OnboardingApp final {
  public:
    OnboardingApp(ProspectRuntime& prospects, kernel::EventStore& store, kernel::NumberSequence& request_numbers,
                  OnboardingSettings settings);

    // --- the requester (anonymous) ---
    // A new request awaiting verification, or the first answer again for a repeated idempotency key.
    Outcome<Submitted> submit(const Submission& submission);
    // The request's status after the token was checked. An unknown number answers like a wrong token.
    Outcome<ProspectStatus> verify_email(const std::string& request_number, const std::string& token);
    // A new link when number and email match and the resend rules allow it; otherwise nothing, with
    // the same answer (only malformed input is refused): the caller learns nothing.
    std::optional<kernel::Rejection> resend_verification(const std::string& request_number, const std::string& email);
    // The status of the request with this number and email; not_found when either does not match.
    Outcome<ProspectStatus> request_status(const std::string& request_number, const std::string& email);

    // --- HQ ---
    // One page of prospects, newest first; see README for the cost of each filter.
    Outcome<ProspectPage> list_prospects(const ProspectQuery& query);
    // A prospect with its timeline.
    Outcome<ProspectView> prospect(const std::string& request_number);
    // Approves (in mode crm with a reason: an override) as `hq`, whose email rules out self-approval.
    Outcome<ProspectStatus> approve(const kernel::Principal& hq, const std::string& request_number, bool confirmed,
                                    const std::string& override_reason);
    Outcome<ProspectStatus> reject(const kernel::Principal& hq, const std::string& request_number,
                                   const std::string& reason);

    // --- periodic work ---
    // Closes every request whose verification link expired before `now`; returns how many.
    std::size_t expire_overdue_requests(Clock::time_point now);

  private:
    // A fresh verification link: the token sealed for the notifier, its hash as stored.
    v1::VerificationLink new_verification_link(Clock::time_point now) const;
    // resource_exhausted when `email`'s mailbox or domain has its most unverified requests.
    std::optional<kernel::Rejection> limit_unverified_mail(const std::string& email, Clock::time_point now) const;
    // Possible duplicates among pending prospects and partners, and the predecessor (a rejected
    // earlier request of the same organisation, or "").
    std::pair<std::vector<v1::DuplicateMatch>, std::string> duplicates_of(const v1::CompanyDetails& company,
                                                                          const common::v1::ContactPerson& contact);
    // The status of a request that was just changed.
    ProspectStatus status_of(const std::string& request_number);

    ProspectRuntime& prospects_;
    kernel::EventStore& store_;
    kernel::NumberSequence& request_numbers_;
    OnboardingSettings settings_;
    kernel::TokenSealer token_sealer_;
    kernel::RateLimiter submit_ceiling_;
    // Held from the unverified-mail count to the commit, per email domain (striped), so that
    // concurrent submissions to one domain cannot all pass the same count.
    std::array<std::mutex, 64> domain_stripes_;
};

}  // namespace gatehouse::onboarding
