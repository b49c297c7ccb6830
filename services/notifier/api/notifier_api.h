// The notifier's operator API (gRPC): list and inspect notifications, re-drive dead letters.
// Roles: operator (everything), hq (read only).
#pragma once

#include "domain/notification.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"

namespace gatehouse::notifier {

class NotifierApi final : public v1::NotifierService::Service {
  public:
    NotifierApi(NotificationRuntime& notifications, const kernel::BearerAuthenticator& authenticator);

    grpc::Status ListNotifications(grpc::ServerContext* context, const v1::ListNotificationsRequest* request,
                                   v1::ListNotificationsResponse* response) override;
    grpc::Status GetNotification(grpc::ServerContext* context, const v1::GetNotificationRequest* request,
                                 v1::GetNotificationResponse* response) override;
    grpc::Status RedriveNotification(grpc::ServerContext* context, const v1::RedriveNotificationRequest* request,
                                     v1::RedriveNotificationResponse* response) override;
    grpc::Status RedriveAllDeadLettered(grpc::ServerContext* context, const v1::RedriveAllDeadLetteredRequest* request,
                                        v1::RedriveAllDeadLetteredResponse* response) override;

  private:
    NotificationRuntime& notifications_;
    const kernel::BearerAuthenticator& authenticator_;
};

}  // namespace gatehouse::notifier
