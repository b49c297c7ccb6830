// The dispatcher: sends queued notifications that are due, one at a time, and records each
// outcome in the log (sent; failed with the next attempt time; dead-lettered).
//
// Order of work per notification: render -> open the sealed token (in memory only) -> send ->
// record. The record follows the send, so a crash between the two re-sends the message after the
// restart: the one window where a message can go out twice. It is narrowed by a Message-ID that is
// the same for every attempt of a notification (receiving servers and the file transport dedupe
// on it). See services/notifier/README.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <random>
#include <string>

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
    unsigned max_attempts = 8;
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{300000};
    std::chrono::milliseconds webhook_timeout{10000};
    // Most notifications one dispatch_due() attempts: what one poll holds in memory and how long it
    // runs stay bounded however long the queue is (the caller asks again while batches are full).
    std::size_t batch_size = 200;
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
    Dispatcher(NotificationRuntime& notifications, const TemplateSet& templates, EmailTransport& email,
               const kernel::TokenOpener& tokens, DispatchSettings settings, DispatchMetrics metrics = {});

    // Sends the notifications due at `now`, oldest first (by next attempt time, then id): at most
    // settings.batch_size of them. Returns how many were attempted. Finds them in the read model's
    // "due" index (O(log n + batch)), not by a walk of all notifications.
    std::size_t dispatch_due(Clock::time_point now);

    // Batches at Clock::now() until one is not full (or attempted nothing): everything due now is
    // attempted, a batch at a time. What the poll loop runs.
    void dispatch_all_due();

    // The retry time after `attempt` failed attempts: exponential from backoff_initial, capped at
    // backoff_max, with "full jitter" in [delay/2, delay].
    [[nodiscard]] Clock::time_point next_attempt(Clock::time_point now, unsigned attempt);

  private:
    struct Batch {
        std::size_t found = 0;      // due notifications taken from the index
        std::size_t attempted = 0;  // of them, sent or failed (the others had left the queue)
    };
    Batch dispatch_batch(Clock::time_point now);
    SendOutcome deliver(const std::string& id, const NotificationState& notification, std::string& message_id);

    NotificationRuntime& notifications_;
    const TemplateSet& templates_;
    EmailTransport& email_;
    const kernel::TokenOpener& tokens_;
    DispatchSettings settings_;
    DispatchMetrics metrics_;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace gatehouse::notifier
