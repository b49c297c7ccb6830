#include "app/webhook_lanes.h"

#include <vector>

namespace gatehouse::notifier {
namespace {

// The id of the first pending delivery of the lane, or "" when it is empty.
std::string lane_head(WebhookDeliveryRuntime& deliveries, const v1::WebhookDeliveryQueued& queued) {
    const auto hits = deliveries.lookup(
        delivery_index::kLane,
        delivery_index::lane(queued.endpoint_id(), queued.aggregate_type(), queued.aggregate_id()), 1);
    return hits.empty() ? std::string() : hits.front().aggregate_id;
}

}  // namespace

kernel::CommandResult<v1::WebhookDeliveryEvent> queue_in_lane(WebhookDeliveryRuntime& deliveries,
                                                              v1::WebhookDeliveryQueued queued,
                                                              const kernel::CommandContext& context) {
    queued.set_waiting(!lane_head(deliveries, queued).empty());
    const std::string id = queued.delivery_id();
    auto result = deliveries.execute(id, QueueDelivery{queued}, context);
    if (queued.waiting() && std::holds_alternative<kernel::Accepted<v1::WebhookDeliveryEvent>>(result)) {
        // The earlier head may have ended between the look and the commit.
        release_lane_head(deliveries, queued, kernel::to_time_point(queued.queued_at()));
    }
    return result;
}

void release_lane_head(WebhookDeliveryRuntime& deliveries, const v1::WebhookDeliveryQueued& queued,
                       std::chrono::system_clock::time_point now) {
    const std::string head = lane_head(deliveries, queued);
    if (!head.empty()) {
        (void)deliveries.execute(head, ReleaseDelivery{now}, {.actor = "notifier"});
    }
}

std::size_t release_stalled_lanes(WebhookDeliveryRuntime& deliveries, std::chrono::system_clock::time_point now) {
    std::vector<std::string> waiting;
    deliveries.visit_index(delivery_index::kWaiting, {}, {}, [&](const kernel::IndexHit& hit) {
        waiting.push_back(hit.aggregate_id);
        return true;
    });
    std::size_t released = 0;
    for (const std::string& id : waiting) {
        const auto found = deliveries.find(id);
        if (!found || !found->state.waiting || lane_head(deliveries, found->state.queued) != id) {
            continue;
        }
        const auto result = deliveries.execute(id, ReleaseDelivery{now}, {.actor = "notifier"});
        if (const auto* accepted = std::get_if<kernel::Accepted<v1::WebhookDeliveryEvent>>(&result);
            accepted != nullptr && !accepted->events.empty()) {
            ++released;
        }
    }
    return released;
}

}  // namespace gatehouse::notifier
