// gatehouse: the command line for every role's API. Human-readable tables by default, --json for
// scripts; credentials from --token or GATEHOUSE_TOKEN; exit codes: 0 done, 1 the service refused
// (the gRPC status and message are printed), 2 bad usage, 3 the service could not be reached.
//
// Today it covers the onboarding service (issue 3); the other services' commands join as they land.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"

namespace ob = gatehouse::onboarding::v1;
using google::protobuf::util::TimeUtil;

namespace {

struct Globals {
    std::string onboarding = "127.0.0.1:50051";
    std::string token;
    bool json = false;
};

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
}

std::unique_ptr<grpc::ClientContext> context_for(const Globals& globals) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    if (!globals.token.empty()) {
        context->AddMetadata("authorization", "Bearer " + globals.token);
    }
    return context;
}

int report(const grpc::Status& status) {
    static const char* kNames[] = {
        "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED"};
    const int code = status.error_code();
    std::cerr << "error: " << (code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN") << ": " << status.error_message()
              << "\n";
    return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ? 3 : 1;
}

void print_json(const google::protobuf::Message& message) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.always_print_primitive_fields = true;  // scripts see every field, even when empty
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    std::cout << json;
}

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

// A plain text table: columns as wide as their widest cell.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        widths[c] = header[c].size();
        for (const auto& row : rows) {
            widths[c] = std::max(widths[c], row[c].size());
        }
    }
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t c = 0; c < cells.size(); ++c) {
            std::cout << cells[c] << (c + 1 == cells.size() ? "\n" : std::string(widths[c] - cells[c].size() + 2, ' '));
        }
    };
    line(header);
    for (const auto& row : rows) {
        line(row);
    }
}

std::string when(const google::protobuf::Timestamp& stamp) {
    return stamp.seconds() == 0 ? "-" : TimeUtil::ToString(stamp).substr(0, 19) + "Z";
}

}  // namespace

int main(int argc, char** argv) {
    Globals globals;
    globals.onboarding = env_or("GATEHOUSE_ONBOARDING_ADDR", globals.onboarding);
    globals.token = env_or("GATEHOUSE_TOKEN", "");

    CLI::App app{"gatehouse: the command line of the Gatehouse B2B partner onboarding platform"};
    app.require_subcommand(1);
    app.add_option("--onboarding", globals.onboarding, "onboarding service address (env GATEHOUSE_ONBOARDING_ADDR)")
        ->capture_default_str();
    app.add_option("--token", globals.token, "bearer credential for HQ / sales calls (env GATEHOUSE_TOKEN)");
    app.add_flag("--json", globals.json, "print JSON instead of tables");

    int exit_code = 0;
    // True when a call succeeded; otherwise prints the error and sets the exit code.
    const auto succeeded = [&](const grpc::Status& status) {
        if (!status.ok()) {
            exit_code = report(status);
        }
        return status.ok();
    };
    auto onboarding = [&] {
        return ob::OnboardingService::NewStub(
            grpc::CreateChannel(globals.onboarding, grpc::InsecureChannelCredentials()));
    };

    // --- request: what a prospect (the storefront) does, anonymously ---------------------------
    auto* request = app.add_subcommand("request", "a prospect's onboarding request (anonymous)");
    request->require_subcommand(1);

    ob::SubmitRequestRequest submit;
    auto* submit_cmd = request->add_subcommand("submit", "submit a request to become a business partner");
    auto& company = *submit.mutable_company();
    auto& address = *company.mutable_address();
    auto& contact = *submit.mutable_contact();
    submit_cmd
        ->add_option_function<std::string>(
            "--company", [&](const std::string& v) { company.set_name(v); }, "company name")
        ->required();
    submit_cmd->add_option_function<std::string>("--street", [&](const std::string& v) { address.set_street(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--city", [&](const std::string& v) { address.set_city(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>("--postal-code", [&](const std::string& v) { address.set_postal_code(v); })
        ->required();
    submit_cmd
        ->add_option_function<std::string>(
            "--country", [&](const std::string& v) { address.set_country_code(v); }, "ISO 3166-1 alpha-2, e.g. DE")
        ->required();
    submit_cmd
        ->add_option_function<std::string>(
            "--phone", [&](const std::string& v) { company.set_phone(v); }, "company phone")
        ->required();
    submit_cmd->add_option_function<std::string>("--website", [&](const std::string& v) { company.set_website(v); });
    submit_cmd->add_option_function<std::string>(
        "--tax-id", [&](const std::string& v) { company.set_tax_id(v); }, "VAT / tax id");
    submit_cmd
        ->add_option_function<std::string>("--first-name", [&](const std::string& v) { contact.set_first_name(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--last-name", [&](const std::string& v) { contact.set_last_name(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--email", [&](const std::string& v) { contact.set_email(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--contact-phone", [&](const std::string& v) { contact.set_phone(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--job-title", [&](const std::string& v) { contact.set_job_title(v); })
        ->required();
    submit_cmd->add_option_function<std::string>("--comments", [&](const std::string& v) { submit.set_comments(v); });
    submit_cmd->add_option_function<std::string>(
        "--idempotency-key", [&](const std::string& v) { submit.set_idempotency_key(v); },
        "retrying with the same key returns the first answer");
    submit_cmd->callback([&] {
        ob::SubmitRequestResponse response;
        if (!succeeded(onboarding()->SubmitRequest(context_for(globals).get(), submit, &response))) {
            return;
        }
        if (globals.json) {
            print_json(response);
        } else {
            std::cout << "request " << response.request_number() << " submitted; status "
                      << status_name(response.status()) << " (a confirmation link was emailed)\n";
        }
    });

    std::string number;
    std::string token;
    std::string email;
    auto* verify_cmd = request->add_subcommand("verify", "confirm the email with the token from the link");
    verify_cmd->add_option("number", number, "request number")->required();
    verify_cmd->add_option("token", token, "the token from the confirmation link")->required();
    verify_cmd->callback([&] {
        ob::VerifyEmailRequest call;
        call.set_request_number(number);
        call.set_token(token);
        ob::VerifyEmailResponse response;
        if (!succeeded(onboarding()->VerifyEmail(context_for(globals).get(), call, &response))) {
            return;
        }
        globals.json ? print_json(response)
                     : void(std::cout << "email confirmed; request " << number << " is "
                                      << status_name(response.status()) << "\n");
    });

    auto* resend_cmd = request->add_subcommand("resend", "ask for a new confirmation link");
    resend_cmd->add_option("number", number, "request number")->required();
    resend_cmd->add_option("email", email, "the email the request was submitted with")->required();
    resend_cmd->callback([&] {
        ob::ResendVerificationRequest call;
        call.set_request_number(number);
        call.set_email(email);
        ob::ResendVerificationResponse response;
        if (!succeeded(onboarding()->ResendVerification(context_for(globals).get(), call, &response))) {
            return;
        }
        globals.json
            ? print_json(response)
            : void(std::cout << "if the number and email match a request awaiting confirmation, a new link was sent\n");
    });

    auto* status_cmd = request->add_subcommand("status", "a request's status (number + email)");
    status_cmd->add_option("number", number, "request number")->required();
    status_cmd->add_option("email", email, "the email the request was submitted with")->required();
    status_cmd->callback([&] {
        ob::GetRequestStatusRequest call;
        call.set_request_number(number);
        call.set_email(email);
        ob::GetRequestStatusResponse response;
        if (!succeeded(onboarding()->GetRequestStatus(context_for(globals).get(), call, &response))) {
            return;
        }
        globals.json ? print_json(response)
                     : void(std::cout << number << ": " << status_name(response.status()) << "\n");
    });

    // --- prospects: HQ ----------------------------------------------------------------------------
    auto* prospects = app.add_subcommand("prospects", "HQ's prospects (needs an hq token)");
    prospects->require_subcommand(1);

    ob::ListProspectsRequest list;
    std::string status_filter;
    std::string from;
    std::string to;
    auto* list_cmd = prospects->add_subcommand("list", "All prospects, newest first");
    list_cmd->add_option("--status", status_filter, "AwaitingVerification, Pending, Approved, Rejected or Closed");
    list_cmd->add_option_function<std::string>(
        "--text", [&](const std::string& v) { list.set_text(v); }, "in company name or email");
    list_cmd->add_option("--from", from, "submitted at or after, e.g. 2026-11-01T00:00:00Z");
    list_cmd->add_option("--to", to, "submitted before");
    list_cmd->add_option_function<int>(
        "--page-size", [&](int v) { list.set_page_size(v); }, "1..200 (default 50)");
    list_cmd->add_option_function<std::string>("--page-token", [&](const std::string& v) { list.set_page_token(v); });
    list_cmd->callback([&] {
        if (!status_filter.empty()) {
            const auto parsed = parse_status(status_filter);
            if (!parsed) {
                std::cerr << "error: --status: unknown status " << status_filter << "\n";
                exit_code = 2;
                return;
            }
            list.set_status(*parsed);
        }
        // Only set a bound that was given: mutable_*() would create an empty one (the epoch).
        if (!from.empty() && !TimeUtil::FromString(from, list.mutable_submitted_from())) {
            std::cerr << "error: --from: not an RFC 3339 time: " << from << "\n";
            exit_code = 2;
            return;
        }
        if (!to.empty() && !TimeUtil::FromString(to, list.mutable_submitted_to())) {
            std::cerr << "error: --to: not an RFC 3339 time: " << to << "\n";
            exit_code = 2;
            return;
        }
        ob::ListProspectsResponse response;
        if (!succeeded(onboarding()->ListProspects(context_for(globals).get(), list, &response))) {
            return;
        }
        if (globals.json) {
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
    show_cmd->callback([&] {
        ob::GetProspectRequest call;
        call.set_request_number(number);
        ob::GetProspectResponse response;
        if (!succeeded(onboarding()->GetProspect(context_for(globals).get(), call, &response))) {
            return;
        }
        if (globals.json) {
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

    bool yes = false;
    std::string override_reason;
    auto* approve_cmd = prospects->add_subcommand("approve", "approve a Pending prospect");
    approve_cmd->add_option("number", number, "request number")->required();
    approve_cmd->add_flag("--yes,-y", yes, "do not ask for confirmation");
    approve_cmd->add_option("--override-reason", override_reason,
                            "in approval mode crm: why HQ decides instead of the CRM");
    approve_cmd->callback([&] {
        if (!yes) {
            if (isatty(STDIN_FILENO) == 0) {
                std::cerr << "error: approving needs a confirmation: answer the prompt or pass --yes\n";
                exit_code = 2;
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
        if (!succeeded(onboarding()->ApproveProspect(context_for(globals).get(), call, &response))) {
            return;
        }
        globals.json ? print_json(response)
                     : void(std::cout << number << ": " << status_name(response.status()) << "\n");
    });

    std::string reason;
    auto* reject_cmd = prospects->add_subcommand("reject", "reject a Pending prospect with a reason");
    reject_cmd->add_option("number", number, "request number")->required();
    reject_cmd->add_option("--reason", reason, "why (the requester may be told)")->required();
    reject_cmd->callback([&] {
        ob::RejectProspectRequest call;
        call.set_request_number(number);
        call.set_reason(reason);
        ob::RejectProspectResponse response;
        if (!succeeded(onboarding()->RejectProspect(context_for(globals).get(), call, &response))) {
            return;
        }
        globals.json ? print_json(response)
                     : void(std::cout << number << ": " << status_name(response.status()) << "\n");
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? 0 : 2;
    }
    return exit_code;
}
