#include "app/webhook_endpoints_app.h"

#include <sodium.h>

#include <array>
#include <set>
#include <string_view>

#include "app/webhook_lanes.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/platform/paging.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "transport/webhook_signing.h"

namespace gatehouse::notifier {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::size_t kMaxUrl = 2048;
constexpr std::size_t kMaxDescription = 200;
constexpr std::size_t kMaxEventTypes = 100;
constexpr std::size_t kMaxIdempotencyKey = 128;

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

}  // namespace

WebhookEndpointsApp::WebhookEndpointsApp(WebhookParts parts) : parts_(std::move(parts)) {}

RegisteredEndpoint WebhookEndpointsApp::registered(const std::string& endpoint_id,
                                                   const v1::WebhookEndpointRegistered& registration) {
    RegisteredEndpoint answer{endpoint_id, std::nullopt, parts_.secrets.open(registration.sealed_secret())};
    if (auto found = parts_.endpoints.find(endpoint_id)) {
        answer.state = std::move(found->state);
    }
    return answer;
}

Outcome<RegisteredEndpoint> WebhookEndpointsApp::add_endpoint(const NewEndpoint& endpoint, const std::string& by) {
    if (const std::string problem = url_problem(endpoint.url, parts_.allow_plain_http); !problem.empty()) {
        return invalid_argument(problem);
    }
    if (endpoint.description.size() > kMaxDescription) {
        return invalid_argument("description: at most " + std::to_string(kMaxDescription) + " characters");
    }
    if (endpoint.event_types.size() > kMaxEventTypes) {
        return invalid_argument("event_types: at most " + std::to_string(kMaxEventTypes));
    }
    if (endpoint.idempotency_key.size() > kMaxIdempotencyKey) {
        return invalid_argument("idempotency_key: at most " + std::to_string(kMaxIdempotencyKey) + " characters");
    }
    std::vector<std::string> types;
    std::set<std::string> seen;
    for (const std::string& type : endpoint.event_types) {
        if (!known_event_types().contains(type)) {
            return invalid_argument(
                "event_types: " + type.substr(0, 200) +
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
    if (!endpoint.idempotency_key.empty()) {
        if (const auto previous = parts_.endpoints.previous_answer(endpoint.idempotency_key);
            previous && !previous->events.empty() && previous->events.front().has_registered()) {
            return registered(previous->aggregate_id, previous->events.front().registered());
        }
    }
    const std::string id = new_endpoint_id();
    v1::WebhookEndpointRegistered registration;
    registration.set_endpoint_id(id);
    registration.set_url(endpoint.url);
    for (const auto& type : types) {
        registration.add_event_types(type);
    }
    registration.set_description(endpoint.description);
    registration.set_sealed_secret(seal_secret(parts_.public_key, generate_webhook_secret()));
    registration.set_registered_by(by);
    *registration.mutable_registered_at() = kernel::to_timestamp(Clock::now());
    auto result = parts_.endpoints.execute(id, RegisterEndpoint{registration},
                                           {.idempotency_key = endpoint.idempotency_key, .actor = by});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    const auto& accepted = std::get<kernel::Accepted<v1::WebhookEndpointEvent>>(result);
    if (accepted.events.empty() || !accepted.events.front().has_registered()) {
        return kernel::Rejection{kernel::RejectionCode::conflict, "the registration raced with another; try again"};
    }
    return registered(accepted.aggregate_id, accepted.events.front().registered());
}

std::vector<Listed<EndpointState>> WebhookEndpointsApp::endpoints() {
    constexpr std::size_t kMostListed = 1'000;
    std::vector<Listed<EndpointState>> rows;
    for (const auto& hit : parts_.endpoints.lookup(endpoint_index::kListed, {}, kMostListed)) {
        if (auto found = parts_.endpoints.find(hit.aggregate_id)) {
            rows.push_back({hit.aggregate_id, std::move(found->state)});
        }
    }
    return rows;
}

std::optional<kernel::Rejection> WebhookEndpointsApp::change_endpoint(const std::string& endpoint_id,
                                                                      const std::string& by,
                                                                      const WebhookEndpoint::Command& command) {
    if (endpoint_id.empty()) {
        return invalid_argument("endpoint_id: is required");
    }
    auto result = parts_.endpoints.execute(endpoint_id, command, {.actor = by});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return std::nullopt;
}

std::optional<kernel::Rejection> WebhookEndpointsApp::remove_endpoint(const std::string& endpoint_id,
                                                                      const std::string& by) {
    return change_endpoint(endpoint_id, by, RemoveEndpoint{by, Clock::now()});
}

std::optional<kernel::Rejection> WebhookEndpointsApp::enable_endpoint(const std::string& endpoint_id,
                                                                      const std::string& by) {
    return change_endpoint(endpoint_id, by, EnableEndpoint{by, Clock::now()});
}

Outcome<RotatedSecret> WebhookEndpointsApp::rotate_secret(const std::string& endpoint_id, const std::string& by) {
    RotatedSecret rotated{generate_webhook_secret(), {}};
    const auto now = Clock::now();
    if (auto refused = change_endpoint(
            endpoint_id, by,
            RotateSecret{seal_secret(parts_.public_key, rotated.secret), by, now, parts_.rotation_grace})) {
        return std::move(*refused);
    }
    rotated.previous_valid_until = now + parts_.rotation_grace;
    return rotated;
}

Outcome<DeliveryPage> WebhookEndpointsApp::deliveries(const std::string& endpoint_id, int page_size,
                                                      const std::string& page_token) {
    if (endpoint_id.empty()) {
        return invalid_argument("endpoint_id: is required");
    }
    auto paging = platform::read_page_request(page_size, page_token);
    if (auto* problem = std::get_if<std::string>(&paging)) {
        return invalid_argument(std::move(*problem));
    }
    const auto& page_request = std::get<platform::PageRequest>(paging);
    const kernel::IndexKey prefix = kernel::IndexKey().text(endpoint_id);
    if (!parts_.endpoints.find(endpoint_id)) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "endpoint_id: no such webhook endpoint"};
    }
    const kernel::IndexPage page = parts_.deliveries.page(
        delivery_index::kByEndpoint, prefix,
        page_request.after.empty() ? std::string() : prefix.bytes() + page_request.after, page_request.size);
    DeliveryPage result;
    for (const auto& hit : page.hits) {
        if (auto found = parts_.deliveries.find(hit.aggregate_id)) {
            result.deliveries.push_back({hit.aggregate_id, std::move(found->state)});
        }
    }
    if (!page.next_cursor.empty()) {
        result.next_page_token =
            platform::next_page_token(std::string_view(page.next_cursor).substr(prefix.bytes().size()));
    }
    return result;
}

std::optional<kernel::Rejection> WebhookEndpointsApp::redeliver(const std::string& delivery_id, const std::string& by) {
    if (delivery_id.empty()) {
        return invalid_argument("delivery_id: is required");
    }
    const auto delivery = parts_.deliveries.find(delivery_id);
    if (!delivery) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "delivery_id: no such delivery"};
    }
    const auto endpoint = parts_.endpoints.find(delivery->state.queued.endpoint_id());
    if (!endpoint || endpoint->state.status != EndpointStatus::active) {
        return kernel::Rejection{kernel::RejectionCode::failed_precondition,
                                 "the delivery's endpoint is " +
                                     std::string(to_string(endpoint ? endpoint->state.status : EndpointStatus::none)) +
                                     ", not active: enable it first"};
    }
    auto result = parts_.deliveries.execute(delivery_id, Redeliver{by, Clock::now()}, {.actor = by});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    // A redelivery leaves the per-aggregate order: if it headed its lane, the next one may go.
    release_lane_head(parts_.deliveries, delivery->state.queued, Clock::now());
    return std::nullopt;
}

}  // namespace gatehouse::notifier
