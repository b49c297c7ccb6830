// The command groups of the `gatehouse` CLI, one function per service.
#pragma once

namespace CLI {
class App;
}

namespace gatehouse::cli {

struct Cli;

void add_onboarding_commands(CLI::App& app, Cli& cli);
void add_notifier_commands(CLI::App& app, Cli& cli);
void add_webhook_commands(CLI::App& app, Cli& cli);
void add_customers_commands(CLI::App& app, Cli& cli);
void add_sales_commands(CLI::App& app, Cli& cli);
void add_tail_command(CLI::App& app, Cli& cli);
void add_dlq_commands(CLI::App& app, Cli& cli);
void add_replay_command(CLI::App& app, Cli& cli);
void add_staff_commands(CLI::App& app, Cli& cli);

}  // namespace gatehouse::cli
