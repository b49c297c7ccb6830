// gatehouse-onboarding: wiring only. See services/onboarding/README.md and docs/configuration.md.
#include <sodium.h>

#include <iostream>

#include "api/onboarding_api.h"
#include "app/onboarding_app.h"
#include "domain/prospect.h"
#include "domain/prospect_read_model.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/service_main.h"
#include "gatehouse/kernel/service_runtime.h"
#include "gatehouse/platform/topics.h"
#include "reactions/sales_reactions.h"

using namespace gatehouse;
using namespace gatehouse::onboarding;

namespace {

kernel::ConfigSchema schema() {
    kernel::ConfigSchema schema;
    kernel::add_kernel_options(schema, "onboarding");
    schema
        .add({"onboarding.approval_mode", kernel::OptionType::string, "direct",
              "Who approves requests: direct (HQ approves) or crm (the sales bridge's opportunity decides)."})
        .one_of({"direct", "crm"})
        .add({"onboarding.request_number_format", kernel::OptionType::string, "PR-######",
              "Number sequence format of request numbers: one run of # is the zero-padded number."})
        .add({"verification.ttl", kernel::OptionType::duration, "72h", "How long a verification link is valid."})
        .add({"verification.resend_interval", kernel::OptionType::duration, "60s",
              "Minimum time between two verification links for one request."})
        .add({"verification.max_resends", kernel::OptionType::integer, "5", "Most new links one request can get."})
        .between(0, 1'000)
        .add({"verification.sweep_interval", kernel::OptionType::duration, "1m",
              "How often requests whose link expired unverified are closed."})
        .add({"verification.max_unverified_per_recipient", kernel::OptionType::integer, "3",
              "Most unconfirmed requests (awaiting confirmation or expired) to one mailbox within "
              "verification.recipient_window; more answer RESOURCE_EXHAUSTED (0: no cap)."})
        .between(0, 1'000'000'000)
        .add({"verification.recipient_window", kernel::OptionType::duration, "24h",
              "The window of verification.max_unverified_per_recipient."})
        .add({"verification.max_unverified_per_domain", kernel::OptionType::integer, "20",
              "Most unconfirmed requests to one email domain within verification.domain_window; more answer "
              "RESOURCE_EXHAUSTED (0: no cap)."})
        .between(0, 1'000'000'000)
        .add({"verification.domain_window", kernel::OptionType::duration, "1h",
              "The window of verification.max_unverified_per_domain."})
        .add({"notifier.public_key", kernel::OptionType::string, "",
              "The notifier's public key (base64url, from gatehouse-keygen): verification tokens are sealed to it."})
        .add({"auth.tokens", kernel::OptionType::map, "",
              "Bearer tokens of HQ users: token=role:user_id:email (role hq). At least 16 characters each.", true})
        .add({"rate_limit.anonymous_per_second", kernel::OptionType::integer, "5",
              "Anonymous calls per second per client address, per call type."})
        .add({"rate_limit.anonymous_burst", kernel::OptionType::integer, "20", "Burst of anonymous calls allowed."})
        .add({"rate_limit.submits_per_second", kernel::OptionType::integer, "10",
              "SubmitRequest calls per second from all anonymous clients together, whatever their address "
              "(0: no ceiling)."})
        .between(0, 1'000'000'000)
        .add({"rate_limit.submits_burst", kernel::OptionType::integer, "20",
              "Burst of SubmitRequest calls allowed above rate_limit.submits_per_second."})
        .between(0, 1'000'000'000);
    return schema;
}

}  // namespace

int main(int argc, char** argv) {
    return kernel::service_main(
        argc, argv, {"onboarding", platform::kOnboardingEvents.name, schema()}, [](const kernel::Config& config) {
            if (sodium_init() < 0) {
                throw std::runtime_error("libsodium failed to initialise");
            }
            OnboardingSettings settings;
            const std::string mode = config.string("onboarding.approval_mode");  // checked: direct or crm
            settings.approval_mode = mode == "crm" ? v1::APPROVAL_MODE_CRM : v1::APPROVAL_MODE_DIRECT;
            settings.verification_ttl =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("verification.ttl"));
            settings.resend_interval =
                std::chrono::duration_cast<std::chrono::seconds>(config.duration("verification.resend_interval"));
            settings.max_resends = static_cast<unsigned>(config.integer("verification.max_resends"));
            settings.notifier_public_key = config.string("notifier.public_key");
            const auto count = [&](const char* name) {
                return static_cast<unsigned>(config.integer(name));  // bounded by the schema
            };
            const auto seconds = [&](const char* name) {
                return std::chrono::duration_cast<std::chrono::seconds>(config.duration(name));
            };
            settings.max_unverified_per_recipient = count("verification.max_unverified_per_recipient");
            settings.unverified_recipient_window = seconds("verification.recipient_window");
            settings.max_unverified_per_domain = count("verification.max_unverified_per_domain");
            settings.unverified_domain_window = seconds("verification.domain_window");
            settings.submits_per_second = count("rate_limit.submits_per_second");
            settings.submits_burst = count("rate_limit.submits_burst");
            kernel::RateLimiter anonymous_limiter(
                static_cast<double>(config.integer("rate_limit.anonymous_per_second")),
                static_cast<double>(config.integer("rate_limit.anonymous_burst")));

            kernel::ServiceRuntime runtime("onboarding", config);
            // Staff credentials: auth.tokens and auth.tokens_file (re-read when it changes).
            const kernel::BearerAuthenticator& authenticator = runtime.authenticator();
            kernel::NumberSequence request_numbers(
                runtime.store(), "request-number",
                kernel::NumberFormat(config.string("onboarding.request_number_format")));
            ProspectRuntime prospects(runtime.store(), runtime.aggregate_options(), prospect_read_model());
            OnboardingApp app(prospects, runtime.store(), request_numbers, settings);
            OnboardingApi api(app, authenticator, anonymous_limiter, runtime.client_addresses());

            runtime.add_read_model(prospects);
            runtime.relay_to(platform::kOnboardingEvents.name);
            runtime.consume({platform::kSalesEvents.name}, platform::kSalesEvents.producer,
                            [&](const kernel::InboundEvent& event) { return react_to_sales_event(event, prospects); });
            runtime.every(config.duration("verification.sweep_interval"), "expire-verifications", [&] {
                if (const auto closed = app.expire_overdue_requests(Clock::now()); closed > 0) {
                    kernel::logger("onboarding")->info("closed {} requests whose verification link expired", closed);
                }
            });
            runtime.add_grpc_service(api);
            return runtime.run();
        });
}
