#include "api/notifier_api.h"

#include <algorithm>
#include <vector>

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

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }

}  // namespace

NotifierApi::NotifierApi(NotificationRuntime& notifications, const kernel::BearerAuthenticator& authenticator)
    : notifications_(notifications), authenticator_(authenticator) {}

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
    // Newest first: ordered by (queued_at, id) descending; the page token is the last row's key.
    struct Row {
        std::int64_t queued_nanos;
        std::string id;
        v1::NotificationSummary summary;
    };
    std::vector<Row> rows;
    notifications_.for_each([&](const std::string& id, const NotificationState& state, kernel::StreamVersion) {
        if (request->status() != v1::NOTIFICATION_STATUS_UNSPECIFIED && to_api(state.status) != request->status()) {
            return;
        }
        Row row{state.queued.queued_at().seconds() * 1'000'000'000 + state.queued.queued_at().nanos(), id, {}};
        summarise(id, state, row.summary);
        rows.push_back(std::move(row));
    });
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return a.queued_nanos != b.queued_nanos ? a.queued_nanos > b.queued_nanos : a.id > b.id;
    });
    std::size_t start = 0;
    if (!request->page_token().empty()) {
        const auto colon = request->page_token().find(':');
        std::int64_t after_nanos = 0;
        try {
            after_nanos = std::stoll(request->page_token().substr(0, colon));
        } catch (const std::exception&) {
            return invalid("page_token: is not a token from a previous page");
        }
        if (colon == std::string::npos) {
            return invalid("page_token: is not a token from a previous page");
        }
        const std::string after_id = request->page_token().substr(colon + 1);
        while (start < rows.size() && (rows[start].queued_nanos > after_nanos ||
                                       (rows[start].queued_nanos == after_nanos && rows[start].id >= after_id))) {
            ++start;
        }
    }
    response->set_total(static_cast<int>(rows.size()));
    const std::size_t end = std::min(rows.size(), start + static_cast<std::size_t>(page_size));
    for (std::size_t i = start; i < end; ++i) {
        *response->add_notifications() = std::move(rows[i].summary);
    }
    if (end < rows.size() && end > start) {
        response->set_next_page_token(std::to_string(rows[end - 1].queued_nanos) + ":" + rows[end - 1].id);
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
    const NotificationState& state = found->first;
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
    std::vector<std::string> dead;
    notifications_.for_each([&](const std::string& id, const NotificationState& state, kernel::StreamVersion) {
        if (state.status == NotificationStatus::dead_lettered) {
            dead.push_back(id);
        }
    });
    int redriven = 0;
    for (const auto& id : dead) {
        const auto result = notifications_.execute(id, Redrive{principal.user_id, request->reason(), Clock::now()},
                                                   {.actor = principal.user_id});
        if (std::holds_alternative<kernel::Accepted<v1::NotificationEvent>>(result)) {
            ++redriven;
        }
    }
    response->set_redriven(redriven);
    return grpc::Status::OK;
}

}  // namespace gatehouse::notifier
