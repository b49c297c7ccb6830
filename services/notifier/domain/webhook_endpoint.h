// The WebhookEndpoint aggregate: a URL an operator registered to receive events, with the event
// types it subscribes to and its signing secret (sealed to the notifier's key in the events).
//
//   (none) --register--> Active --disable (deliveries failed for retry_for)--> Disabled
//                          ^  '--------------------------------------------'     |
//                          '-------------------------enable---------------------'
//   Active / Disabled --remove--> Removed (final);  rotate-secret: Active or Disabled
//
// Pure decider (the caller passes `now`, the sealed secret and ids). Its read model indexes the
// active endpoints by event type (what the inbox handler asks for each input event) and lists the
// endpoints that were not removed. See docs/webhooks.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/read_model.h"
#include "gatehouse/notifier/v1/events.pb.h"

namespace gatehouse::notifier {

enum class EndpointStatus { none, active, disabled, removed };
std::string_view to_string(EndpointStatus status);

struct RegisterEndpoint {
    v1::WebhookEndpointRegistered registered;  // complete, with the sealed secret and registered_at
};

struct RotateSecret {
    std::string sealed_secret;
    std::string operator_id;
    std::chrono::system_clock::time_point now;
    std::chrono::milliseconds grace{std::chrono::hours(24)};  // the previous secret signs this long
};

struct DisableEndpoint {
    std::string reason;
    std::string delivery_id;
    std::chrono::system_clock::time_point now;
};

struct EnableEndpoint {
    std::string operator_id;
    std::chrono::system_clock::time_point now;
};

struct RemoveEndpoint {
    std::string operator_id;
    std::chrono::system_clock::time_point now;
};

struct EndpointState {
    EndpointStatus status = EndpointStatus::none;
    v1::WebhookEndpointRegistered registered;  // url, event types, description, when, by whom
    std::string sealed_secret;                 // the current one
    std::string previous_sealed_secret;        // signs too until previous_valid_until
    std::chrono::system_clock::time_point previous_valid_until{};
    std::string disabled_reason;
};

struct WebhookEndpoint {
    static constexpr std::string_view kAggregateType = "webhook_endpoint";
    using Event = v1::WebhookEndpointEvent;
    using State = EndpointState;
    using Command = std::variant<RegisterEndpoint, RotateSecret, DisableEndpoint, EnableEndpoint, RemoveEndpoint>;

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

using WebhookEndpointRuntime = kernel::AggregateRuntime<WebhookEndpoint>;

// Bump when webhook_endpoint_read_model() changes what it writes.
inline constexpr std::uint32_t kWebhookEndpointReadModelVersion = 1;

namespace endpoint_index {
// Active endpoints, one entry per subscribed event type: key = the event type.
inline constexpr std::string_view kByEventType = "event_type";
// Endpoints that were not removed, by id.
inline constexpr std::string_view kListed = "listed";
}  // namespace endpoint_index

kernel::ReadModel<EndpointState> webhook_endpoint_read_model();

}  // namespace gatehouse::notifier
