// gatehouse staff: the back office's staff directory (a local file the web service reads, see
// services/web/staff_directory.h). No service is called: the operator edits the file the web
// service's web.staff_file names, and the web service picks the change up within a second.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "staff_directory.h"

namespace gatehouse::cli {

void add_staff_commands(CLI::App& app, Cli& cli) {
    struct Args {
        std::string file;
        std::string email;
        std::string role;
        std::string user_id;
    };
    auto args = std::make_shared<Args>();
    auto* staff = app.add_subcommand("staff", "the back office's staff directory (the web service's web.staff_file)");
    staff->require_subcommand(1);
    staff->add_option("--file", args->file, "the directory file")->envname("GATEHOUSE_STAFF_FILE")->required();

    auto* add = staff->add_subcommand(
        "add", "add a staff member, or give one a new password or role; the password is read from stdin");
    add->add_option("--email", args->email, "the sign-in email")->required();
    add->add_option("--role", args->role, "hq, sales, sales-manager or operator")
        ->required()
        ->check(CLI::IsMember({"hq", "sales", "sales-manager", "operator"}));
    add->add_option("--user", args->user_id, "the user id the services record (e.g. hilda)")->required();
    add->callback([args, &cli] {
        std::string password;
        std::getline(std::cin, password);
        try {
            web::put_staff_entry(args->file, {args->email, args->role, args->user_id}, password);
            std::cout << "staff member " << args->email << " (" << args->role << ") written to " << args->file << "\n";
        } catch (const std::invalid_argument& error) {
            cli.usage_error(error.what());
        } catch (const std::exception& error) {
            std::cerr << "gatehouse: " << error.what() << "\n";
            cli.exit_code = 1;
        }
    });

    auto* remove = staff->add_subcommand("remove", "remove a staff member: their back-office sessions end");
    remove->add_option("--email", args->email, "the sign-in email")->required();
    remove->callback([args, &cli] {
        try {
            if (web::remove_staff_entry(args->file, args->email)) {
                std::cout << "staff member " << args->email << " removed\n";
            } else {
                std::cerr << "gatehouse: no staff member " << args->email << " in " << args->file << "\n";
                cli.exit_code = 1;
            }
        } catch (const std::exception& error) {
            std::cerr << "gatehouse: " << error.what() << "\n";
            cli.exit_code = 1;
        }
    });

    auto* list = staff->add_subcommand("list", "the staff members (never their password hashes)");
    list->callback([args, &cli] {
        try {
            for (const auto& entry : web::read_staff_file(args->file)) {
                std::cout << entry.member.email << "\t" << entry.member.role << "\t" << entry.member.user_id << "\n";
            }
        } catch (const std::exception& error) {
            std::cerr << "gatehouse: " << error.what() << "\n";
            cli.exit_code = 1;
        }
    });
}

}  // namespace gatehouse::cli
