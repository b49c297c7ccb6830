// gatehouse: the command line for every role's API. Human-readable tables by default, --json for
// scripts; credentials from --token or GATEHOUSE_TOKEN; exit codes: 0 done, 1 the service refused
// (the gRPC status and message are printed), 2 bad usage, 3 the service could not be reached.
//
// Each service's commands are in <area>_commands.cpp (see commands.h).
#include <CLI/CLI.hpp>

#include "cli.h"
#include "commands.h"

int main(int argc, char** argv) {
    using namespace gatehouse::cli;
    Cli cli;
    cli.onboarding = env_or("GATEHOUSE_ONBOARDING_ADDR", cli.onboarding);
    cli.customers = env_or("GATEHOUSE_CUSTOMERS_ADDR", cli.customers);
    cli.sales = env_or("GATEHOUSE_SALES_ADDR", cli.sales);
    cli.notifier = env_or("GATEHOUSE_NOTIFIER_ADDR", cli.notifier);
    cli.token = env_or("GATEHOUSE_TOKEN", "");

    CLI::App app{"gatehouse: the command line of the Gatehouse B2B partner onboarding platform"};
    app.require_subcommand(1);
    app.add_option("--onboarding", cli.onboarding, "onboarding service address (env GATEHOUSE_ONBOARDING_ADDR)")
        ->capture_default_str();
    app.add_option("--customers", cli.customers, "customers service address (env GATEHOUSE_CUSTOMERS_ADDR)")
        ->capture_default_str();
    app.add_option("--sales", cli.sales, "sales-bridge service address (env GATEHOUSE_SALES_ADDR)")
        ->capture_default_str();
    app.add_option("--notifier", cli.notifier, "notifier service address (env GATEHOUSE_NOTIFIER_ADDR)")
        ->capture_default_str();
    app.add_option("--token", cli.token, "bearer credential for HQ / sales / partner calls (env GATEHOUSE_TOKEN)");
    app.add_flag("--json", cli.json, "print JSON instead of tables");

    add_onboarding_commands(app, cli);
    add_notifier_commands(app, cli);
    add_customers_commands(app, cli);
    add_sales_commands(app, cli);
    add_tail_command(app, cli);
    add_dlq_commands(app, cli);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? 0 : kExitUsage;
    }
    return cli.exit_code;
}
