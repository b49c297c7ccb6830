// The dispatcher: sends queued notifications that are due, up to `parallelism` at a time, and
// records each outcome in the log (sent; failed with the next attempt time; dead-lettered).
//
// Order of work per notification: render -> open the sealed token (in memory only) -> send ->
// record. The record follows the send, so a crash between the two re-sends the message after the
// restart: the one window where a message can go out twice. It is narrowed by a Message-ID that is
// the same for every attempt of a notification (receiving servers and the file transport dedupe
// on it). See services/notifier/README.md.
//
// Retries: a transient failure is retried with capped exponential backoff and jitter until the
// notification has been queued for `retry_for` (and, if set, for at most `max_attempts`); the
// Notification decider makes that decision from the RecordFailure command.
//
// Stopping: once request_stop() was called or the `stopping` check answers true, no new send
// starts and the ones in flight are abandoned (the transports ask every 100 ms or so). Nothing is
// recorded for an abandoned send: the notification stays queued as it was and is sent at the next
// start, with the same Message-ID.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "app/backoff.h"
#include "domain/notification.h"
#include "domain/templates.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/kernel/sealed_token.h"
#include "transport/transport.h"

namespace gatehouse::notifier {

struct DispatchSettings {
    std::string links_base_url = "http://127.0.0.1:8080";
    std::string from = "Gatehouse <no-reply@gatehouse.localhost>";
    std::string message_id_domain = "gatehouse.localhost";
    std::map<std::string, std::string> chat_webhooks;  // channel -> incoming-webhook URL
    // A transient failure is retried until the notification has been queued (or re-driven) this
    // long; then it is dead-lettered.
    std::chrono::milliseconds retry_for{std::chrono::hours(24)};
    unsigned max_attempts = 0;  // an extra cap by count of attempts; 0: none
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{300000};
    std::chrono::milliseconds webhook_timeout{10000};
    // Most notifications one dispatch_due() attempts: what one poll holds in memory and how long it
    // runs stay bounded however long the queue is (the caller asks again while batches are full).
    std::size_t batch_size = 200;
    // Most sends of a batch in flight at once (each on a thread of its own, with its own
    // connection). 1: one at a time, in order.
    std::size_t parallelism = 4;
};

struct DispatchMetrics {
    kernel::MetricCounter* sent = nullptr;
    kernel::MetricCounter* failed = nullptr;  // failed attempts (each retried or dead-lettered)
    kernel::MetricCounter* retried = nullptr;
    kernel::MetricCounter* dead_lettered = nullptr;
    kernel::MetricGauge* queue_depth = nullptr;
    kernel::MetricHistogram* send_seconds = nullptr;
};

class Dispatcher final {
  public:
    // `stopping` (optional, called from the sending threads) answers true once the service stops.
    Dispatcher(NotificationRuntime& notifications, const TemplateSet& templates, EmailTransport& email,
               const kernel::TokenOpener& tokens, DispatchSettings settings, DispatchMetrics metrics = {},
               std::function<bool()> stopping = {});

    // Sends the notifications due at `now`, oldest first (by next attempt time, then id): at most
    // settings.batch_size of them, up to settings.parallelism at a time. Returns how many were
    // attempted (an attempt abandoned because of a stop included). Finds them in the read model's
    // "due" index (O(log n + batch)), not by a walk of all notifications.
    std::size_t dispatch_due(Clock::time_point now);

    // Batches at Clock::now() until one is not full (or attempted nothing), or a stop: everything
    // due now is attempted, a batch at a time. What the poll loop runs.
    void dispatch_all_due();

    // No new send starts; sends in flight are abandoned and not recorded. Safe from any thread.
    void request_stop() { stop_requested_ = true; }
    [[nodiscard]] bool stopping() const { return stop_requested_.load() || (stopping_ && stopping_()); }

    // The retry time after `attempt` failed attempts: exponential from backoff_initial, capped at
    // backoff_max, with "full jitter" in [delay/2, delay]. Safe from any thread.
    [[nodiscard]] Clock::time_point next_attempt(Clock::time_point now, unsigned attempt);

  private:
    struct Batch {
        std::size_t found = 0;      // due notifications taken from the index
        std::size_t attempted = 0;  // of them, sent or failed (the others had left the queue)
    };
    Batch dispatch_batch(Clock::time_point now);
    // Loads, sends and records one notification; false when it was no longer queued.
    bool attempt_one(const std::string& id);
    SendOutcome deliver(const std::string& id, const NotificationState& notification, std::string& message_id);

    NotificationRuntime& notifications_;
    const TemplateSet& templates_;
    EmailTransport& email_;
    const kernel::TokenOpener& tokens_;
    DispatchSettings settings_;
    DispatchMetrics metrics_;
    std::function<bool()> stopping_;
    Interrupted interrupted_;  // what the transports ask: stopping()
    std::atomic<bool> stop_requested_{false};
    Backoff backoff_;
};

}  // namespace gatehouse::notifier
