// Signed webhooks end to end: the real gatehouse-notifier process, Kafka (the mock cluster, or
// the real broker under the "kafka" label) and the example receiver
// (services/notifier/examples/webhook_receiver.py), which verifies every request with the
// `standardwebhooks` package from PyPI, installed into a venv by the ctest fixture
// notifier.webhook_venv.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/wait_until.h"
#include "notifier_process.h"
#include "webhook_receiver.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace nv1 = gatehouse::notifier::v1;
namespace sv1 = gatehouse::sales::v1;

namespace {

constexpr const char* kSales = "gatehouse.sales.events.v1";
constexpr auto kDeliveryTimeout = 60s;

std::map<std::string, std::string> webhook_settings(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> settings = {{"GATEHOUSE_WEBHOOKS_ALLOW_PLAIN_HTTP", "true"},
                                                   {"GATEHOUSE_WEBHOOKS_POLL_INTERVAL", "50ms"},
                                                   {"GATEHOUSE_WEBHOOKS_BACKOFF_INITIAL", "100ms"},
                                                   {"GATEHOUSE_WEBHOOKS_BACKOFF_MAX", "500ms"},
                                                   {"GATEHOUSE_WEBHOOKS_TIMEOUT", "5s"}};
    for (auto& [key, value] : extra) {
        settings[key] = std::move(value);
    }
    return settings;
}

nv1::AddWebhookEndpointResponse add_endpoint(NotifierProcess& notifier, const std::string& url,
                                             const std::vector<std::string>& types = {}) {
    nv1::AddWebhookEndpointRequest request;
    request.set_url(url);
    for (const auto& type : types) {
        request.add_event_types(type);
    }
    nv1::AddWebhookEndpointResponse response;
    const auto status = notifier.api().AddWebhookEndpoint(as_operator().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
}

std::vector<nv1::WebhookDelivery> deliveries(NotifierProcess& notifier, const std::string& endpoint_id) {
    nv1::ListWebhookDeliveriesRequest request;
    request.set_endpoint_id(endpoint_id);
    request.set_page_size(500);
    nv1::ListWebhookDeliveriesResponse response;
    if (!notifier.api().ListWebhookDeliveries(as_operator().get(), request, &response).ok()) {
        return {};
    }
    return {response.deliveries().begin(), response.deliveries().end()};
}

nv1::WebhookEndpoint endpoint(NotifierProcess& notifier, const std::string& endpoint_id) {
    nv1::ListWebhookEndpointsResponse response;
    if (notifier.api().ListWebhookEndpoints(as_operator().get(), {}, &response).ok()) {
        for (const auto& e : response.endpoints()) {
            if (e.endpoint_id() == endpoint_id) {
                return e;
            }
        }
    }
    return {};
}

sv1::LeadCreated lead_created(const std::string& id) {
    sv1::LeadCreated event;
    event.set_lead_id(id);
    return event;
}
sv1::LeadAssigned lead_assigned(const std::string& id) {
    sv1::LeadAssigned event;
    event.set_lead_id(id);
    return event;
}
sv1::LeadQualified lead_qualified(const std::string& id) {
    sv1::LeadQualified event;
    event.set_lead_id(id);
    return event;
}
sv1::OpportunityCreated opportunity_created(const std::string& id) {
    sv1::OpportunityCreated event;
    event.set_opportunity_id(id);
    return event;
}
sv1::OpportunityWon opportunity_won(const std::string& id) {
    sv1::OpportunityWon event;
    event.set_opportunity_id(id);
    return event;
}

}  // namespace

TEST_CASE("a webhook endpoint gets every lead and opportunity event once per id, signed, in order, across an outage",
          "[kafka]") {
    KafkaTestCluster kafka;
    WebhookReceiver receiver;
    NotifierProcess notifier(kafka, webhook_settings());

    const auto added = add_endpoint(notifier, receiver.url());
    const std::string endpoint_id = added.endpoint().endpoint_id();
    CHECK_THAT(added.secret(), Catch::StartsWith("whsec_"));
    CHECK(added.endpoint().status() == nv1::WEBHOOK_ENDPOINT_STATUS_ACTIVE);
    // Every lead and opportunity event by default.
    CHECK(added.endpoint().event_types_size() == sv1::LeadEvent::descriptor()->oneof_decl(0)->field_count() +
                                                     sv1::OpportunityEvent::descriptor()->oneof_decl(0)->field_count());
    receiver.use_secret(added.secret());

    // Events of the sales topic: delivered (lead and opportunity ones) or not (the account's), and
    // an onboarding event nobody subscribed to.
    std::set<std::string> expected;
    std::map<std::string, std::vector<std::string>> order;  // aggregate id -> its event ids, in version order
    const auto produce = [&](const std::string& type, const std::string& id, const auto& message,
                             std::uint64_t version) {
        const std::string event_id = notifier.produce(kSales, type, id, message, version);
        expected.insert(event_id);
        order[id].push_back(event_id);
    };
    for (const std::string lead : {"L-000001", "L-000002", "L-000003"}) {
        produce("lead", lead, lead_created(lead), 1);
        produce("lead", lead, lead_assigned(lead), 2);
    }
    sv1::AccountCreated account;
    account.set_account_id("A-000001");
    notifier.produce(kSales, "account", "A-000001", account);
    onboarding::v1::EmailVerified verified;
    verified.mutable_prospect()->set_request_number("PR-000001");
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001", verified);

    REQUIRE(wait_until([&] { return receiver.event_ids() == expected; }, kDeliveryTimeout));

    // The receiver goes down; more events come; the notifier retries, and restarts in between.
    REQUIRE(receiver.stop() == 0);
    produce("lead", "L-000001", lead_qualified("L-000001"), 3);
    produce("opportunity", "O-000001", opportunity_created("O-000001"), 1);
    produce("opportunity", "O-000001", opportunity_won("O-000001"), 2);
    produce("lead", "L-000002", lead_qualified("L-000002"), 3);
    const auto failed_twice = [&] {
        for (const auto& d : deliveries(notifier, endpoint_id)) {
            if (d.status() == nv1::WEBHOOK_DELIVERY_STATUS_PENDING && d.attempts() >= 2) {
                return true;
            }
        }
        return false;
    };
    REQUIRE(wait_until(failed_twice, kDeliveryTimeout));
    // The opportunity's second event waits behind its first, which cannot be delivered.
    REQUIRE(wait_until(
        [&] {
            for (const auto& d : deliveries(notifier, endpoint_id)) {
                if (d.event_type() == "gatehouse.sales.v1.OpportunityWon") {
                    return d.waiting() && d.attempts() == 0;
                }
            }
            return false;
        },
        kDeliveryTimeout));
    CHECK(notifier.stop(SIGKILL) != 0);
    notifier.start();
    REQUIRE(wait_until(failed_twice, kDeliveryTimeout));
    receiver.start_again();
    REQUIRE(wait_until([&] { return receiver.event_ids() == expected; }, kDeliveryTimeout));

    const auto received = receiver.received();
    CHECK(receiver.rejected() == 0);  // every request verified with standardwebhooks
    // Once per id: the same event always came with the same webhook-id and body.
    std::map<std::string, std::string> webhook_id_of;
    std::map<std::string, std::string> body_of;
    std::map<std::string, std::vector<std::string>> arrival;  // aggregate -> first arrivals
    for (const auto& record : received) {
        const auto& event = record["event"];
        const std::string event_id = event["eventId"];
        const auto [at, first] = webhook_id_of.emplace(event_id, record["webhook_id"].get<std::string>());
        CHECK(at->second == record["webhook_id"].get<std::string>());
        const auto [body, first_body] = body_of.emplace(event_id, event.dump());
        CHECK(body->second == event.dump());
        if (first) {
            arrival[event["aggregateId"].get<std::string>()].push_back(event_id);
            CHECK_THAT(event["eventType"].get<std::string>(), Catch::StartsWith("gatehouse.sales.v1.Lead") ||
                                                                  Catch::StartsWith("gatehouse.sales.v1.Opportunity"));
            CHECK(event["payload"]["@type"] == "type.googleapis.com/" + event["eventType"].get<std::string>());
        }
    }
    CHECK(webhook_id_of.size() == expected.size());
    // In version order per aggregate, across the outage and the restart.
    CHECK(arrival == order);

    // The delivery log: every delivery delivered (recorded once the receiver's answer arrived),
    // the late ones after failed attempts.
    std::vector<nv1::WebhookDelivery> log;
    CHECK(wait_until(
        [&] {
            log = deliveries(notifier, endpoint_id);
            return std::all_of(log.begin(), log.end(), [](const nv1::WebhookDelivery& d) {
                return d.status() == nv1::WEBHOOK_DELIVERY_STATUS_DELIVERED;
            });
        },
        kDeliveryTimeout));
    CHECK(log.size() == expected.size());
    std::size_t retried = 0;
    for (const auto& d : log) {
        INFO(d.delivery_id() << " " << d.event_type() << " " << d.last_error());
        CHECK(d.status() == nv1::WEBHOOK_DELIVERY_STATUS_DELIVERED);
        CHECK(d.delivery_id() == webhook_id_of[d.event_id()]);
        REQUIRE(!d.recent_attempts().empty());
        CHECK(d.recent_attempts().rbegin()->status_code() == 204);
        if (d.attempts() > 1) {
            ++retried;
            CHECK(d.recent_attempts(0).status_code() == 0);  // no answer while the receiver was down
            CHECK_FALSE(d.recent_attempts(0).error().empty());
        }
    }
    CHECK(retried >= 1);

    // Redeliver: the same webhook-id again, signed with the current secret.
    const std::string again = log.front().delivery_id();
    const std::size_t before = receiver.times_received(again);
    nv1::RedeliverWebhookRequest redeliver;
    redeliver.set_delivery_id(again);
    nv1::RedeliverWebhookResponse redelivered;
    REQUIRE(notifier.api().RedeliverWebhook(as_operator().get(), redeliver, &redelivered).ok());
    REQUIRE(wait_until([&] { return receiver.times_received(again) == before + 1; }, kDeliveryTimeout));

    // Rotation: both secrets sign during the grace period, so a receiver with either verifies.
    nv1::RotateWebhookSecretRequest rotate;
    rotate.set_endpoint_id(endpoint_id);
    nv1::RotateWebhookSecretResponse rotated;
    REQUIRE(notifier.api().RotateWebhookSecret(as_operator().get(), rotate, &rotated).ok());
    CHECK(rotated.secret() != added.secret());
    for (const std::string& secret : {rotated.secret(), added.secret()}) {
        receiver.use_secret(secret);
        const std::size_t count = receiver.times_received(again);
        REQUIRE(notifier.api().RedeliverWebhook(as_operator().get(), redeliver, &redelivered).ok());
        REQUIRE(wait_until([&] { return receiver.times_received(again) == count + 1; }, kDeliveryTimeout));
    }
    CHECK(receiver.rejected() == 0);
    const auto last = receiver.received().back();
    CHECK(last["signature"].get<std::string>().find(' ') != std::string::npos);  // two signatures
}

TEST_CASE("an endpoint that fails for webhooks.retry_for is disabled, the operator emailed, and it can come back",
          "[kafka]") {
    KafkaTestCluster kafka;
    WebhookReceiver receiver;
    const int port = receiver.port();
    REQUIRE(receiver.stop() == 0);  // nothing listens there for now
    NotifierProcess notifier(kafka, webhook_settings({{"GATEHOUSE_WEBHOOKS_RETRY_FOR", "2s"},
                                                      {"GATEHOUSE_WEBHOOKS_OPERATOR_EMAIL", "ops@gatehouse.example"}}));
    const auto added = add_endpoint(notifier, "http://127.0.0.1:" + std::to_string(port) + "/hooks",
                                    {"gatehouse.sales.v1.LeadCreated"});
    const std::string endpoint_id = added.endpoint().endpoint_id();
    receiver.use_secret(added.secret());
    const std::string event_id = notifier.produce(kSales, "lead", "L-000009", lead_created("L-000009"));

    REQUIRE(
        wait_until([&] { return endpoint(notifier, endpoint_id).status() == nv1::WEBHOOK_ENDPOINT_STATUS_DISABLED; },
                   kDeliveryTimeout));
    CHECK_THAT(endpoint(notifier, endpoint_id).disabled_reason(), Catch::Contains("failed for"));
    auto log = deliveries(notifier, endpoint_id);
    REQUIRE(log.size() == 1);
    CHECK(log[0].status() == nv1::WEBHOOK_DELIVERY_STATUS_FAILED);
    CHECK(log[0].attempts() >= 2);
    // The operator's email, through the notifier's own mail path.
    REQUIRE(wait_until(
        [&] {
            nv1::ListNotificationsRequest request;
            nv1::ListNotificationsResponse response;
            if (!notifier.api().ListNotifications(as_operator().get(), request, &response).ok()) {
                return false;
            }
            for (const auto& n : response.notifications()) {
                if (n.template_name() == "webhook_endpoint_disabled" && n.recipient() == "ops@gatehouse.example" &&
                    n.status() == nv1::NOTIFICATION_STATUS_SENT) {
                    return true;
                }
            }
            return false;
        },
        kDeliveryTimeout));

    // A disabled endpoint: a redelivery is refused until it is enabled.
    nv1::RedeliverWebhookRequest redeliver;
    redeliver.set_delivery_id(log[0].delivery_id());
    nv1::RedeliverWebhookResponse redelivered;
    CHECK(notifier.api().RedeliverWebhook(as_operator().get(), redeliver, &redelivered).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
    receiver.start_again();
    nv1::EnableWebhookEndpointRequest enable;
    enable.set_endpoint_id(endpoint_id);
    nv1::EnableWebhookEndpointResponse enabled;
    REQUIRE(notifier.api().EnableWebhookEndpoint(as_operator().get(), enable, &enabled).ok());
    REQUIRE(notifier.api().RedeliverWebhook(as_operator().get(), redeliver, &redelivered).ok());
    REQUIRE(wait_until([&] { return receiver.event_ids() == std::set<std::string>{event_id}; }, kDeliveryTimeout));
    CHECK(receiver.rejected() == 0);
    // Recorded once the receiver's answer arrived.
    CHECK(wait_until(
        [&] {
            log = deliveries(notifier, endpoint_id);
            return log.size() == 1 && log[0].status() == nv1::WEBHOOK_DELIVERY_STATUS_DELIVERED;
        },
        kDeliveryTimeout));
}

TEST_CASE("webhook endpoints: bad input and callers without the operator role are refused", "[kafka]") {
    KafkaTestCluster kafka;
    NotifierProcess notifier(kafka, {});
    nv1::AddWebhookEndpointRequest request;
    nv1::AddWebhookEndpointResponse response;
    const auto refused = [&](const std::string& url, const std::vector<std::string>& types, const std::string& part) {
        request.set_url(url);
        request.clear_event_types();
        for (const auto& type : types) {
            request.add_event_types(type);
        }
        const auto status = notifier.api().AddWebhookEndpoint(as_operator().get(), request, &response);
        INFO(url << ": " << status.error_message());
        CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
        CHECK_THAT(status.error_message(), Catch::Contains(part));
    };
    refused("", {}, "url: is required");
    refused("http://crm.example/hooks", {}, "https://");  // webhooks.allow_plain_http is off
    refused("ftp://crm.example/hooks", {}, "https://");
    refused("https://crm.example/a b", {}, "spaces");
    refused("https:///hooks", {}, "no host");
    refused("https://crm.example/" + std::string(2100, 'a'), {}, "2048");
    refused("https://crm.example/hooks", {"gatehouse.sales.v1.NoSuchEvent"}, "event_types");
    refused("https://crm.example/hooks", {"gatehouse.notifier.v1.NotificationQueued"}, "event_types");

    request.set_url("https://crm.example/hooks");
    request.clear_event_types();
    CHECK(notifier.api().AddWebhookEndpoint(call_as("").get(), request, &response).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    nv1::ListWebhookEndpointsResponse unlisted;
    CHECK(notifier.api().ListWebhookEndpoints(call_as("").get(), {}, &unlisted).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);

    // A retry with the same idempotency key answers the first registration, secret included.
    request.set_idempotency_key("register-crm-1");
    nv1::AddWebhookEndpointResponse first;
    nv1::AddWebhookEndpointResponse retry;
    REQUIRE(notifier.api().AddWebhookEndpoint(as_operator().get(), request, &first).ok());
    REQUIRE(notifier.api().AddWebhookEndpoint(as_operator().get(), request, &retry).ok());
    CHECK(retry.endpoint().endpoint_id() == first.endpoint().endpoint_id());
    CHECK(retry.secret() == first.secret());
    nv1::ListWebhookEndpointsResponse listed;
    REQUIRE(notifier.api().ListWebhookEndpoints(as_operator().get(), {}, &listed).ok());
    CHECK(listed.endpoints_size() == 1);

    nv1::RemoveWebhookEndpointRequest remove;
    remove.set_endpoint_id("ep_nope");
    nv1::RemoveWebhookEndpointResponse removed;
    CHECK(notifier.api().RemoveWebhookEndpoint(as_operator().get(), remove, &removed).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    remove.set_endpoint_id(first.endpoint().endpoint_id());
    CHECK(notifier.api().RemoveWebhookEndpoint(as_operator().get(), remove, &removed).ok());
    listed.Clear();
    REQUIRE(notifier.api().ListWebhookEndpoints(as_operator().get(), {}, &listed).ok());
    CHECK(listed.endpoints_size() == 0);
    nv1::RedeliverWebhookRequest redeliver;
    redeliver.set_delivery_id("msg_nope");
    nv1::RedeliverWebhookResponse redelivered;
    CHECK(notifier.api().RedeliverWebhook(as_operator().get(), redeliver, &redelivered).error_code() ==
          grpc::StatusCode::NOT_FOUND);
}

namespace {

// Runs the real `gatehouse` CLI against the notifier as an operator: its exit code and output
// (stderr merged).
std::pair<int, std::string> gatehouse_cli(NotifierProcess& notifier, const std::vector<std::string>& arguments) {
    std::vector<std::string> command = {GATEHOUSE_CLI_BINARY, "--notifier", notifier.address(), "--token",
                                        kOperatorToken};
    command.insert(command.end(), arguments.begin(), arguments.end());
    ChildProcess cli(command, true);
    std::string output;
    while (auto line = cli.read_line(60s)) {
        output += *line + "\n";
    }
    return {cli.wait(), output};
}

// The value after "name:" on its line of `output`.
std::string labelled(const std::string& output, const std::string& name) {
    const auto at = output.find(name + ":");
    if (at == std::string::npos) {
        return {};
    }
    const auto start = output.find_first_not_of(' ', at + name.size() + 1);
    return output.substr(start, output.find_first_of(" \n", start) - start);
}

}  // namespace

TEST_CASE("gatehouse webhooks: add, list, deliveries, redeliver, rotate-secret, remove", "[kafka]") {
    KafkaTestCluster kafka;
    WebhookReceiver receiver;
    NotifierProcess notifier(kafka, webhook_settings());

    auto [code, output] = gatehouse_cli(notifier, {"webhooks", "add", receiver.url(), "--event",
                                                   "gatehouse.sales.v1.LeadCreated", "--description", "CRM sync"});
    INFO(output);
    REQUIRE(code == 0);
    const std::string endpoint_id = labelled(output, "endpoint");
    const std::string secret = labelled(output, "secret");
    CHECK_THAT(endpoint_id, Catch::StartsWith("ep_"));
    CHECK_THAT(secret, Catch::StartsWith("whsec_"));
    receiver.use_secret(secret);

    const std::string event_id = notifier.produce(kSales, "lead", "L-000007", lead_created("L-000007"));
    REQUIRE(wait_until([&] { return receiver.event_ids() == std::set<std::string>{event_id}; }, kDeliveryTimeout));
    // Recorded once the receiver's answer arrived.
    REQUIRE(wait_until(
        [&] {
            const auto log = deliveries(notifier, endpoint_id);
            return log.size() == 1 && log[0].status() == nv1::WEBHOOK_DELIVERY_STATUS_DELIVERED;
        },
        kDeliveryTimeout));

    std::tie(code, output) = gatehouse_cli(notifier, {"webhooks", "list"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains(endpoint_id) && Catch::Contains("active") && Catch::Contains(receiver.url()));

    std::tie(code, output) = gatehouse_cli(notifier, {"webhooks", "deliveries", endpoint_id, "--attempts"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("delivered") && Catch::Contains("gatehouse.sales.v1.LeadCreated") &&
                           Catch::Contains("HTTP 204"));
    const auto deliveries_of = deliveries(notifier, endpoint_id);
    REQUIRE(deliveries_of.size() == 1);
    const std::string webhook_id = deliveries_of[0].delivery_id();
    CHECK_THAT(output, Catch::Contains(webhook_id));

    std::tie(code, output) = gatehouse_cli(notifier, {"webhooks", "redeliver", webhook_id});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("queued again"));
    REQUIRE(wait_until([&] { return receiver.times_received(webhook_id) == 2; }, kDeliveryTimeout));

    std::tie(code, output) = gatehouse_cli(notifier, {"webhooks", "rotate-secret", endpoint_id});
    CHECK(code == 0);
    CHECK_THAT(labelled(output, "secret"), Catch::StartsWith("whsec_"));
    CHECK(labelled(output, "secret") != secret);
    CHECK_THAT(output, Catch::Contains("previous secret also signs until"));

    std::tie(code, output) = gatehouse_cli(notifier, {"webhooks", "redeliver", "msg_nope"});
    CHECK(code != 0);
    CHECK_THAT(output, Catch::Contains("no such delivery"));

    std::tie(code, output) = gatehouse_cli(notifier, {"webhooks", "remove", endpoint_id});
    CHECK(code == 0);
    std::tie(code, output) = gatehouse_cli(notifier, {"--json", "webhooks", "list"});
    CHECK(code == 0);
    CHECK_THAT(output, !Catch::Contains(endpoint_id));
    CHECK(receiver.rejected() == 0);
}
