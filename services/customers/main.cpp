// gatehouse-customers: wiring only. See services/customers/README.md and docs/configuration.md.
#include <sodium.h>

#include <iostream>

#include "api/customers_api.h"
#include "app/customers_app.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/service_main.h"
#include "gatehouse/kernel/service_runtime.h"
#include "gatehouse/platform/topics.h"

using namespace gatehouse;
using namespace gatehouse::customers;

namespace {

kernel::ConfigSchema schema() {
    kernel::ConfigSchema schema;
    kernel::add_kernel_options(schema, "customers");
    schema
        .add({"customers.customer_number_format", kernel::OptionType::string, "CU-######",
              "Number sequence format of customer ids: one run of # is the zero-padded number."})
        .add({"customers.hierarchy_number_format", kernel::OptionType::string, "CH-######",
              "Number sequence format of customer hierarchy ids."})
        .add({"customers.user_number_format", kernel::OptionType::string, "U-######",
              "Number sequence format of partner user ids."})
        .add({"invitation.ttl", kernel::OptionType::duration, "72h", "How long a set-password link is valid."})
        .add({"invitation.sweep_interval", kernel::OptionType::duration, "1m",
              "How often open invitations whose link expired are closed (InvitationExpired)."})
        .add({"session.ttl", kernel::OptionType::duration, "8h", "How long a partner user's session token is valid."})
        .add({"notifier.public_key", kernel::OptionType::string, "",
              "The notifier's public key (base64url, from gatehouse-keygen): invitation tokens are sealed to it."})
        .add({"auth.tokens", kernel::OptionType::map, "",
              "Bearer tokens of staff: token=role:user_id:email (roles hq, operator). At least 16 characters each.",
              true})
        .add({"rate_limit.anonymous_per_second", kernel::OptionType::integer, "5",
              "Anonymous calls (set password, sign in) per second per client address, per call type."})
        .add({"rate_limit.anonymous_burst", kernel::OptionType::integer, "20", "Burst of anonymous calls allowed."})
        .add({"rate_limit.sign_in_per_account_per_minute", kernel::OptionType::integer, "12",
              "Sign-in attempts per minute per email address (whether or not it exists)."})
        .add({"rate_limit.sign_in_per_account_burst", kernel::OptionType::integer, "5",
              "Burst of sign-in attempts per email address."});
    return schema;
}

}  // namespace

int main(int argc, char** argv) {
    return kernel::service_main(
        argc, argv, {"customers", "gatehouse.customers.events.v1", schema()}, [](const kernel::Config& config) {
            if (sodium_init() < 0) {
                throw std::runtime_error("libsodium failed to initialise");
            }
            CustomersSettings settings;
            settings.invitation_ttl =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("invitation.ttl"));
            settings.session_ttl = std::chrono::duration_cast<std::chrono::seconds>(config.duration("session.ttl"));
            settings.notifier_public_key = config.string("notifier.public_key");
            const auto per_minute = config.integer("rate_limit.sign_in_per_account_per_minute");
            const auto burst = config.integer("rate_limit.sign_in_per_account_burst");
            if (per_minute < 1 || burst < 1) {
                throw kernel::ConfigError("settings rate_limit.sign_in_per_account_*: must be at least 1");
            }
            settings.sign_in_per_account_rate = static_cast<double>(per_minute) / 60.0;
            settings.sign_in_per_account_burst = static_cast<double>(burst);
            const kernel::BearerAuthenticator authenticator(config.map("auth.tokens"), "auth.tokens");
            kernel::RateLimiter anonymous_limiter(
                static_cast<double>(config.integer("rate_limit.anonymous_per_second")),
                static_cast<double>(config.integer("rate_limit.anonymous_burst")));

            kernel::ServiceRuntime runtime("customers", config);
            kernel::NumberSequence customer_numbers(
                runtime.store(), "customer-number",
                kernel::NumberFormat(config.string("customers.customer_number_format")));
            kernel::NumberSequence hierarchy_numbers(
                runtime.store(), "hierarchy-number",
                kernel::NumberFormat(config.string("customers.hierarchy_number_format")));
            kernel::NumberSequence user_numbers(runtime.store(), "user-number",
                                                kernel::NumberFormat(config.string("customers.user_number_format")));
            CustomerRuntime customers(runtime.store(), runtime.aggregate_options(), customer_read_model());
            CustomersApp app(customers, runtime.store(), {customer_numbers, hierarchy_numbers, user_numbers}, settings);
            CustomersApi api(app, runtime.store(), authenticator, anonymous_limiter);

            runtime.add_read_model(customers);
            runtime.relay_to(platform::kCustomersEvents.name);
            // One consumer per input topic: a ProspectApproved waiting for its CRM customers (a transient
            // retry) never holds up the sales topic that brings them.
            runtime.consume({platform::kOnboardingEvents.name}, platform::kOnboardingEvents.producer,
                            [&](const kernel::InboundEvent& event) { return app.on_onboarding_event(event); });
            runtime.consume({platform::kSalesEvents.name}, platform::kSalesEvents.producer,
                            [&](const kernel::InboundEvent& event) { return app.on_sales_event(event); });
            runtime.every(config.duration("invitation.sweep_interval"), "expire-invitations", [&] {
                if (const auto expired = app.expire_invitations(Clock::now()); expired > 0) {
                    kernel::logger("customers")->info("closed {} invitations whose link expired", expired);
                }
            });
            runtime.add_grpc_service(api);
            return runtime.run();
        });
}
