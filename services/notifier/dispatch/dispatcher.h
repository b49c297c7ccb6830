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

    // Sends every notification due at `now`; returns how many were attempted.
    std::size_t dispatch_due(Clock::time_point now);

    // The retry time after `attempt` failed attempts: exponential from backoff_initial, capped at
    // backoff_max, with "full jitter" in [delay/2, delay].
    [[nodiscard]] Clock::time_point next_attempt(Clock::time_point now, unsigned attempt);

  private:
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
