// `gatehouse dlq ...`: any service's dead letters and parked records (gatehouse.kernel.v1.
// OperatorService, served by every service): list them with their reasons, re-drive dead letters
// through the service's inbox, retry parked records.
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <string>

#include "cli.h"
#include "commands.h"
#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"

namespace gatehouse::cli {
namespace {

namespace kv = kernel::v1;

struct DlqArgs {
    std::string service;
    std::string position;  // "OFFSET" or "PARTITION:OFFSET"
    bool all = false;
    std::string reason;
    std::string aggregate;
};

// The address of `service` from the CLI's service address options; empty for an unknown name.
std::string address_of(const Cli& cli, const std::string& service) {
    if (service == "onboarding") {
        return cli.onboarding;
    }
    if (service == "customers") {
        return cli.customers;
    }
    if (service == "sales" || service == "sales-bridge") {
        return cli.sales;
    }
    if (service == "notifier") {
        return cli.notifier;
    }
    return {};
}

// "12" (partition 0) or "2:12"; false when it is neither.
bool parse_position(const std::string& text, kv::RedriveDeadLettersRequest& request) {
    try {
        std::size_t used = 0;
        const auto colon = text.find(':');
        if (colon != std::string::npos) {
            request.set_partition(std::stoi(text.substr(0, colon), &used));
            if (used != colon) {
                return false;
            }
        }
        const std::string offset = colon == std::string::npos ? text : text.substr(colon + 1);
        request.set_offset(std::stoll(offset, &used));
        return used == offset.size() && request.offset() >= 0 && request.partition() >= 0;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

void add_dlq_commands(CLI::App& app, Cli& cli) {
    static DlqArgs args;
    const auto service_stub = [&cli] {
        return kv::OperatorService::NewStub(cli.channel(address_of(cli, args.service)));
    };
    auto* dlq = app.add_subcommand("dlq", "any service's dead letters: list, re-drive (operator token)");
    dlq->require_subcommand(1);
    const auto add_service_option = [](CLI::App* command) {
        command->add_option("--service", args.service, "onboarding, customers, sales or notifier")
            ->required()
            ->check(CLI::IsMember({"onboarding", "customers", "sales", "sales-bridge", "notifier"}));
    };

    auto* list = dlq->add_subcommand("list", "the service's dead letters, oldest first, with their reasons");
    add_service_option(list);
    list->callback([=, &cli] {
        kv::ListDeadLettersRequest request;
        kv::ListDeadLettersResponse response;
        if (!cli.succeeded(service_stub()->ListDeadLetters(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& letter : response.dead_letters()) {
            rows.push_back({std::to_string(letter.partition()) + ":" + std::to_string(letter.offset()),
                            when(letter.dead_lettered_at()),
                            letter.origin_topic() + "/" + std::to_string(letter.origin_partition()) + "@" +
                                std::to_string(letter.origin_offset()),
                            letter.event_type().empty() ? "-" : letter.event_type(),
                            letter.event_id().empty() ? "-" : letter.event_id(), letter.reason()});
        }
        print_table({"POSITION", "DEAD-LETTERED", "FROM", "EVENT TYPE", "EVENT ID", "REASON"}, rows);
        std::cout << response.dead_letters_size() << " dead letter(s) on " << response.topic() << "\n";
    });

    auto* redrive = dlq->add_subcommand(
        "redrive", "run dead letters through the service's inbox again; each event is applied at most once");
    add_service_option(redrive);
    redrive->add_option("position", args.position, "the dead letter: OFFSET or PARTITION:OFFSET (see dlq list)");
    redrive->add_flag("--all", args.all, "every dead letter of the service");
    redrive->add_option("--reason", args.reason, "why it should work now (written to the service's log)")->required();
    redrive->callback([=, &cli] {
        kv::RedriveDeadLettersRequest request;
        if (args.all == !args.position.empty()) {
            cli.usage_error("give either a dead letter's position (OFFSET or PARTITION:OFFSET) or --all");
            return;
        }
        if (!args.all && !parse_position(args.position, request)) {
            cli.usage_error("position: expected OFFSET or PARTITION:OFFSET, got " + args.position);
            return;
        }
        request.set_all(args.all);
        request.set_reason(args.reason);
        kv::RedriveDeadLettersResponse response;
        auto context = cli.context();
        // Each dead letter runs through the service's reaction (with its retries): allow more time.
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
        if (!cli.succeeded(service_stub()->RedriveDeadLetters(context.get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& result : response.results()) {
            rows.push_back({std::to_string(result.partition()) + ":" + std::to_string(result.offset()),
                            result.event_id().empty() ? "-" : result.event_id(), result.outcome(), result.detail()});
        }
        print_table({"POSITION", "EVENT ID", "OUTCOME", "DETAIL"}, rows);
        std::cout << response.applied() << " applied, " << response.ignored() << " ignored, " << response.duplicates()
                  << " already applied, " << response.dead_lettered_again() << " dead-lettered again, "
                  << response.skipped() << " skipped, " << response.parked() << " parked\n";
    });

    auto* parked = dlq->add_subcommand(
        "parked", "input events the service parked after their retry budget, by aggregate, oldest first");
    add_service_option(parked);
    parked->callback([=, &cli] {
        kv::ListParkedRecordsRequest request;
        kv::ListParkedRecordsResponse response;
        if (!cli.succeeded(service_stub()->ListParkedRecords(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& record : response.parked()) {
            rows.push_back(
                {record.aggregate_id().empty() ? "-" : record.aggregate_id(),
                 record.topic() + "/" + std::to_string(record.partition()) + "@" + std::to_string(record.offset()),
                 record.event_type().empty() ? "-" : record.event_type(), when(record.parked_at()),
                 std::to_string(record.attempts()), record.reason()});
        }
        print_table({"AGGREGATE", "FROM", "EVENT TYPE", "PARKED", "ATTEMPTS", "REASON"}, rows);
        std::cout << response.parked_size() << " parked record(s)\n";
    });

    auto* retry = dlq->add_subcommand(
        "retry-parked", "retry parked input events now, in order per aggregate (they are also retried periodically)");
    add_service_option(retry);
    retry->add_option("--aggregate", args.aggregate, "the aggregate id whose parked records to retry");
    retry->add_flag("--all", args.all, "every parked record of the service");
    retry->add_option("--reason", args.reason, "why it should work now (written to the service's log)")->required();
    retry->callback([=, &cli] {
        if (args.all == !args.aggregate.empty()) {
            cli.usage_error("give either --aggregate ID or --all");
            return;
        }
        kv::RetryParkedRecordsRequest request;
        request.set_aggregate_id(args.aggregate);
        request.set_all(args.all);
        request.set_reason(args.reason);
        kv::RetryParkedRecordsResponse response;
        auto context = cli.context();
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
        if (!cli.succeeded(service_stub()->RetryParkedRecords(context.get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::cout << response.processed() << " processed, " << response.still_parked() << " still parked\n";
    });
}

}  // namespace gatehouse::cli
