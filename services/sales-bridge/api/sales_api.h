// The sales-bridge gRPC API: authentication (bearer credentials, roles sales / sales-manager),
// input validation (naming the request's field and rule), the mapping of requests to the use cases
// (app/sales_app.h) and of their answers back, and of their rejections to gRPC statuses (the
// kernel's one mapping). It decides nothing itself and keeps no state. The RPCs are defined per
// resource: api/lead_rpcs.cpp, api/opportunity_rpcs.cpp, api/timeline_rpcs.cpp (appointments and
// notes of either), api/account_rpcs.cpp (accounts and contacts).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/sales_app.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/platform/paging.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"

namespace gatehouse::sales {

class SalesApi final : public v1::SalesService::Service {
  public:
    SalesApi(SalesApp& app, const kernel::BearerAuthenticator& authenticator);

    grpc::Status ListLeads(grpc::ServerContext* context, const v1::ListLeadsRequest* request,
                           v1::ListLeadsResponse* response) override;
    grpc::Status GetLead(grpc::ServerContext* context, const v1::GetLeadRequest* request,
                         v1::GetLeadResponse* response) override;
    grpc::Status AssignLead(grpc::ServerContext* context, const v1::AssignLeadRequest* request,
                            v1::AssignLeadResponse* response) override;
    grpc::Status QualifyLead(grpc::ServerContext* context, const v1::QualifyLeadRequest* request,
                             v1::QualifyLeadResponse* response) override;
    grpc::Status DisqualifyLead(grpc::ServerContext* context, const v1::DisqualifyLeadRequest* request,
                                v1::DisqualifyLeadResponse* response) override;
    grpc::Status ListOpportunities(grpc::ServerContext* context, const v1::ListOpportunitiesRequest* request,
                                   v1::ListOpportunitiesResponse* response) override;
    grpc::Status GetOpportunity(grpc::ServerContext* context, const v1::GetOpportunityRequest* request,
                                v1::GetOpportunityResponse* response) override;
    grpc::Status WinOpportunity(grpc::ServerContext* context, const v1::WinOpportunityRequest* request,
                                v1::WinOpportunityResponse* response) override;
    grpc::Status LoseOpportunity(grpc::ServerContext* context, const v1::LoseOpportunityRequest* request,
                                 v1::LoseOpportunityResponse* response) override;
    grpc::Status UpdateOpportunity(grpc::ServerContext* context, const v1::UpdateOpportunityRequest* request,
                                   v1::UpdateOpportunityResponse* response) override;
    grpc::Status RescheduleAppointment(grpc::ServerContext* context, const v1::RescheduleAppointmentRequest* request,
                                       v1::RescheduleAppointmentResponse* response) override;
    grpc::Status CancelAppointment(grpc::ServerContext* context, const v1::CancelAppointmentRequest* request,
                                   v1::CancelAppointmentResponse* response) override;
    grpc::Status ScheduleAppointment(grpc::ServerContext* context, const v1::ScheduleAppointmentRequest* request,
                                     v1::ScheduleAppointmentResponse* response) override;
    grpc::Status AddNote(grpc::ServerContext* context, const v1::AddNoteRequest* request,
                         v1::AddNoteResponse* response) override;
    grpc::Status GetAccount(grpc::ServerContext* context, const v1::GetAccountRequest* request,
                            v1::GetAccountResponse* response) override;
    grpc::Status UpdateAccount(grpc::ServerContext* context, const v1::UpdateAccountRequest* request,
                               v1::UpdateAccountResponse* response) override;
    grpc::Status GetContact(grpc::ServerContext* context, const v1::GetContactRequest* request,
                            v1::GetContactResponse* response) override;
    grpc::Status UpdateContact(grpc::ServerContext* context, const v1::UpdateContactRequest* request,
                               v1::UpdateContactResponse* response) override;

  private:
    // Authenticates the caller (role sales or sales-manager) into `principal`, then answers the
    // first of `problems` (the request's checks, in the order its fields are checked) as
    // INVALID_ARGUMENT. OK: the call may go on.
    grpc::Status admit(grpc::ServerContext* context, kernel::Principal& principal,
                       std::initializer_list<Problem> problems) const;

    SalesApp& app_;
    const kernel::BearerAuthenticator& authenticator_;
};

// What the RPC files share.
namespace rpc {

grpc::Status invalid(const std::string& message);

// Ids are ours (LEAD-PR-000001, ...) or UUIDs: letters, digits, - _ /, at most 64.
Problem check_id(std::string_view field, std::string_view id);

// The problem of a list request's page_size / page_token, read by the platform's one rule.
Problem page_problem(const std::variant<platform::PageRequest, std::string>& page);

void add_timeline(const std::vector<HistoryEntry>& history,
                  google::protobuf::RepeatedPtrField<v1::TimelineEntry>& timeline);

// A use case's answer: `fill` writes its value into the response; a rejection becomes its status.
template <class T, class Fill>
grpc::Status answer(const Outcome<T>& outcome, const Fill& fill) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&outcome)) {
        return kernel::to_grpc_status(*rejection);
    }
    fill(std::get<T>(outcome));
    return grpc::Status::OK;
}

// The same for a use case with nothing to answer: `fill` writes the response.
template <class Fill>
grpc::Status answer(const Refusal& refusal, const Fill& fill) {
    if (refusal) {
        return kernel::to_grpc_status(*refusal);
    }
    fill();
    return grpc::Status::OK;
}

}  // namespace rpc

}  // namespace gatehouse::sales
