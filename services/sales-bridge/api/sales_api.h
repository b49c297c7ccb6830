// The sales-bridge gRPC API: authentication (bearer credentials, roles sales / sales-manager),
// input validation, views over the leads and opportunities, and mapping of domain rejections to
// gRPC statuses. State lives in the aggregate runtimes; this class keeps none of its own.
#pragma once

#include <map>
#include <string>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "reactions/sales_aggregates.h"

namespace gatehouse::sales {

struct SalesApiSettings final {
    // The sales team: user id -> email (sales.users). Leads can be assigned to these users.
    std::map<std::string, std::string> sales_users;
};

class SalesApi final : public v1::SalesService::Service {
  public:
    SalesApi(SalesAggregates aggregates, kernel::EventStore& store, const kernel::BearerAuthenticator& authenticator,
             SalesApiSettings settings);

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
    grpc::Status authenticate(grpc::ServerContext* context, Actor& actor) const;
    std::string owner_of_account(const AccountState& account);

    SalesAggregates aggregates_;
    kernel::EventStore& store_;
    const kernel::BearerAuthenticator& authenticator_;
    SalesApiSettings settings_;
};

}  // namespace gatehouse::sales
