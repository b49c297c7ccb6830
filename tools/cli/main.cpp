// gatehouse: the command line for every role's API. Human-readable tables by default, --json for
// scripts; credentials from --token or GATEHOUSE_TOKEN; TLS with --tls, --ca, --cert and --key (or
// GATEHOUSE_TLS=1, GATEHOUSE_TLS_CA, _CERT, _KEY); exit codes: 0 done, 1 the service refused (the
// gRPC status and message are printed), 2 bad usage, 3 the service could not be reached.
//
// Each service's commands are in <area>_commands.cpp (see commands.h).
#include <CLI/CLI.hpp>

#include <iostream>

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
    cli.tls = env_flag("GATEHOUSE_TLS", false);
    cli.tls_ca = env_or("GATEHOUSE_TLS_CA", "");
    cli.tls_cert = env_or("GATEHOUSE_TLS_CERT", "");
    cli.tls_key = env_or("GATEHOUSE_TLS_KEY", "");

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
    app.add_flag("--tls", cli.tls, "connect to the services with TLS (env GATEHOUSE_TLS=1)");
    app.add_option("--ca", cli.tls_ca,
                   "PEM file of the CA that signed the services' certificates; default: the system's CAs "
                   "(env GATEHOUSE_TLS_CA)")
        ->type_name("FILE");
    app.add_option("--cert", cli.tls_cert,
                   "PEM client certificate, for services with grpc.tls_client_ca (env GATEHOUSE_TLS_CERT)")
        ->type_name("FILE");
    app.add_option("--key", cli.tls_key, "PEM private key of --cert (env GATEHOUSE_TLS_KEY)")->type_name("FILE");
    app.add_flag("--json", cli.json, "print JSON instead of tables");

    add_onboarding_commands(app, cli);
    add_notifier_commands(app, cli);
    add_webhook_commands(app, cli);
    add_customers_commands(app, cli);
    add_sales_commands(app, cli);
    add_tail_command(app, cli);
    add_dlq_commands(app, cli);
    add_replay_command(app, cli);
    add_staff_commands(app, cli);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? 0 : kExitUsage;
    } catch (const UsageError& error) {
        std::cerr << "error: " << error.what() << "\n";
        return kExitUsage;
    }
    return cli.exit_code;
}
