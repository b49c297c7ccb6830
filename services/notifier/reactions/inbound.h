// The notifier's inbox handler: plans the notifications an input event causes and queues each one,
// and queues a webhook delivery for each active endpoint subscribed to the event's type.
#pragma once

#include <cstddef>
#include <string>

#include "domain/notification.h"
#include "domain/planner.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_endpoint.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::notifier {

// Queues every planned notification. Their ids are derived from the cause, so a redelivery queues
// nothing new; the inbox record is committed with the last of them (or by the inbox itself when
// nothing was planned). An undecodable payload is poison (dead-lettered with the reason).
kernel::HandlerVerdict queue_notifications(InputTopic topic, const kernel::InboundEvent& event,
                                           NotificationRuntime& notifications, const PlannerSettings& settings);

// Queues one WebhookDelivery per active endpoint subscribed to the event's type (none: nothing
// written). Delivery ids are derived from (event, endpoint): a redelivery queues nothing new.
// `topic`: the input topic's name without the deployment's prefix. Returns how many were queued.
std::size_t queue_webhook_deliveries(const std::string& topic, const kernel::InboundEvent& event,
                                     WebhookEndpointRuntime& endpoints, WebhookDeliveryRuntime& deliveries);

struct WebhookRuntimes {
    WebhookEndpointRuntime& endpoints;
    WebhookDeliveryRuntime& deliveries;
};

// What each input topic's consumer runs: the webhook deliveries first (without the inbox record),
// then the notifications (with it).
kernel::HandlerVerdict react_to_input(InputTopic kind, const std::string& topic, const kernel::InboundEvent& event,
                                      NotificationRuntime& notifications, const PlannerSettings& settings,
                                      WebhookRuntimes webhooks);

}  // namespace gatehouse::notifier
