// `gatehouse webhooks ...`: signed webhook endpoints on the notifier (operator token). See
// docs/webhooks.md.
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"

namespace gatehouse::cli {
namespace {

namespace nv = notifier::v1;

std::string endpoint_status(nv::WebhookEndpointStatus status) {
    switch (status) {
        case nv::WEBHOOK_ENDPOINT_STATUS_ACTIVE:
            return "active";
        case nv::WEBHOOK_ENDPOINT_STATUS_DISABLED:
            return "disabled";
        case nv::WEBHOOK_ENDPOINT_STATUS_REMOVED:
            return "removed";
        default:
            return "-";
    }
}

std::string delivery_status(const nv::WebhookDelivery& delivery) {
    switch (delivery.status()) {
        case nv::WEBHOOK_DELIVERY_STATUS_PENDING:
            return delivery.waiting() ? "waiting" : "pending";
        case nv::WEBHOOK_DELIVERY_STATUS_DELIVERED:
            return "delivered";
        case nv::WEBHOOK_DELIVERY_STATUS_FAILED:
            return "failed";
        default:
            return "-";
    }
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
    std::string text;
    for (const auto& item : items) {
        text += (text.empty() ? "" : ",") + item;
    }
    return text;
}

struct WebhookArgs {
    std::string url;
    std::vector<std::string> events;
    std::string description;
    std::string idempotency_key;
    std::string id;
    int page_size = 0;
    std::string page_token;
    bool attempts = false;
};

void print_secret(const std::string& secret) {
    std::cout << "secret:   " << secret << "\n"
              << "          (shown once: give it to the receiver, which verifies webhook-signature with it)\n";
}

}  // namespace

void add_webhook_commands(CLI::App& app, Cli& cli) {
    static WebhookArgs args;
    const auto notifier = [&cli] { return nv::NotifierService::NewStub(cli.channel(cli.notifier)); };
    auto* webhooks = app.add_subcommand("webhooks", "signed webhook endpoints and their deliveries (operator token)");
    webhooks->require_subcommand(1);

    auto* add = webhooks->add_subcommand("add", "register an endpoint; prints its signing secret once");
    add->add_option("url", args.url, "https:// URL the events are POSTed to")->required();
    add->add_option("--event", args.events,
                    "event type to deliver, e.g. gatehouse.sales.v1.LeadCreated (repeat; default: every lead and "
                    "opportunity event)");
    add->add_option("--description", args.description, "what the endpoint is for");
    add->add_option("--idempotency-key", args.idempotency_key, "a retry with the same key answers the first time");
    add->callback([=, &cli] {
        nv::AddWebhookEndpointRequest request;
        request.set_url(args.url);
        for (const auto& type : args.events) {
            request.add_event_types(type);
        }
        request.set_description(args.description);
        request.set_idempotency_key(args.idempotency_key);
        nv::AddWebhookEndpointResponse response;
        if (!cli.succeeded(notifier()->AddWebhookEndpoint(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::cout << "endpoint: " << response.endpoint().endpoint_id() << "\n"
                  << "url:      " << response.endpoint().url() << "\n"
                  << "events:   " << joined(response.endpoint().event_types()) << "\n";
        print_secret(response.secret());
    });

    auto* list = webhooks->add_subcommand("list", "the endpoints that were not removed");
    list->callback([=, &cli] {
        nv::ListWebhookEndpointsResponse response;
        if (!cli.succeeded(notifier()->ListWebhookEndpoints(cli.context().get(), {}, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& e : response.endpoints()) {
            rows.push_back({e.endpoint_id(), endpoint_status(e.status()), e.url(),
                            std::to_string(e.event_types_size()) + " event type(s)", when(e.registered_at()),
                            e.disabled_reason().empty() ? e.description() : e.disabled_reason()});
        }
        print_table({"ID", "STATUS", "URL", "EVENTS", "REGISTERED", "NOTE"}, rows);
    });

    auto* remove = webhooks->add_subcommand("remove", "stop delivering to an endpoint, for good");
    remove->add_option("id", args.id, "endpoint id (ep_...)")->required();
    remove->callback([=, &cli] {
        nv::RemoveWebhookEndpointRequest request;
        request.set_endpoint_id(args.id);
        nv::RemoveWebhookEndpointResponse response;
        if (cli.succeeded(notifier()->RemoveWebhookEndpoint(cli.context().get(), request, &response))) {
            cli.json ? print_json(response) : void(std::cout << args.id << ": removed\n");
        }
    });

    auto* enable = webhooks->add_subcommand("enable", "deliver to a disabled endpoint again");
    enable->add_option("id", args.id, "endpoint id (ep_...)")->required();
    enable->callback([=, &cli] {
        nv::EnableWebhookEndpointRequest request;
        request.set_endpoint_id(args.id);
        nv::EnableWebhookEndpointResponse response;
        if (cli.succeeded(notifier()->EnableWebhookEndpoint(cli.context().get(), request, &response))) {
            cli.json ? print_json(response) : void(std::cout << args.id << ": active\n");
        }
    });

    auto* rotate = webhooks->add_subcommand("rotate-secret", "a new signing secret; the old one signs too for a while");
    rotate->add_option("id", args.id, "endpoint id (ep_...)")->required();
    rotate->callback([=, &cli] {
        nv::RotateWebhookSecretRequest request;
        request.set_endpoint_id(args.id);
        nv::RotateWebhookSecretResponse response;
        if (!cli.succeeded(notifier()->RotateWebhookSecret(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        print_secret(response.secret());
        std::cout << "the previous secret also signs until " << when(response.previous_secret_valid_until()) << "\n";
    });

    auto* deliveries = webhooks->add_subcommand("deliveries", "an endpoint's deliveries, newest first");
    deliveries->add_option("id", args.id, "endpoint id (ep_...)")->required();
    deliveries->add_option("--page-size", args.page_size, "1..500 (default 50)");
    deliveries->add_option("--page-token", args.page_token, "from the previous page");
    deliveries->add_flag("--attempts", args.attempts, "also list each delivery's recent attempts");
    deliveries->callback([=, &cli] {
        nv::ListWebhookDeliveriesRequest request;
        request.set_endpoint_id(args.id);
        request.set_page_size(args.page_size);
        request.set_page_token(args.page_token);
        nv::ListWebhookDeliveriesResponse response;
        if (!cli.succeeded(notifier()->ListWebhookDeliveries(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& d : response.deliveries()) {
            const int last_code = d.recent_attempts().empty() ? 0 : d.recent_attempts().rbegin()->status_code();
            rows.push_back({d.delivery_id(), delivery_status(d), d.event_type(), d.aggregate_id(),
                            std::to_string(d.attempts()), last_code == 0 ? "-" : std::to_string(last_code),
                            when(d.queued_at()), d.last_error()});
            if (args.attempts) {
                for (const auto& a : d.recent_attempts()) {
                    rows.push_back({"  #" + std::to_string(a.attempt()), when(a.at()),
                                    a.status_code() == 0 ? "no answer" : "HTTP " + std::to_string(a.status_code()),
                                    std::to_string(a.duration_ms()) + " ms", "", "", "", a.error()});
                }
            }
        }
        print_table({"WEBHOOK-ID", "STATUS", "EVENT", "AGGREGATE", "ATTEMPTS", "LAST HTTP", "QUEUED", "LAST ERROR"},
                    rows);
        if (!response.next_page_token().empty()) {
            std::cout << "next page: --page-token " << response.next_page_token() << "\n";
        }
    });

    auto* redeliver = webhooks->add_subcommand("redeliver", "queue a delivery again (same webhook-id and body)");
    redeliver->add_option("id", args.id, "delivery id (msg_...)")->required();
    redeliver->callback([=, &cli] {
        nv::RedeliverWebhookRequest request;
        request.set_delivery_id(args.id);
        nv::RedeliverWebhookResponse response;
        if (cli.succeeded(notifier()->RedeliverWebhook(cli.context().get(), request, &response))) {
            cli.json ? print_json(response) : void(std::cout << args.id << ": queued again\n");
        }
    });
}

}  // namespace gatehouse::cli
