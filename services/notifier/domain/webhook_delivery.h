// The WebhookDelivery aggregate: one input event to deliver to one endpoint. Its id is derived
// from (event id, endpoint id) and is the `webhook-id` header of every attempt, so a redelivered
// or replayed input event never queues a second delivery, and a receiver can deduplicate retries.
//
//   (none) --queue--> Pending (waiting) --release--> Pending --delivered--> Delivered
//                       |  ^ attempt failed (within retry_for)
//                       |  '------'
//                       '--attempt failed after retry_for (exhausted) / endpoint gone--> Failed
//   Delivered / Failed / Pending --redeliver--> Pending (same id and body, at once)
//
// Order per endpoint and aggregate: a delivery queued while an earlier one of the same
// (endpoint, aggregate) is pending starts `waiting`; it is released when the earlier one is done
// (see app/webhook_lanes.h). Pure decider: the dispatcher passes `now` and the next try.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/read_model.h"
#include "gatehouse/notifier/v1/events.pb.h"

namespace gatehouse::notifier {

enum class DeliveryStatus { none, pending, delivered, failed };
std::string_view to_string(DeliveryStatus status);

// "msg_" + 32 hex digits of BLAKE2b(event id, endpoint id).
std::string webhook_delivery_id(const std::string& event_id, const std::string& endpoint_id);

struct QueueDelivery {
    v1::WebhookDeliveryQueued queued;  // complete, with delivery_id and queued_at
};

struct ReleaseDelivery {
    std::chrono::system_clock::time_point now;
};

struct RecordDelivered {
    int status_code = 0;
    std::chrono::milliseconds duration{};
    std::chrono::system_clock::time_point now;
};

struct RecordAttemptFailed {
    int status_code = 0;  // 0: no HTTP answer
    std::string error;
    std::chrono::milliseconds duration{};
    std::chrono::system_clock::time_point now;
    std::chrono::system_clock::time_point next_attempt_at;
    // Retried until the delivery has been pending this long (from queued / redelivered); a failure
    // at or after that deadline fails the delivery as exhausted (and so disables its endpoint).
    std::chrono::milliseconds retry_for{std::chrono::hours(24)};
};

// The endpoint is disabled or removed: the delivery fails without an attempt.
struct AbandonDelivery {
    std::string reason;
    std::chrono::system_clock::time_point now;
};

struct Redeliver {
    std::string operator_id;
    std::chrono::system_clock::time_point now;
};

struct DeliveryState {
    DeliveryStatus status = DeliveryStatus::none;
    v1::WebhookDeliveryQueued queued;
    bool waiting = false;      // behind an earlier delivery of its aggregate
    bool redelivered = false;  // queued again by an operator: outside the per-aggregate order
    unsigned attempts = 0;     // since queued or redelivered
    unsigned total_attempts = 0;
    std::chrono::system_clock::time_point next_attempt_at{};
    std::chrono::system_clock::time_point retrying_since{};
    std::chrono::system_clock::time_point delivered_at{};
    std::string last_error;
    // The most recent attempts, oldest first (at most kKeptAttempts): the delivery log.
    static constexpr std::size_t kKeptAttempts = 20;
    struct Attempt {
        unsigned attempt = 0;
        std::chrono::system_clock::time_point at{};
        int status_code = 0;
        std::string error;
        unsigned duration_ms = 0;
    };
    std::vector<Attempt> recent_attempts;
};

struct WebhookDelivery {
    static constexpr std::string_view kAggregateType = "webhook_delivery";
    using Event = v1::WebhookDeliveryEvent;
    using State = DeliveryState;
    using Command =
        std::variant<QueueDelivery, ReleaseDelivery, RecordDelivered, RecordAttemptFailed, AbandonDelivery, Redeliver>;

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

using WebhookDeliveryRuntime = kernel::AggregateRuntime<WebhookDelivery>;

// Bump when webhook_delivery_read_model() changes what it writes.
inline constexpr std::uint32_t kWebhookDeliveryReadModelVersion = 1;

namespace delivery_index {
// Pending deliveries that may go out (not waiting), by next attempt time: the dispatcher's range.
inline constexpr std::string_view kDue = "due";
// Pending deliveries in the per-aggregate order (not those an operator redelivered), by
// (endpoint, aggregate type, aggregate id, aggregate version): the first of a lane is its head.
inline constexpr std::string_view kLane = "lane";
// Waiting deliveries, by endpoint: checked at start-up for a lane whose head was never released.
inline constexpr std::string_view kWaiting = "waiting";
// Every delivery by endpoint, newest first: ListWebhookDeliveries.
inline constexpr std::string_view kByEndpoint = "endpoint";

// The lane of a delivery (the prefix of its kLane entries).
kernel::IndexKey lane(const std::string& endpoint_id, const std::string& aggregate_type,
                      const std::string& aggregate_id);
// The end (exclusive) of the kDue range: deliveries due at or before `now`.
kernel::IndexKey due_until(std::chrono::system_clock::time_point now);
std::string status_counter(DeliveryStatus status);
}  // namespace delivery_index

kernel::ReadModel<DeliveryState> webhook_delivery_read_model();

}  // namespace gatehouse::notifier
