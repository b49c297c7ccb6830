#include "app/webhook_dispatcher.h"

#include <algorithm>
#include <vector>

#include "app/parallel_sends.h"
#include "app/webhook_lanes.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/topics.h"
#include "transport/webhook_signing.h"

namespace gatehouse::notifier {
namespace {

using Clock = std::chrono::system_clock;

std::chrono::milliseconds since(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
}

}  // namespace

std::vector<std::string> signing_keys(const EndpointState& endpoint, const kernel::TokenOpener& secrets,
                                      Clock::time_point now) {
    std::vector<std::string> keys;
    const auto add = [&](const std::string& sealed) {
        const auto secret = secrets.open(sealed);
        const auto key = secret ? webhook_secret_key(*secret) : std::nullopt;
        if (key) {
            keys.push_back(*key);
        }
        return key.has_value();
    };
    if (!add(endpoint.sealed_secret)) {
        return {};
    }
    if (!endpoint.previous_sealed_secret.empty() && now < endpoint.previous_valid_until) {
        add(endpoint.previous_sealed_secret);
    }
    return keys;
}

WebhookDispatcher::WebhookDispatcher(WebhookEndpointRuntime& endpoints, WebhookDeliveryRuntime& deliveries,
                                     NotificationRuntime& notifications, const kernel::TokenOpener& secrets,
                                     WebhookSettings settings, WebhookMetrics metrics, std::function<bool()> stopping)
    : endpoints_(endpoints),
      deliveries_(deliveries),
      notifications_(notifications),
      secrets_(secrets),
      settings_(std::move(settings)),
      metrics_(metrics),
      stopping_(std::move(stopping)),
      interrupted_([this] { return this->stopping(); }),
      backoff_(settings_.backoff_initial, settings_.backoff_max) {}

void WebhookDispatcher::dispatch_all_due() {
    const std::size_t limit = std::max<std::size_t>(settings_.batch_size, 1);
    while (!stopping()) {
        if (dispatch_due(Clock::now()) < limit) {
            return;
        }
    }
}

std::size_t WebhookDispatcher::dispatch_due(Clock::time_point now) {
    if (metrics_.pending != nullptr) {
        metrics_.pending->set(
            static_cast<double>(deliveries_.count(delivery_index::status_counter(DeliveryStatus::pending))));
    }
    const std::size_t limit = std::max<std::size_t>(settings_.batch_size, 1);
    const kernel::IndexKey until = delivery_index::due_until(now);
    std::vector<std::string> due;
    deliveries_.visit_index(
        delivery_index::kDue, {}, {},
        [&](const kernel::IndexHit& hit) {
            due.push_back(hit.aggregate_id);
            return due.size() < limit;
        },
        &until);
    return run_parallel_sends(
        due, settings_.parallelism, [this] { return stopping(); },
        [this](const std::string& id) { return attempt_one(id); });
}

bool WebhookDispatcher::attempt_one(const std::string& id) {
    const auto found = deliveries_.find(id);
    if (!found || found->state.status != DeliveryStatus::pending || found->state.waiting) {
        return false;
    }
    const DeliveryState& delivery = found->state;
    const auto& queued = delivery.queued;
    auto log = kernel::logger("notifier");
    const auto endpoint = endpoints_.find(queued.endpoint_id());
    if (!endpoint || endpoint->state.status != EndpointStatus::active) {
        end_for_good(delivery,
                     "endpoint " + queued.endpoint_id() + " is " +
                         std::string(to_string(endpoint ? endpoint->state.status : EndpointStatus::none)),
                     false, Clock::now());
        return true;
    }
    const auto now = Clock::now();
    const std::vector<std::string> keys = signing_keys(endpoint->state, secrets_, now);
    if (keys.empty()) {
        end_for_good(delivery,
                     "the endpoint's secret cannot be opened with this notifier's key (sealed to another key?)", false,
                     now);
        return true;
    }
    const long long timestamp = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    HttpPost post{endpoint->state.registered.url(),
                  queued.body(),
                  {"webhook-id: " + id, "webhook-timestamp: " + std::to_string(timestamp),
                   "webhook-signature: " + webhook_signature_header(keys, id, timestamp, queued.body()),
                   "User-Agent: gatehouse-notifier"},
                  settings_.timeout};
    const auto started = std::chrono::steady_clock::now();
    const HttpAnswer answer = post_http(post, interrupted_);
    const auto duration = since(started);
    const auto finished = Clock::now();
    const kernel::CommandContext context{.causation_id = queued.event_id(), .actor = "notifier"};
    switch (answer.outcome.kind) {
        case SendOutcome::Kind::interrupted:
            log->info("webhook {} to {}: abandoned, the service is stopping; sent at the next start", id,
                      queued.endpoint_id());
            return true;
        case SendOutcome::Kind::delivered:
            (void)deliveries_.execute(id, RecordDelivered{answer.status_code, duration, finished}, context);
            if (metrics_.delivered != nullptr) {
                metrics_.delivered->increment();
            }
            release_lane_head(deliveries_, queued, finished);
            return true;
        case SendOutcome::Kind::transient:
        case SendOutcome::Kind::permanent:
            break;
    }
    if (metrics_.failed_attempts != nullptr) {
        metrics_.failed_attempts->increment();
    }
    const auto result = deliveries_.execute(
        id,
        RecordAttemptFailed{.status_code = answer.status_code,
                            .error = answer.outcome.error,
                            .duration = duration,
                            .now = finished,
                            .next_attempt_at = backoff_.next_attempt(finished, delivery.attempts + 1),
                            .retry_for = settings_.retry_for},
        context);
    const auto* accepted = std::get_if<kernel::Accepted<v1::WebhookDeliveryEvent>>(&result);
    if (accepted == nullptr) {
        log->warn("webhook {}: the failed attempt was not recorded ({}): {}", id,
                  std::get<kernel::Rejection>(result).message, answer.outcome.error);
        return true;
    }
    const bool exhausted = std::any_of(accepted->events.begin(), accepted->events.end(),
                                       [](const v1::WebhookDeliveryEvent& event) { return event.has_failed(); });
    if (!exhausted) {
        log->warn("webhook {} to {} attempt {} failed, will retry: {}", id, queued.endpoint_id(), delivery.attempts + 1,
                  answer.outcome.error);
        return true;
    }
    end_for_good(delivery, answer.outcome.error, true, finished);
    return true;
}

void WebhookDispatcher::end_for_good(const DeliveryState& delivery, const std::string& reason, bool exhausted,
                                     Clock::time_point now) {
    const auto& queued = delivery.queued;
    const std::string& id = queued.delivery_id();
    auto log = kernel::logger("notifier");
    if (!exhausted) {
        (void)deliveries_.execute(id, AbandonDelivery{reason, now}, {.actor = "notifier"});
    }
    if (metrics_.failed != nullptr) {
        metrics_.failed->increment();
    }
    if (exhausted) {
        const auto endpoint = endpoints_.find(queued.endpoint_id());
        const std::string why =
            "delivery " + id + " failed for " +
            std::to_string(std::chrono::duration_cast<std::chrono::minutes>(settings_.retry_for).count()) +
            " min: " + reason;
        log->error("webhook endpoint {} disabled: {}", queued.endpoint_id(), why);
        // The email first: its id is derived from the delivery, so a crash before the endpoint is
        // disabled queues it once all the same (the delivery fails again after the restart).
        if (!settings_.operator_email.empty() && endpoint) {
            v1::NotificationQueued email;
            const std::string kTemplate = "webhook_endpoint_disabled";
            email.set_notification_id(notification_id(id, kTemplate, settings_.operator_email));
            email.set_cause_event_id(id);
            email.set_cause_event_type(v1::WebhookDeliveryFailed::descriptor()->full_name());
            email.set_cause_topic(platform::kNotifierEvents.name);
            email.set_template_name(kTemplate);
            email.set_channel(v1::CHANNEL_EMAIL);
            email.set_recipient(settings_.operator_email);
            email.set_locale(settings_.locale);
            auto& variables = *email.mutable_variables();
            variables["endpoint_id"] = queued.endpoint_id();
            variables["url"] = endpoint->state.registered.url();
            variables["delivery_id"] = id;
            variables["event_type"] = queued.event_type();
            variables["reason"] = reason;
            *email.mutable_queued_at() = kernel::to_timestamp(now);
            (void)notifications_.execute(email.notification_id(), Queue{email}, {.actor = "notifier"});
        }
        (void)endpoints_.execute(queued.endpoint_id(), DisableEndpoint{why, id, now}, {.actor = "notifier"});
    } else {
        log->warn("webhook {} to {} failed without an attempt: {}", id, queued.endpoint_id(), reason);
    }
    release_lane_head(deliveries_, queued, now);
}

}  // namespace gatehouse::notifier
