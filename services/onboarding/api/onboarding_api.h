// The onboarding gRPC API: validation, authentication / authorization, and mapping of domain
// rejections to gRPC statuses. State lives in the Prospect runtime; this class holds no state of
// its own beyond rate-limit buckets.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>

#include "domain/prospect.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/client_address.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/kernel/sealed_token.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"

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

using ProspectRuntime = kernel::AggregateRuntime<Prospect>;

class OnboardingApi final : public v1::OnboardingService::Service {
  public:
    OnboardingApi(ProspectRuntime& prospects, kernel::EventStore& store, kernel::NumberSequence& request_numbers,
                  const kernel::BearerAuthenticator& authenticator, kernel::RateLimiter& anonymous_limiter,
                  const kernel::ClientAddressResolver& client_addresses, OnboardingSettings settings);

    grpc::Status SubmitRequest(grpc::ServerContext* context, const v1::SubmitRequestRequest* request,
                               v1::SubmitRequestResponse* response) override;
    grpc::Status VerifyEmail(grpc::ServerContext* context, const v1::VerifyEmailRequest* request,
                             v1::VerifyEmailResponse* response) override;
    grpc::Status ResendVerification(grpc::ServerContext* context, const v1::ResendVerificationRequest* request,
                                    v1::ResendVerificationResponse* response) override;
    grpc::Status GetRequestStatus(grpc::ServerContext* context, const v1::GetRequestStatusRequest* request,
                                  v1::GetRequestStatusResponse* response) override;
    grpc::Status ListProspects(grpc::ServerContext* context, const v1::ListProspectsRequest* request,
                               v1::ListProspectsResponse* response) override;
    grpc::Status GetProspect(grpc::ServerContext* context, const v1::GetProspectRequest* request,
                             v1::GetProspectResponse* response) override;
    grpc::Status ApproveProspect(grpc::ServerContext* context, const v1::ApproveProspectRequest* request,
                                 v1::ApproveProspectResponse* response) override;
    grpc::Status RejectProspect(grpc::ServerContext* context, const v1::RejectProspectRequest* request,
                                v1::RejectProspectResponse* response) override;

    // A fresh verification link: (the token to seal, the link as stored).
    v1::VerificationLink new_verification_link(Clock::time_point now) const;

  private:
    grpc::Status throttle(grpc::ServerContext* context, const std::string& what);
    grpc::Status require_hq(grpc::ServerContext* context, kernel::Principal& principal) const;
    // RESOURCE_EXHAUSTED when `email`'s mailbox or domain has its most unverified requests.
    grpc::Status limit_unverified_mail(const std::string& email, Clock::time_point now) const;

    ProspectRuntime& prospects_;
    kernel::EventStore& store_;
    kernel::NumberSequence& request_numbers_;
    const kernel::BearerAuthenticator& authenticator_;
    kernel::RateLimiter& anonymous_limiter_;
    const kernel::ClientAddressResolver& client_addresses_;
    OnboardingSettings settings_;
    kernel::TokenSealer token_sealer_;
    kernel::RateLimiter submit_ceiling_;
    // Held from the unverified-mail count to the commit, per email domain (striped), so that
    // concurrent submissions to one domain cannot all pass the same count.
    std::array<std::mutex, 64> domain_stripes_;
};

v1::RequestStatus to_api_status(ProspectStatus status);

// Closes every request whose verification link expired before `now`; returns how many.
std::size_t expire_overdue_requests(ProspectRuntime& prospects, Clock::time_point now);

}  // namespace gatehouse::onboarding
