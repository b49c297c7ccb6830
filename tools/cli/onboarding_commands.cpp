// `gatehouse request ...` (a prospect, anonymous) and `gatehouse prospects ...` (HQ): the onboarding
// service's API.
#include <grpcpp/grpcpp.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "cli.h"
#include "commands.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"

namespace gatehouse::cli {
namespace {

namespace ob = onboarding::v1;

std::string status_name(ob::RequestStatus status) {
    switch (status) {
        case ob::REQUEST_STATUS_AWAITING_VERIFICATION:
            return "AwaitingVerification";
        case ob::REQUEST_STATUS_PENDING:
            return "Pending";
        case ob::REQUEST_STATUS_APPROVED:
            return "Approved";
        case ob::REQUEST_STATUS_REJECTED:
            return "Rejected";
        case ob::REQUEST_STATUS_CLOSED:
            return "Closed";
        default:
            return "-";
    }
}

std::optional<ob::RequestStatus> parse_status(const std::string& text) {
    for (int value = ob::REQUEST_STATUS_AWAITING_VERIFICATION; value <= ob::REQUEST_STATUS_CLOSED; ++value) {
        const auto status = static_cast<ob::RequestStatus>(value);
        std::string name = status_name(status);
        if (text == name || text == std::string(1, static_cast<char>(std::tolower(name[0]))) + name.substr(1)) {
            return status;
        }
    }
    return std::nullopt;
}

// The values the commands' options are parsed into; they must outlive the parse.
struct OnboardingArgs {
    ob::SubmitRequestRequest submit;
    ob::ListProspectsRequest list;
    std::string number;
    std::string token;
    std::string email;
    std::string status_filter;
    std::string from;
    std::string to;
    bool yes = false;
    std::string override_reason;
    std::string reason;
};

}  // namespace

void add_onboarding_commands(CLI::App& app, Cli& cli) {
    // Static: the options write into these during app.parse(), after this function returned; the
    // callbacks then use them without capturing.
    static OnboardingArgs args;
    static auto& submit = args.submit;
    static auto& list = args.list;
    static auto& number = args.number;
    static auto& token = args.token;
    static auto& email = args.email;
    static auto& status_filter = args.status_filter;
    static auto& from = args.from;
    static auto& to = args.to;
    static auto& yes = args.yes;
    static auto& override_reason = args.override_reason;
    static auto& reason = args.reason;
    const auto onboarding = [&cli] { return ob::OnboardingService::NewStub(cli.channel(cli.onboarding)); };

    // --- request: what a prospect (the storefront) does, anonymously ---------------------------
    auto* request = app.add_subcommand("request", "a prospect's onboarding request (anonymous)");
    request->require_subcommand(1);

    auto* submit_cmd = request->add_subcommand("submit", "submit a request to become a business partner");
    static auto& company = *submit.mutable_company();
    static auto& address = *company.mutable_address();
    static auto& contact = *submit.mutable_contact();
    submit_cmd
        ->add_option_function<std::string>(
            "--company", [=, &cli](const std::string& v) { company.set_name(v); }, "company name")
        ->required();
    submit_cmd->add_option_function<std::string>("--street", [=, &cli](const std::string& v) { address.set_street(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--city", [=, &cli](const std::string& v) { address.set_city(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>("--postal-code",
                                           [=, &cli](const std::string& v) { address.set_postal_code(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>(
            "--country", [=, &cli](const std::string& v) { address.set_country_code(v); },
            "ISO 3166-1 alpha-2, e.g. DE")
        ->required();
    submit_cmd
        ->add_option_function<std::string>(
            "--phone", [=, &cli](const std::string& v) { company.set_phone(v); }, "company phone")
        ->required();
    submit_cmd->add_option_function<std::string>("--website",
                                                 [=, &cli](const std::string& v) { company.set_website(v); });
    submit_cmd->add_option_function<std::string>(
        "--tax-id", [=, &cli](const std::string& v) { company.set_tax_id(v); }, "VAT / tax id");
    submit_cmd
        ->add_option_function<std::string>("--first-name",
                                           [=, &cli](const std::string& v) { contact.set_first_name(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>("--last-name", [=, &cli](const std::string& v) { contact.set_last_name(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--email", [=, &cli](const std::string& v) { contact.set_email(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>("--contact-phone", [=, &cli](const std::string& v) { contact.set_phone(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>("--job-title", [=, &cli](const std::string& v) { contact.set_job_title(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--comments",
                                                 [=, &cli](const std::string& v) { submit.set_comments(v); });
    submit_cmd->add_option_function<std::string>(
        "--idempotency-key", [=, &cli](const std::string& v) { submit.set_idempotency_key(v); },
        "retrying with the same key returns the first answer");
    submit_cmd->callback([=, &cli] {
        ob::SubmitRequestResponse response;
        if (!cli.succeeded(onboarding()->SubmitRequest(cli.context().get(), submit, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
        } else {
            std::cout << "request " << response.request_number() << " submitted; status "
                      << status_name(response.status()) << " (a confirmation link was emailed)\n";
        }
    });

    auto* verify_cmd = request->add_subcommand("verify", "confirm the email with the token from the link");
    verify_cmd->add_option("number", number, "request number")->required();
    verify_cmd->add_option("token", token, "the token from the confirmation link")->required();
    verify_cmd->callback([=, &cli] {
        ob::VerifyEmailRequest call;
        call.set_request_number(number);
        call.set_token(token);
        ob::VerifyEmailResponse response;
        if (!cli.succeeded(onboarding()->VerifyEmail(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << "email confirmed; request " << number << " is " << status_name(response.status())
                                  << "\n");
    });

    auto* resend_cmd = request->add_subcommand("resend", "ask for a new confirmation link");
    resend_cmd->add_option("number", number, "request number")->required();
    resend_cmd->add_option("email", email, "the email the request was submitted with")->required();
    resend_cmd->callback([=, &cli] {
        ob::ResendVerificationRequest call;
        call.set_request_number(number);
        call.set_email(email);
        ob::ResendVerificationResponse response;
        if (!cli.succeeded(onboarding()->ResendVerification(cli.context().get(), call, &response))) {
            return;
        }
        cli.json
            ? print_json(response)
            : void(std::cout << "if the number and email match a request awaiting confirmation, a new link was sent\n");
    });

    auto* status_cmd = request->add_subcommand("status", "a request's status (number + email)");
    status_cmd->add_option("number", number, "request number")->required();
    status_cmd->add_option("email", email, "the email the request was submitted with")->required();
    status_cmd->callback([=, &cli] {
        ob::GetRequestStatusRequest call;
        call.set_request_number(number);
        call.set_email(email);
        ob::GetRequestStatusResponse response;
        if (!cli.succeeded(onboarding()->GetRequestStatus(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << number << ": " << status_name(response.status()) << "\n");
    });

    // --- prospects: HQ ----------------------------------------------------------------------------
    auto* prospects = app.add_subcommand("prospects", "HQ's prospects (needs an hq token)");
    prospects->require_subcommand(1);

    auto* list_cmd = prospects->add_subcommand("list", "All prospects, newest first");
    list_cmd->add_option("--status", status_filter, "AwaitingVerification, Pending, Approved, Rejected or Closed");
    list_cmd->add_option_function<std::string>(
        "--text", [=, &cli](const std::string& v) { list.set_text(v); }, "in company name or email");
    list_cmd->add_option("--from", from, "submitted at or after, e.g. 2026-11-01T00:00:00Z");
    list_cmd->add_option("--to", to, "submitted before");
    list_cmd->add_option_function<int>(
        "--page-size", [=, &cli](int v) { list.set_page_size(v); }, "1..500 (default 50)");
    list_cmd->add_option_function<std::string>("--page-token",
                                               [=, &cli](const std::string& v) { list.set_page_token(v); });
    list_cmd->callback([=, &cli] {
        if (!status_filter.empty()) {
            const auto parsed = parse_status(status_filter);
            if (!parsed) {
                std::cerr << "error: --status: unknown status " << status_filter << "\n";
                cli.exit_code = kExitUsage;
                return;
            }
            list.set_status(*parsed);
        }
        // Only set a bound that was given: mutable_*() would create an empty one (the epoch).
        if (!from.empty() && !parse_time(from, *list.mutable_submitted_from())) {
            std::cerr << "error: --from: not an RFC 3339 time: " << from << "\n";
            cli.exit_code = kExitUsage;
            return;
        }
        if (!to.empty() && !parse_time(to, *list.mutable_submitted_to())) {
            std::cerr << "error: --to: not an RFC 3339 time: " << to << "\n";
            cli.exit_code = kExitUsage;
            return;
        }
        ob::ListProspectsResponse response;
        if (!cli.succeeded(onboarding()->ListProspects(cli.context().get(), list, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : response.prospects()) {
            rows.push_back({p.request_number(), status_name(p.status()), p.company_name(), p.country_code(),
                            p.contact_email(), when(p.submitted_at()), p.possible_duplicate() ? "yes" : ""});
        }
        print_table({"NUMBER", "STATUS", "COMPANY", "COUNTRY", "EMAIL", "SUBMITTED", "DUPLICATE?"}, rows);
        std::cout << response.prospects_size() << " of " << response.total() << " shown"
                  << (response.next_page_token().empty() ? ""
                                                         : "; next page: --page-token " + response.next_page_token())
                  << "\n";
    });

    auto* show_cmd = prospects->add_subcommand("show", "one prospect with its timeline");
    show_cmd->add_option("number", number, "request number")->required();
    show_cmd->callback([=, &cli] {
        ob::GetProspectRequest call;
        call.set_request_number(number);
        ob::GetProspectResponse response;
        if (!cli.succeeded(onboarding()->GetProspect(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        const auto& r = response.request();
        std::cout << r.request_number() << "  " << status_name(response.summary().status()) << "  "
                  << response.summary().prospect_type() << "\n"
                  << "company:  " << r.company().name() << ", " << r.company().address().street() << ", "
                  << r.company().address().postal_code() << " " << r.company().address().city() << ", "
                  << r.company().address().country_code() << "; phone " << r.company().phone()
                  << (r.company().tax_id().empty() ? "" : "; tax id " + r.company().tax_id()) << "\n"
                  << "contact:  " << r.contact().first_name() << " " << r.contact().last_name() << " <"
                  << r.contact().email() << ">, " << r.contact().job_title() << ", " << r.contact().phone() << "\n";
        if (!r.previous_request_number().empty()) {
            std::cout << "earlier request: " << r.previous_request_number() << "\n";
        }
        for (const auto& match : response.possible_duplicates()) {
            std::cout << "possible duplicate of " << match.request_number() << " (" << match.rule()
                      << (match.existing_partner() ? ", an existing partner" : "") << ")\n";
        }
        std::cout << "timeline:\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& entry : response.timeline()) {
            rows.push_back({when(entry.at()), entry.actor(), entry.detail()});
        }
        print_table({"WHEN", "WHO", "WHAT"}, rows);
    });

    auto* approve_cmd = prospects->add_subcommand("approve", "approve a Pending prospect");
    approve_cmd->add_option("number", number, "request number")->required();
    approve_cmd->add_flag("--yes,-y", yes, "do not ask for confirmation");
    approve_cmd->add_option("--override-reason", override_reason,
                            "in approval mode crm: why HQ decides instead of the CRM");
    approve_cmd->callback([=, &cli] {
        if (!yes) {
            if (isatty(STDIN_FILENO) == 0) {
                std::cerr << "error: approving needs a confirmation: answer the prompt or pass --yes\n";
                cli.exit_code = kExitUsage;
                return;
            }
            std::cout << "Approve " << number << "? This creates the partner's customers and admin user. [y/N] ";
            std::string answer;
            std::getline(std::cin, answer);
            if (answer != "y" && answer != "Y" && answer != "yes") {
                std::cout << "not approved\n";
                return;
            }
        }
        ob::ApproveProspectRequest call;
        call.set_request_number(number);
        call.set_confirmed(true);
        call.set_override_reason(override_reason);
        ob::ApproveProspectResponse response;
        if (!cli.succeeded(onboarding()->ApproveProspect(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << number << ": " << status_name(response.status()) << "\n");
    });

    auto* reject_cmd = prospects->add_subcommand("reject", "reject a Pending prospect with a reason");
    reject_cmd->add_option("number", number, "request number")->required();
    reject_cmd->add_option("--reason", reason, "why (the requester may be told)")->required();
    reject_cmd->callback([=, &cli] {
        ob::RejectProspectRequest call;
        call.set_request_number(number);
        call.set_reason(reason);
        ob::RejectProspectResponse response;
        if (!cli.succeeded(onboarding()->RejectProspect(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << number << ": " << status_name(response.status()) << "\n");
    });
}

}  // namespace gatehouse::cli
