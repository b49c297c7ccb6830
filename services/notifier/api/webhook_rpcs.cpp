// The webhook RPCs of the notifier's operator API (operator only). See docs/webhooks.md.
#include <string>
#include <vector>

#include "api/notifier_api.h"
#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::notifier {
namespace {

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
    const auto added = webhooks_->add_endpoint(
        {request->url(), std::vector<std::string>(request->event_types().begin(), request->event_types().end()),
         request->description(), request->idempotency_key()},
        principal.user_id);
    if (const auto* endpoint = std::get_if<RegisteredEndpoint>(&added); endpoint && !endpoint->secret) {
        return {grpc::StatusCode::INTERNAL, "the endpoint's secret cannot be opened"};
    }
    return answer(added, [&](const RegisteredEndpoint& endpoint) {
        if (endpoint.state) {
            describe(endpoint.endpoint_id, *endpoint.state, *response->mutable_endpoint());
        }
        response->set_secret(*endpoint.secret);
    });
}

grpc::Status NotifierApi::ListWebhookEndpoints(grpc::ServerContext* context,
                                               const v1::ListWebhookEndpointsRequest* /*request*/,
                                               v1::ListWebhookEndpointsResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    for (const auto& row : webhooks_->endpoints()) {
        describe(row.id, row.state, *response->add_endpoints());
    }
    return grpc::Status::OK;
}

grpc::Status NotifierApi::RemoveWebhookEndpoint(grpc::ServerContext* context,
                                                const v1::RemoveWebhookEndpointRequest* request,
                                                v1::RemoveWebhookEndpointResponse* /*response*/) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    return answer(webhooks_->remove_endpoint(request->endpoint_id(), principal.user_id));
}

grpc::Status NotifierApi::RotateWebhookSecret(grpc::ServerContext* context,
                                              const v1::RotateWebhookSecretRequest* request,
                                              v1::RotateWebhookSecretResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    const auto rotated = webhooks_->rotate_secret(request->endpoint_id(), principal.user_id);
    return answer(rotated, [&](const RotatedSecret& value) {
        response->set_secret(value.secret);
        *response->mutable_previous_secret_valid_until() = kernel::to_timestamp(value.previous_valid_until);
    });
}

grpc::Status NotifierApi::EnableWebhookEndpoint(grpc::ServerContext* context,
                                                const v1::EnableWebhookEndpointRequest* request,
                                                v1::EnableWebhookEndpointResponse* /*response*/) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    return answer(webhooks_->enable_endpoint(request->endpoint_id(), principal.user_id));
}

grpc::Status NotifierApi::ListWebhookDeliveries(grpc::ServerContext* context,
                                                const v1::ListWebhookDeliveriesRequest* request,
                                                v1::ListWebhookDeliveriesResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    const auto page = webhooks_->deliveries(request->endpoint_id(), request->page_size(), request->page_token());
    return answer(page, [&](const DeliveryPage& value) {
        for (const auto& row : value.deliveries) {
            describe(row.id, row.state, *response->add_deliveries());
        }
        response->set_next_page_token(value.next_page_token);
    });
}

grpc::Status NotifierApi::RedeliverWebhook(grpc::ServerContext* context, const v1::RedeliverWebhookRequest* request,
                                           v1::RedeliverWebhookResponse* response) {
    kernel::Principal principal;
    if (auto status = webhook_call(*context, principal); !status.ok()) {
        return status;
    }
    auto status = answer(webhooks_->redeliver(request->delivery_id(), principal.user_id));
    if (status.ok()) {
        response->set_status(v1::WEBHOOK_DELIVERY_STATUS_PENDING);
    }
    return status;
}

}  // namespace gatehouse::notifier
