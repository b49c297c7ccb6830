// The Notification aggregate: one message to send (an email or a chat post).
//
//   (none) --queue--> Queued --sent--> Sent
//                      |  ^ attempt failed (transient, within retry_for and max_attempts)
//                      |  '------'
//                      '--attempt failed (permanent, retry_for over, or max_attempts used)--> DeadLettered
//                                                                          --redrive--> Queued
//
// A transient failure is retried until the notification has been queued (since it was queued, or
// last re-driven) for `retry_for`; the last retry is scheduled at that deadline at the latest.
// `max_attempts` is an optional extra cap by count (0: none).
//
// Pure decider (no I/O, no clock, no randomness: the dispatcher passes `now` and the jittered
// retry time). The id is derived from (cause event, template, recipient): queueing twice is a
// no-op, which is what makes "at most once per cause, template and recipient" hold under
// redelivery and replay. See docs/architecture.md and services/notifier/README.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "gatehouse/kernel/decider.h"
#include "gatehouse/notifier/v1/events.pb.h"

namespace gatehouse::notifier {

using Clock = std::chrono::system_clock;

enum class NotificationStatus { none, queued, sent, dead_lettered };
std::string_view to_string(NotificationStatus status);

// The first `bytes` bytes of BLAKE2b-256(`key`) in lowercase hex, after `prefix`: the derived ids
// of notifications and webhook deliveries.
std::string hashed_id(std::string_view prefix, std::string_view key, std::size_t bytes);

// The deterministic id of the notification a cause event plans for a template and recipient.
std::string notification_id(const std::string& cause_event_id, const std::string& template_name,
                            const std::string& recipient);

struct Queue {
    v1::NotificationQueued queued;  // complete, with notification_id and queued_at
};

struct RecordSent {
    std::string message_id;
    std::string transport;
    Clock::time_point now;
};

struct RecordFailure {
    std::string error;
    bool permanent = false;     // the receiver refused for good (e.g. SMTP 5xx): no more attempts
    unsigned max_attempts = 0;  // attempts since queued / re-driven before giving up; 0: no cap by count
    Clock::time_point now;
    Clock::time_point next_attempt_at;  // when attempts are left (the dispatcher adds backoff + jitter)
    // How long a transient failure is retried, from `retrying_since`: a failure at or after that
    // deadline dead-letters, and no retry is scheduled after it. Zero or less: no limit by time.
    std::chrono::milliseconds retry_for{std::chrono::hours(24)};
};

struct Redrive {
    std::string operator_id;
    std::string reason;
    Clock::time_point now;
};

struct NotificationState {
    NotificationStatus status = NotificationStatus::none;
    v1::NotificationQueued queued;  // what to send
    unsigned attempts = 0;          // since queued or last re-driven
    unsigned total_attempts = 0;
    std::string last_error;
    Clock::time_point next_attempt_at{};
    Clock::time_point retrying_since{};  // queued_at, or when last re-driven: where retry_for starts
    Clock::time_point sent_at{};
    std::string message_id;
    // The most recent failed attempts (at most kKeptFailures, oldest first): with retries by time
    // a notification can fail hundreds of times, and its state stays small in the cache.
    static constexpr std::size_t kKeptFailures = 20;
    std::vector<v1::NotificationAttemptFailed> failures;
};

struct Notification {
    static constexpr std::string_view kAggregateType = "notification";
    using Event = v1::NotificationEvent;
    using State = NotificationState;
    using Command = std::variant<Queue, RecordSent, RecordFailure, Redrive>;

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

using NotificationRuntime = kernel::AggregateRuntime<Notification>;

}  // namespace gatehouse::notifier
