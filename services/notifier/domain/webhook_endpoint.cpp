#include "domain/webhook_endpoint.h"

#include "gatehouse/kernel/time.h"

namespace gatehouse::notifier {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;
using Event = v1::WebhookEndpointEvent;

Decision<Event> one(Event event) { return std::vector<Event>{std::move(event)}; }
Decision<Event> nothing() { return std::vector<Event>{}; }

Rejection not_found() { return Rejection{RejectionCode::not_found, "endpoint_id: no such webhook endpoint"}; }

Decision<Event> decide(const RegisterEndpoint& command, const EndpointState& state) {
    if (state.status != EndpointStatus::none) {
        return Rejection{RejectionCode::already_exists, "endpoint_id: an endpoint with this id exists"};
    }
    const auto& registered = command.registered;
    if (registered.endpoint_id().empty() || registered.url().empty() || registered.event_types().empty() ||
        registered.sealed_secret().empty()) {
        return Rejection{RejectionCode::invalid_argument,
                         "an endpoint needs an id, a URL, at least one event type and a secret"};
    }
    Event event;
    *event.mutable_registered() = registered;
    return one(std::move(event));
}

Decision<Event> decide(const RotateSecret& command, const EndpointState& state) {
    if (state.status == EndpointStatus::none || state.status == EndpointStatus::removed) {
        return not_found();
    }
    if (command.sealed_secret.empty()) {
        return Rejection{RejectionCode::invalid_argument, "a rotation needs a new secret"};
    }
    Event event;
    auto& rotated = *event.mutable_secret_rotated();
    rotated.set_sealed_secret(command.sealed_secret);
    rotated.set_rotated_by(command.operator_id);
    *rotated.mutable_rotated_at() = kernel::to_timestamp(command.now);
    *rotated.mutable_previous_valid_until() = kernel::to_timestamp(command.now + command.grace);
    return one(std::move(event));
}

Decision<Event> decide(const DisableEndpoint& command, const EndpointState& state) {
    if (state.status == EndpointStatus::none) {
        return not_found();
    }
    if (state.status != EndpointStatus::active) {
        return nothing();  // already disabled or removed: nothing more to stop
    }
    Event event;
    auto& disabled = *event.mutable_disabled();
    disabled.set_reason(command.reason);
    disabled.set_delivery_id(command.delivery_id);
    *disabled.mutable_disabled_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

Decision<Event> decide(const EnableEndpoint& command, const EndpointState& state) {
    if (state.status == EndpointStatus::none || state.status == EndpointStatus::removed) {
        return not_found();
    }
    if (state.status == EndpointStatus::active) {
        return nothing();
    }
    Event event;
    event.mutable_enabled()->set_enabled_by(command.operator_id);
    *event.mutable_enabled()->mutable_enabled_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

Decision<Event> decide(const RemoveEndpoint& command, const EndpointState& state) {
    if (state.status == EndpointStatus::none) {
        return not_found();
    }
    if (state.status == EndpointStatus::removed) {
        return nothing();
    }
    Event event;
    event.mutable_removed()->set_removed_by(command.operator_id);
    *event.mutable_removed()->mutable_removed_at() = kernel::to_timestamp(command.now);
    return one(std::move(event));
}

}  // namespace

std::string_view to_string(EndpointStatus status) {
    switch (status) {
        case EndpointStatus::none:
            return "unknown";
        case EndpointStatus::active:
            return "active";
        case EndpointStatus::disabled:
            return "disabled";
        case EndpointStatus::removed:
            return "removed";
    }
    return "unknown";
}

kernel::Decision<Event> WebhookEndpoint::decide(const Command& command, const State& state) {
    return std::visit([&](const auto& c) { return notifier::decide(c, state); }, command);
}

EndpointState WebhookEndpoint::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kRegistered:
            state.status = EndpointStatus::active;
            state.registered = event.registered();
            state.sealed_secret = event.registered().sealed_secret();
            state.registered.clear_sealed_secret();
            break;
        case Event::kSecretRotated:
            state.previous_sealed_secret = std::move(state.sealed_secret);
            state.sealed_secret = event.secret_rotated().sealed_secret();
            state.previous_valid_until = kernel::to_time_point(event.secret_rotated().previous_valid_until());
            break;
        case Event::kDisabled:
            state.status = EndpointStatus::disabled;
            state.disabled_reason = event.disabled().reason();
            break;
        case Event::kEnabled:
            state.status = EndpointStatus::active;
            state.disabled_reason.clear();
            break;
        case Event::kRemoved:
            state.status = EndpointStatus::removed;
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

kernel::ReadModel<EndpointState> webhook_endpoint_read_model() {
    return {kWebhookEndpointReadModelVersion,
            [](const std::string& /*id*/, const EndpointState& state, kernel::IndexEntries& entries) {
                if (state.status == EndpointStatus::none || state.status == EndpointStatus::removed) {
                    return;
                }
                entries.add(endpoint_index::kListed, kernel::IndexKey());
                entries.count("status:" + std::string(to_string(state.status)));
                if (state.status == EndpointStatus::active) {
                    for (const auto& type : state.registered.event_types()) {
                        entries.add(endpoint_index::kByEventType, kernel::IndexKey().text(type));
                    }
                }
            }};
}

}  // namespace gatehouse::notifier
