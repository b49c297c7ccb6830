// The notifier's inbox handler: plans the notifications an input event causes and queues each one.
#pragma once

#include "domain/notification.h"
#include "domain/planner.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::notifier {

// Queues every planned notification. Their ids are derived from the cause, so a redelivery queues
// nothing new; the inbox record is committed with the last of them (or by the inbox itself when
// nothing was planned). An undecodable payload is poison (dead-lettered with the reason).
kernel::HandlerVerdict queue_notifications(InputTopic topic, const kernel::InboundEvent& event,
                                           NotificationRuntime& notifications, const PlannerSettings& settings);

}  // namespace gatehouse::notifier
