// `gatehouse customers ...`, `hierarchies ...`, `users ...`, `admin change`, `set-password`,
// `forgot-password` and `sign-in`: the customers service's API.
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "cli.h"
#include "commands.h"
#include "gatehouse/customers/v1/customers_service.grpc.pb.h"

namespace gatehouse::cli {
namespace {

namespace cu = customers::v1;

std::string type_name(cu::CustomerType type) {
    return type == cu::CUSTOMER_TYPE_ORGANIZATION ? "Organization" : type == cu::CUSTOMER_TYPE_PERSON ? "Person" : "-";
}

// The customer's status, and whether its deal is still open (seed 000: made at qualification).
std::string customer_status(const cu::Customer& c) {
    switch (c.status()) {
        case cu::CUSTOMER_STATUS_CLOSED:
            return "Closed (deal lost)";
        case cu::CUSTOMER_STATUS_BLOCKED:
            return "Blocked";
        default:
            return c.partner_status() == cu::PARTNER_STATUS_PROSPECTIVE ? "Active, not yet a partner" : "Active";
    }
}

std::string user_status(cu::PartnerUserStatus status) {
    switch (status) {
        case cu::PARTNER_USER_STATUS_PENDING:
            return "Pending";
        case cu::PARTNER_USER_STATUS_ACTIVE:
            return "Active";
        case cu::PARTNER_USER_STATUS_REMOVED:
            return "Removed";
        default:
            return "-";
    }
}

std::string money(const common::v1::Money& amount) {
    if (amount.minor_units() == 0) {
        return "-";
    }
    const auto units = amount.minor_units();
    const std::string cents = std::to_string(units % 100);
    return std::to_string(units / 100) + "." + (cents.size() < 2 ? "0" : "") + cents + " " + amount.currency_code();
}

// A password from stdin (one line), so that it is not in the shell history or the process list.
std::string read_password() {
    std::string password;
    std::getline(std::cin, password);
    return password;
}

void print_users(const google::protobuf::RepeatedPtrField<cu::PartnerUser>& users) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& u : users) {
        rows.push_back({u.user_id(), user_status(u.status()), u.email(), u.first_name() + " " + u.last_name(),
                        u.job_title(), u.administrator() ? "admin" : "", u.permissions().view_financials() ? "yes" : "",
                        u.password_set() ? "yes" : "no", u.customer_id()});
    }
    print_table({"USER", "STATUS", "EMAIL", "NAME", "JOB TITLE", "ROLE", "FINANCIALS", "PASSWORD", "CUSTOMER"}, rows);
}

void print_hierarchy(const cu::Hierarchy& h) {
    std::string members;
    for (const auto& member : h.member_customer_ids()) {
        members += (members.empty() ? "" : ", ") + member;
    }
    std::cout << h.hierarchy_id() << "  " << h.name() << "  (organization " << h.organization_customer_id()
              << "): " << members << "\n";
}

struct CustomersArgs {
    cu::ListCustomersRequest list;
    cu::CreateCustomerRequest create;
    cu::AddPartnerUserRequest add_user;
    cu::UpdatePartnerUserRequest edit_user;
    cu::UpdateCustomerRequest update;
    std::string id;
    std::string second_id;
    std::string type;
    std::string status;
    std::string reason;
    std::string organization;
    std::string email;
    std::string token;
    bool unblock = false;
    bool view_financials = false;
    bool b2b_admin = false;
};

}  // namespace

void add_customers_commands(CLI::App& app, Cli& cli) {
    static CustomersArgs args;
    const auto service = [&cli] { return cu::CustomersService::NewStub(cli.channel(cli.customers)); };

    // --- customers (hq / operator) ---------------------------------------------------------------
    auto* customers = app.add_subcommand("customers", "the customer master (hq; operator reads)");
    customers->require_subcommand(1);

    auto* list_cmd = customers->add_subcommand("list", "search customers, oldest first");
    list_cmd->add_option_function<std::string>(
        "--text", [](const std::string& v) { args.list.set_text(v); }, "in name, email, id or CRM id");
    list_cmd->add_option("--type", args.type, "organization or person");
    list_cmd->add_option("--status", args.status, "active, blocked or closed (a lost deal)")
        ->check(CLI::IsMember({"active", "blocked", "closed"}));
    list_cmd->add_option_function<int>(
        "--page-size", [](int v) { args.list.set_page_size(v); }, "1..500 (default 50)");
    list_cmd->add_option_function<std::string>("--page-token",
                                               [](const std::string& v) { args.list.set_page_token(v); });
    list_cmd->callback([=, &cli] {
        if (!args.type.empty()) {
            args.list.set_type(args.type == "organization" ? cu::CUSTOMER_TYPE_ORGANIZATION : cu::CUSTOMER_TYPE_PERSON);
        }
        if (!args.status.empty()) {
            args.list.set_status(args.status == "blocked"  ? cu::CUSTOMER_STATUS_BLOCKED
                                 : args.status == "closed" ? cu::CUSTOMER_STATUS_CLOSED
                                                           : cu::CUSTOMER_STATUS_ACTIVE);
        }
        cu::ListCustomersResponse response;
        if (!cli.succeeded(service()->ListCustomers(cli.context().get(), args.list, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : response.customers()) {
            rows.push_back({c.customer_id(), type_name(c.type()), c.details().name(), c.details().email(),
                            customer_status(c), c.crm_account_id().empty() ? c.crm_contact_id() : c.crm_account_id(),
                            c.organization_customer_id(), c.b2b_admin() ? "admin" : ""});
        }
        print_table({"ID", "TYPE", "NAME", "EMAIL", "STATUS", "CRM", "ORGANIZATION", "B2B"}, rows);
        std::cout << response.customers_size() << " of " << response.total() << " shown"
                  << (response.next_page_token().empty() ? ""
                                                         : "; next page: --page-token " + response.next_page_token())
                  << "\n";
    });

    auto* show_cmd = customers->add_subcommand("show", "one customer with its history");
    show_cmd->add_option("id", args.id, "customer id")->required();
    show_cmd->callback([=, &cli] {
        cu::GetCustomerRequest call;
        call.set_customer_id(args.id);
        cu::GetCustomerResponse response;
        if (!cli.succeeded(service()->GetCustomer(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        const auto& c = response.customer();
        const auto& d = c.details();
        std::cout << c.customer_id() << "  " << type_name(c.type()) << "  " << customer_status(c) << "\n"
                  << "name:     " << d.name() << "\nemail:    " << d.email() << "\nphone:    " << d.phone() << "\n";
        if (c.type() == cu::CUSTOMER_TYPE_ORGANIZATION) {
            std::cout << "address:  " << d.address().street() << ", " << d.address().postal_code() << " "
                      << d.address().city() << ", " << d.address().country_code() << "\ntax id:   " << d.tax_id()
                      << "\ncredit:   " << money(c.credit_limit()) << " (" << c.payment_terms() << ")\n";
        } else {
            std::cout << "org:      " << c.organization_customer_id() << (c.b2b_admin() ? " (B2B admin)" : "")
                      << "\njob:      " << d.job_title() << "\nspending: " << money(c.spending_limit()) << "\n";
        }
        if (!c.crm_account_id().empty() || !c.crm_contact_id().empty()) {
            std::cout << "crm:      account " << c.crm_account_id() << " contact " << c.crm_contact_id() << "\n";
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& entry : response.history()) {
            rows.push_back({when(entry.at()), entry.actor(), entry.event_type()});
        }
        if (!rows.empty()) {
            std::cout << "history:\n";
            print_table({"WHEN", "WHO", "WHAT"}, rows);
        }
    });

    auto* create_cmd = customers->add_subcommand("create", "create an Organization or a Person customer (hq)");
    static auto& details = *args.create.mutable_details();
    create_cmd->add_option("--type", args.type, "organization or person")->required();
    create_cmd->add_option_function<std::string>(
        "--name", [](const std::string& v) { details.set_name(v); }, "organization name");
    create_cmd->add_option_function<std::string>("--first-name",
                                                 [](const std::string& v) { details.set_first_name(v); });
    create_cmd->add_option_function<std::string>("--last-name", [](const std::string& v) { details.set_last_name(v); });
    create_cmd->add_option_function<std::string>("--email", [](const std::string& v) { details.set_email(v); });
    create_cmd->add_option_function<std::string>("--phone", [](const std::string& v) { details.set_phone(v); });
    create_cmd->add_option_function<std::string>(
        "--organization", [](const std::string& v) { args.create.set_organization_customer_id(v); },
        "a Person's organization customer id");
    create_cmd->add_flag("--b2b-admin", args.b2b_admin,
                         "B2B administrator = Yes: the Person (with --organization) becomes the partner's "
                         "administrator, invited by email");
    create_cmd->callback([=, &cli] {
        if (args.type != "organization" && args.type != "person") {
            cli.usage_error("--type: organization or person");
            return;
        }
        args.create.set_type(args.type == "organization" ? cu::CUSTOMER_TYPE_ORGANIZATION : cu::CUSTOMER_TYPE_PERSON);
        args.create.set_b2b_admin(args.b2b_admin);
        cu::CreateCustomerResponse response;
        if (!cli.succeeded(service()->CreateCustomer(cli.context().get(), args.create, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << response.customer().customer_id() << " created\n");
    });

    auto* update_cmd = customers->add_subcommand(
        "update", "change a customer's master data (hq); a Person's web accounts follow (names, sign-in email)");
    update_cmd->add_option("id", args.id, "customer id")->required();
    static auto& changed = *args.update.mutable_details();
    const auto field = [](const char* name, void (cu::CustomerDetails::*set)(const std::string&)) {
        return [name, set](const std::string& v) {
            (changed.*set)(v);
            args.update.add_fields(name);
        };
    };
    update_cmd->add_option_function<std::string>("--name", field("name", &cu::CustomerDetails::set_name));
    update_cmd->add_option_function<std::string>("--first-name",
                                                 field("first_name", &cu::CustomerDetails::set_first_name));
    update_cmd->add_option_function<std::string>("--last-name",
                                                 field("last_name", &cu::CustomerDetails::set_last_name));
    update_cmd->add_option_function<std::string>("--email", field("email", &cu::CustomerDetails::set_email));
    update_cmd->add_option_function<std::string>("--phone", field("phone", &cu::CustomerDetails::set_phone));
    update_cmd->add_option_function<std::string>("--job-title",
                                                 field("job_title", &cu::CustomerDetails::set_job_title));
    update_cmd
        ->add_option_function<std::string>(
            "--b2b-admin", [](const std::string& v) { args.update.set_b2b_admin(v == "yes"); },
            "yes: the Person becomes its organization's administrator (no: refused for the administrator)")
        ->check(CLI::IsMember({"yes", "no"}));
    update_cmd->callback([=, &cli] {
        args.update.set_customer_id(args.id);
        cu::UpdateCustomerResponse response;
        if (!cli.succeeded(service()->UpdateCustomer(cli.context().get(), args.update, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << response.customer().customer_id() << " updated\n");
    });

    auto* block_cmd = customers->add_subcommand("block", "block (or --unblock) a customer (hq)");
    block_cmd->add_option("id", args.id, "customer id")->required();
    block_cmd->add_option("--reason", args.reason, "why (required to block)");
    block_cmd->add_flag("--unblock", args.unblock, "lift the block");
    block_cmd->callback([=, &cli] {
        cu::BlockCustomerRequest call;
        call.set_customer_id(args.id);
        call.set_reason(args.reason);
        call.set_blocked(!args.unblock);
        cu::BlockCustomerResponse response;
        if (!cli.succeeded(service()->BlockCustomer(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << args.id << (args.unblock ? " unblocked\n" : " blocked\n"));
    });

    // --- hierarchies ------------------------------------------------------------------------------
    auto* hierarchies = app.add_subcommand("hierarchies", "customer hierarchies (hq; a partner admin lists theirs)");
    hierarchies->require_subcommand(1);
    auto* h_list = hierarchies->add_subcommand("list", "hierarchies with their members");
    h_list->add_option("--organization", args.organization, "organization customer id");
    h_list->callback([=, &cli] {
        cu::ListHierarchiesRequest call;
        call.set_organization_customer_id(args.organization);
        cu::ListHierarchiesResponse response;
        if (!cli.succeeded(service()->ListHierarchies(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        for (const auto& h : response.hierarchies()) {
            print_hierarchy(h);
        }
    });
    auto* h_create = hierarchies->add_subcommand("create", "a new hierarchy of an organization (hq)");
    h_create->add_option("--organization", args.organization, "organization customer id")->required();
    h_create->add_option("--name", args.reason, "hierarchy name")->required();
    h_create->callback([=, &cli] {
        cu::CreateHierarchyRequest call;
        call.set_organization_customer_id(args.organization);
        call.set_name(args.reason);
        cu::CreateHierarchyResponse response;
        if (!cli.succeeded(service()->CreateHierarchy(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : print_hierarchy(response.hierarchy());
    });
    for (const bool add : {true, false}) {
        auto* member = hierarchies->add_subcommand(
            add ? "add" : "remove",
            add ? "add a customer to a hierarchy (hq)" : "remove a customer from a hierarchy (the customer is kept)");
        member->add_option("hierarchy", args.id, "hierarchy id")->required();
        member->add_option("customer", args.second_id, "customer id")->required();
        member->callback([=, &cli] {
            cu::ChangeHierarchyMemberRequest call;
            call.set_hierarchy_id(args.id);
            call.set_customer_id(args.second_id);
            call.set_add(add);
            cu::ChangeHierarchyMemberResponse response;
            if (!cli.succeeded(service()->ChangeHierarchyMember(cli.context().get(), call, &response))) {
                return;
            }
            cli.json ? print_json(response) : print_hierarchy(response.hierarchy());
        });
    }

    // --- users (hq, or the partner admin with their session token) -------------------------------
    auto* users = app.add_subcommand("users", "partner users (hq, or the partner's administrator)");
    users->require_subcommand(1);
    auto* u_list = users->add_subcommand("list", "users of an organization");
    u_list->add_option("--organization", args.organization, "organization customer id (hq; admins: their own)");
    u_list->callback([=, &cli] {
        cu::ListPartnerUsersRequest call;
        call.set_organization_customer_id(args.organization);
        cu::ListPartnerUsersResponse response;
        if (!cli.succeeded(service()->ListPartnerUsers(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : print_users(response.users());
    });
    auto* u_add = users->add_subcommand(
        "add", "add a user: provisioned (or an existing Person of the organization), Active, invited by email");
    u_add->add_option_function<std::string>(
        "--organization", [](const std::string& v) { args.add_user.set_organization_customer_id(v); },
        "organization customer id (hq)");
    u_add->add_option_function<std::string>(
        "--customer", [](const std::string& v) { args.add_user.set_customer_id(v); },
        "an existing Person customer of the organization (its email and names are used)");
    auto* u_email =
        u_add->add_option_function<std::string>("--email", [](const std::string& v) { args.add_user.set_email(v); });
    u_add->add_option_function<std::string>("--first-name",
                                            [](const std::string& v) { args.add_user.set_first_name(v); });
    u_add->add_option_function<std::string>("--last-name",
                                            [](const std::string& v) { args.add_user.set_last_name(v); });
    u_email->excludes("--customer");
    u_add->add_option_function<std::string>("--job-title",
                                            [](const std::string& v) { args.add_user.set_job_title(v); });
    u_add->add_flag("--view-financials", args.view_financials, "may see credit limit and payment terms");
    u_add->callback([=, &cli] {
        if (args.add_user.customer_id().empty() &&
            (args.add_user.email().empty() || args.add_user.first_name().empty() ||
             args.add_user.last_name().empty())) {
            cli.usage_error("--email, --first-name and --last-name are required (or --customer)");
            return;
        }
        args.add_user.mutable_permissions()->set_view_financials(args.view_financials);
        cu::AddPartnerUserResponse response;
        if (!cli.succeeded(service()->AddPartnerUser(cli.context().get(), args.add_user, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << response.user().user_id() << " added; invitation sent to "
                                  << response.user().email() << "\n");
    });
    auto* u_edit = users->add_subcommand("edit", "change a user's names, job title and permissions");
    u_edit->add_option_function<std::string>("user", [](const std::string& v) { args.edit_user.set_user_id(v); })
        ->required();
    u_edit
        ->add_option_function<std::string>("--first-name",
                                           [](const std::string& v) { args.edit_user.set_first_name(v); })
        ->required();
    u_edit
        ->add_option_function<std::string>("--last-name", [](const std::string& v) { args.edit_user.set_last_name(v); })
        ->required();
    u_edit->add_option_function<std::string>("--job-title",
                                             [](const std::string& v) { args.edit_user.set_job_title(v); });
    u_edit->add_flag("--view-financials", args.view_financials, "may see credit limit and payment terms");
    u_edit->callback([=, &cli] {
        args.edit_user.mutable_permissions()->set_view_financials(args.view_financials);
        cu::UpdatePartnerUserResponse response;
        if (!cli.succeeded(service()->UpdatePartnerUser(cli.context().get(), args.edit_user, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << response.user().user_id() << " updated\n");
    });
    auto* u_remove = users->add_subcommand("remove", "remove a user: sign-in revoked, customer kept");
    u_remove->add_option("user", args.id, "user id")->required();
    u_remove->callback([=, &cli] {
        cu::RemovePartnerUserRequest call;
        call.set_user_id(args.id);
        cu::RemovePartnerUserResponse response;
        if (cli.succeeded(service()->RemovePartnerUser(cli.context().get(), call, &response))) {
            cli.json ? print_json(response) : void(std::cout << args.id << " removed\n");
        }
    });
    for (const bool revoke : {false, true}) {
        auto* invitation = users->add_subcommand(
            revoke ? "revoke-invitation" : "resend-invitation",
            revoke ? "revoke the open set-password link" : "send a new set-password link (the old one stops working)");
        invitation->add_option("user", args.id, "user id")->required();
        invitation->callback([=, &cli] {
            cu::ChangeInvitationRequest call;
            call.set_user_id(args.id);
            call.set_revoke(revoke);
            cu::ChangeInvitationResponse response;
            if (cli.succeeded(service()->ChangeInvitation(cli.context().get(), call, &response))) {
                cli.json ? print_json(response) : void(std::cout << args.id << (revoke ? ": revoked\n" : ": sent\n"));
            }
        });
    }

    // --- admin change (hq) -----------------------------------------------------------------------
    auto* admin = app.add_subcommand("admin", "the partner's administrator (hq)");
    admin->require_subcommand(1);
    auto* admin_change =
        admin->add_subcommand("change", "make another Active user, or a Person of the organization, the administrator");
    admin_change->add_option("--organization", args.organization, "organization customer id")->required();
    auto* admin_user = admin_change->add_option("--user", args.id, "the new administrator's user id");
    auto* admin_customer = admin_change->add_option(
        "--customer", args.second_id, "or a Person customer of the organization (invited when it has no web account)");
    admin_user->excludes(admin_customer);
    admin_change->callback([=, &cli] {
        if (args.id.empty() == args.second_id.empty()) {
            cli.usage_error("one of --user, --customer");
            return;
        }
        cu::ChangeAdministratorRequest call;
        call.set_organization_customer_id(args.organization);
        call.set_new_admin_user_id(args.id);
        call.set_new_admin_customer_id(args.second_id);
        cu::ChangeAdministratorResponse response;
        if (cli.succeeded(service()->ChangeAdministrator(cli.context().get(), call, &response))) {
            cli.json ? print_json(response)
                     : void(std::cout << (args.id.empty() ? args.second_id : args.id) << " is the administrator now\n");
        }
    });

    // --- set-password / sign-in (anonymous; the password is read from stdin) ---------------------
    auto* set_password = app.add_subcommand("set-password", "set a password with the token of an invitation link");
    set_password->add_option("--token", args.token, "the token from the link")->required();
    set_password->callback([=, &cli] {
        cu::SetPasswordRequest call;
        call.set_token(args.token);
        call.set_password(read_password());
        cu::SetPasswordResponse response;
        if (cli.succeeded(service()->SetPassword(cli.context().get(), call, &response))) {
            cli.json ? print_json(response) : void(std::cout << "password set\n");
        }
    });
    auto* forgot = app.add_subcommand(
        "forgot-password",
        "ask for a password-reset link by email (the same answer whether or not the email is known)");
    forgot->add_option("--email", args.email, "the user's email")->required();
    forgot->callback([=, &cli] {
        cu::RequestPasswordResetRequest call;
        call.set_email(args.email);
        cu::RequestPasswordResetResponse response;
        if (cli.succeeded(service()->RequestPasswordReset(cli.context().get(), call, &response))) {
            cli.json ? print_json(response)
                     : void(std::cout << "if " << args.email
                                      << " has an account, a link to set a new password is on its way\n");
        }
    });
    auto* sign_in = app.add_subcommand("sign-in", "sign in as a partner user; prints the session token");
    sign_in->add_option("--email", args.email, "the user's email")->required();
    sign_in->callback([=, &cli] {
        cu::SignInRequest call;
        call.set_email(args.email);
        call.set_password(read_password());
        cu::SignInResponse response;
        if (!cli.succeeded(service()->SignIn(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::cout << response.session_token() << "\n";
        std::cerr << "signed in as " << response.user_id() << " of " << response.organization_customer_id() << " until "
                  << when(response.expires_at()) << "; use it as --token / GATEHOUSE_TOKEN\n";
    });
}

}  // namespace gatehouse::cli
