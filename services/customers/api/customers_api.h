// The customers gRPC API: authentication (staff bearer tokens or partner sessions), the
// authorization matrix of docs/api.md, validation of the requests' shape, mapping between proto
// messages and the app's values, and the kernel's mapping of rejections to gRPC statuses. What
// happens is the use cases' of app/ (lookups, master data, hierarchies, partner users,
// credentials). gRPC calls it on its server threads, concurrently; it keeps no state of its own.
#pragma once

#include <optional>
#include <string>

#include "app/credentials.h"
#include "app/customer_lookups.h"
#include "app/hierarchies.h"
#include "app/master_data.h"
#include "app/partner_users.h"
#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/client_address.h"

namespace gatehouse::customers {

// Who calls: a staff principal (hq, operator, ...) or a partner user's session.
struct Caller final {
    std::optional<kernel::Principal> staff;
    std::optional<PartnerSession> partner;

    [[nodiscard]] bool hq() const { return staff && staff->role == "hq"; }
    [[nodiscard]] bool reader() const { return staff && (staff->role == "hq" || staff->role == "operator"); }
    [[nodiscard]] bool partner_admin() const { return partner && partner->administrator; }
    [[nodiscard]] std::string actor() const { return staff ? staff->user_id : partner ? partner->user_id : ""; }
};

class CustomersApi final : public v1::CustomersService::Service {
  public:
    CustomersApi(const CustomerLookups& lookups, MasterData& master_data, Hierarchies& hierarchies, PartnerUsers& users,
                 Credentials& credentials, const kernel::BearerAuthenticator& authenticator,
                 kernel::RateLimiter& anonymous_limiter, const kernel::ClientAddressResolver& client_addresses);

    grpc::Status CreateCustomer(grpc::ServerContext* context, const v1::CreateCustomerRequest* request,
                                v1::CreateCustomerResponse* response) override;
    grpc::Status UpdateCustomer(grpc::ServerContext* context, const v1::UpdateCustomerRequest* request,
                                v1::UpdateCustomerResponse* response) override;
    grpc::Status BlockCustomer(grpc::ServerContext* context, const v1::BlockCustomerRequest* request,
                               v1::BlockCustomerResponse* response) override;
    grpc::Status SetLimits(grpc::ServerContext* context, const v1::SetLimitsRequest* request,
                           v1::SetLimitsResponse* response) override;
    grpc::Status GetCustomer(grpc::ServerContext* context, const v1::GetCustomerRequest* request,
                             v1::GetCustomerResponse* response) override;
    grpc::Status ListCustomers(grpc::ServerContext* context, const v1::ListCustomersRequest* request,
                               v1::ListCustomersResponse* response) override;
    grpc::Status CreateHierarchy(grpc::ServerContext* context, const v1::CreateHierarchyRequest* request,
                                 v1::CreateHierarchyResponse* response) override;
    grpc::Status ChangeHierarchyMember(grpc::ServerContext* context, const v1::ChangeHierarchyMemberRequest* request,
                                       v1::ChangeHierarchyMemberResponse* response) override;
    grpc::Status ListHierarchies(grpc::ServerContext* context, const v1::ListHierarchiesRequest* request,
                                 v1::ListHierarchiesResponse* response) override;
    grpc::Status ListPartnerUsers(grpc::ServerContext* context, const v1::ListPartnerUsersRequest* request,
                                  v1::ListPartnerUsersResponse* response) override;
    grpc::Status AddPartnerUser(grpc::ServerContext* context, const v1::AddPartnerUserRequest* request,
                                v1::AddPartnerUserResponse* response) override;
    grpc::Status UpdatePartnerUser(grpc::ServerContext* context, const v1::UpdatePartnerUserRequest* request,
                                   v1::UpdatePartnerUserResponse* response) override;
    grpc::Status RemovePartnerUser(grpc::ServerContext* context, const v1::RemovePartnerUserRequest* request,
                                   v1::RemovePartnerUserResponse* response) override;
    grpc::Status ChangeInvitation(grpc::ServerContext* context, const v1::ChangeInvitationRequest* request,
                                  v1::ChangeInvitationResponse* response) override;
    grpc::Status ChangeAdministrator(grpc::ServerContext* context, const v1::ChangeAdministratorRequest* request,
                                     v1::ChangeAdministratorResponse* response) override;
    grpc::Status SetPassword(grpc::ServerContext* context, const v1::SetPasswordRequest* request,
                             v1::SetPasswordResponse* response) override;
    grpc::Status SignIn(grpc::ServerContext* context, const v1::SignInRequest* request,
                        v1::SignInResponse* response) override;
    grpc::Status RequestPasswordReset(grpc::ServerContext* context, const v1::RequestPasswordResetRequest* request,
                                      v1::RequestPasswordResetResponse* response) override;
    grpc::Status SignOut(grpc::ServerContext* context, const v1::SignOutRequest* request,
                         v1::SignOutResponse* response) override;

  private:
    // Who calls; UNAUTHENTICATED when the call carries no (valid) credential.
    grpc::Status identify(grpc::ServerContext* context, Caller& caller);
    grpc::Status require_hq(grpc::ServerContext* context, Caller& caller);
    // The organisation whose users the caller manages: HQ any existing one, a partner admin only
    // their own (another one is NOT_FOUND, as if it did not exist).
    grpc::Status user_manager(grpc::ServerContext* context, const std::string& requested_organization, Caller& caller,
                              std::string& organization_id);
    // The user and organisation named by user_id, if the caller may manage them (else NOT_FOUND).
    grpc::Status managed_user(grpc::ServerContext* context, const std::string& user_id, Caller& caller, UserRef& user);
    grpc::Status throttle(grpc::ServerContext* context, const std::string& what);
    v1::Customer to_api(const CustomerState& state);

    const CustomerLookups& lookups_;
    MasterData& master_data_;
    Hierarchies& hierarchies_;
    PartnerUsers& users_;
    Credentials& credentials_;
    const kernel::BearerAuthenticator& authenticator_;
    kernel::RateLimiter& anonymous_limiter_;
    const kernel::ClientAddressResolver& client_addresses_;
};

v1::PartnerUser to_api(const PartnerUserState& user, const std::string& organization_id);

}  // namespace gatehouse::customers
