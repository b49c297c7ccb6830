// gatehouse-notifier: wiring only. See services/notifier/README.md and docs/configuration.md.
#include <iostream>

#include "api/notifier_api.h"
#include "app/dispatcher.h"
#include "app/notifications_app.h"
#include "app/webhook_dispatcher.h"
#include "app/webhook_endpoints_app.h"
#include "app/webhook_lanes.h"
#include "domain/notification.h"
#include "domain/notification_index.h"
#include "domain/planner.h"
#include "domain/templates.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_endpoint.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/sealed_token.h"
#include "gatehouse/kernel/service_main.h"
#include "gatehouse/kernel/service_runtime.h"
#include "gatehouse/platform/topics.h"
#include "reactions/inbound.h"
#include "transport/transport.h"

using namespace gatehouse;
using namespace gatehouse::notifier;

namespace {

kernel::ConfigSchema schema() {
    kernel::ConfigSchema schema;
    kernel::add_kernel_options(schema, "notifier");
    schema
        .add({"notifier.public_key", kernel::OptionType::string, "",
              "The notifier's public key (base64url, from gatehouse-keygen); must match notifier.secret_key."})
        .add({"notifier.secret_key", kernel::OptionType::string, "",
              "The notifier's secret key (base64url, from gatehouse-keygen): opens the one-time tokens that the "
              "other services seal to it.",
              true})
        .add({"links.base_url", kernel::OptionType::string, "http://127.0.0.1:8080",
              "Where the storefront serves /verify and /set-password: the start of every link in an email."})
        .add({"templates.dir", kernel::OptionType::string, "",
              "Directory of the mustache templates (<locale>/<template>.<part>.mustache); copy and edit to override. "
              "Empty: the bundled ones (/usr/share/gatehouse/templates when installed, else the source tree's)."})
        .add({"templates.default_locale", kernel::OptionType::string, "en",
              "Locale used when a recipient's locale has no template."})
        .add({"email.transport", kernel::OptionType::string, "file",
              "file (one .eml per message in email.file_dir) or smtp."})
        .one_of({"file", "smtp"})
        .add({"email.file_dir", kernel::OptionType::string, "",
              "Directory of the file transport; empty: <data_dir>/outbox."})
        .add({"email.file_retention", kernel::OptionType::duration, "7d",
              "How long the file transport keeps a message (files are owner-only: they hold live links)."})
        .add({"email.from", kernel::OptionType::string, "Gatehouse <no-reply@gatehouse.localhost>",
              "The From header of every email."})
        .add({"email.message_id_domain", kernel::OptionType::string, "gatehouse.localhost",
              "Domain part of the stable Message-ID <notification-id@domain>."})
        .add({"smtp.url", kernel::OptionType::string, "smtp://127.0.0.1:25",
              "SMTP server: smtp://host:port (plain or STARTTLS) or smtps://host:port (TLS)."})
        .add(
            {"smtp.tls", kernel::OptionType::string, "starttls",
             "starttls (required, certificate verified), tls (with smtps://) or none (plaintext: a local relay only)."})
        .one_of({"starttls", "tls", "none"})
        .add({"smtp.username", kernel::OptionType::string, "", "SMTP AUTH user; empty: no authentication."})
        .add({"smtp.password", kernel::OptionType::string, "", "SMTP AUTH password.", true})
        .add({"smtp.timeout", kernel::OptionType::duration, "30s", "Connect + send timeout of one SMTP delivery."})
        .add({"chat.webhooks", kernel::OptionType::map, "",
              "Incoming-webhook URL per chat channel, e.g. hq=https://...,sales=https://... (Teams / Slack). "
              "A channel without a URL is not posted to.",
              true})
        .add({"notify.hq_email", kernel::OptionType::string, "",
              "Also email new pending prospects to this address; empty: chat only."})
        .add({"notify.include_rejection_reason", kernel::OptionType::boolean, "true",
              "Quote the reason in the decline email sent to a rejected prospect."})
        .add({"delivery.retry_for", kernel::OptionType::duration, "24h",
              "How long a notification that fails transiently (connection, SMTP 4xx, HTTP 5xx) is retried, from "
              "when it was queued (or re-driven); then it is dead-lettered. A permanent refusal dead-letters at once."})
        .at_least(1)
        .add({"delivery.max_attempts", kernel::OptionType::integer, "0",
              "Optional extra cap: attempts per notification before it is dead-lettered, even within "
              "delivery.retry_for; 0: no cap by count."})
        .at_least(0)
        .add({"delivery.backoff_initial", kernel::OptionType::duration, "1s",
              "Wait after the first failed attempt; doubles per attempt up to delivery.backoff_max, with jitter."})
        .at_least(1)
        .add({"delivery.backoff_max", kernel::OptionType::duration, "5m", "Longest wait between two attempts."})
        .add({"delivery.parallelism", kernel::OptionType::integer, "4",
              "Most sends in flight at once (each with its own connection)."})
        .between(1, 64)
        .add({"delivery.poll_interval", kernel::OptionType::duration, "250ms",
              "How often due notifications are looked for."})
        .add({"webhooks.retry_for", kernel::OptionType::duration, "24h",
              "How long a webhook delivery that fails is retried (from when it could first go out); then it fails, "
              "its endpoint is disabled and webhooks.operator_email is told."})
        .at_least(1)
        .add({"webhooks.backoff_initial", kernel::OptionType::duration, "5s",
              "Wait after a webhook delivery's first failed attempt; doubles per attempt up to webhooks.backoff_max, "
              "with jitter."})
        .at_least(1)
        .add({"webhooks.backoff_max", kernel::OptionType::duration, "10m",
              "Longest wait between two attempts of a webhook delivery: also the most a receiver that comes back "
              "waits for the queued events."})
        .add({"webhooks.timeout", kernel::OptionType::duration, "10s", "Connect + answer timeout of one webhook POST."})
        .at_least(1)
        .add({"webhooks.parallelism", kernel::OptionType::integer, "4", "Most webhook POSTs in flight at once."})
        .between(1, 64)
        .add({"webhooks.poll_interval", kernel::OptionType::duration, "250ms",
              "How often due webhook deliveries are looked for."})
        .add({"webhooks.secret_rotation_grace", kernel::OptionType::duration, "24h",
              "After a secret rotation, how long the previous secret still signs (beside the new one)."})
        .add({"webhooks.operator_email", kernel::OptionType::string, "",
              "Who is emailed when a webhook endpoint is disabled; empty: nobody (the log and the endpoint's status)."})
        .add({"webhooks.allow_plain_http", kernel::OptionType::boolean, "false",
              "Accept http:// endpoint URLs (not only https://): for receivers on a trusted network or in tests."})
        .add({"auth.tokens", kernel::OptionType::map, "",
              "Bearer tokens: token=role:user_id:email (role operator: list and re-drive; hq: list).", true});
    return schema;
}

// The templates to use: the configured directory, else the installed ones, else the source tree's.
std::filesystem::path templates_dir(const std::string& configured) {
    if (!configured.empty()) {
        return configured;
    }
    const std::filesystem::path installed = "/usr/share/gatehouse/templates";
    std::error_code ignored;
    return std::filesystem::is_directory(installed, ignored) ? installed
                                                             : std::filesystem::path(GATEHOUSE_DEFAULT_TEMPLATES_DIR);
}

}  // namespace

int main(int argc, char** argv) {
    return kernel::service_main(
        argc, argv, {"notifier", platform::kNotifierEvents.name, schema()}, [](const kernel::Config& config) {
            const kernel::TokenOpener tokens(config.string("notifier.public_key"), config.string("notifier.secret_key"),
                                             "notifier.public_key", "notifier.secret_key");
            const TemplateSet templates(templates_dir(config.string("templates.dir")),
                                        config.string("templates.default_locale"));

            std::unique_ptr<EmailTransport> email;
            const std::string transport = config.string("email.transport");
            if (transport == "file") {
                const std::string dir = config.string("email.file_dir");
                email = make_file_transport(dir.empty() ? std::filesystem::path(config.string("data_dir")) / "outbox"
                                                        : std::filesystem::path(dir),
                                            config.duration("email.file_retention"));
            } else if (transport == "smtp") {
                if (const std::string url = config.string("smtp.url");
                    config.string("smtp.tls") == "none" && url.find("://127.") == std::string::npos &&
                    url.find("://localhost") == std::string::npos && url.find("://[::1]") == std::string::npos) {
                    // Links that grant access travel in these emails: plaintext beyond this host is a
                    // choice an operator should see.
                    kernel::logger("notifier")
                        ->warn("smtp.tls is none: emails with their links go to {} unencrypted", url);
                }
                email = make_smtp_transport({config.string("smtp.url"), config.string("smtp.tls"),
                                             config.string("smtp.username"), config.string("smtp.password"),
                                             config.duration("smtp.timeout")});
            }  // email.transport is file or smtp: the schema refuses anything else

            PlannerSettings planner;
            planner.default_locale = config.string("templates.default_locale");
            planner.locales = templates.locales();
            for (const auto& [channel, url] : config.map("chat.webhooks")) {
                planner.chat_channels.insert(channel);
            }
            planner.hq_email = config.string("notify.hq_email");
            planner.tell_rejection_reason = config.boolean("notify.include_rejection_reason");

            DispatchSettings dispatch;
            dispatch.links_base_url = config.string("links.base_url");
            while (!dispatch.links_base_url.empty() && dispatch.links_base_url.back() == '/') {
                dispatch.links_base_url.pop_back();
            }
            dispatch.from = config.string("email.from");
            dispatch.message_id_domain = config.string("email.message_id_domain");
            dispatch.chat_webhooks = config.map("chat.webhooks");
            // Each value is within the bounds its schema declares; what depends on two is checked here.
            dispatch.retry_for = config.duration("delivery.retry_for");
            dispatch.max_attempts = static_cast<unsigned>(config.integer("delivery.max_attempts"));
            dispatch.backoff_initial = config.duration("delivery.backoff_initial");
            dispatch.backoff_max = config.duration("delivery.backoff_max");
            if (dispatch.backoff_max < dispatch.backoff_initial) {
                throw kernel::ConfigError(
                    "setting delivery.backoff_initial / delivery.backoff_max: need backoff_initial <= backoff_max");
            }
            dispatch.parallelism = static_cast<std::size_t>(config.integer("delivery.parallelism"));

            WebhookSettings webhook_settings;
            webhook_settings.retry_for = config.duration("webhooks.retry_for");
            webhook_settings.backoff_initial = config.duration("webhooks.backoff_initial");
            webhook_settings.backoff_max = config.duration("webhooks.backoff_max");
            webhook_settings.timeout = config.duration("webhooks.timeout");
            if (webhook_settings.backoff_max < webhook_settings.backoff_initial) {
                throw kernel::ConfigError(
                    "setting webhooks.backoff_initial / webhooks.backoff_max: need backoff_initial <= backoff_max");
            }
            webhook_settings.parallelism = static_cast<std::size_t>(config.integer("webhooks.parallelism"));
            webhook_settings.operator_email = config.string("webhooks.operator_email");
            webhook_settings.locale = planner.default_locale;
            const auto rotation_grace = config.duration("webhooks.secret_rotation_grace");  // never negative

            kernel::ServiceRuntime runtime("notifier", config);
            // Staff credentials: auth.tokens and auth.tokens_file (re-read when it changes).
            const kernel::BearerAuthenticator& authenticator = runtime.authenticator();
            auto& metrics = runtime.metrics();
            NotificationRuntime notifications(runtime.store(), runtime.aggregate_options(), notification_read_model());
            DispatchMetrics dispatch_metrics{
                &metrics.counter("gatehouse_notifications_sent_total", "Notifications delivered"),
                &metrics.counter("gatehouse_notifications_failed_total", "Failed delivery attempts"),
                &metrics.counter("gatehouse_notifications_retried_total", "Failed attempts that will be retried"),
                &metrics.counter("gatehouse_notifications_dead_lettered_total", "Notifications given up on"),
                &metrics.gauge("gatehouse_notifications_queue_depth", "Notifications waiting to be sent"),
                &metrics.histogram("gatehouse_notification_send_seconds", "Time to deliver one notification (s)")};
            // The runtime stops being ready first thing on SIGTERM / SIGINT (and a failure that stops
            // it), before it waits for its periodic tasks: the dispatcher then abandons the sends in
            // flight (not recorded: sent again at the next start) instead of holding up the shutdown
            // for up to smtp.timeout. It runs only once the runtime is ready.
            Dispatcher dispatcher(notifications, templates, *email, tokens, dispatch, dispatch_metrics,
                                  [&runtime] { return !runtime.ready(); });
            WebhookEndpointRuntime endpoints(runtime.store(), runtime.aggregate_options(),
                                             webhook_endpoint_read_model());
            WebhookDeliveryRuntime deliveries(runtime.store(), runtime.aggregate_options(),
                                              webhook_delivery_read_model());
            WebhookDispatcher webhooks(
                endpoints, deliveries, notifications, tokens, webhook_settings,
                {&metrics.counter("gatehouse_webhooks_delivered_total", "Webhook deliveries answered 2xx"),
                 &metrics.counter("gatehouse_webhooks_failed_attempts_total", "Failed webhook delivery attempts"),
                 &metrics.counter("gatehouse_webhooks_failed_total", "Webhook deliveries given up on"),
                 &metrics.gauge("gatehouse_webhooks_pending", "Webhook deliveries waiting to be delivered")},
                [&runtime] { return !runtime.ready(); });
            NotificationsApp notifications_app(notifications);
            WebhookEndpointsApp webhook_app({endpoints, deliveries, config.string("notifier.public_key"), tokens,
                                             config.boolean("webhooks.allow_plain_http"), rotation_grace});
            NotifierApi api(notifications_app, authenticator, &webhook_app);

            runtime.add_read_model(notifications);
            runtime.add_read_model(endpoints);
            runtime.add_read_model(deliveries);
            runtime.relay_to(platform::kNotifierEvents.name);
            // One consumer per input topic: a slow or retrying topic never holds up the others.
            const std::pair<platform::EventTopic, InputTopic> inputs[] = {
                {platform::kOnboardingEvents, InputTopic::onboarding},
                {platform::kCustomersEvents, InputTopic::customers},
                {platform::kSalesEvents, InputTopic::sales}};
            for (const auto& [topic, kind] : inputs) {
                runtime.consume(
                    {topic.name}, topic.producer,
                    [&, kind = kind, name = std::string(topic.name)](const kernel::InboundEvent& event) {
                        return react_to_input(kind, name, event, notifications, planner, {endpoints, deliveries});
                    });
            }
            runtime.on_ready([&] {
                if (const auto released = release_stalled_lanes(deliveries, std::chrono::system_clock::now())) {
                    kernel::logger("notifier")->warn("released {} webhook deliveries stalled by a crash", released);
                }
            });
            runtime.every(config.duration("delivery.poll_interval"), "dispatch",
                          [&] { dispatcher.dispatch_all_due(); });
            runtime.every(config.duration("webhooks.poll_interval"), "webhooks", [&] { webhooks.dispatch_all_due(); });
            runtime.add_grpc_service(api);
            return runtime.run();
        });
}
