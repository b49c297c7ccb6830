// The partner's My Account: the organisation, and its users for the administrator.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
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
        data.set("website", details.website());
        data.set("tax_id", details.tax_id());
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
            rows.push_back(row);
        }
        data.set("users", rows);
        if (v.request->has_param("added")) {
            data.set("added", v.request->get_param_value("added"));
        }
        data.set("removed", v.request->has_param("removed"));
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
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            users(v, Site::errors_of(status, add_user_fields()));
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
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

    void remove_user(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::RemovePartnerUserRequest request;
        request.set_user_id(v.field("user"));
        customers_v1::RemovePartnerUserResponse response;
        const auto status = customers->RemovePartnerUser(site.context(v, Caller::partner).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            site.message(v, "not_found_title", "not_found_text", 404);
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        Site::redirect(v, "/account/users?removed=1");
    }
};

}  // namespace

void add_my_account(Site& site) {
    site.add_texts(kTexts);
    site.add_templates({"account", "users", "remove_user"});
    auto pages = std::make_shared<MyAccount>(
        MyAccount{site, customers_v1::CustomersService::NewStub(site.channels().customers)});
    const auto page = [pages](void (MyAccount::*handler)(Visit&)) {
        return [pages, handler](Visit& v) { ((*pages).*handler)(v); };
    };
    site.get("/account", page(&MyAccount::account));
    site.get("/account/users", [pages](Visit& v) { pages->users(v); });
    site.post("/account/users/add", page(&MyAccount::add_user));
    site.get("/account/users/remove", page(&MyAccount::remove_page));
    site.post("/account/users/remove", page(&MyAccount::remove_user));
}

}  // namespace gatehouse::web
