// Order per endpoint and aggregate (app/webhook_lanes.h) on a real event store: which
// deliveries the dispatcher may take (the read model's "due" index) as deliveries are queued,
// delivered and failed, and the start-up repair of a lane stalled by a crash. Also which secrets
// sign for an endpoint around a rotation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>

#include "app/webhook_dispatcher.h"
#include "app/webhook_lanes.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/testing/service_process.h"
#include "gatehouse/testing/temp_dir.h"
#include "transport/webhook_signing.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
using namespace std::chrono_literals;
using gatehouse::testing::TempDir;
using Clock = std::chrono::system_clock;

namespace {

template <class Result>
void require_accepted(const Result& result) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        FAIL("rejected: " << rejection->message);
    }
}

struct Lanes {
    TempDir dir;
    std::unique_ptr<kernel::EventStore> store = kernel::EventStore::open(dir.path());
    WebhookDeliveryRuntime deliveries{
        *store, {.producer = "notifier", .cache_capacity = 2}, webhook_delivery_read_model()};
    Clock::time_point now = Clock::now();

    std::string queue(const std::string& aggregate_id, std::uint64_t version, const std::string& endpoint = "ep_1") {
        v1::WebhookDeliveryQueued queued;
        const std::string event_id = aggregate_id + "@" + std::to_string(version);
        queued.set_delivery_id(webhook_delivery_id(event_id, endpoint));
        queued.set_endpoint_id(endpoint);
        queued.set_event_id(event_id);
        queued.set_event_type("gatehouse.sales.v1.LeadCreated");
        queued.set_aggregate_type("lead");
        queued.set_aggregate_id(aggregate_id);
        queued.set_aggregate_version(version);
        queued.set_body("{}");
        *queued.mutable_queued_at() = kernel::to_timestamp(now);
        require_accepted(queue_in_lane(deliveries, queued, {}));
        return queued.delivery_id();
    }
    // What the dispatcher may take now.
    std::set<std::string> due() const {
        std::set<std::string> ids;
        const kernel::IndexKey until = delivery_index::due_until(now + 1h);
        deliveries.visit_index(
            delivery_index::kDue, {}, {},
            [&](const kernel::IndexHit& hit) {
                ids.insert(hit.aggregate_id);
                return true;
            },
            &until);
        return ids;
    }
    void delivered(const std::string& id, bool release = true) {
        require_accepted(deliveries.execute(id, RecordDelivered{204, 5ms, now}));
        if (release) {
            release_lane_head(deliveries, deliveries.find(id)->state.queued, now);
        }
    }
};

}  // namespace

TEST_CASE("one aggregate's deliveries to an endpoint go out one at a time in version order, and other aggregates go on",
          "[webhooks]") {
    Lanes lanes;
    const auto l1v1 = lanes.queue("L-1", 1);
    const auto l1v2 = lanes.queue("L-1", 2);
    const auto l1v3 = lanes.queue("L-1", 3);
    const auto l2v1 = lanes.queue("L-2", 1);
    const auto other_endpoint = lanes.queue("L-1", 2, "ep_2");  // another endpoint: another lane
    CHECK(lanes.due() == std::set<std::string>{l1v1, l2v1, other_endpoint});
    CHECK(lanes.deliveries.find(l1v2)->state.waiting);

    // A failed attempt keeps the head: the later events wait.
    require_accepted(lanes.deliveries.execute(
        l1v1, RecordAttemptFailed{
                  .status_code = 503, .error = "HTTP 503", .now = lanes.now, .next_attempt_at = lanes.now + 1s}));
    CHECK(lanes.due() == std::set<std::string>{l1v1, l2v1, other_endpoint});

    lanes.delivered(l1v1);
    CHECK(lanes.due() == std::set<std::string>{l1v2, l2v1, other_endpoint});
    // A delivery that fails for good ends its turn too.
    require_accepted(lanes.deliveries.execute(l1v2, AbandonDelivery{"endpoint ep_1 is disabled", lanes.now}));
    release_lane_head(lanes.deliveries, lanes.deliveries.find(l1v2)->state.queued, lanes.now);
    CHECK(lanes.due() == std::set<std::string>{l1v3, l2v1, other_endpoint});
    lanes.delivered(l1v3);
    lanes.delivered(l2v1);
    lanes.delivered(other_endpoint);
    CHECK(lanes.due().empty());
    CHECK(lanes.deliveries.lookup(delivery_index::kLane, {}).empty());
    CHECK(lanes.deliveries.count(delivery_index::status_counter(DeliveryStatus::delivered)) == 4);
    CHECK(lanes.deliveries.count(delivery_index::status_counter(DeliveryStatus::failed)) == 1);
}

TEST_CASE("queueing the same event for the same endpoint again changes nothing", "[webhooks]") {
    Lanes lanes;
    const auto id = lanes.queue("L-1", 1);
    lanes.delivered(id);
    lanes.queue("L-1", 1);  // a redelivered input event
    const auto state = lanes.deliveries.find(id)->state;
    CHECK(state.status == DeliveryStatus::delivered);
    CHECK(lanes.due().empty());
}

TEST_CASE("a lane stalled by a crash between a head's end and the next one's release is repaired at start-up",
          "[webhooks]") {
    Lanes lanes;
    const auto first = lanes.queue("L-1", 1);
    const auto second = lanes.queue("L-1", 2);
    const auto third = lanes.queue("L-1", 3);
    lanes.delivered(first, false);  // the process died before releasing `second`
    CHECK(lanes.due().empty());
    CHECK(release_stalled_lanes(lanes.deliveries, lanes.now) == 1);
    CHECK(lanes.due() == std::set<std::string>{second});
    CHECK(lanes.deliveries.find(third)->state.waiting);
    CHECK(release_stalled_lanes(lanes.deliveries, lanes.now) == 0);  // nothing else was stalled
}

TEST_CASE("a redelivery goes out at once, outside the order of its aggregate", "[webhooks]") {
    Lanes lanes;
    const auto first = lanes.queue("L-1", 1);
    lanes.delivered(first);
    const auto second = lanes.queue("L-1", 2);
    CHECK(lanes.due() == std::set<std::string>{second});
    require_accepted(lanes.deliveries.execute(first, Redeliver{"olga", lanes.now}));
    CHECK(lanes.due() == std::set<std::string>{first, second});
    CHECK_FALSE(lanes.deliveries.find(first)->state.waiting);
}

TEST_CASE("after a rotation both secrets sign until the grace period ends, then the new one alone", "[webhooks]") {
    const testing::NotifierKeys keys;
    const kernel::TokenOpener opener(keys.public_text(), keys.secret_text(), "notifier.public_key",
                                     "notifier.secret_key");
    const std::string old_secret = generate_webhook_secret();
    const std::string new_secret = generate_webhook_secret();
    const auto now = Clock::now();
    EndpointState endpoint;
    endpoint.status = EndpointStatus::active;
    endpoint.sealed_secret = keys.seal(old_secret);
    CHECK(signing_keys(endpoint, opener, now) == std::vector<std::string>{*webhook_secret_key(old_secret)});

    endpoint.previous_sealed_secret = endpoint.sealed_secret;
    endpoint.sealed_secret = keys.seal(new_secret);
    endpoint.previous_valid_until = now + 1h;
    CHECK(signing_keys(endpoint, opener, now) ==
          std::vector<std::string>{*webhook_secret_key(new_secret), *webhook_secret_key(old_secret)});
    CHECK(signing_keys(endpoint, opener, now + 1h) == std::vector<std::string>{*webhook_secret_key(new_secret)});

    // A secret sealed to another key pair signs nothing: the delivery fails rather than go unsigned.
    const testing::NotifierKeys other;
    endpoint.sealed_secret = other.seal(new_secret);
    CHECK(signing_keys(endpoint, opener, now).empty());
}
