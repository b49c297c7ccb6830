// The notifier's operator API (gRPC): list and inspect notifications, re-drive dead letters;
// register and manage webhook endpoints and their deliveries (api/webhook_rpcs.cpp). Roles:
// operator (everything), hq (notifications, read only). It authenticates, maps the messages to the
// use cases' values (app/notifications_app.h, app/webhook_endpoints_app.h) and their answers back,
// a rejection by the kernel's one mapping (kernel::to_grpc_status); the rules are the app's.
// Called on gRPC's worker threads at once; holds no state.
#pragma once

#include <string>

#include "app/notifications_app.h"
#include "app/webhook_endpoints_app.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"

namespace gatehouse::notifier {

class NotifierApi final : public v1::NotifierService::Service {
  public:
    // Without `webhooks`, the webhook RPCs answer UNIMPLEMENTED.
    NotifierApi(NotificationsApp& notifications, const kernel::BearerAuthenticator& authenticator,
                WebhookEndpointsApp* webhooks = nullptr);

    grpc::Status ListNotifications(grpc::ServerContext* context, const v1::ListNotificationsRequest* request,
                                   v1::ListNotificationsResponse* response) override;
    grpc::Status GetNotification(grpc::ServerContext* context, const v1::GetNotificationRequest* request,
                                 v1::GetNotificationResponse* response) override;
    grpc::Status RedriveNotification(grpc::ServerContext* context, const v1::RedriveNotificationRequest* request,
                                     v1::RedriveNotificationResponse* response) override;
    grpc::Status RedriveAllDeadLettered(grpc::ServerContext* context, const v1::RedriveAllDeadLetteredRequest* request,
                                        v1::RedriveAllDeadLetteredResponse* response) override;

    grpc::Status AddWebhookEndpoint(grpc::ServerContext* context, const v1::AddWebhookEndpointRequest* request,
                                    v1::AddWebhookEndpointResponse* response) override;
    grpc::Status ListWebhookEndpoints(grpc::ServerContext* context, const v1::ListWebhookEndpointsRequest* request,
                                      v1::ListWebhookEndpointsResponse* response) override;
    grpc::Status RemoveWebhookEndpoint(grpc::ServerContext* context, const v1::RemoveWebhookEndpointRequest* request,
                                       v1::RemoveWebhookEndpointResponse* response) override;
    grpc::Status RotateWebhookSecret(grpc::ServerContext* context, const v1::RotateWebhookSecretRequest* request,
                                     v1::RotateWebhookSecretResponse* response) override;
    grpc::Status EnableWebhookEndpoint(grpc::ServerContext* context, const v1::EnableWebhookEndpointRequest* request,
                                       v1::EnableWebhookEndpointResponse* response) override;
    grpc::Status ListWebhookDeliveries(grpc::ServerContext* context, const v1::ListWebhookDeliveriesRequest* request,
                                       v1::ListWebhookDeliveriesResponse* response) override;
    grpc::Status RedeliverWebhook(grpc::ServerContext* context, const v1::RedeliverWebhookRequest* request,
                                  v1::RedeliverWebhookResponse* response) override;

  private:
    // The operator check and that webhooks are wired; OK or the status to answer.
    grpc::Status webhook_call(grpc::ServerContext& context, kernel::Principal& principal) const;

    NotificationsApp& notifications_;
    const kernel::BearerAuthenticator& authenticator_;
    WebhookEndpointsApp* webhooks_;
};

// OK after `fill` wrote the use case's value into the response, or the rejection's status.
template <class Value, class Fill>
grpc::Status answer(const Outcome<Value>& outcome, Fill fill) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&outcome)) {
        return kernel::to_grpc_status(*rejection);
    }
    fill(std::get<Value>(outcome));
    return grpc::Status::OK;
}

// OK, or the rejection's status.
inline grpc::Status answer(const std::optional<kernel::Rejection>& refused) {
    return refused ? kernel::to_grpc_status(*refused) : grpc::Status::OK;
}

}  // namespace gatehouse::notifier
