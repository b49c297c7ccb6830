// Webhooks, pure parts: Standard Webhooks signing (against the published test vector), the
// WebhookEndpoint and WebhookDelivery deciders (given / when / then), the request body and the
// shared backoff.
#include <google/protobuf/util/json_util.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "app/backoff.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_endpoint.h"
#include "domain/webhook_payload.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/given_when_then.h"
#include "transport/webhook_signing.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

using namespace gatehouse::testing;

namespace {

constexpr Clock::time_point kT0{std::chrono::hours(24 * 365 * 56)};

v1::WebhookEndpointEvent registered_event() {
    v1::WebhookEndpointEvent event;
    auto& registered = *event.mutable_registered();
    registered.set_endpoint_id("ep_1");
    registered.set_url("https://crm.example/hooks");
    registered.add_event_types("gatehouse.sales.v1.LeadCreated");
    registered.add_event_types("gatehouse.sales.v1.OpportunityWon");
    registered.set_sealed_secret("sealed-1");
    *registered.mutable_registered_at() = kernel::to_timestamp(kT0);
    return event;
}

v1::WebhookDeliveryEvent queued_event(bool waiting = false) {
    v1::WebhookDeliveryEvent event;
    auto& queued = *event.mutable_queued();
    queued.set_delivery_id(webhook_delivery_id("evt-1", "ep_1"));
    queued.set_endpoint_id("ep_1");
    queued.set_event_id("evt-1");
    queued.set_event_type("gatehouse.sales.v1.LeadCreated");
    queued.set_aggregate_type("lead");
    queued.set_aggregate_id("L-000001");
    queued.set_aggregate_version(1);
    queued.set_body("{}");
    queued.set_waiting(waiting);
    *queued.mutable_queued_at() = kernel::to_timestamp(kT0);
    return event;
}

RecordAttemptFailed failure_at(Clock::time_point now, std::chrono::milliseconds retry_for = 24h) {
    return RecordAttemptFailed{.status_code = 503,
                               .error = "HTTP 503",
                               .duration = 12ms,
                               .now = now,
                               .next_attempt_at = now + 10s,
                               .retry_for = retry_for};
}

}  // namespace

TEST_CASE("signatures match the Standard Webhooks test vector", "[webhooks]") {
    // The vector of the Standard Webhooks reference libraries' tests; the PyPI standardwebhooks
    // verifier accepts our signatures too (services/notifier/tests/webhook_process_test.cpp).
    const auto key = webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    REQUIRE(key.has_value());
    CHECK(webhook_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
          "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    // The prefix is optional, as in the reference libraries.
    CHECK(webhook_secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == key);
}

TEST_CASE("the signature header carries one signature per signing key", "[webhooks]") {
    const auto old_key = webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const auto new_key = webhook_secret_key(generate_webhook_secret());
    REQUIRE(old_key.has_value());
    REQUIRE(new_key.has_value());
    const std::string header = webhook_signature_header({*new_key, *old_key}, "msg_1", 1700000000, "{}");
    CHECK(header == webhook_signature(*new_key, "msg_1", 1700000000, "{}") + " " +
                        webhook_signature(*old_key, "msg_1", 1700000000, "{}"));
    // Any change to the id, the time or the body changes the signature.
    CHECK(webhook_signature(*old_key, "msg_2", 1700000000, "{}") !=
          webhook_signature(*old_key, "msg_1", 1700000000, "{}"));
    CHECK(webhook_signature(*old_key, "msg_1", 1700000001, "{}") !=
          webhook_signature(*old_key, "msg_1", 1700000000, "{}"));
    CHECK(webhook_signature(*old_key, "msg_1", 1700000000, "{ }") !=
          webhook_signature(*old_key, "msg_1", 1700000000, "{}"));
}

TEST_CASE("secrets are whsec_ + 32 random bytes, and malformed ones are refused", "[webhooks]") {
    const std::string a = generate_webhook_secret();
    const std::string b = generate_webhook_secret();
    CHECK(a != b);
    CHECK_THAT(a, Catch::StartsWith("whsec_"));
    REQUIRE(webhook_secret_key(a).has_value());
    CHECK(webhook_secret_key(a)->size() == 32);
    CHECK_FALSE(webhook_secret_key("whsec_").has_value());
    CHECK_FALSE(webhook_secret_key("whsec_not base64!").has_value());
    CHECK_FALSE(webhook_secret_key("whsec_c2hvcnQ=").has_value());  // 5 bytes: below the 24-byte minimum
}

TEST_CASE("endpoint: register once, rotate, disable, enable, remove", "[webhooks]") {
    SECTION("register") {
        const auto events = then_events(
            WebhookEndpoint::decide(RegisterEndpoint{registered_event().registered()}, WebhookEndpoint::initial()));
        REQUIRE(events.size() == 1);
        const auto state = given<WebhookEndpoint>(events);
        CHECK(state.status == EndpointStatus::active);
        CHECK(state.sealed_secret == "sealed-1");
        CHECK(state.registered.sealed_secret().empty());  // the secret is kept once, in sealed_secret
        CHECK(then_rejected(WebhookEndpoint::decide(RegisterEndpoint{registered_event().registered()}, state)).code ==
              kernel::RejectionCode::already_exists);
    }
    SECTION("a registration without event types is refused") {
        auto registered = registered_event().registered();
        registered.clear_event_types();
        CHECK(then_rejected(WebhookEndpoint::decide(RegisterEndpoint{registered}, WebhookEndpoint::initial())).code ==
              kernel::RejectionCode::invalid_argument);
    }
    SECTION("rotate: the previous secret signs until the grace period ends") {
        const auto state = given<WebhookEndpoint>({registered_event()});
        const auto events =
            then_events(WebhookEndpoint::decide(RotateSecret{"sealed-2", "olga", kT0 + 1h, 24h}, state));
        REQUIRE(events.size() == 1);
        CHECK(kernel::to_time_point(events[0].secret_rotated().previous_valid_until()) == kT0 + 25h);
        const auto rotated = WebhookEndpoint::evolve(state, events[0]);
        CHECK(rotated.sealed_secret == "sealed-2");
        CHECK(rotated.previous_sealed_secret == "sealed-1");
    }
    SECTION("disable, only once; enable again; remove for good") {
        auto state = given<WebhookEndpoint>({registered_event()});
        const auto disabled = then_events(WebhookEndpoint::decide(DisableEndpoint{"failing", "msg_1", kT0}, state));
        REQUIRE(disabled.size() == 1);
        state = WebhookEndpoint::evolve(state, disabled[0]);
        CHECK(state.status == EndpointStatus::disabled);
        CHECK(state.disabled_reason == "failing");
        CHECK(then_events(WebhookEndpoint::decide(DisableEndpoint{"again", "msg_2", kT0}, state)).empty());
        const auto enabled = then_events(WebhookEndpoint::decide(EnableEndpoint{"olga", kT0}, state));
        REQUIRE(enabled.size() == 1);
        state = WebhookEndpoint::evolve(state, enabled[0]);
        CHECK(state.status == EndpointStatus::active);
        CHECK(then_events(WebhookEndpoint::decide(EnableEndpoint{"olga", kT0}, state)).empty());
        const auto removed = then_events(WebhookEndpoint::decide(RemoveEndpoint{"olga", kT0}, state));
        REQUIRE(removed.size() == 1);
        state = WebhookEndpoint::evolve(state, removed[0]);
        CHECK(state.status == EndpointStatus::removed);
        CHECK(then_rejected(WebhookEndpoint::decide(EnableEndpoint{"olga", kT0}, state)).code ==
              kernel::RejectionCode::not_found);
        CHECK(then_rejected(WebhookEndpoint::decide(RotateSecret{"sealed-3", "olga", kT0, 1h}, state)).code ==
              kernel::RejectionCode::not_found);
        CHECK(then_events(WebhookEndpoint::decide(RemoveEndpoint{"olga", kT0}, state)).empty());
    }
    SECTION("unknown endpoints") {
        for (const WebhookEndpoint::Command& command :
             std::vector<WebhookEndpoint::Command>{RotateSecret{"s", "o", kT0, 1h}, DisableEndpoint{"r", "m", kT0},
                                                   EnableEndpoint{"o", kT0}, RemoveEndpoint{"o", kT0}}) {
            CHECK(then_rejected(WebhookEndpoint::decide(command, WebhookEndpoint::initial())).code ==
                  kernel::RejectionCode::not_found);
        }
    }
}

TEST_CASE("delivery ids are stable per event and endpoint, and differ otherwise", "[webhooks]") {
    CHECK(webhook_delivery_id("evt-1", "ep_1") == webhook_delivery_id("evt-1", "ep_1"));
    CHECK(webhook_delivery_id("evt-1", "ep_1") != webhook_delivery_id("evt-1", "ep_2"));
    CHECK(webhook_delivery_id("evt-1", "ep_1") != webhook_delivery_id("evt-2", "ep_1"));
    CHECK_THAT(webhook_delivery_id("evt-1", "ep_1"), Catch::Matches("msg_[0-9a-f]{32}"));
}

TEST_CASE("delivery: queued once, released once, delivered once", "[webhooks]") {
    const auto queued = queued_event(true);
    CHECK(
        then_events(WebhookDelivery::decide(QueueDelivery{queued.queued()}, given<WebhookDelivery>({queued}))).empty());
    auto state = given<WebhookDelivery>({queued});
    CHECK(state.status == DeliveryStatus::pending);
    CHECK(state.waiting);
    const auto released = then_events(WebhookDelivery::decide(ReleaseDelivery{kT0 + 1min}, state));
    REQUIRE(released.size() == 1);
    state = WebhookDelivery::evolve(state, released[0]);
    CHECK_FALSE(state.waiting);
    CHECK(state.next_attempt_at == kT0 + 1min);
    CHECK(then_events(WebhookDelivery::decide(ReleaseDelivery{kT0 + 2min}, state)).empty());
    const auto delivered = then_events(WebhookDelivery::decide(RecordDelivered{204, 30ms, kT0 + 2min}, state));
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].delivered().status_code() == 204);
    CHECK(delivered[0].delivered().attempt() == 1);
    state = WebhookDelivery::evolve(state, delivered[0]);
    CHECK(state.status == DeliveryStatus::delivered);
    REQUIRE(state.recent_attempts.size() == 1);
    CHECK(state.recent_attempts[0].status_code == 204);
    CHECK(then_events(WebhookDelivery::decide(RecordDelivered{200, 1ms, kT0 + 3min}, state)).empty());
    CHECK(then_rejected(WebhookDelivery::decide(failure_at(kT0 + 3min), state)).code ==
          kernel::RejectionCode::failed_precondition);
}

TEST_CASE("delivery: failures retry until retry_for, then the delivery fails as exhausted", "[webhooks]") {
    auto state = given<WebhookDelivery>({queued_event()});
    const auto first = then_events(WebhookDelivery::decide(failure_at(kT0 + 1s), state));
    REQUIRE(first.size() == 1);
    CHECK(first[0].attempt_failed().status_code() == 503);
    CHECK(kernel::to_time_point(first[0].attempt_failed().next_attempt_at()) == kT0 + 11s);
    state = WebhookDelivery::evolve(state, first[0]);
    CHECK(state.status == DeliveryStatus::pending);
    CHECK(state.next_attempt_at == kT0 + 11s);

    // The last retry is scheduled at the deadline at the latest...
    const auto near_end = then_events(WebhookDelivery::decide(failure_at(kT0 + 1h - 5s, 1h), state));
    CHECK(kernel::to_time_point(near_end[0].attempt_failed().next_attempt_at()) == kT0 + 1h);
    state = WebhookDelivery::evolve(state, near_end[0]);
    // ...and a failure at it gives up.
    const auto last = then_events(WebhookDelivery::decide(failure_at(kT0 + 1h, 1h), state));
    REQUIRE(last.size() == 2);
    CHECK(last[1].failed().exhausted());
    CHECK(last[1].failed().attempts() == 3);
    state = given<WebhookDelivery>({queued_event(), first[0], near_end[0], last[0], last[1]});
    CHECK(state.status == DeliveryStatus::failed);
    CHECK(state.recent_attempts.size() == 3);
}

TEST_CASE("delivery: abandoned when its endpoint is gone, redelivered on request outside the order", "[webhooks]") {
    auto state = given<WebhookDelivery>({queued_event()});
    const auto abandoned =
        then_events(WebhookDelivery::decide(AbandonDelivery{"endpoint ep_1 is disabled", kT0}, state));
    REQUIRE(abandoned.size() == 1);
    CHECK_FALSE(abandoned[0].failed().exhausted());
    state = WebhookDelivery::evolve(state, abandoned[0]);
    CHECK(state.status == DeliveryStatus::failed);
    CHECK(then_events(WebhookDelivery::decide(AbandonDelivery{"again", kT0}, state)).empty());

    const auto redelivered = then_events(WebhookDelivery::decide(Redeliver{"olga", kT0 + 1h}, state));
    REQUIRE(redelivered.size() == 1);
    state = WebhookDelivery::evolve(state, redelivered[0]);
    CHECK(state.status == DeliveryStatus::pending);
    CHECK(state.redelivered);
    CHECK(state.attempts == 0);
    CHECK(state.next_attempt_at == kT0 + 1h);
    CHECK(then_rejected(WebhookDelivery::decide(Redeliver{"olga", kT0}, WebhookDelivery::initial())).code ==
          kernel::RejectionCode::not_found);
}

TEST_CASE("delivery log keeps the most recent attempts only", "[webhooks]") {
    std::vector<v1::WebhookDeliveryEvent> history = {queued_event()};
    for (int i = 0; i < 30; ++i) {
        auto state = given<WebhookDelivery>(history);
        for (auto& event : then_events(WebhookDelivery::decide(failure_at(kT0 + std::chrono::seconds(i)), state))) {
            history.push_back(std::move(event));
        }
    }
    const auto state = given<WebhookDelivery>(history);
    CHECK(state.total_attempts == 30);
    REQUIRE(state.recent_attempts.size() == DeliveryState::kKeptAttempts);
    CHECK(state.recent_attempts.front().attempt == 11);
    CHECK(state.recent_attempts.back().attempt == 30);
}

TEST_CASE("the body is the envelope's canonical JSON with the payload resolved", "[webhooks]") {
    sales::v1::LeadCreated created;
    created.set_lead_id("L-000001");
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id("0190a5b0-0000-7000-8000-000000000001");
    envelope.set_event_type("gatehouse.sales.v1.LeadCreated");
    envelope.set_aggregate_type("lead");
    envelope.set_aggregate_id("L-000001");
    envelope.set_aggregate_version(3);
    envelope.set_producer("sales-bridge");
    *envelope.mutable_occurred_at() = kernel::to_timestamp(kT0);
    envelope.set_payload(created.SerializeAsString());
    const auto body = nlohmann::json::parse(webhook_body(envelope));
    CHECK(body["eventId"] == envelope.event_id());
    CHECK(body["eventType"] == "gatehouse.sales.v1.LeadCreated");
    CHECK(body["aggregateVersion"] == "3");  // 64-bit integers are strings in the canonical mapping
    CHECK(body["payload"]["@type"] == "type.googleapis.com/gatehouse.sales.v1.LeadCreated");
    CHECK(body["payload"]["leadId"] == "L-000001");
    // The payload, read back through the JSON mapping, is the event.
    google::protobuf::Any any;
    REQUIRE(google::protobuf::util::JsonStringToMessage(body["payload"].dump(), &any).ok());
    sales::v1::LeadCreated decoded;
    REQUIRE(any.UnpackTo(&decoded));
    CHECK(decoded.lead_id() == "L-000001");

    // A type this build does not know stays base64 bytes: delivered, not lost.
    envelope.set_event_type("gatehouse.sales.v9.FromTheFuture");
    const auto unknown = nlohmann::json::parse(webhook_body(envelope));
    CHECK(unknown["payload"].is_string());
}

TEST_CASE("backoff doubles from the initial wait up to the cap, with jitter in [d/2, d]", "[webhooks]") {
    Backoff backoff(1s, 8s);
    for (const auto& [attempt, delay] :
         std::vector<std::pair<unsigned, std::chrono::milliseconds>>{{1, 1s}, {2, 2s}, {3, 4s}, {4, 8s}, {10, 8s}}) {
        for (int i = 0; i < 20; ++i) {
            const auto wait = backoff.next_attempt(kT0, attempt) - kT0;
            CHECK(wait >= delay / 2);
            CHECK(wait <= delay);
        }
    }
}
