// The partner's My Account: the organisation, and its users for the administrator.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <optional>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "page_values.h"
#include "site.h"

namespace gatehouse::web {
namespace {

namespace customers_v1 = gatehouse::customers::v1;

constexpr Text kTexts[] = {
    {"account_title", "My Account", "Mein Konto"},
    {"users_title", "Organization users", "Benutzer der Organisation"},
    {"administrator", "Administrator", "Administrator"},
    {"user", "User", "Benutzer"},
    {"remove", "Remove", "Entfernen"},
    {"user_status_1", "Pending", "Ausstehend"},
    {"user_status_2", "Active", "Aktiv"},
    {"user_status_3", "Removed", "Entfernt"},
    {"not_admin", "Only your organization's administrator manages its users.",
     "Nur der Administrator Ihrer Organisation verwaltet ihre Benutzer."},
    {"add_user_title", "Add a user", "Benutzer hinzufügen"},
    {"add_user_text", "The new user gets an email with a link to set a password.",
     "Der neue Benutzer erhält eine E-Mail mit einem Link zum Festlegen des Passworts."},
    {"add_user_submit", "Add user and send invitation", "Benutzer hinzufügen und einladen"},
    {"added", "Invitation sent to", "Einladung gesendet an"},
    {"removed", "The user was removed.", "Der Benutzer wurde entfernt."},
    {"remove_title", "Remove this user?", "Diesen Benutzer entfernen?"},
    {"edit", "Edit", "Bearbeiten"},
    {"edit_user_title", "Edit user", "Benutzer bearbeiten"},
    {"edit_user_submit", "Save", "Speichern"},
    {"edited", "The user was saved.", "Der Benutzer wurde gespeichert."},
    {"view_financials", "View Financials: may see the credit limit and payment terms",
     "Finanzdaten sehen: darf Kreditlimit und Zahlungsbedingungen sehen"},
    {"resend", "Resend invitation", "Einladung erneut senden"},
    {"resent", "A new invitation was sent to", "Eine neue Einladung wurde gesendet an"},
    {"financials", "Financials", "Finanzdaten"},
    {"credit_limit", "Credit limit", "Kreditlimit"},
    {"payment_terms", "Payment terms", "Zahlungsbedingungen"},
    {"spending_limit", "Spending limit per order (e.g. 2500.00; empty: none)",
     "Ausgabenlimit pro Bestellung (z. B. 2500.00; leer: keines)"},
    {"spending_limit.currency_code", "Currency of the spending limit (e.g. EUR)",
     "Währung des Ausgabenlimits (z. B. EUR)"},
    {"not_an_amount", "must be an amount such as 2500.00", "muss ein Betrag wie 2500.00 sein"},
    {"remove_text", "They can no longer sign in. Their customer record stays.",
     "Er oder sie kann sich nicht mehr anmelden. Der Kundendatensatz bleibt erhalten."},
    {"remove_submit", "Yes, remove the user", "Ja, Benutzer entfernen"},
};

const std::vector<Field>& add_user_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "off"},
                                              {"first_name", "text", true, "off"},
                                              {"last_name", "text", true, "off"},
                                              {"job_title", "text", false, "off"}};
    return fields;
}

const std::vector<Field>& edit_user_fields() {
    static const std::vector<Field> fields = {{"first_name", "text", true, "off"},
                                              {"last_name", "text", true, "off"},
                                              {"job_title", "text", false, "off"},
                                              {"spending_limit", "text", false, "off"},
                                              {"spending_limit.currency_code", "text", false, "off"}};
    return fields;
}

struct MyAccount final {
    Site& site;
    std::unique_ptr<customers_v1::CustomersService::Stub> customers;

    bool signed_in(Visit& v) {
        if (v.session.empty() || v.organization.empty()) {
            Site::redirect(v, "/sign-in");
            return false;
        }
        return true;
    }

    void account(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::GetCustomerRequest request;
        request.set_customer_id(v.organization);
        customers_v1::GetCustomerResponse response;
        const auto status = customers->GetCustomer(site.context(v, Caller::partner).get(), request, &response);
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        const auto& details = response.customer().details();
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "account_title"));
        data.set("customer_id", response.customer().customer_id());
        data.set("name", details.name());
        data.set("street", details.address().street());
        data.set("postal_code", details.address().postal_code());
        data.set("city", details.address().city());
        data.set("country_code", details.address().country_code());
        data.set("phone", details.phone());
        set_if(data, "website", details.website());
        set_if(data, "tax_id", details.tax_id());
        // The service leaves them out for a user without "View Financials".
        set_if(data, "credit_limit", format_money(response.customer().credit_limit()));
        set_if(data, "payment_terms", response.customer().payment_terms());
        data.set("financials", response.customer().has_credit_limit() || !response.customer().payment_terms().empty());
        site.render(v, "account", data);
    }

    // The organisation's users, or PERMISSION_DENIED for a user who is not its administrator.
    grpc::Status list_users(const Visit& v, customers_v1::ListPartnerUsersResponse& response) {
        return customers->ListPartnerUsers(site.context(v, Caller::partner).get(),
                                           customers_v1::ListPartnerUsersRequest{}, &response);
    }

    void users(Visit& v, const FormErrors& errors = {}) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::ListPartnerUsersResponse response;
        const auto status = list_users(v, response);
        mustache::data data = errors.empty() ? site.form_data(v, add_user_fields(), errors, {})
                                             : site.form_data(v, add_user_fields(), errors, v.form);
        data.set("title", site.text(v, "users_title"));
        if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            data.set("admin", false);
            site.render(v, "users", data);
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        data.set("admin", true);
        mustache::data rows = mustache::data::type::list;
        for (const auto& user : response.users()) {
            mustache::data row = mustache::data::type::object;
            row.set("user_id", user.user_id());
            row.set("name", user.first_name() + " " + user.last_name());
            row.set("email", user.email());
            row.set("job_title", user.job_title());
            row.set("status", site.text(v, "user_status_" + std::to_string(static_cast<int>(user.status()))));
            row.set("administrator", user.administrator());
            row.set("remove_href", "/account/users/remove?user=" + url_encode(user.user_id()));
            row.set("edit_href", "/account/users/edit?user=" + url_encode(user.user_id()));
            // No password yet: the invitation may be lost or expired, so it can be sent again.
            row.set("pending", !user.password_set() && user.status() != customers_v1::PARTNER_USER_STATUS_REMOVED);
            rows.push_back(row);
        }
        data.set("users", rows);
        if (v.request->has_param("added")) {
            data.set("added", v.request->get_param_value("added"));
        }
        data.set("removed", v.request->has_param("removed"));
        data.set("edited", v.request->has_param("edited"));
        set_if(data, "resent", v.param("resent"));
        site.render(v, "users", data, errors.empty() ? 200 : 422);
    }

    void add_user(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::AddPartnerUserRequest request;
        request.set_email(v.field("email"));
        request.set_first_name(v.field("first_name"));
        request.set_last_name(v.field("last_name"));
        request.set_job_title(v.field("job_title"));
        customers_v1::AddPartnerUserResponse response;
        const auto status = customers->AddPartnerUser(site.context(v, Caller::partner).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, add_user_fields(), [&](const FormErrors& errors, int) { users(v, errors); });
            return;
        }
        Site::redirect(v, "/account/users?added=" + url_encode(response.user().email()));
    }

    void remove_page(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::ListPartnerUsersResponse response;
        if (const auto status = list_users(v, response); !status.ok()) {
            site.failed(v, status);
            return;
        }
        const std::string user_id = v.request->get_param_value("user");
        for (const auto& user : response.users()) {
            if (user.user_id() == user_id && !user.administrator()) {
                mustache::data data = mustache::data::type::object;
                data.set("title", site.text(v, "remove_title"));
                data.set("user_id", user.user_id());
                data.set("name", user.first_name() + " " + user.last_name());
                data.set("email", user.email());
                site.render(v, "remove_user", data);
                return;
            }
        }
        // Another organisation's user (or none): the page does not say which.
        site.message(v, "not_found_title", "not_found_text", 404);
    }

    // The organisation's user `user_id` as the administrator sees it, or nothing (another
    // organisation's user, or none: the page does not say which).
    std::optional<customers_v1::PartnerUser> own_user(Visit& v, const std::string& user_id) {
        customers_v1::ListPartnerUsersResponse response;
        if (const auto status = list_users(v, response); !status.ok()) {
            site.failed(v, status);
            return std::nullopt;
        }
        for (const auto& user : response.users()) {
            if (user.user_id() == user_id) {
                return user;
            }
        }
        site.message(v, "not_found_title", "not_found_text", 404);
        return std::nullopt;
    }

    void edit_page(Visit& v, const customers_v1::PartnerUser& user, const FormErrors& errors) {
        std::map<std::string, std::string> values = {
            {"first_name", user.first_name()},
            {"last_name", user.last_name()},
            {"job_title", user.job_title()},
            {"spending_limit",
             user.spending_limit().currency_code().empty() ? "" : format_amount(user.spending_limit())},
            {"spending_limit.currency_code",
             user.spending_limit().currency_code().empty() ? "EUR" : user.spending_limit().currency_code()}};
        if (!errors.empty()) {
            values = v.form;
        }
        mustache::data data = site.form_data(v, edit_user_fields(), errors, values);
        data.set("title", site.text(v, "edit_user_title"));
        data.set("user_id", user.user_id());
        data.set("email", user.email());
        data.set("view_financials",
                 errors.empty() ? user.permissions().view_financials() : v.field("view_financials") == "on");
        data.set("can_have_financials", !user.administrator());
        site.render(v, "edit_user", data, errors.empty() ? 200 : 422);
    }

    void edit_form(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        if (const auto user = own_user(v, v.param("user"))) {
            edit_page(v, *user, {});
        }
    }

    void edit_user(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        const auto user = own_user(v, v.field("user"));
        if (!user) {
            return;
        }
        // UpdatePartnerUser replaces every field: what the form does not show is sent as it is.
        customers_v1::UpdatePartnerUserRequest request;
        request.set_user_id(user->user_id());
        request.set_first_name(v.field("first_name"));
        request.set_last_name(v.field("last_name"));
        request.set_job_title(v.field("job_title"));
        if (const auto amount = v.field("spending_limit"); !amount.empty()) {
            const auto minor_units = parse_amount(amount);
            if (!minor_units) {
                edit_page(v, *user, FormErrors{{{"spending_limit", site.text(v, "not_an_amount")}}, {}});
                return;
            }
            request.mutable_spending_limit()->set_minor_units(*minor_units);
            request.mutable_spending_limit()->set_currency_code(v.field("spending_limit.currency_code"));
        }
        *request.mutable_permissions() = user->permissions();
        if (!user->administrator()) {  // the administrator sees the financials anyway: no box shown
            request.mutable_permissions()->set_view_financials(v.field("view_financials") == "on");
        }
        customers_v1::UpdatePartnerUserResponse response;
        const auto status = customers->UpdatePartnerUser(site.context(v, Caller::partner).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, edit_user_fields(),
                             [&](const FormErrors& errors, int) { edit_page(v, *user, errors); });
            return;
        }
        Site::redirect(v, "/account/users?edited=1");
    }

    void resend_invitation(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::ChangeInvitationRequest request;
        request.set_user_id(v.field("user"));
        customers_v1::ChangeInvitationResponse response;
        const auto status = customers->ChangeInvitation(site.context(v, Caller::partner).get(), request, &response);
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        Site::redirect(v, "/account/users?resent=" + url_encode(response.user().email()));
    }

    void remove_user(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::RemovePartnerUserRequest request;
        request.set_user_id(v.field("user"));
        customers_v1::RemovePartnerUserResponse response;
        const auto status = customers->RemovePartnerUser(site.context(v, Caller::partner).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        Site::redirect(v, "/account/users?removed=1");
    }
};

}  // namespace

void add_my_account(Site& site) {
    site.add_texts(kTexts);
    site.add_templates({"account", "users", "remove_user", "edit_user"});
    auto pages = std::make_shared<MyAccount>(
        MyAccount{site, customers_v1::CustomersService::NewStub(site.channels().customers)});
    site.get("/account", pages, &MyAccount::account);
    site.get("/account/users", [pages](Visit& v) { pages->users(v); });
    site.post("/account/users/add", pages, &MyAccount::add_user);
    site.get("/account/users/remove", pages, &MyAccount::remove_page);
    site.post("/account/users/remove", pages, &MyAccount::remove_user);
    site.get("/account/users/edit", pages, &MyAccount::edit_form);
    site.post("/account/users/edit", pages, &MyAccount::edit_user);
    site.post("/account/users/resend", pages, &MyAccount::resend_invitation);
}

}  // namespace gatehouse::web
