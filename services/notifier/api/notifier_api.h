// The notifier's operator API (gRPC): list and inspect notifications, re-drive dead letters;
// register and manage webhook endpoints and their deliveries (api/webhook_rpcs.cpp).
// Roles: operator (everything), hq (notifications, read only).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "domain/notification.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_endpoint.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/sealed_token.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"

namespace gatehouse::notifier {

// What the webhook RPCs work on. The secrets are sealed to the notifier's own public key before
// they are recorded (events reach the notifier's topic) and opened with its key pair.
struct WebhookApiParts {
    WebhookEndpointRuntime& endpoints;
    WebhookDeliveryRuntime& deliveries;
    std::string public_key;  // base64url, as gatehouse-keygen prints it
    const kernel::TokenOpener& secrets;
    bool allow_plain_http = false;
    std::chrono::milliseconds rotation_grace{std::chrono::hours(24)};
};

class NotifierApi final : public v1::NotifierService::Service {
  public:
    // Without `webhooks`, the webhook RPCs answer UNIMPLEMENTED.
    NotifierApi(NotificationRuntime& notifications, const kernel::BearerAuthenticator& authenticator,
                const WebhookApiParts* webhooks = nullptr);

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
    // An operator's command on one endpoint (remove, rotate, enable): the checks, the command, the
    // rejection mapped to a status.
    grpc::Status change_endpoint(grpc::ServerContext& context, const std::string& endpoint_id,
                                 const std::function<WebhookEndpoint::Command(const kernel::Principal&)>& command);

    NotificationRuntime& notifications_;
    const kernel::BearerAuthenticator& authenticator_;
    const WebhookApiParts* webhooks_;
};

}  // namespace gatehouse::notifier
