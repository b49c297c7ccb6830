#include "domain/webhook_delivery.h"

#include <algorithm>

#include "domain/notification.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::notifier {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;
using Event = v1::WebhookDeliveryEvent;
using Clock = std::chrono::system_clock;

Decision<Event> one(Event event) { return std::vector<Event>{std::move(event)}; }
Decision<Event> nothing() { return std::vector<Event>{}; }

Rejection not_pending(const DeliveryState& state) {
    return Rejection{RejectionCode::failed_precondition,
                     "delivery is " + std::string(to_string(state.status)) + ", not pending"};
}

unsigned millis(std::chrono::milliseconds duration) {
    return static_cast<unsigned>(std::max<long long>(0, duration.count()));
}

Decision<Event> decide(const QueueDelivery& command, const DeliveryState& state) {
    if (state.status != DeliveryStatus::none) {
        return nothing();  // the same event to the same endpoint: already queued
    }
    if (command.queued.delivery_id().empty() || command.queued.endpoint_id().empty() ||
        command.queued.event_id().empty()) {
        return Rejection{RejectionCode::invalid_argument, "a delivery needs an id, an endpoint and an event"};
    }
    Event event;
    *event.mutable_queued() = command.queued;
    return one(std::move(event));
}

Decision<Event> decide(const ReleaseDelivery& command, const DeliveryState& state) {
    if (state.status != DeliveryStatus::pending || !state.waiting) {
        return nothing();  // released already (or done): releasing is idempotent
    }
    Event event;
    *event.mutable_released()->mutable_released_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

Decision<Event> decide(const RecordDelivered& command, const DeliveryState& state) {
    if (state.status == DeliveryStatus::delivered) {
        return nothing();
    }
    if (state.status != DeliveryStatus::pending) {
        return not_pending(state);
    }
    Event event;
    auto& delivered = *event.mutable_delivered();
    delivered.set_attempt(state.attempts + 1);
    delivered.set_status_code(command.status_code);
    *delivered.mutable_delivered_at() = kernel::to_timestamp(command.now);
    delivered.set_duration_ms(millis(command.duration));
    return one(std::move(event));
}

Decision<Event> decide(const RecordAttemptFailed& command, const DeliveryState& state) {
    if (state.status != DeliveryStatus::pending) {
        return not_pending(state);
    }
    const unsigned attempt = state.attempts + 1;
    const Clock::time_point deadline = state.retrying_since + command.retry_for;
    const bool exhausted = command.now >= deadline;
    std::vector<Event> events;
    Event failed;
    auto& body = *failed.mutable_attempt_failed();
    body.set_attempt(attempt);
    body.set_status_code(command.status_code);
    body.set_error(command.error);
    *body.mutable_failed_at() = kernel::to_timestamp(command.now);
    body.set_duration_ms(millis(command.duration));
    if (!exhausted) {
        // The last retry comes at the deadline at the latest (a failure then gives up).
        *body.mutable_next_attempt_at() = kernel::to_timestamp(std::min(command.next_attempt_at, deadline));
    }
    events.push_back(std::move(failed));
    if (exhausted) {
        Event gave_up;
        auto& letter = *gave_up.mutable_failed();
        letter.set_attempts(attempt);
        letter.set_reason(command.error);
        letter.set_exhausted(true);
        *letter.mutable_failed_at() = kernel::to_timestamp(command.now);
        events.push_back(std::move(gave_up));
    }
    return events;
}

Decision<Event> decide(const AbandonDelivery& command, const DeliveryState& state) {
    if (state.status != DeliveryStatus::pending) {
        return nothing();
    }
    Event event;
    auto& failed = *event.mutable_failed();
    failed.set_attempts(state.attempts);
    failed.set_reason(command.reason);
    *failed.mutable_failed_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

Decision<Event> decide(const Redeliver& command, const DeliveryState& state) {
    if (state.status == DeliveryStatus::none) {
        return Rejection{RejectionCode::not_found, "delivery_id: no such delivery"};
    }
    Event event;
    auto& requested = *event.mutable_redelivery_requested();
    requested.set_requested_by(command.operator_id);
    *requested.mutable_requested_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

void keep_attempt(DeliveryState& state, DeliveryState::Attempt attempt) {
    if (state.recent_attempts.size() >= DeliveryState::kKeptAttempts) {
        state.recent_attempts.erase(state.recent_attempts.begin());
    }
    state.recent_attempts.push_back(std::move(attempt));
}

std::int64_t nanos(Clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::none:
            return "unknown";
        case DeliveryStatus::pending:
            return "pending";
        case DeliveryStatus::delivered:
            return "delivered";
        case DeliveryStatus::failed:
            return "failed";
    }
    return "unknown";
}

std::string webhook_delivery_id(const std::string& event_id, const std::string& endpoint_id) {
    return hashed_id("msg_", event_id + '\n' + endpoint_id, 16);  // 128 bits
}

kernel::Decision<Event> WebhookDelivery::decide(const Command& command, const State& state) {
    return std::visit([&](const auto& c) { return notifier::decide(c, state); }, command);
}

DeliveryState WebhookDelivery::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kQueued:
            state.status = DeliveryStatus::pending;
            state.queued = event.queued();
            state.waiting = event.queued().waiting();
            state.next_attempt_at = kernel::to_time_point(event.queued().queued_at());
            state.retrying_since = state.next_attempt_at;
            break;
        case Event::kReleased:
            state.waiting = false;
            // Retries are counted from when it could first go out.
            state.next_attempt_at = kernel::to_time_point(event.released().released_at());
            state.retrying_since = state.next_attempt_at;
            break;
        case Event::kDelivered:
            state.status = DeliveryStatus::delivered;
            ++state.attempts;
            ++state.total_attempts;
            state.delivered_at = kernel::to_time_point(event.delivered().delivered_at());
            state.last_error.clear();
            keep_attempt(state, {event.delivered().attempt(),
                                 state.delivered_at,
                                 event.delivered().status_code(),
                                 {},
                                 event.delivered().duration_ms()});
            break;
        case Event::kAttemptFailed: {
            const auto& failed = event.attempt_failed();
            ++state.attempts;
            ++state.total_attempts;
            state.last_error = failed.error();
            state.next_attempt_at = kernel::to_time_point(failed.next_attempt_at());
            keep_attempt(state, {failed.attempt(), kernel::to_time_point(failed.failed_at()), failed.status_code(),
                                 failed.error(), failed.duration_ms()});
            break;
        }
        case Event::kFailed:
            state.status = DeliveryStatus::failed;
            state.last_error = event.failed().reason();
            break;
        case Event::kRedeliveryRequested:
            state.status = DeliveryStatus::pending;
            state.waiting = false;
            state.redelivered = true;
            state.attempts = 0;
            state.next_attempt_at = kernel::to_time_point(event.redelivery_requested().requested_at());
            state.retrying_since = state.next_attempt_at;
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

namespace delivery_index {

kernel::IndexKey lane(const std::string& endpoint_id, const std::string& aggregate_type,
                      const std::string& aggregate_id) {
    return kernel::IndexKey().text(endpoint_id).text(aggregate_type).text(aggregate_id);
}

kernel::IndexKey due_until(Clock::time_point now) { return kernel::IndexKey().i64(nanos(now) + 1); }

std::string status_counter(DeliveryStatus status) { return "status:" + std::string(to_string(status)); }

}  // namespace delivery_index

kernel::ReadModel<DeliveryState> webhook_delivery_read_model() {
    return {kWebhookDeliveryReadModelVersion,
            [](const std::string& /*id*/, const DeliveryState& state, kernel::IndexEntries& entries) {
                if (state.status == DeliveryStatus::none) {
                    return;
                }
                const auto& queued = state.queued;
                if (state.status == DeliveryStatus::pending) {
                    if (state.waiting) {
                        entries.add(delivery_index::kWaiting, kernel::IndexKey().text(queued.endpoint_id()));
                    } else {
                        entries.add(delivery_index::kDue, kernel::IndexKey().i64(nanos(state.next_attempt_at)));
                    }
                    if (!state.redelivered) {
                        kernel::IndexKey lane =
                            delivery_index::lane(queued.endpoint_id(), queued.aggregate_type(), queued.aggregate_id());
                        entries.add(delivery_index::kLane, lane.u64(queued.aggregate_version()));
                    }
                }
                entries.add(delivery_index::kByEndpoint,
                            kernel::IndexKey()
                                .text(queued.endpoint_id())
                                .i64_descending(nanos(kernel::to_time_point(queued.queued_at()))));
                entries.count(delivery_index::status_counter(state.status));
            }};
}

}  // namespace gatehouse::notifier
