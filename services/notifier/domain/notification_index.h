// The Notification read model: the indexes and counters that the dispatcher and the operator API
// query instead of walking every notification (see kernel/read_model.h). Written with the events,
// in the same atomic write; rebuilt from the log at start-up when kNotificationReadModelVersion
// changes.
//
//   index "due"     queued notifications only, by next_attempt_at (oldest first), then id:
//                   the dispatcher visits the range up to `now`.
//   index "newest"  every notification, by queued_at (newest first), then id (descending):
//                   ListNotifications without a status filter.
//   index "status"  every notification by status, then as "newest": ListNotifications with a
//                   status filter, and RedriveAllDeadLettered (the "dead-lettered" range).
//   counter "status:<status>" (queued, sent, dead-lettered): the queue depth and list totals.
//
// A page of "status" continues exactly where one of "newest" does: both end in the same position
// (see list_position), so a page token is valid whichever filter it is used with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/notification.h"
#include "gatehouse/kernel/read_model.h"

namespace gatehouse::notifier {

// Bump when notification_read_model() changes what it writes: the model is rebuilt from the log.
inline constexpr std::uint32_t kNotificationReadModelVersion = 1;

namespace notification_index {
inline constexpr std::string_view kDue = "due";
inline constexpr std::string_view kNewest = "newest";
inline constexpr std::string_view kByStatus = "status";

// The counter of notifications in `status` ("status:queued", ...).
std::string status_counter(NotificationStatus status);
// The prefix of the "status" index's entries of one status.
kernel::IndexKey status_prefix(NotificationStatus status);
// The end (exclusive) of the "due" range: notifications due at or before `now`.
kernel::IndexKey due_until(Clock::time_point now);
// queued_at in nanoseconds since the epoch, as the list indexes order by it.
std::int64_t queued_nanos(const NotificationState& state);
// True if `position` (a list entry's cursor without its status prefix) has the shape of one:
// queued_at, the descending id and the id. Guards page tokens.
bool is_list_position(std::string_view position);
}  // namespace notification_index

// The read model (pure: a function of one notification's state).
kernel::ReadModel<NotificationState> notification_read_model();

}  // namespace gatehouse::notifier
