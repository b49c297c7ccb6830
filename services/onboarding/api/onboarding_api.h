// The onboarding gRPC API: authenticates the caller (HQ's role, anonymous calls rate limited per
// client address), maps the messages to the use cases' values (app/onboarding_app.h) and their
// answers back, a rejection by the kernel's one mapping (kernel::to_grpc_status). No rules of its
// own: what is valid, and what happens, is the app's. Called on gRPC's worker threads at once;
// holds no state beyond what its limiter keeps.
#pragma once

#include "app/onboarding_app.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/client_address.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"

namespace gatehouse::onboarding {

class OnboardingApi final : public v1::OnboardingService::Service {
  public:
    OnboardingApi(OnboardingApp& app, const kernel::BearerAuthenticator& authenticator,
                  kernel::RateLimiter& anonymous_limiter, const kernel::ClientAddressResolver& client_addresses);

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

  private:
    // RESOURCE_EXHAUSTED when this client address made too many anonymous calls of kind `what`.
    grpc::Status throttle(grpc::ServerContext* context, const std::string& what);
    grpc::Status require_hq(grpc::ServerContext* context, kernel::Principal& principal) const;

    OnboardingApp& app_;
    const kernel::BearerAuthenticator& authenticator_;
    kernel::RateLimiter& anonymous_limiter_;
    const kernel::ClientAddressResolver& client_addresses_;
};

v1::RequestStatus to_api_status(ProspectStatus status);

}  // namespace gatehouse::onboarding
