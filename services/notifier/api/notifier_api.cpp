#include "api/notifier_api.h"

#include <optional>
#include <string>

#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::notifier {
namespace {

v1::NotificationStatus to_api(NotificationStatus status) {
    switch (status) {
        case NotificationStatus::queued:
            return v1::NOTIFICATION_STATUS_QUEUED;
        case NotificationStatus::sent:
            return v1::NOTIFICATION_STATUS_SENT;
        case NotificationStatus::dead_lettered:
            return v1::NOTIFICATION_STATUS_DEAD_LETTERED;
        case NotificationStatus::none:
            break;
    }
    return v1::NOTIFICATION_STATUS_UNSPECIFIED;
}

void summarise(const std::string& id, const NotificationState& state, v1::NotificationSummary& summary) {
    summary.set_notification_id(id);
    summary.set_status(to_api(state.status));
    summary.set_template_name(state.queued.template_name());
    summary.set_channel(state.queued.channel());
    summary.set_recipient(state.queued.recipient());
    summary.set_cause_event_type(state.queued.cause_event_type());
    summary.set_attempts(state.total_attempts);
    summary.set_last_error(state.last_error);
    *summary.mutable_queued_at() = state.queued.queued_at();
    if (state.status == NotificationStatus::queued) {
        *summary.mutable_next_attempt_at() = kernel::to_timestamp(state.next_attempt_at);
    }
    if (state.status == NotificationStatus::sent) {
        *summary.mutable_sent_at() = kernel::to_timestamp(state.sent_at);
    }
}

// The list's status filter: UNSPECIFIED is every status; one this version does not know is
// NotificationStatus::none.
std::optional<NotificationStatus> from_api(v1::NotificationStatus status) {
    switch (status) {
        case v1::NOTIFICATION_STATUS_UNSPECIFIED:
            return std::nullopt;
        case v1::NOTIFICATION_STATUS_QUEUED:
            return NotificationStatus::queued;
        case v1::NOTIFICATION_STATUS_SENT:
            return NotificationStatus::sent;
        case v1::NOTIFICATION_STATUS_DEAD_LETTERED:
            return NotificationStatus::dead_lettered;
        default:
            break;
    }
    return NotificationStatus::none;
}

}  // namespace

NotifierApi::NotifierApi(NotificationsApp& notifications, const kernel::BearerAuthenticator& authenticator,
                         WebhookEndpointsApp* webhooks)
    : notifications_(notifications), authenticator_(authenticator), webhooks_(webhooks) {}

grpc::Status NotifierApi::ListNotifications(grpc::ServerContext* context, const v1::ListNotificationsRequest* request,
                                            v1::ListNotificationsResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator", "hq"}, principal);
        !status.ok()) {
        return status;
    }
    const auto page = notifications_.list({from_api(request->status()), request->page_size(), request->page_token()});
    return answer(page, [&](const NotificationPage& value) {
        for (const auto& row : value.notifications) {
            summarise(row.id, row.state, *response->add_notifications());
        }
        response->set_total(static_cast<int>(value.total));
        response->set_next_page_token(value.next_page_token);
    });
}

grpc::Status NotifierApi::GetNotification(grpc::ServerContext* context, const v1::GetNotificationRequest* request,
                                          v1::GetNotificationResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator", "hq"}, principal);
        !status.ok()) {
        return status;
    }
    const auto found = notifications_.notification(request->notification_id());
    return answer(found, [&](const NotificationState& state) {
        summarise(request->notification_id(), state, *response->mutable_summary());
        response->set_cause_event_id(state.queued.cause_event_id());
        response->set_cause_topic(state.queued.cause_topic());
        response->set_message_id(state.message_id);
        for (const auto& failure : state.failures) {
            auto& attempt = *response->add_attempts();
            attempt.set_attempt(failure.attempt());
            *attempt.mutable_at() = failure.failed_at();
            attempt.set_error(failure.error());
        }
    });
}

grpc::Status NotifierApi::RedriveNotification(grpc::ServerContext* context,
                                              const v1::RedriveNotificationRequest* request,
                                              v1::RedriveNotificationResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator"}, principal); !status.ok()) {
        return status;
    }
    auto status = answer(notifications_.redrive(request->notification_id(), principal.user_id, request->reason()));
    if (status.ok()) {
        response->set_status(v1::NOTIFICATION_STATUS_QUEUED);
    }
    return status;
}

grpc::Status NotifierApi::RedriveAllDeadLettered(grpc::ServerContext* context,
                                                 const v1::RedriveAllDeadLetteredRequest* request,
                                                 v1::RedriveAllDeadLetteredResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator"}, principal); !status.ok()) {
        return status;
    }
    const auto redriven = notifications_.redrive_all_dead_lettered(principal.user_id, request->reason());
    return answer(redriven, [&](int count) { response->set_redriven(count); });
}

}  // namespace gatehouse::notifier
