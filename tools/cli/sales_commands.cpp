// `gatehouse leads ...`, `gatehouse opportunities ...`, `gatehouse appointments ...` and
// `gatehouse notes ...` (sales users, needs a sales or sales-manager token): the sales-bridge API.
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"

namespace gatehouse::cli {
namespace {

namespace sv = sales::v1;

std::string lead_status_name(sv::LeadStatus status) {
    switch (status) {
        case sv::LEAD_STATUS_OPEN:
            return "Open";
        case sv::LEAD_STATUS_QUALIFIED:
            return "Qualified";
        case sv::LEAD_STATUS_DISQUALIFIED:
            return "Disqualified";
        default:
            return "-";
    }
}

std::string opportunity_status_name(sv::OpportunityStatus status) {
    switch (status) {
        case sv::OPPORTUNITY_STATUS_OPEN:
            return "Open";
        case sv::OPPORTUNITY_STATUS_WON:
            return "Won";
        case sv::OPPORTUNITY_STATUS_LOST:
            return "Lost";
        default:
            return "-";
    }
}

std::string stage_name(sv::OpportunityStage stage) {
    switch (stage) {
        case sv::OPPORTUNITY_STAGE_DEVELOP:
            return "Develop";
        case sv::OPPORTUNITY_STAGE_PROPOSE:
            return "Propose";
        case sv::OPPORTUNITY_STAGE_CLOSE:
            return "Close";
        default:
            return "Qualify";
    }
}

// "qualify", "develop", "propose", "close" (any case); UNSPECIFIED when it is none of them.
sv::OpportunityStage parse_stage(std::string text) {
    for (auto& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text == "qualify"   ? sv::OPPORTUNITY_STAGE_QUALIFY
           : text == "develop" ? sv::OPPORTUNITY_STAGE_DEVELOP
           : text == "propose" ? sv::OPPORTUNITY_STAGE_PROPOSE
           : text == "close"   ? sv::OPPORTUNITY_STAGE_CLOSE
                               : sv::OPPORTUNITY_STAGE_UNSPECIFIED;
}

std::string money(const common::v1::Money& value) {
    const auto cents = value.minor_units() % 100;
    return value.currency_code() + " " + std::to_string(value.minor_units() / 100) + "." + (cents < 10 ? "0" : "") +
           std::to_string(cents);
}

// "25000.00" / "25000" -> minor units; nullopt when not an amount.
std::optional<std::int64_t> parse_amount(const std::string& text) {
    const auto dot = text.find('.');
    const std::string whole = text.substr(0, dot);
    std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 15 || fraction.size() > 2 ||
        whole.find_first_not_of("0123456789") != std::string::npos ||
        fraction.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    fraction.resize(2, '0');
    return std::stoll(whole) * 100 + std::stoll(fraction);
}

void print_timeline(const google::protobuf::RepeatedPtrField<sv::TimelineEntry>& timeline) {
    std::cout << "timeline:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& entry : timeline) {
        rows.push_back({when(entry.at()), entry.actor(), entry.detail()});
    }
    print_table({"WHEN", "WHO", "WHAT"}, rows);
}

// The values the commands' options are parsed into; they must outlive the parse.
struct SalesArgs {
    sv::ListLeadsRequest list;
    std::string view = "all";
    std::string status;
    std::string id;
    std::string owner;
    std::string value;
    std::string currency = "EUR";
    std::string close_date;
    std::string reason;
    std::string subject;
    std::string starts;
    std::string ends;
    std::vector<std::string> attendees;
    std::string meeting_url;
    std::string text;
    std::string idempotency_key;
    std::string stage;
    std::string language;
    std::string appointment_id;
    bool mine = false;
};

}  // namespace

void add_sales_commands(CLI::App& app, Cli& cli) {
    // Static: the options write into these during app.parse(), after this function returned.
    static SalesArgs args;
    const auto sales = [&cli] { return sv::SalesService::NewStub(cli.channel(cli.sales)); };

    // --- leads ---------------------------------------------------------------------------------
    auto* leads = app.add_subcommand("leads", "sales leads (needs a sales or sales-manager token)");
    leads->require_subcommand(1);

    auto* list_cmd = leads->add_subcommand("list", "a view of the leads, newest first");
    list_cmd->add_option("--view", args.view, "all (All commerce B2B leads) or mine (My open leads)")
        ->capture_default_str();
    list_cmd->add_option("--status", args.status, "all view: open, qualified or disqualified");
    list_cmd->add_option_function<std::string>(
        "--owner", [](const std::string& v) { args.list.set_owner_user_id(v); },
        "all view: owner user id, - = unassigned");
    list_cmd->add_option_function<std::string>(
        "--text", [](const std::string& v) { args.list.set_text(v); }, "in company name or contact email");
    list_cmd->add_option_function<int>(
        "--page-size", [](int v) { args.list.set_page_size(v); }, "1..500 (default 50)");
    list_cmd->add_option_function<std::string>("--page-token",
                                               [](const std::string& v) { args.list.set_page_token(v); });
    list_cmd->callback([=, &cli] {
        if (args.view == "all") {
            args.list.set_view(sv::LEAD_VIEW_ALL_COMMERCE_B2B);
        } else if (args.view == "mine") {
            args.list.set_view(sv::LEAD_VIEW_MY_OPEN);
        } else {
            cli.usage_error("--view: all or mine, not " + args.view);
            return;
        }
        if (!args.status.empty()) {
            const std::string& s = args.status;
            const auto status = s == "open"           ? sv::LEAD_STATUS_OPEN
                                : s == "qualified"    ? sv::LEAD_STATUS_QUALIFIED
                                : s == "disqualified" ? sv::LEAD_STATUS_DISQUALIFIED
                                                      : sv::LEAD_STATUS_UNSPECIFIED;
            if (status == sv::LEAD_STATUS_UNSPECIFIED) {
                cli.usage_error("--status: open, qualified or disqualified, not " + s);
                return;
            }
            args.list.set_status(status);
        }
        sv::ListLeadsResponse response;
        if (!cli.succeeded(sales()->ListLeads(cli.context().get(), args.list, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& lead : response.leads()) {
            rows.push_back({lead.lead_id(), lead_status_name(lead.status()), lead.company_name(), lead.contact_email(),
                            lead.owner_user_id().empty() ? "(unassigned)" : lead.owner_user_id(),
                            when(lead.created_at())});
        }
        print_table({"LEAD", "STATUS", "COMPANY", "CONTACT", "OWNER", "CREATED"}, rows);
        std::cout << response.leads_size() << " of " << response.total() << " shown"
                  << (response.next_page_token().empty() ? ""
                                                         : "; next page: --page-token " + response.next_page_token())
                  << "\n";
    });

    auto* show_cmd = leads->add_subcommand("show", "one lead with its timeline");
    show_cmd->add_option("lead", args.id, "lead id, e.g. LEAD-PR-000001")->required();
    show_cmd->callback([=, &cli] {
        sv::GetLeadRequest call;
        call.set_lead_id(args.id);
        sv::GetLeadResponse response;
        if (!cli.succeeded(sales()->GetLead(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        const auto& lead = response.lead();
        std::cout << lead.lead_id() << "  " << lead_status_name(response.summary().status()) << "  " << lead.topic()
                  << "\n"
                  << "origin:   " << lead.origin() << " (request " << lead.prospect_request_number() << ")\n"
                  << "owner:    "
                  << (response.summary().owner_user_id().empty() ? "(unassigned)" : response.summary().owner_user_id())
                  << "\n"
                  << "company:  " << lead.company_name() << ", " << lead.company_address().city() << ", "
                  << lead.company_address().country_code() << "; phone " << lead.company_phone() << "\n"
                  << "contact:  " << lead.contact().first_name() << " " << lead.contact().last_name() << " <"
                  << lead.contact().email() << ">, " << lead.contact().job_title() << "\n";
        if (!response.summary().opportunity_id().empty()) {
            std::cout << "qualified: opportunity " << response.summary().opportunity_id() << ", account "
                      << response.account_id() << ", contact " << response.contact_id() << "\n";
        }
        if (response.decided_by_hq()) {
            std::cout << "closed because HQ decided the request (by " << response.decided_by()
                      << "): the CRM can no longer change it\n";
        }
        print_timeline(response.timeline());
    });

    auto* assign_cmd = leads->add_subcommand("assign", "give a lead an owner (yourself, or as a manager anyone)");
    assign_cmd->add_option("lead", args.id, "lead id")->required();
    assign_cmd->add_option("owner", args.owner, "sales user id")->required();
    assign_cmd->callback([=, &cli] {
        sv::AssignLeadRequest call;
        call.set_lead_id(args.id);
        call.set_owner_user_id(args.owner);
        sv::AssignLeadResponse response;
        if (!cli.succeeded(sales()->AssignLead(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << args.id << " is now owned by " << response.summary().owner_user_id() << "\n");
    });

    auto* qualify_cmd =
        leads->add_subcommand("qualify", "qualify a lead: creates the opportunity, the account and the contact");
    qualify_cmd->add_option("lead", args.id, "lead id")->required();
    qualify_cmd->add_option("--value", args.value, "estimated value, e.g. 25000.00")->required();
    qualify_cmd->add_option("--currency", args.currency, "ISO 4217")->capture_default_str();
    qualify_cmd->add_option("--close-date", args.close_date, "estimated close date YYYY-MM-DD")->required();
    qualify_cmd->callback([=, &cli] {
        const auto amount = parse_amount(args.value);
        if (!amount) {
            cli.usage_error("--value: an amount such as 25000 or 25000.50, not " + args.value);
            return;
        }
        sv::QualifyLeadRequest call;
        call.set_lead_id(args.id);
        call.mutable_estimated_value()->set_currency_code(args.currency);
        call.mutable_estimated_value()->set_minor_units(*amount);
        call.set_estimated_close_date(args.close_date);
        sv::QualifyLeadResponse response;
        if (!cli.succeeded(sales()->QualifyLead(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << args.id << " qualified: opportunity " << response.opportunity_id() << ", account "
                                  << response.account_id() << ", contact " << response.contact_id() << "\n");
    });

    auto* disqualify_cmd = leads->add_subcommand("disqualify", "disqualify a lead (the request is rejected)");
    disqualify_cmd->add_option("lead", args.id, "lead id")->required();
    disqualify_cmd->add_option("--reason", args.reason, "why (the requester's decline uses it)")->required();
    disqualify_cmd->callback([=, &cli] {
        sv::DisqualifyLeadRequest call;
        call.set_lead_id(args.id);
        call.set_reason(args.reason);
        sv::DisqualifyLeadResponse response;
        if (!cli.succeeded(sales()->DisqualifyLead(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << args.id << ": Disqualified\n");
    });

    // --- opportunities -------------------------------------------------------------------------
    auto* opportunities = app.add_subcommand("opportunities", "sales opportunities (needs a sales token)");
    opportunities->require_subcommand(1);

    auto* opportunity_list = opportunities->add_subcommand("list", "opportunities, newest first");
    opportunity_list->add_flag("--mine", args.mine, "only mine");
    opportunity_list->add_option("--status", args.status, "open, won or lost");
    opportunity_list->callback([=, &cli] {
        sv::ListOpportunitiesRequest call;
        call.set_mine(args.mine);
        if (!args.status.empty()) {
            const std::string& s = args.status;
            const auto status = s == "open"   ? sv::OPPORTUNITY_STATUS_OPEN
                                : s == "won"  ? sv::OPPORTUNITY_STATUS_WON
                                : s == "lost" ? sv::OPPORTUNITY_STATUS_LOST
                                              : sv::OPPORTUNITY_STATUS_UNSPECIFIED;
            if (status == sv::OPPORTUNITY_STATUS_UNSPECIFIED) {
                cli.usage_error("--status: open, won or lost, not " + s);
                return;
            }
            call.set_status(status);
        }
        sv::ListOpportunitiesResponse response;
        if (!cli.succeeded(sales()->ListOpportunities(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& o : response.opportunities()) {
            rows.push_back({o.opportunity_id(), opportunity_status_name(o.status()), stage_name(o.stage()),
                            o.company_name(), money(o.estimated_value()), o.estimated_close_date(), o.owner_user_id()});
        }
        print_table({"OPPORTUNITY", "STATUS", "STAGE", "COMPANY", "ESTIMATED", "CLOSE", "OWNER"}, rows);
    });

    auto* opportunity_show = opportunities->add_subcommand("show", "one opportunity with its timeline");
    opportunity_show->add_option("opportunity", args.id, "opportunity id, e.g. OPP-PR-000001")->required();
    opportunity_show->callback([=, &cli] {
        sv::GetOpportunityRequest call;
        call.set_opportunity_id(args.id);
        sv::GetOpportunityResponse response;
        if (!cli.succeeded(sales()->GetOpportunity(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        const auto& o = response.summary();
        std::cout << o.opportunity_id() << "  " << opportunity_status_name(o.status()) << "  " << o.topic() << "\n"
                  << "stage " << stage_name(o.stage()) << ", estimated " << money(o.estimated_value()) << ", closing "
                  << o.estimated_close_date() << "; owner " << o.owner_user_id() << "; account " << o.account_id()
                  << ", contact " << o.contact_id() << "\n";
        if (!response.closed_by().empty()) {
            std::cout << "closed by " << response.closed_by() << (response.decided_by_hq() ? " (HQ decided)" : "")
                      << (response.close_reason().empty() ? "" : ": " + response.close_reason()) << "\n";
        }
        print_timeline(response.timeline());
    });

    auto* win_cmd = opportunities->add_subcommand("win", "close as won (the request is approved)");
    win_cmd->add_option("opportunity", args.id, "opportunity id")->required();
    win_cmd->callback([=, &cli] {
        sv::WinOpportunityRequest call;
        call.set_opportunity_id(args.id);
        sv::WinOpportunityResponse response;
        if (!cli.succeeded(sales()->WinOpportunity(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << args.id << ": Won\n");
    });

    auto* lose_cmd = opportunities->add_subcommand("lose", "close as lost with a reason (the request is rejected)");
    lose_cmd->add_option("opportunity", args.id, "opportunity id")->required();
    lose_cmd->add_option("--reason", args.reason, "why")->required();
    lose_cmd->callback([=, &cli] {
        sv::LoseOpportunityRequest call;
        call.set_opportunity_id(args.id);
        call.set_reason(args.reason);
        sv::LoseOpportunityResponse response;
        if (!cli.succeeded(sales()->LoseOpportunity(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << args.id << ": Lost\n");
    });

    auto* update_cmd = opportunities->add_subcommand(
        "update", "move an open opportunity to another sales stage and / or change its estimated value");
    update_cmd->add_option("opportunity", args.id, "opportunity id")->required();
    update_cmd->add_option("--stage", args.stage, "qualify, develop, propose or close");
    update_cmd->add_option("--value", args.value, "estimated value, e.g. 30000 or 30000.50");
    update_cmd->add_option("--currency", args.currency, "ISO 4217 currency of --value")->capture_default_str();
    update_cmd->callback([=, &cli] {
        sv::UpdateOpportunityRequest call;
        call.set_opportunity_id(args.id);
        if (args.stage.empty() && args.value.empty()) {
            cli.usage_error("name --stage or --value (or both)");
            return;
        }
        if (!args.stage.empty()) {
            const auto stage = parse_stage(args.stage);
            if (stage == sv::OPPORTUNITY_STAGE_UNSPECIFIED) {
                cli.usage_error("--stage: qualify, develop, propose or close, not " + args.stage);
                return;
            }
            call.set_stage(stage);
        }
        if (!args.value.empty()) {
            const auto amount = parse_amount(args.value);
            if (!amount) {
                cli.usage_error("--value: not an amount: " + args.value);
                return;
            }
            call.mutable_estimated_value()->set_currency_code(args.currency);
            call.mutable_estimated_value()->set_minor_units(*amount);
        }
        sv::UpdateOpportunityResponse response;
        if (!cli.succeeded(sales()->UpdateOpportunity(cli.context().get(), call, &response))) {
            return;
        }
        if (cli.json) {
            print_json(response);
            return;
        }
        const auto& o = response.summary();
        std::cout << args.id << ": stage " << stage_name(o.stage()) << ", estimated " << money(o.estimated_value())
                  << (response.changed_fields().empty() ? " (unchanged)" : "") << "\n";
    });

    // --- appointments and notes ----------------------------------------------------------------
    // The record: LEAD-... goes to the lead, anything else to the opportunity.
    const auto regarding = [](auto& call, const std::string& id) {
        if (id.rfind("LEAD-", 0) == 0) {
            call.set_lead_id(id);
        } else {
            call.set_opportunity_id(id);
        }
    };
    auto* appointments = app.add_subcommand("appointments", "appointments on leads and opportunities");
    appointments->require_subcommand(1);
    auto* schedule_cmd = appointments->add_subcommand("schedule", "schedule an appointment");
    schedule_cmd->add_option("record", args.id, "lead id (LEAD-...) or opportunity id")->required();
    schedule_cmd->add_option("--subject", args.subject, "what it is about")->required();
    schedule_cmd->add_option("--start", args.starts, "RFC 3339, e.g. 2026-12-01T10:00:00Z")->required();
    schedule_cmd->add_option("--end", args.ends, "RFC 3339")->required();
    schedule_cmd->add_option("--attendee", args.attendees, "email (repeat for several)");
    schedule_cmd->add_option("--meeting-url", args.meeting_url, "online meeting link (https)");
    schedule_cmd->add_option("--idempotency-key", args.idempotency_key, "a retry with the same key schedules once");
    schedule_cmd->add_option(
        "--language", args.language,
        "language of the attendees' invitation, e.g. en or de (default: from the company's country)");
    schedule_cmd->callback([=, &cli] {
        sv::ScheduleAppointmentRequest call;
        regarding(call, args.id);
        call.set_subject(args.subject);
        if (!parse_time(args.starts, *call.mutable_starts_at())) {
            cli.usage_error("--start: not an RFC 3339 time: " + args.starts);
            return;
        }
        if (!parse_time(args.ends, *call.mutable_ends_at())) {
            cli.usage_error("--end: not an RFC 3339 time: " + args.ends);
            return;
        }
        for (const auto& attendee : args.attendees) {
            call.add_attendees(attendee);
        }
        call.set_online_meeting_url(args.meeting_url);
        call.set_idempotency_key(args.idempotency_key);
        call.set_language(args.language);
        sv::ScheduleAppointmentResponse response;
        if (!cli.succeeded(sales()->ScheduleAppointment(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << "appointment " << response.appointment_id() << " on " << args.id << "\n");
    });

    auto* reschedule_cmd = appointments->add_subcommand(
        "reschedule", "move an appointment to another time (the attendees get an updated invitation)");
    reschedule_cmd->add_option("record", args.id, "lead id (LEAD-...) or opportunity id")->required();
    reschedule_cmd->add_option("appointment", args.appointment_id, "appointment id")->required();
    reschedule_cmd->add_option("--start", args.starts, "RFC 3339, e.g. 2026-12-01T10:00:00Z")->required();
    reschedule_cmd->add_option("--end", args.ends, "RFC 3339")->required();
    reschedule_cmd->callback([=, &cli] {
        sv::RescheduleAppointmentRequest call;
        regarding(call, args.id);
        call.set_appointment_id(args.appointment_id);
        if (!parse_time(args.starts, *call.mutable_starts_at())) {
            cli.usage_error("--start: not an RFC 3339 time: " + args.starts);
            return;
        }
        if (!parse_time(args.ends, *call.mutable_ends_at())) {
            cli.usage_error("--end: not an RFC 3339 time: " + args.ends);
            return;
        }
        sv::RescheduleAppointmentResponse response;
        if (!cli.succeeded(sales()->RescheduleAppointment(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << "appointment " << args.appointment_id
                                  << (response.changed() ? " moved" : " already at that time") << " (revision "
                                  << response.sequence() << ")\n");
    });

    auto* cancel_cmd = appointments->add_subcommand(
        "cancel", "call an appointment off (the attendees get a cancellation of their invitation)");
    cancel_cmd->add_option("record", args.id, "lead id (LEAD-...) or opportunity id")->required();
    cancel_cmd->add_option("appointment", args.appointment_id, "appointment id")->required();
    cancel_cmd->add_option("--reason", args.reason, "why (quoted in the cancellation)");
    cancel_cmd->callback([=, &cli] {
        sv::CancelAppointmentRequest call;
        regarding(call, args.id);
        call.set_appointment_id(args.appointment_id);
        call.set_reason(args.reason);
        sv::CancelAppointmentResponse response;
        if (!cli.succeeded(sales()->CancelAppointment(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response)
                 : void(std::cout << "appointment " << args.appointment_id
                                  << (response.changed() ? " cancelled" : " was already cancelled") << "\n");
    });

    auto* notes = app.add_subcommand("notes", "notes on leads and opportunities");
    notes->require_subcommand(1);
    auto* add_cmd = notes->add_subcommand("add", "add a note");
    add_cmd->add_option("record", args.id, "lead id (LEAD-...) or opportunity id")->required();
    add_cmd->add_option("text", args.text, "the note")->required();
    add_cmd->add_option("--idempotency-key", args.idempotency_key, "a retry with the same key adds once");
    add_cmd->callback([=, &cli] {
        sv::AddNoteRequest call;
        regarding(call, args.id);
        call.set_text(args.text);
        call.set_idempotency_key(args.idempotency_key);
        sv::AddNoteResponse response;
        if (!cli.succeeded(sales()->AddNote(cli.context().get(), call, &response))) {
            return;
        }
        cli.json ? print_json(response) : void(std::cout << "note " << response.note_id() << " on " << args.id << "\n");
    });
}

}  // namespace gatehouse::cli
