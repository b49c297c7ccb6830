// Order per endpoint and aggregate ("lanes"): the deliveries of one aggregate's events to one
// endpoint go out in aggregate_version order, one at a time; other aggregates' lanes go on.
//
// A lane is the range of the WebhookDelivery read model's "lane" index under (endpoint,
// aggregate): its pending deliveries, the head first. A delivery queued into a non-empty lane
// starts waiting; whoever ends a head (delivered, failed) releases the new head. Both sides look
// at the lane *after* their own commit, so whichever of two concurrent steps commits last sees
// the other's write and the new head is always released (the index is written in the same atomic
// write as the events). Only a crash between a head's end and its successor's release can leave a
// lane stalled: release_stalled_lanes() at start-up takes care of that.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "domain/webhook_delivery.h"

namespace gatehouse::notifier {

// Queues `queued` (complete but for `waiting`, which this sets) and releases it at once if it is
// the head of its lane after all. Returns the runtime's answer to the queue command.
kernel::CommandResult<v1::WebhookDeliveryEvent> queue_in_lane(WebhookDeliveryRuntime& deliveries,
                                                              v1::WebhookDeliveryQueued queued,
                                                              const kernel::CommandContext& context);

// Releases the head of the lane of `queued`'s aggregate and endpoint if it is waiting.
void release_lane_head(WebhookDeliveryRuntime& deliveries, const v1::WebhookDeliveryQueued& queued,
                       std::chrono::system_clock::time_point now);

// Every waiting delivery that heads its lane is released: the start-up repair after a crash
// between the end of a head and the release of the next. Costs O(waiting deliveries). Returns
// how many it released.
std::size_t release_stalled_lanes(WebhookDeliveryRuntime& deliveries, std::chrono::system_clock::time_point now);

}  // namespace gatehouse::notifier
