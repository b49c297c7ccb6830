// The webhook dispatcher: POSTs the pending webhook deliveries that are due, signed the Standard
// Webhooks way, up to `parallelism` at a time, and records each outcome (delivered; attempt
// failed with the next try; failed). Built from the same parts as the notification dispatcher
// (app/backoff.h, app/parallel_sends.h, transport/transport.h's post_http).
//
// Per delivery: load -> check the endpoint is active -> open its secret(s) in memory -> sign with
// the current time -> POST -> record -> release the next delivery of its lane. As for
// notifications, the record follows the send: a crash in between sends it again after the
// restart, with the same webhook-id (receivers deduplicate on it: docs/webhooks.md).
//
// A delivery that fails for `retry_for` (from when it could first go out) fails for good: its
// endpoint is disabled and, when an operator address is set, an email is queued to it through
// the notifier's own Notification path. Deliveries to a disabled or removed endpoint fail without
// an attempt when they come due.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "app/backoff.h"
#include "domain/notification.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_endpoint.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/kernel/sealed_token.h"
#include "transport/transport.h"

namespace gatehouse::notifier {

struct WebhookSettings {
    std::chrono::milliseconds retry_for{std::chrono::hours(24)};
    std::chrono::milliseconds backoff_initial{5000};
    std::chrono::milliseconds backoff_max{std::chrono::minutes(10)};
    std::chrono::milliseconds timeout{10000};
    std::size_t batch_size = 200;
    std::size_t parallelism = 4;
    // Where "endpoint disabled" emails go; empty: none (the log and the endpoint's status only).
    std::string operator_email;
    std::string locale = "en";  // of that email
};

struct WebhookMetrics {
    kernel::MetricCounter* delivered = nullptr;
    kernel::MetricCounter* failed_attempts = nullptr;
    kernel::MetricCounter* failed = nullptr;  // deliveries given up on
    kernel::MetricGauge* pending = nullptr;
};

class WebhookDispatcher final {
  public:
    WebhookDispatcher(WebhookEndpointRuntime& endpoints, WebhookDeliveryRuntime& deliveries,
                      NotificationRuntime& notifications, const kernel::TokenOpener& secrets, WebhookSettings settings,
                      WebhookMetrics metrics = {}, std::function<bool()> stopping = {});

    // Attempts the deliveries due at `now` (at most settings.batch_size); returns how many.
    std::size_t dispatch_due(std::chrono::system_clock::time_point now);
    // Batches at the current time until one is not full (or a stop): what the poll loop runs.
    void dispatch_all_due();

    void request_stop() { stop_requested_ = true; }
    [[nodiscard]] bool stopping() const { return stop_requested_.load() || (stopping_ && stopping_()); }

  private:
    bool attempt_one(const std::string& id);
    void end_for_good(const DeliveryState& delivery, const std::string& reason, bool exhausted,
                      std::chrono::system_clock::time_point now);

    WebhookEndpointRuntime& endpoints_;
    WebhookDeliveryRuntime& deliveries_;
    NotificationRuntime& notifications_;
    const kernel::TokenOpener& secrets_;
    WebhookSettings settings_;
    WebhookMetrics metrics_;
    std::function<bool()> stopping_;
    Interrupted interrupted_;
    std::atomic<bool> stop_requested_{false};
    Backoff backoff_;
};

// The keys that sign for `endpoint` at `now`: the current secret's, and the previous one's during
// the rotation grace period. Empty when the secrets cannot be opened with this notifier's key.
std::vector<std::string> signing_keys(const EndpointState& endpoint, const kernel::TokenOpener& secrets,
                                      std::chrono::system_clock::time_point now);

}  // namespace gatehouse::notifier
