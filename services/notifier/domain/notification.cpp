#include "domain/notification.h"

#include <algorithm>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::notifier {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;
using Event = v1::NotificationEvent;

Decision<Event> one(Event event) { return std::vector<Event>{std::move(event)}; }
Decision<Event> nothing() { return std::vector<Event>{}; }

Decision<Event> decide_queue(const Queue& command, const NotificationState& state) {
    if (state.status != NotificationStatus::none) {
        return nothing();  // the same cause, template and recipient: already queued
    }
    if (command.queued.notification_id().empty() || command.queued.recipient().empty() ||
        command.queued.template_name().empty()) {
        return Rejection{RejectionCode::invalid_argument, "a notification needs an id, a template and a recipient"};
    }
    Event event;
    *event.mutable_queued() = command.queued;
    return one(std::move(event));
}

Decision<Event> decide_sent(const RecordSent& command, const NotificationState& state) {
    if (state.status == NotificationStatus::sent) {
        return nothing();
    }
    if (state.status != NotificationStatus::queued) {
        return Rejection{RejectionCode::failed_precondition,
                         "notification is " + std::string(to_string(state.status)) + ", not queued"};
    }
    Event event;
    auto& sent = *event.mutable_sent();
    sent.set_attempt(state.attempts + 1);
    *sent.mutable_sent_at() = kernel::to_timestamp(command.now);
    sent.set_message_id(command.message_id);
    sent.set_transport(command.transport);
    return one(std::move(event));
}

Decision<Event> decide_failure(const RecordFailure& command, const NotificationState& state) {
    if (state.status != NotificationStatus::queued) {
        return Rejection{RejectionCode::failed_precondition,
                         "notification is " + std::string(to_string(state.status)) + ", not queued"};
    }
    const unsigned attempt = state.attempts + 1;
    std::vector<Event> events;
    Event failed;
    auto& body = *failed.mutable_attempt_failed();
    body.set_attempt(attempt);
    body.set_error(command.error);
    *body.mutable_failed_at() = kernel::to_timestamp(command.now);
    // (A notification queued without a queued_at, which the planner never does, is not limited.)
    const bool limited_by_time =
        command.retry_for > std::chrono::milliseconds::zero() && state.retrying_since != Clock::time_point{};
    const Clock::time_point deadline = state.retrying_since + command.retry_for;
    const bool out_of_time = limited_by_time && command.now >= deadline;
    const bool out_of_attempts = command.max_attempts > 0 && attempt >= command.max_attempts;
    const bool give_up = command.permanent || out_of_time || out_of_attempts;
    if (!give_up) {
        // The last retry comes at the deadline at the latest (a failure then dead-letters).
        const auto next = limited_by_time ? std::min(command.next_attempt_at, deadline) : command.next_attempt_at;
        *body.mutable_next_attempt_at() = kernel::to_timestamp(next);
    }
    events.push_back(std::move(failed));
    if (give_up) {
        Event dead;
        auto& letter = *dead.mutable_dead_lettered();
        letter.set_attempts(attempt);
        letter.set_last_error(command.error);
        letter.set_permanent(command.permanent);
        *letter.mutable_dead_lettered_at() = kernel::to_timestamp(command.now);
        events.push_back(std::move(dead));
    }
    return events;
}

Decision<Event> decide_redrive(const Redrive& command, const NotificationState& state) {
    if (state.status == NotificationStatus::none) {
        return Rejection{RejectionCode::not_found, "notification_id: no such notification"};
    }
    if (state.status != NotificationStatus::dead_lettered) {
        return Rejection{
            RejectionCode::failed_precondition,
            "only a dead-lettered notification can be re-driven; it is " + std::string(to_string(state.status))};
    }
    if (command.reason.empty()) {
        return Rejection{RejectionCode::invalid_argument, "reason: is required"};
    }
    Event event;
    auto& body = *event.mutable_redriven();
    body.set_redriven_by(command.operator_id);
    body.set_reason(command.reason);
    *body.mutable_redriven_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

}  // namespace

std::string_view to_string(NotificationStatus status) {
    switch (status) {
        case NotificationStatus::none:
            return "unknown";
        case NotificationStatus::queued:
            return "queued";
        case NotificationStatus::sent:
            return "sent";
        case NotificationStatus::dead_lettered:
            return "dead-lettered";
    }
    return "unknown";
}

std::string notification_id(const std::string& cause_event_id, const std::string& template_name,
                            const std::string& recipient) {
    // Recipients are compared case-insensitively (email addresses are, in practice).
    std::string key = cause_event_id + '\n' + template_name + '\n';
    for (const char c : recipient) {
        key.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    return hashed_id("N-", key, 12);  // 96 bits: collisions are not a practical concern
}

std::string hashed_id(std::string_view prefix, std::string_view key, std::size_t bytes) {
    const std::string digest = kernel::blake2b_256(key);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(prefix);
    for (std::size_t i = 0; i < bytes && i < digest.size(); ++i) {
        id.push_back(kHex[static_cast<unsigned char>(digest[i]) >> 4]);
        id.push_back(kHex[static_cast<unsigned char>(digest[i]) & 0xF]);
    }
    return id;
}

kernel::Decision<Event> Notification::decide(const Command& command, const State& state) {
    return std::visit(
        [&](const auto& c) -> kernel::Decision<Event> {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, Queue>) {
                return decide_queue(c, state);
            } else if constexpr (std::is_same_v<T, RecordSent>) {
                return decide_sent(c, state);
            } else if constexpr (std::is_same_v<T, RecordFailure>) {
                return decide_failure(c, state);
            } else {
                return decide_redrive(c, state);
            }
        },
        command);
}

NotificationState Notification::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kQueued:
            state.status = NotificationStatus::queued;
            state.queued = event.queued();
            state.next_attempt_at = kernel::to_time_point(event.queued().queued_at());
            state.retrying_since = state.next_attempt_at;
            break;
        case Event::kSent:
            state.status = NotificationStatus::sent;
            ++state.attempts;
            ++state.total_attempts;
            state.sent_at = kernel::to_time_point(event.sent().sent_at());
            state.message_id = event.sent().message_id();
            state.last_error.clear();
            break;
        case Event::kAttemptFailed:
            ++state.attempts;
            ++state.total_attempts;
            state.last_error = event.attempt_failed().error();
            state.next_attempt_at = kernel::to_time_point(event.attempt_failed().next_attempt_at());
            if (state.failures.size() >= NotificationState::kKeptFailures) {
                state.failures.erase(state.failures.begin());
            }
            state.failures.push_back(event.attempt_failed());
            break;
        case Event::kDeadLettered:
            state.status = NotificationStatus::dead_lettered;
            break;
        case Event::kRedriven:
            state.status = NotificationStatus::queued;
            state.attempts = 0;
            state.next_attempt_at = kernel::to_time_point(event.redriven().redriven_at());
            state.retrying_since = state.next_attempt_at;
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::notifier
