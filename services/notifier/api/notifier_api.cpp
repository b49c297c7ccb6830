#include "api/notifier_api.h"

#include <optional>
#include <string>
#include <string_view>

#include "domain/notification_index.h"
#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/grpc_status.h"
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

std::optional<NotificationStatus> from_api(v1::NotificationStatus status) {
    switch (status) {
        case v1::NOTIFICATION_STATUS_QUEUED:
            return NotificationStatus::queued;
        case v1::NOTIFICATION_STATUS_SENT:
            return NotificationStatus::sent;
        case v1::NOTIFICATION_STATUS_DEAD_LETTERED:
            return NotificationStatus::dead_lettered;
        default:
            break;
    }
    return std::nullopt;
}

// Every status a notification can be listed with.
constexpr NotificationStatus kListedStatuses[] = {NotificationStatus::queued, NotificationStatus::sent,
                                                  NotificationStatus::dead_lettered};

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }

}  // namespace

NotifierApi::NotifierApi(NotificationRuntime& notifications, const kernel::BearerAuthenticator& authenticator,
                         const WebhookApiParts* webhooks)
    : notifications_(notifications), authenticator_(authenticator), webhooks_(webhooks) {}

grpc::Status NotifierApi::ListNotifications(grpc::ServerContext* context, const v1::ListNotificationsRequest* request,
                                            v1::ListNotificationsResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator", "hq"}, principal);
        !status.ok()) {
        return status;
    }
    const int page_size = request->page_size() == 0 ? 50 : request->page_size();
    if (page_size < 1 || page_size > 500) {
        return invalid("page_size: must be between 1 and 500");
    }
    // Newest first: ordered by (queued_at, id) descending, a keyset page of the "newest" index (or
    // of one status's range of the "status" index). The page token is the last row's list position,
    // the same in both indexes: O(log n + page), whatever the number of notifications.
    std::string position;
    if (!request->page_token().empty()) {
        auto cursor = kernel::index_layout::token_to_cursor(request->page_token());
        if (!cursor || !notification_index::is_list_position(*cursor)) {
            return invalid("page_token: is not a token from a previous page");
        }
        position = std::move(*cursor);
    }
    std::optional<NotificationStatus> filter;
    if (request->status() != v1::NOTIFICATION_STATUS_UNSPECIFIED) {
        filter = from_api(request->status());
        if (!filter) {
            return grpc::Status::OK;  // no notification has a status unknown to this version
        }
    }
    const std::string_view index = filter ? notification_index::kByStatus : notification_index::kNewest;
    const kernel::IndexKey prefix = filter ? notification_index::status_prefix(*filter) : kernel::IndexKey();
    const kernel::IndexPage page =
        notifications_.page(index, prefix, position.empty() ? std::string() : prefix.bytes() + position,
                            static_cast<std::size_t>(page_size));
    for (const kernel::IndexHit& hit : page.hits) {
        const auto found = notifications_.find(hit.aggregate_id);
        // The state is read after the index: one that changed status in between is left to the
        // list of its new status.
        if (!found || (filter && found->state.status != *filter)) {
            continue;
        }
        summarise(hit.aggregate_id, found->state, *response->add_notifications());
    }
    std::int64_t total = 0;
    for (const NotificationStatus status : kListedStatuses) {
        if (!filter || status == *filter) {
            total += notifications_.count(notification_index::status_counter(status));
        }
    }
    response->set_total(static_cast<int>(total));
    if (!page.next_cursor.empty()) {
        response->set_next_page_token(
            kernel::index_layout::cursor_to_token(std::string_view(page.next_cursor).substr(prefix.bytes().size())));
    }
    return grpc::Status::OK;
}

grpc::Status NotifierApi::GetNotification(grpc::ServerContext* context, const v1::GetNotificationRequest* request,
                                          v1::GetNotificationResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator", "hq"}, principal);
        !status.ok()) {
        return status;
    }
    if (request->notification_id().empty()) {
        return invalid("notification_id: is required");
    }
    const auto found = notifications_.find(request->notification_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "notification_id: no such notification"};
    }
    const NotificationState& state = found->state;
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
    return grpc::Status::OK;
}

grpc::Status NotifierApi::RedriveNotification(grpc::ServerContext* context,
                                              const v1::RedriveNotificationRequest* request,
                                              v1::RedriveNotificationResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator"}, principal); !status.ok()) {
        return status;
    }
    if (request->notification_id().empty()) {
        return invalid("notification_id: is required");
    }
    const auto result =
        notifications_.execute(request->notification_id(), Redrive{principal.user_id, request->reason(), Clock::now()},
                               {.actor = principal.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(v1::NOTIFICATION_STATUS_QUEUED);
    return grpc::Status::OK;
}

grpc::Status NotifierApi::RedriveAllDeadLettered(grpc::ServerContext* context,
                                                 const v1::RedriveAllDeadLetteredRequest* request,
                                                 v1::RedriveAllDeadLetteredResponse* response) {
    kernel::Principal principal;
    if (auto status = kernel::authenticate_call(*context, authenticator_, {"operator"}, principal); !status.ok()) {
        return status;
    }
    if (request->reason().empty()) {
        return invalid("reason: is required");
    }
    // The "dead-lettered" range of the "status" index, a page at a time: each re-drive moves its
    // entry out of the range, and the next page continues after the last one seen.
    constexpr std::size_t kRedrivePage = 500;
    const kernel::IndexKey dead = notification_index::status_prefix(NotificationStatus::dead_lettered);
    int redriven = 0;
    std::string after;
    do {
        const kernel::IndexPage page = notifications_.page(notification_index::kByStatus, dead, after, kRedrivePage);
        for (const kernel::IndexHit& hit : page.hits) {
            const auto result =
                notifications_.execute(hit.aggregate_id, Redrive{principal.user_id, request->reason(), Clock::now()},
                                       {.actor = principal.user_id});
            if (std::holds_alternative<kernel::Accepted<v1::NotificationEvent>>(result)) {
                ++redriven;
            }
        }
        after = page.next_cursor;
    } while (!after.empty());
    response->set_redriven(redriven);
    return grpc::Status::OK;
}

}  // namespace gatehouse::notifier
