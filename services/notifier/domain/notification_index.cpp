#include "domain/notification_index.h"

#include <chrono>

namespace gatehouse::notifier {
namespace {

std::int64_t nanos_since_epoch(Clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// The list indexes' position of a notification: newest first, then by id descending (the order
// ListNotifications has always had). The runtime appends the id itself after it.
kernel::IndexKey& append_list_position(kernel::IndexKey& key, const std::string& id, const NotificationState& state) {
    return key.i64_descending(notification_index::queued_nanos(state)).text_descending(id);
}

// Skips one IndexKey text segment (escaped NULs, then NUL 0x01); false if there is none.
bool skip_text(std::string_view& bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] != '\0') {
            continue;
        }
        if (i + 1 == bytes.size()) {
            return false;
        }
        if (bytes[i + 1] == '\x01') {
            bytes.remove_prefix(i + 2);
            return true;
        }
        if (bytes[i + 1] != '\xff') {
            return false;
        }
        ++i;
    }
    return false;
}

}  // namespace

namespace notification_index {

std::string status_counter(NotificationStatus status) { return "status:" + std::string(to_string(status)); }

kernel::IndexKey status_prefix(NotificationStatus status) { return kernel::IndexKey().text(to_string(status)); }

kernel::IndexKey due_until(Clock::time_point now) { return kernel::IndexKey().i64(nanos_since_epoch(now) + 1); }

std::int64_t queued_nanos(const NotificationState& state) {
    return state.queued.queued_at().seconds() * 1'000'000'000 + state.queued.queued_at().nanos();
}

bool is_list_position(std::string_view position) {
    constexpr std::size_t kTimeBytes = 8;
    if (position.size() < kTimeBytes) {
        return false;
    }
    position.remove_prefix(kTimeBytes);
    return skip_text(position) && skip_text(position) && position.empty();
}

}  // namespace notification_index

kernel::ReadModel<NotificationState> notification_read_model() {
    return {kNotificationReadModelVersion,
            [](const std::string& id, const NotificationState& state, kernel::IndexEntries& entries) {
                if (state.status == NotificationStatus::none) {
                    return;
                }
                if (state.status == NotificationStatus::queued) {
                    entries.add(notification_index::kDue,
                                kernel::IndexKey().i64(nanos_since_epoch(state.next_attempt_at)));
                }
                kernel::IndexKey newest;
                entries.add(notification_index::kNewest, append_list_position(newest, id, state));
                kernel::IndexKey by_status = notification_index::status_prefix(state.status);
                entries.add(notification_index::kByStatus, append_list_position(by_status, id, state));
                entries.count(notification_index::status_counter(state.status));
            }};
}

}  // namespace gatehouse::notifier
