#include "app/notifications_app.h"

#include <string_view>

#include "domain/notification_index.h"
#include "gatehouse/platform/paging.h"

namespace gatehouse::notifier {
namespace {

// Every status a notification can be listed with.
constexpr NotificationStatus kListedStatuses[] = {NotificationStatus::queued, NotificationStatus::sent,
                                                  NotificationStatus::dead_lettered};

}  // namespace

NotificationsApp::NotificationsApp(NotificationRuntime& notifications) : notifications_(notifications) {}

Outcome<NotificationPage> NotificationsApp::list(const NotificationQuery& query) {
    auto paging = platform::read_page_request(query.page_size, query.page_token);
    if (auto* problem = std::get_if<std::string>(&paging)) {
        return invalid_argument(std::move(*problem));
    }
    const auto& page_request = std::get<platform::PageRequest>(paging);
    // Newest first: ordered by (queued_at, id) descending, a keyset page of the "newest" index (or
    // of one status's range of the "status" index). The page token is the last row's list position,
    // the same in both indexes: O(log n + page), whatever the number of notifications.
    if (!page_request.after.empty() && !notification_index::is_list_position(page_request.after)) {
        return invalid_argument("page_token: is not a token from a previous page");
    }
    NotificationPage result;
    const auto& filter = query.status;
    if (filter == NotificationStatus::none) {
        return result;  // no notification has a status unknown to this version
    }
    const std::string_view index = filter ? notification_index::kByStatus : notification_index::kNewest;
    const kernel::IndexKey prefix = filter ? notification_index::status_prefix(*filter) : kernel::IndexKey();
    const kernel::IndexPage page = notifications_.page(
        index, prefix, page_request.after.empty() ? std::string() : prefix.bytes() + page_request.after,
        page_request.size);
    for (const kernel::IndexHit& hit : page.hits) {
        auto found = notifications_.find(hit.aggregate_id);
        // The state is read after the index: one that changed status in between is left to the
        // list of its new status.
        if (!found || (filter && found->state.status != *filter)) {
            continue;
        }
        result.notifications.push_back({hit.aggregate_id, std::move(found->state)});
    }
    for (const NotificationStatus status : kListedStatuses) {
        if (!filter || status == *filter) {
            result.total += notifications_.count(notification_index::status_counter(status));
        }
    }
    if (!page.next_cursor.empty()) {
        result.next_page_token =
            platform::next_page_token(std::string_view(page.next_cursor).substr(prefix.bytes().size()));
    }
    return result;
}

Outcome<NotificationState> NotificationsApp::notification(const std::string& notification_id) {
    if (notification_id.empty()) {
        return invalid_argument("notification_id: is required");
    }
    auto found = notifications_.find(notification_id);
    if (!found) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "notification_id: no such notification"};
    }
    return std::move(found->state);
}

std::optional<kernel::Rejection> NotificationsApp::redrive(const std::string& notification_id, const std::string& by,
                                                           const std::string& reason) {
    if (notification_id.empty()) {
        return invalid_argument("notification_id: is required");
    }
    auto result = notifications_.execute(notification_id, Redrive{by, reason, Clock::now()}, {.actor = by});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return std::nullopt;
}

Outcome<int> NotificationsApp::redrive_all_dead_lettered(const std::string& by, const std::string& reason) {
    if (reason.empty()) {
        return invalid_argument("reason: is required");
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
                notifications_.execute(hit.aggregate_id, Redrive{by, reason, Clock::now()}, {.actor = by});
            if (std::holds_alternative<kernel::Accepted<v1::NotificationEvent>>(result)) {
                ++redriven;
            }
        }
        after = page.next_cursor;
    } while (!after.empty());
    return redriven;
}

}  // namespace gatehouse::notifier
