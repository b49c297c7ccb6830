// `gatehouse notifications ...`: the notifier's operator API (list, show, re-drive dead letters).
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "cli.h"
#include "commands.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"

namespace gatehouse::cli {
namespace {

namespace nv = notifier::v1;

std::string status_name(nv::NotificationStatus status) {
    switch (status) {
        case nv::NOTIFICATION_STATUS_QUEUED:
            return "queued";
        case nv::NOTIFICATION_STATUS_SENT:
            return "sent";
        case nv::NOTIFICATION_STATUS_DEAD_LETTERED:
            return "dead-lettered";
        default:
            return "-";
    }
}

std::optional<nv::NotificationStatus> parse_status(const std::string& text) {
    for (const auto status :
         {nv::NOTIFICATION_STATUS_QUEUED, nv::NOTIFICATION_STATUS_SENT, nv::NOTIFICATION_STATUS_DEAD_LETTERED}) {
        if (text == status_name(status)) {
            return status;
        }
    }
    return std::nullopt;
}

std::string recipient(const nv::NotificationSummary& summary) {
    return summary.channel() == nv::CHANNEL_CHAT ? "chat:" + summary.recipient() : summary.recipient();
}

struct NotifierArgs {
    std::string status;
    int page_size = 0;
    std::string page_token;
    std::string id;
    std::string reason;
    bool all = false;
};

}  // namespace

void add_notifier_commands(CLI::App& app, Cli& cli) {
    static NotifierArgs args;
    const auto notifier = [&cli] { return nv::NotifierService::NewStub(cli.channel(cli.notifier)); };
    auto* notifications =
        app.add_subcommand("notifications", "emails and chat posts: list, show, re-drive (operator token)");
    notifications->require_subcommand(1);

    auto* list = notifications->add_subcommand("list", "notifications, newest first");
    list->add_option("--status", args.status, "queued, sent or dead-lettered");
    list->add_option("--page-size", args.page_size, "1..500 (default 50)");
    list->add_option("--page-token", args.page_token, "from the previous page");
    list->callback([=, &cli] {
        nv::ListNotificationsRequest request;
        if (!args.status.empty()) {
            const auto status = parse_status(args.status);
            if (!status) {
                cli.usage_error("--status: expected queued, sent or dead-lettered, got " + args.status);
                return;
            }
            request.set_status(*status);
        }
        request.set_page_size(args.page_size);
        request.set_page_token(args.page_token);
        nv::ListNotificationsResponse response;
        if (!cli.succeeded(notifier()->ListNotifications(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& n : response.notifications()) {
            rows.push_back({n.notification_id(), status_name(n.status()), n.template_name(), recipient(n),
                            std::to_string(n.attempts()), when(n.queued_at()), n.last_error()});
        }
        print_table({"ID", "STATUS", "TEMPLATE", "TO", "ATTEMPTS", "QUEUED", "LAST ERROR"}, rows);
        std::cout << response.notifications_size() << " of " << response.total() << " shown"
                  << (response.next_page_token().empty() ? ""
                                                         : "; next page: --page-token " + response.next_page_token())
                  << "\n";
    });

    auto* show = notifications->add_subcommand("show", "one notification with its attempts");
    show->add_option("id", args.id, "notification id (N-...)")->required();
    show->callback([=, &cli] {
        nv::GetNotificationRequest request;
        request.set_notification_id(args.id);
        nv::GetNotificationResponse response;
        if (!cli.succeeded(notifier()->GetNotification(cli.context().get(), request, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        const auto& s = response.summary();
        std::cout << s.notification_id() << "  " << status_name(s.status()) << "  " << s.template_name() << " to "
                  << recipient(s) << "\n"
                  << "cause:      " << s.cause_event_type() << " " << response.cause_event_id() << " ("
                  << response.cause_topic() << ")\n"
                  << "queued:     " << when(s.queued_at()) << "\n"
                  << "sent:       " << when(s.sent_at()) << (response.message_id().empty() ? "" : "  ")
                  << response.message_id() << "\n";
        if (s.status() == nv::NOTIFICATION_STATUS_QUEUED) {
            std::cout << "next try:   " << when(s.next_attempt_at()) << "\n";
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& attempt : response.attempts()) {
            rows.push_back({std::to_string(attempt.attempt()), when(attempt.at()), attempt.error()});
        }
        if (!rows.empty()) {
            std::cout << "failed attempts:\n";
            print_table({"#", "WHEN", "ERROR"}, rows);
        }
    });

    auto* redrive = notifications->add_subcommand("redrive", "send dead-lettered notifications again (operator)");
    redrive->add_option("id", args.id, "notification id (or --all)");
    redrive->add_flag("--all", args.all, "every dead-lettered notification");
    redrive->add_option("--reason", args.reason, "why it should work now (recorded)")->required();
    redrive->callback([=, &cli] {
        if (args.all == !args.id.empty()) {
            cli.usage_error("give either a notification id or --all");
            return;
        }
        if (args.all) {
            nv::RedriveAllDeadLetteredRequest request;
            request.set_reason(args.reason);
            nv::RedriveAllDeadLetteredResponse response;
            if (cli.succeeded(notifier()->RedriveAllDeadLettered(cli.context().get(), request, &response))) {
                cli.json ? print_json(response)
                         : void(std::cout << response.redriven() << " notification(s) queued again\n");
            }
            return;
        }
        nv::RedriveNotificationRequest request;
        request.set_notification_id(args.id);
        request.set_reason(args.reason);
        nv::RedriveNotificationResponse response;
        if (cli.succeeded(notifier()->RedriveNotification(cli.context().get(), request, &response))) {
            cli.json ? print_json(response) : void(std::cout << args.id << ": queued again\n");
        }
    });
}

}  // namespace gatehouse::cli
