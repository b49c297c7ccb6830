// The webhook RPCs of the notifier's operator API (operator only). See docs/webhooks.md.
#include <sodium.h>

#include <array>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "api/notifier_api.h"
#include "dispatch/webhook_lanes.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "transport/webhook_signing.h"

namespace gatehouse::notifier {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::size_t kMaxUrl = 2048;
constexpr std::size_t kMaxDescription = 200;
constexpr int kMaxEventTypes = 100;
constexpr std::size_t kMaxIdempotencyKey = 128;

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }

// The event unions of the platform topics an endpoint may subscribe to (the notifier's own
// topic is not offered: it carries the notifier's bookkeeping).
const std::vector<const google::protobuf::Descriptor*>& platform_event_unions() {
    static const std::vector<const google::protobuf::Descriptor*> unions = {
        onboarding::v1::ProspectEvent::descriptor(), customers::v1::CustomerEvent::descriptor(),
        sales::v1::LeadEvent::descriptor(),          sales::v1::OpportunityEvent::descriptor(),
        sales::v1::AccountEvent::descriptor(),       sales::v1::ContactEvent::descriptor()};
    return unions;
}

std::vector<std::string> cases_of(const google::protobuf::Descriptor* event_union) {
    std::vector<std::string> names;
    const auto* oneof = event_union->oneof_decl(0);
    for (int i = 0; i < oneof->field_count(); ++i) {
        names.push_back(oneof->field(i)->message_type()->full_name());
    }
    return names;
}

const std::set<std::string>& known_event_types() {
    static const std::set<std::string> known = [] {
        std::set<std::string> names;
        for (const auto* event_union : platform_event_unions()) {
            for (auto& name : cases_of(event_union)) {
                names.insert(std::move(name));
            }
        }
        return names;
    }();
    return known;
}

// The default subscription: every lead and opportunity event of the sales topic.
std::vector<std::string> default_event_types() {
    std::vector<std::string> types = cases_of(sales::v1::LeadEvent::descriptor());
    for (auto& name : cases_of(sales::v1::OpportunityEvent::descriptor())) {
        types.push_back(std::move(name));
    }
    return types;
}

// "" when `url` is acceptable, else what is wrong with it.
std::string url_problem(const std::string& url, bool allow_plain_http) {
    if (url.empty()) {
        return "url: is required";
    }
    if (url.size() > kMaxUrl) {
        return "url: at most " + std::to_string(kMaxUrl) + " characters";
    }
    for (const char c : url) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return "url: must not contain spaces or control characters";
        }
    }
    std::string_view rest(url);
    if (rest.starts_with("https://")) {
        rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
        if (!allow_plain_http) {
            return "url: must start with https:// (plain http:// needs the setting webhooks.allow_plain_http)";
        }
        rest.remove_prefix(7);
    } else {
        return "url: must start with https://";
    }
    if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?') {
        return "url: has no host";
    }
    return {};
}

std::string new_endpoint_id() {
    std::array<unsigned char, 12> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id = "ep_";
    for (const unsigned char b : bytes) {
        id.push_back(kHex[b >> 4]);
        id.push_back(kHex[b & 0xF]);
    }
    return id;
}

// Seals `secret` to the notifier's own public key (base64url): what the events carry.
std::string seal_secret(const std::string& public_key_base64url, const std::string& secret) {
    std::array<unsigned char, crypto_box_PUBLICKEYBYTES> key{};
    std::size_t length = 0;
    if (sodium_base642bin(key.data(), key.size(), public_key_base64url.data(), public_key_base64url.size(), nullptr,
                          &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        length != key.size()) {
        throw std::logic_error("notifier.public_key is not a public key");  // checked at start-up
    }
    std::string sealed(crypto_box_SEALBYTES + secret.size(), '\0');
    crypto_box_seal(reinterpret_cast<unsigned char*>(sealed.data()),
                    reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), key.data());
    return sealed;
}

v1::WebhookEndpointStatus to_api(EndpointStatus status) {
    switch (status) {
        case EndpointStatus::active:
            return v1::WEBHOOK_ENDPOINT_STATUS_ACTIVE;
        case EndpointStatus::disabled:
            return v1::WEBHOOK_ENDPOINT_STATUS_DISABLED;
        case EndpointStatus::removed:
            return v1::WEBHOOK_ENDPOINT_STATUS_REMOVED;
        case EndpointStatus::none:
            break;
    }
    return v1::WEBHOOK_ENDPOINT_STATUS_UNSPECIFIED;
}

v1::WebhookDeliveryStatus to_api(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::pending:
            return v1::WEBHOOK_DELIVERY_STATUS_PENDING;
        case DeliveryStatus::delivered:
            return v1::WEBHOOK_DELIVERY_STATUS_DELIVERED;
        case DeliveryStatus::failed:
            return v1::WEBHOOK_DELIVERY_STATUS_FAILED;
        case DeliveryStatus::none:
            break;
    }
    return v1::WEBHOOK_DELIVERY_STATUS_UNSPECIFIED;
}

void describe(const std::string& id, const EndpointState& state, v1::WebhookEndpoint& endpoint) {
    endpoint.set_endpoint_id(id);
    endpoint.set_url(state.registered.url());
    *endpoint.mutable_event_types() = state.registered.event_types();
    endpoint.set_description(state.registered.description());
    endpoint.set_status(to_api(state.status));
    *endpoint.mutable_registered_at() = state.registered.registered_at();
    endpoint.set_disabled_reason(state.disabled_reason);
    if (!state.previous_sealed_secret.empty() && state.previous_valid_until > Clock::now()) {
        *endpoint.mutable_previous_secret_valid_until() = kernel::to_timestamp(state.previous_valid_until);
    }
}

void describe(const std::string& id, const DeliveryState& state, v1::WebhookDelivery& delivery) {
    delivery.set_delivery_id(id);
    delivery.set_endpoint_id(state.queued.endpoint_id());
    delivery.set_event_id(state.queued.event_id());
    delivery.set_event_type(state.queued.event_type());
    delivery.set_aggregate_id(state.queued.aggregate_id());
    delivery.set_status(to_api(state.status));
    delivery.set_waiting(state.status == DeliveryStatus::pending && state.waiting);
    delivery.set_attempts(state.total_attempts);
    *delivery.mutable_queued_at() = state.queued.queued_at();
    if (state.status == DeliveryStatus::pending && !state.waiting) {
        *delivery.mutable_next_attempt_at() = kernel::to_timestamp(state.next_attempt_at);
    }
    if (state.status == DeliveryStatus::delivered) {
        *delivery.mutable_delivered_at() = kernel::to_timestamp(state.delivered_at);
    }
    delivery.set_last_error(state.last_error);
    for (const auto& attempt : state.recent_attempts) {
        auto& out = *delivery.add_recent_attempts();
        out.set_attempt(attempt.attempt);
        *out.mutable_at() = kernel::to_timestamp(attempt.at);
        out.set_status_code(attempt.status_code);
        out.set_error(attempt.error);
        out.set_duration_ms(attempt.duration_ms);
    }
}

grpc::Status from(const kernel::Rejection& rejection) { return kernel::to_grpc_status(rejection); }

}  // namespace

grpc::Status NotifierApi::webhook_call(grpc::ServerContext& context, kernel::Principal& principal) const {
    if (auto status = kernel::authenticate_call(context, authenticator_, {"operator"}, principal); !status.ok()) {
        return status;
    }
    if (webhooks_ == nullptr) {
        return {grpc::StatusCode::UNIMPLEMENTED, "webhooks are not enabled in this notifier"};
    }
    return grpc::Status::OK;
}

grpc::Status NotifierApi::AddWebhookEndpoint(grpc::ServerContext* context, const v1::AddWebhookEndpointRequest* request,
                                             v1::AddWebhookEndpointResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    if (const std::string problem = url_problem(request->url(), webhooks_->allow_plain_http); !problem.empty()) {
        return invalid(problem);
    }
    if (request->description().size() > kMaxDescription) {
        return invalid("description: at most " + std::to_string(kMaxDescription) + " characters");
    }
    if (request->event_types_size() > kMaxEventTypes) {
        return invalid("event_types: at most " + std::to_string(kMaxEventTypes));
    }
    if (request->idempotency_key().size() > kMaxIdempotencyKey) {
        return invalid("idempotency_key: at most " + std::to_string(kMaxIdempotencyKey) + " characters");
    }
    std::vector<std::string> types;
    std::set<std::string> seen;
    for (const std::string& type : request->event_types()) {
        if (!known_event_types().contains(type)) {
            return invalid("event_types: " + type.substr(0, 200) +
                           " is not an event type of the onboarding, customers or sales topic (full name, e.g. "
                           "gatehouse.sales.v1.LeadCreated)");
        }
        if (seen.insert(type).second) {
            types.push_back(type);
        }
    }
    if (types.empty()) {
        types = default_event_types();
    }
    // A retry answers the first registration, with its secret.
    const auto answer = [&](const std::string& id, const v1::WebhookEndpointRegistered& registered) {
        const auto secret = webhooks_->secrets.open(registered.sealed_secret());
        if (!secret) {
            return grpc::Status(grpc::StatusCode::INTERNAL, "the endpoint's secret cannot be opened");
        }
        const auto found = webhooks_->endpoints.find(id);
        if (found) {
            describe(id, found->state, *response->mutable_endpoint());
        }
        response->set_secret(*secret);
        return grpc::Status::OK;
    };
    if (!request->idempotency_key().empty()) {
        if (const auto previous = webhooks_->endpoints.previous_answer(request->idempotency_key());
            previous && !previous->events.empty() && previous->events.front().has_registered()) {
            return answer(previous->aggregate_id, previous->events.front().registered());
        }
    }
    const std::string id = new_endpoint_id();
    v1::WebhookEndpointRegistered registered;
    registered.set_endpoint_id(id);
    registered.set_url(request->url());
    for (const auto& type : types) {
        registered.add_event_types(type);
    }
    registered.set_description(request->description());
    registered.set_sealed_secret(seal_secret(webhooks_->public_key, generate_webhook_secret()));
    registered.set_registered_by(principal.user_id);
    *registered.mutable_registered_at() = kernel::to_timestamp(Clock::now());
    const auto result = webhooks_->endpoints.execute(
        id, RegisterEndpoint{registered}, {.idempotency_key = request->idempotency_key(), .actor = principal.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return from(*rejection);
    }
    const auto& accepted = std::get<kernel::Accepted<v1::WebhookEndpointEvent>>(result);
    if (accepted.events.empty() || !accepted.events.front().has_registered()) {
        return {grpc::StatusCode::ABORTED, "the registration raced with another; try again"};
    }
    return answer(accepted.aggregate_id, accepted.events.front().registered());
}

grpc::Status NotifierApi::ListWebhookEndpoints(grpc::ServerContext* context,
                                               const v1::ListWebhookEndpointsRequest* /*request*/,
                                               v1::ListWebhookEndpointsResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    constexpr std::size_t kMostListed = 1'000;
    for (const auto& hit : webhooks_->endpoints.lookup(endpoint_index::kListed, {}, kMostListed)) {
        if (const auto found = webhooks_->endpoints.find(hit.aggregate_id)) {
            describe(hit.aggregate_id, found->state, *response->add_endpoints());
        }
    }
    return grpc::Status::OK;
}

grpc::Status NotifierApi::change_endpoint(
    grpc::ServerContext& context, const std::string& endpoint_id,
    const std::function<WebhookEndpoint::Command(const kernel::Principal&)>& command) {
    kernel::Principal principal;
    if (auto status = webhook_call(context, principal); !status.ok()) {
        return status;
    }
    if (endpoint_id.empty()) {
        return invalid("endpoint_id: is required");
    }
    const auto result = webhooks_->endpoints.execute(endpoint_id, command(principal), {.actor = principal.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return from(*rejection);
    }
    return grpc::Status::OK;
}

grpc::Status NotifierApi::RemoveWebhookEndpoint(grpc::ServerContext* context,
                                                const v1::RemoveWebhookEndpointRequest* request,
                                                v1::RemoveWebhookEndpointResponse* /*response*/) {
    return change_endpoint(*context, request->endpoint_id(), [](const kernel::Principal& principal) {
        return RemoveEndpoint{principal.user_id, Clock::now()};
    });
}

grpc::Status NotifierApi::RotateWebhookSecret(grpc::ServerContext* context,
                                              const v1::RotateWebhookSecretRequest* request,
                                              v1::RotateWebhookSecretResponse* response) {
    const std::string secret = generate_webhook_secret();
    const auto now = Clock::now();
    const auto grace = webhooks_ != nullptr ? webhooks_->rotation_grace : std::chrono::milliseconds::zero();
    auto status = change_endpoint(*context, request->endpoint_id(), [&](const kernel::Principal& principal) {
        return RotateSecret{seal_secret(webhooks_->public_key, secret), principal.user_id, now, grace};
    });
    if (status.ok()) {
        response->set_secret(secret);
        *response->mutable_previous_secret_valid_until() = kernel::to_timestamp(now + grace);
    }
    return status;
}

grpc::Status NotifierApi::EnableWebhookEndpoint(grpc::ServerContext* context,
                                                const v1::EnableWebhookEndpointRequest* request,
                                                v1::EnableWebhookEndpointResponse* /*response*/) {
    return change_endpoint(*context, request->endpoint_id(), [](const kernel::Principal& principal) {
        return EnableEndpoint{principal.user_id, Clock::now()};
    });
}

grpc::Status NotifierApi::ListWebhookDeliveries(grpc::ServerContext* context,
                                                const v1::ListWebhookDeliveriesRequest* request,
                                                v1::ListWebhookDeliveriesResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    if (request->endpoint_id().empty()) {
        return invalid("endpoint_id: is required");
    }
    const int page_size = request->page_size() == 0 ? 50 : request->page_size();
    if (page_size < 1 || page_size > 500) {
        return invalid("page_size: must be between 1 and 500");
    }
    const kernel::IndexKey prefix = kernel::IndexKey().text(request->endpoint_id());
    std::string after;
    if (!request->page_token().empty()) {
        auto cursor = kernel::index_layout::token_to_cursor(request->page_token());
        if (!cursor) {
            return invalid("page_token: is not a token from a previous page");
        }
        after = prefix.bytes() + *cursor;
    }
    if (!webhooks_->endpoints.find(request->endpoint_id())) {
        return {grpc::StatusCode::NOT_FOUND, "endpoint_id: no such webhook endpoint"};
    }
    const kernel::IndexPage page =
        webhooks_->deliveries.page(delivery_index::kByEndpoint, prefix, after, static_cast<std::size_t>(page_size));
    for (const auto& hit : page.hits) {
        if (const auto found = webhooks_->deliveries.find(hit.aggregate_id)) {
            describe(hit.aggregate_id, found->state, *response->add_deliveries());
        }
    }
    if (!page.next_cursor.empty()) {
        response->set_next_page_token(
            kernel::index_layout::cursor_to_token(std::string_view(page.next_cursor).substr(prefix.bytes().size())));
    }
    return grpc::Status::OK;
}

grpc::Status NotifierApi::RedeliverWebhook(grpc::ServerContext* context, const v1::RedeliverWebhookRequest* request,
                                           v1::RedeliverWebhookResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    if (request->delivery_id().empty()) {
        return invalid("delivery_id: is required");
    }
    const auto delivery = webhooks_->deliveries.find(request->delivery_id());
    if (!delivery) {
        return {grpc::StatusCode::NOT_FOUND, "delivery_id: no such delivery"};
    }
    const auto endpoint = webhooks_->endpoints.find(delivery->state.queued.endpoint_id());
    if (!endpoint || endpoint->state.status != EndpointStatus::active) {
        return {grpc::StatusCode::FAILED_PRECONDITION,
                "the delivery's endpoint is " +
                    std::string(to_string(endpoint ? endpoint->state.status : EndpointStatus::none)) +
                    ", not active: enable it first"};
    }
    const auto result = webhooks_->deliveries.execute(
        request->delivery_id(), Redeliver{principal.user_id, Clock::now()}, {.actor = principal.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return from(*rejection);
    }
    // A redelivery leaves the per-aggregate order: if it headed its lane, the next one may go.
    release_lane_head(webhooks_->deliveries, delivery->state.queued, Clock::now());
    response->set_status(v1::WEBHOOK_DELIVERY_STATUS_PENDING);
    return grpc::Status::OK;
}

}  // namespace gatehouse::notifier
