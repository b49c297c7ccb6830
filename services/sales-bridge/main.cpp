// gatehouse-sales-bridge: wiring only. See services/sales-bridge/README.md and docs/configuration.md.
#include <sodium.h>

#include <iostream>

#include "api/sales_api.h"
#include "app/qualification.h"
#include "app/sales_app.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/service_main.h"
#include "gatehouse/kernel/service_runtime.h"
#include "gatehouse/platform/topics.h"
#include "reactions/customers_reactions.h"
#include "reactions/onboarding_reactions.h"

using namespace gatehouse;
using namespace gatehouse::sales;

namespace {

kernel::ConfigSchema schema() {
    kernel::ConfigSchema schema;
    kernel::add_kernel_options(schema, "sales-bridge");
    schema
        .add({"sales.lead_assignment", kernel::OptionType::string, "unassigned",
              "Who gets a new lead: unassigned (it waits in \"All commerce B2B leads\") or round_robin over "
              "sales.users (in user id order)."})
        .add({"sales.users", kernel::OptionType::map, "",
              "The sales team: user_id=email. Leads can be assigned to these users (and by round-robin)."})
        .add({"sales.qualification_check_interval", kernel::OptionType::duration, "1m",
              "How often qualified leads whose opportunity, account or contact is missing (a crash or store error "
              "between the lead's commit and theirs) are completed; also done once at start-up."})
        .add({"auth.tokens", kernel::OptionType::map, "",
              "Bearer tokens of sales users: token=role:user_id:email (role sales or sales-manager). At least 16 "
              "characters each.",
              true});
    return schema;
}

}  // namespace

int main(int argc, char** argv) {
    return kernel::service_main(
        argc, argv, {"sales-bridge", platform::kSalesEvents.name, schema()}, [](const kernel::Config& config) {
            if (sodium_init() < 0) {
                throw std::runtime_error("libsodium failed to initialise");
            }
            LeadAssignment assignment;
            const std::string mode = config.string("sales.lead_assignment");
            if (mode != "unassigned" && mode != "round_robin") {
                throw kernel::ConfigError("setting sales.lead_assignment: expected unassigned or round_robin, got \"" +
                                          mode + "\"");
            }
            SalesAppSettings app_settings;
            app_settings.sales_users = config.map("sales.users");
            for (const auto& [user_id, email] : app_settings.sales_users) {
                if (user_id.empty() || email.find('@') == std::string::npos) {
                    throw kernel::ConfigError("setting sales.users: expected user_id=email, got \"" + user_id + "=" +
                                              email + "\"");
                }
                assignment.users.push_back({user_id, email});
            }
            assignment.round_robin = mode == "round_robin";
            if (assignment.round_robin && assignment.users.empty()) {
                throw kernel::ConfigError(
                    "setting sales.users: round_robin (sales.lead_assignment) needs at least one user");
            }

            kernel::ServiceRuntime runtime("sales-bridge", config);
            // Staff credentials: auth.tokens and auth.tokens_file (re-read when it changes).
            const kernel::BearerAuthenticator& authenticator = runtime.authenticator();
            // Producer "sales-bridge" (the service's name), the command latency histogram, the cache bound.
            const kernel::RuntimeOptions options = runtime.aggregate_options();
            LeadRuntime leads(runtime.store(), options, lead_read_model());
            OpportunityRuntime opportunities(runtime.store(), options, opportunity_read_model());
            AccountRuntime accounts(runtime.store(), options, account_read_model());
            ContactRuntime contacts(runtime.store(), options, contact_read_model());
            SalesAggregates aggregates{leads, opportunities, accounts, contacts};
            SalesApp app(aggregates, runtime.store(), app_settings);
            SalesApi api(app, authenticator);

            // Brought up to date before the service is ready (rebuilt from the log when a definition changes).
            runtime.add_read_model(leads);
            runtime.add_read_model(opportunities);
            runtime.add_read_model(accounts);
            runtime.add_read_model(contacts);
            runtime.relay_to(platform::kSalesEvents.name);
            runtime.consume({platform::kOnboardingEvents.name}, platform::kOnboardingEvents.producer,
                            [&](const kernel::InboundEvent& event) {
                                return react_to_onboarding_event(event, aggregates, assignment);
                            });
            runtime.consume(
                {platform::kCustomersEvents.name}, platform::kCustomersEvents.producer,
                [&](const kernel::InboundEvent& event) { return react_to_customers_event(event, aggregates); });
            // A crash between a lead's qualification and the records it creates is repaired at start-up,
            // a failure while the service runs at the next check.
            runtime.on_ready([&] { check_qualifications(aggregates); });
            runtime.every(config.duration("sales.qualification_check_interval"), "complete-qualifications",
                          [&] { check_qualifications(aggregates); });
            runtime.add_grpc_service(api);
            return runtime.run();
        });
}
