// The operator's use cases on webhooks (docs/webhooks.md): register an endpoint (its URL and
// event types checked, a new secret sealed to the notifier's own key before it is recorded, since
// events reach the notifier's topic), list, remove, enable, rotate its secret, page its deliveries
// and redeliver one. Takes plain values and answers domain values or a kernel::Rejection whose code
// and message are what the caller sees (kernel::to_grpc_status); roles are the API's.
//
// Threads: any member may be called from any thread at once (gRPC workers); the state is the
// runtimes', shared with the webhook dispatcher.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "app/outcome.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_endpoint.h"
#include "gatehouse/kernel/sealed_token.h"

namespace gatehouse::notifier {

// What the webhook use cases work on: the runtimes, and the notifier's own key pair (secrets are
// sealed to `public_key`, opened with `secrets`).
struct WebhookParts final {
    WebhookEndpointRuntime& endpoints;
    WebhookDeliveryRuntime& deliveries;
    std::string public_key;  // base64url, as gatehouse-keygen prints it
    const kernel::TokenOpener& secrets;
    bool allow_plain_http = false;
    std::chrono::milliseconds rotation_grace{std::chrono::hours(24)};
};

struct NewEndpoint final {
    std::string url;
    std::vector<std::string> event_types;  // full names; empty: every lead and opportunity event
    std::string description;
    std::string idempotency_key;  // empty: none
};

struct RegisteredEndpoint final {
    std::string endpoint_id;
    std::optional<EndpointState> state;
    // The secret in clear, shown this once; nullopt when the recorded one cannot be opened.
    std::optional<std::string> secret;
};

struct RotatedSecret final {
    std::string secret;
    std::chrono::system_clock::time_point previous_valid_until;
};

struct DeliveryPage final {
    std::vector<Listed<DeliveryState>> deliveries;  // newest first
    std::string next_page_token;                    // empty on the last page
};

class WebhookEndpointsApp final {
  public:
    explicit WebhookEndpointsApp(WebhookParts parts);

    // A retry with the same idempotency key answers the first registration, with its secret.
    Outcome<RegisteredEndpoint> add_endpoint(const NewEndpoint& endpoint, const std::string& by);
    // Every endpoint that is not removed (at most 1,000).
    std::vector<Listed<EndpointState>> endpoints();
    std::optional<kernel::Rejection> remove_endpoint(const std::string& endpoint_id, const std::string& by);
    std::optional<kernel::Rejection> enable_endpoint(const std::string& endpoint_id, const std::string& by);
    // A new secret; the previous one stays valid for the rotation grace.
    Outcome<RotatedSecret> rotate_secret(const std::string& endpoint_id, const std::string& by);
    // One page of an endpoint's deliveries (platform paging).
    Outcome<DeliveryPage> deliveries(const std::string& endpoint_id, int page_size, const std::string& page_token);
    // Queues a delivery again; its endpoint must be active.
    std::optional<kernel::Rejection> redeliver(const std::string& delivery_id, const std::string& by);

  private:
    std::optional<kernel::Rejection> change_endpoint(const std::string& endpoint_id, const std::string& by,
                                                     const WebhookEndpoint::Command& command);
    // The answer to a registration: the endpoint and its secret, opened again.
    RegisteredEndpoint registered(const std::string& endpoint_id, const v1::WebhookEndpointRegistered& registration);

    WebhookParts parts_;
};

}  // namespace gatehouse::notifier
