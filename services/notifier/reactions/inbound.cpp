#include "reactions/inbound.h"

#include <set>

#include "app/webhook_lanes.h"
#include "domain/webhook_payload.h"

namespace gatehouse::notifier {

kernel::HandlerVerdict queue_notifications(InputTopic topic, const kernel::InboundEvent& event,
                                           NotificationRuntime& notifications, const PlannerSettings& settings) {
    std::string error;
    const auto planned = plan_notifications(topic, event.envelope, settings, Clock::now(), error);
    if (!error.empty()) {
        return kernel::HandlerVerdict::poison(error);
    }
    if (planned.empty()) {
        return kernel::HandlerVerdict::ignored();
    }
    for (std::size_t i = 0; i < planned.size(); ++i) {
        const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                             .causation_id = event.envelope.event_id(),
                                             .actor = "notifier",
                                             .inbox_key = i + 1 == planned.size() ? event.inbox_key : std::string()};
        const auto result = notifications.execute(planned[i].notification_id(), Queue{planned[i]}, context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::HandlerVerdict::poison(rejection->message);
        }
    }
    return kernel::HandlerVerdict::applied();
}

std::size_t queue_webhook_deliveries(const std::string& topic, const kernel::InboundEvent& event,
                                     WebhookEndpointRuntime& endpoints, WebhookDeliveryRuntime& deliveries) {
    const auto& envelope = event.envelope;
    std::set<std::string> subscribed;
    endpoints.visit_index(endpoint_index::kByEventType, kernel::IndexKey().text(envelope.event_type()), {},
                          [&](const kernel::IndexHit& hit) {
                              subscribed.insert(hit.aggregate_id);
                              return true;
                          });
    if (subscribed.empty()) {
        return 0;
    }
    v1::WebhookDeliveryQueued queued;
    queued.set_event_id(envelope.event_id());
    queued.set_event_type(envelope.event_type());
    queued.set_source_topic(topic);
    queued.set_aggregate_type(envelope.aggregate_type());
    queued.set_aggregate_id(envelope.aggregate_id());
    queued.set_aggregate_version(envelope.aggregate_version());
    queued.set_body(webhook_body(envelope));
    *queued.mutable_queued_at() = kernel::to_timestamp(Clock::now());
    std::size_t queued_count = 0;
    for (const std::string& endpoint_id : subscribed) {
        const std::string id = webhook_delivery_id(envelope.event_id(), endpoint_id);
        if (deliveries.find(id)) {
            continue;  // a redelivered input event: queued before
        }
        queued.set_delivery_id(id);
        queued.set_endpoint_id(endpoint_id);
        const kernel::CommandContext context{
            .correlation_id = envelope.correlation_id(), .causation_id = envelope.event_id(), .actor = "notifier"};
        const auto result = queue_in_lane(deliveries, queued, context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            throw kernel::TransientError("webhook delivery " + id + " not queued: " + rejection->message);
        }
        ++queued_count;
    }
    return queued_count;
}

kernel::HandlerVerdict react_to_input(InputTopic kind, const std::string& topic, const kernel::InboundEvent& event,
                                      NotificationRuntime& notifications, const PlannerSettings& settings,
                                      WebhookRuntimes webhooks) {
    const std::size_t deliveries = queue_webhook_deliveries(topic, event, webhooks.endpoints, webhooks.deliveries);
    kernel::HandlerVerdict verdict = queue_notifications(kind, event, notifications, settings);
    if (verdict.kind == kernel::HandlerVerdict::Kind::ignored && deliveries > 0) {
        return kernel::HandlerVerdict::applied();  // the inbox records it processed all the same
    }
    return verdict;
}

}  // namespace gatehouse::notifier
