// The operator's use cases on notifications: list them a page at a time, look one up, re-drive
// one dead letter or all of them. Takes plain values and answers domain values or a
// kernel::Rejection whose code and message are what the caller sees (kernel::to_grpc_status);
// roles are the API's. Every lookup is an index read of the Notification read model
// (domain/notification_index.h): a page costs O(log n + page), whatever the number of notifications.
//
// Threads: any member may be called from any thread at once (gRPC workers); the state is the
// runtime's, and the dispatcher's concurrent records are ordinary concurrent commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/outcome.h"
#include "domain/notification.h"

namespace gatehouse::notifier {

struct NotificationQuery final {
    // nullopt: every status; NotificationStatus::none: a status this version does not know (no
    // notification has it: an empty page).
    std::optional<NotificationStatus> status;
    int page_size = 0;  // platform paging: 0 is the default
    std::string page_token;
};

struct NotificationPage final {
    std::vector<Listed<NotificationState>> notifications;  // newest first
    std::string next_page_token;                           // empty on the last page
    std::int64_t total = 0;                                // every match, on all pages
};

class NotificationsApp final {
  public:
    explicit NotificationsApp(NotificationRuntime& notifications);

    Outcome<NotificationPage> list(const NotificationQuery& query);
    Outcome<NotificationState> notification(const std::string& notification_id);
    // Queues a dead-lettered notification again (`by`: the operator).
    std::optional<kernel::Rejection> redrive(const std::string& notification_id, const std::string& by,
                                             const std::string& reason);
    // Re-drives every dead-lettered notification; returns how many.
    Outcome<int> redrive_all_dead_lettered(const std::string& by, const std::string& reason);

  private:
    NotificationRuntime& notifications_;
};

}  // namespace gatehouse::notifier
