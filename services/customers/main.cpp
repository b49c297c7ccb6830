// gatehouse-customers: wiring only. See services/customers/README.md and docs/configuration.md.
#include <sodium.h>

#include <iostream>

#include "api/customers_api.h"
#include "app/app_context.h"
#include "app/credentials.h"
#include "app/crm_replication.h"
#include "app/customer_lookups.h"
#include "app/hierarchies.h"
#include "app/invitations.h"
#include "app/master_data.h"
#include "app/partner_onboarding.h"
#include "app/partner_users.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/service_main.h"
#include "gatehouse/kernel/service_runtime.h"
#include "gatehouse/platform/topics.h"
#include "reactions/onboarding_reactions.h"
#include "reactions/sales_reactions.h"

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
        .add({"password_reset.ttl", kernel::OptionType::duration, "1h",
              "How long a password-reset link (RequestPasswordReset) is valid."})
        .at_least(60'000)
        .add({"password_reset.per_email_per_hour", kernel::OptionType::integer, "3",
              "Reset links one email address gets per hour; further requests are answered alike and send nothing."})
        .at_least(1)
        .add({"notifier.public_key", kernel::OptionType::string, "",
              "The notifier's public key (base64url, from gatehouse-keygen): invitation tokens are sealed to it."})
        .add({"auth.tokens", kernel::OptionType::map, "",
              "Bearer tokens of staff: token=role:user_id:email (roles hq, operator). At least 16 characters each.",
              true})
        .add({"rate_limit.anonymous_per_second", kernel::OptionType::integer, "5",
              "Anonymous calls (set password, sign in, password reset) per second per client address, per call "
              "type."})
        .add({"rate_limit.anonymous_burst", kernel::OptionType::integer, "20", "Burst of anonymous calls allowed."})
        .add({"sign_in.free_failures", kernel::OptionType::integer, "5",
              "Failed sign-ins per email and client address before that pair is locked (whether or not the email "
              "exists; a success starts the count again)."})
        .at_least(1)
        .add({"sign_in.lockout", kernel::OptionType::duration, "1m",
              "How long the pair is locked after its free failures; doubled with each further failure."})
        .at_least(1'000)
        .add({"sign_in.lockout_max", kernel::OptionType::duration, "1h",
              "The longest lockout; a pair with no failure for this long is forgotten."})
        .add({"sign_in.throttle_entries", kernel::OptionType::integer, "100000",
              "Email and client address pairs with failures kept in memory; the least recently failed are "
              "forgotten first."})
        .at_least(1)
        .add({"security.password_hash_concurrency", kernel::OptionType::integer, "2",
              "argon2id hashes (sign-in, set password; 64 MiB each) computed at once."})
        .at_least(1)
        .add({"security.password_hash_queue", kernel::OptionType::integer, "32",
              "Calls that may wait for a password hash; more are answered RESOURCE_EXHAUSTED (retry later)."})
        .at_least(0)
        .add({"grpc.max_threads", kernel::OptionType::integer, "64",
              "Threads of the gRPC server (its resource quota); calls beyond them are answered RESOURCE_EXHAUSTED."})
        .at_least(4);
    return schema;
}

}  // namespace

int main(int argc, char** argv) {
    return kernel::service_main(
        argc, argv, {"customers", platform::kCustomersEvents.name, schema()}, [](const kernel::Config& config) {
            if (sodium_init() < 0) {
                throw std::runtime_error("libsodium failed to initialise");
            }
            InvitationSettings invitation_settings;
            invitation_settings.ttl =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("invitation.ttl"));
            invitation_settings.notifier_public_key = config.string("notifier.public_key");
            CredentialSettings settings;
            settings.session_ttl = std::chrono::duration_cast<std::chrono::seconds>(config.duration("session.ttl"));
            settings.password_reset_ttl =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("password_reset.ttl"));
            // Each value is within the bounds its schema declares; what depends on two is checked here.
            settings.password_hash_concurrency =
                static_cast<std::size_t>(config.integer("security.password_hash_concurrency"));
            settings.password_hash_queue = static_cast<std::size_t>(config.integer("security.password_hash_queue"));
            // The waiting hashes hold gRPC threads: leave some for every other call.
            if (config.integer("grpc.max_threads") <
                static_cast<std::int64_t>(settings.password_hash_concurrency + settings.password_hash_queue) + 4) {
                throw kernel::ConfigError(
                    "setting grpc.max_threads: must be at least security.password_hash_concurrency + "
                    "security.password_hash_queue + 4");
            }
            settings.sign_in_throttle.free_failures = static_cast<int>(config.integer("sign_in.free_failures"));
            settings.sign_in_throttle.lockout =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("sign_in.lockout"));
            settings.sign_in_throttle.lockout_max =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("sign_in.lockout_max"));
            if (settings.sign_in_throttle.lockout_max < settings.sign_in_throttle.lockout) {
                throw kernel::ConfigError(
                    "settings sign_in.lockout, sign_in.lockout_max: the maximum must be at least the lockout");
            }
            settings.password_reset_per_email_per_hour =
                static_cast<double>(config.integer("password_reset.per_email_per_hour"));
            settings.sign_in_throttle.max_entries =
                static_cast<std::size_t>(config.integer("sign_in.throttle_entries"));
            kernel::RateLimiter anonymous_limiter(
                static_cast<double>(config.integer("rate_limit.anonymous_per_second")),
                static_cast<double>(config.integer("rate_limit.anonymous_burst")));

            kernel::ServiceRuntime runtime("customers", config);
            // Staff credentials: auth.tokens and auth.tokens_file (re-read when it changes).
            const kernel::BearerAuthenticator& authenticator = runtime.authenticator();
            kernel::NumberSequence customer_numbers(
                runtime.store(), "customer-number",
                kernel::NumberFormat(config.string("customers.customer_number_format")));
            kernel::NumberSequence hierarchy_numbers(
                runtime.store(), "hierarchy-number",
                kernel::NumberFormat(config.string("customers.hierarchy_number_format")));
            kernel::NumberSequence user_numbers(runtime.store(), "user-number",
                                                kernel::NumberFormat(config.string("customers.user_number_format")));
            CustomerRuntime customers(runtime.store(), runtime.aggregate_options(), customer_read_model());
            AppContext context(customers, runtime.store());
            const CustomerLookups lookups(context);
            Invitations invitations(context, invitation_settings);
            PartnerUsers users(context, lookups, invitations, customer_numbers, user_numbers);
            MasterData master_data(context, lookups, users, customer_numbers);
            Hierarchies hierarchies(context, lookups, hierarchy_numbers);
            Credentials credentials(context, lookups, invitations, settings);
            PartnerOnboarding onboarding(context, lookups, invitations, customer_numbers, hierarchy_numbers,
                                         user_numbers);
            CrmReplication replication(context, lookups, master_data, customer_numbers);
            CustomersApi api(lookups, master_data, hierarchies, users, credentials, authenticator, anonymous_limiter,
                             runtime.client_addresses());

            runtime.add_read_model(customers);
            runtime.relay_to(platform::kCustomersEvents.name);
            // One consumer per input topic: a ProspectApproved waiting for its CRM customers (a transient
            // retry) never holds up the sales topic that brings them.
            runtime.consume(
                {platform::kOnboardingEvents.name}, platform::kOnboardingEvents.producer,
                [&](const kernel::InboundEvent& event) { return react_to_onboarding_event(event, onboarding); });
            runtime.consume(
                {platform::kSalesEvents.name}, platform::kSalesEvents.producer,
                [&](const kernel::InboundEvent& event) { return react_to_sales_event(event, replication); });
            // "Forgot password" answers at once; the links are issued here, off the caller's time.
            runtime.every(std::chrono::milliseconds(100), "password-resets",
                          [&] { (void)credentials.issue_password_resets(); });
            runtime.every(config.duration("invitation.sweep_interval"), "expire-invitations", [&] {
                if (const auto expired = users.expire_invitations(Clock::now()); expired > 0) {
                    kernel::logger("customers")->info("closed {} invitations whose link expired", expired);
                }
            });
            runtime.add_grpc_service(api);
            return runtime.run();
        });
}
