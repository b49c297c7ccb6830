// The storefront's extras: a prospect looks up the status of a request (number and email; the
// answer never tells whether a number exists for another email), and a partner user who forgot the
// password asks for a reset link (the same answer whether or not the email has an account).
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "site.h"

namespace gatehouse::web {
namespace {

namespace onboarding_v1 = gatehouse::onboarding::v1;
namespace customers_v1 = gatehouse::customers::v1;

constexpr Text kTexts[] = {
    {"sx_status_title", "Request status", "Status der Anfrage"},
    {"sx_status_intro",
     "Enter the number of your partner request (from the confirmation page and the email) and the email address you "
     "submitted it with.",
     "Geben Sie die Nummer Ihrer Partneranfrage (von der Bestätigungsseite und aus der E-Mail) und die "
     "E-Mail-Adresse ein, mit der Sie sie gestellt haben."},
    {"sx_f_request_number", "Request number", "Anfragenummer"},
    {"sx_f_email", "Email address of the request", "E-Mail-Adresse der Anfrage"},
    {"sx_status_submit", "Look up the status", "Status abfragen"},
    {"sx_status_result", "The status of request", "Der Status der Anfrage"},
    {"sx_status_not_found", "We found no request with this number and email address. Check both and try again.",
     "Wir haben keine Anfrage mit dieser Nummer und E-Mail-Adresse gefunden. Prüfen Sie beides und versuchen Sie es "
     "noch einmal."},
    {"sx_status_unknown", "Unknown", "Unbekannt"},
    {"sx_forgot_link", "Forgot your password?", "Passwort vergessen?"},
    {"sx_forgot_title", "Forgot your password?", "Passwort vergessen?"},
    {"sx_forgot_intro",
     "Enter the email address you sign in with. If it has an account, we send a link to set a new password.",
     "Geben Sie die E-Mail-Adresse ein, mit der Sie sich anmelden. Wenn es dazu ein Konto gibt, schicken wir einen "
     "Link zum Festlegen eines neuen Passworts."},
    {"sx_forgot_submit", "Send the link", "Link senden"},
    {"sx_forgot_sent_title", "Check your inbox", "Sehen Sie in Ihr Postfach"},
    {"sx_forgot_sent_text",
     "If the address has an account, a link to set a new password is on its way. It works once and for a limited "
     "time.",
     "Wenn es zu der Adresse ein Konto gibt, ist ein Link zum Festlegen eines neuen Passworts unterwegs. Er gilt "
     "einmal und nur für begrenzte Zeit."},
};

// The status form's inputs, named as GetRequestStatusRequest's fields (labels sx_f_<name>).
const std::vector<Field>& status_fields() {
    static const std::vector<Field> fields = {{"request_number", "text", true, "off"},
                                              {"email", "email", true, "email"}};
    return fields;
}

const std::vector<Field>& forgot_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "username"}};
    return fields;
}

struct StorefrontExtras final {
    Site& site;
    std::unique_ptr<onboarding_v1::OnboardingService::Stub> onboarding;
    std::unique_ptr<customers_v1::CustomersService::Stub> customers;

    // The status page: the form (values, per-field errors, the summary) and, after a look-up, the
    // answer.
    mustache::data status_form(const Visit& v, const FormErrors& errors,
                               const std::map<std::string, std::string>& values) const {
        mustache::data data = site.form_data(v, status_fields(), errors, values, FormLayout{"", "sx_f_"});
        data.set("title", site.text(v, "sx_status_title"));
        data.set("answered", mustache::data(false));
        data.set("not_found", mustache::data(false));
        return data;
    }

    void status_page(Visit& v) {
        std::map<std::string, std::string> values;
        if (const auto number = v.param("request"); !number.empty()) {
            values["request_number"] = number;
        }
        site.render(v, "storefront_extras_status", status_form(v, {}, values));
    }

    void status(Visit& v) {
        if (v.field("email").empty()) {
            FormErrors errors;
            errors.fields["email"] = site.text(v, "required");
            site.render(v, "storefront_extras_status", status_form(v, errors, v.form), 422);
            return;
        }
        onboarding_v1::GetRequestStatusRequest request;
        request.set_request_number(v.field("request_number"));
        request.set_email(v.field("email"));
        onboarding_v1::GetRequestStatusResponse response;
        const auto status = onboarding->GetRequestStatus(site.context(v, Caller::anonymous).get(), request, &response);
        // NOT_FOUND is the answer for an unknown number and for a number with another email alike:
        // the page says the same for both.
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
            mustache::data data = status_form(v, {}, v.form);
            data.set("not_found", mustache::data(true));
            site.render(v, "storefront_extras_status", data);
            return;
        }
        if (!status.ok()) {
            site.form_failed(v, status, status_fields(), [&](const FormErrors& errors, int http_status) {
                site.render(v, "storefront_extras_status", status_form(v, errors, v.form), http_status);
            });
            return;
        }
        mustache::data data = status_form(v, {}, v.form);
        const int value = static_cast<int>(response.status());
        data.set("answered", mustache::data(true));
        data.set("request_number", v.field("request_number"));
        data.set("status", value >= 1 && value <= 5 ? site.text(v, "status_" + std::to_string(value))
                                                    : site.text(v, "sx_status_unknown"));
        site.render(v, "storefront_extras_status", data);
    }

    void forgot_page(Visit& v) {
        site.render_form(v, "sx_forgot_title", "sx_forgot_intro", "/forgot-password", forgot_fields(), {},
                         "sx_forgot_submit");
    }

    void forgot(Visit& v) {
        customers_v1::RequestPasswordResetRequest request;
        request.set_email(v.field("email"));
        customers_v1::RequestPasswordResetResponse response;
        const auto status =
            customers->RequestPasswordReset(site.context(v, Caller::anonymous).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, forgot_fields(), [&](const FormErrors& errors, int) {
                site.render_form(v, "sx_forgot_title", "sx_forgot_intro", "/forgot-password", forgot_fields(), errors,
                                 "sx_forgot_submit");
            });
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "sx_forgot_sent_title"));
        data.set("text", site.text(v, "sx_forgot_sent_text"));
        data.set("sign_in", mustache::data(true));
        site.render(v, "message", data);
    }
};

}  // namespace

void add_storefront_extras(Site& site) {
    site.add_texts(kTexts);
    site.add_templates({"storefront_extras_status"});
    auto pages = std::make_shared<StorefrontExtras>(
        StorefrontExtras{site, onboarding_v1::OnboardingService::NewStub(site.channels().onboarding),
                         customers_v1::CustomersService::NewStub(site.channels().customers)});
    site.get("/status", pages, &StorefrontExtras::status_page);
    site.post("/status", pages, &StorefrontExtras::status);
    site.get("/forgot-password", pages, &StorefrontExtras::forgot_page);
    site.post("/forgot-password", pages, &StorefrontExtras::forgot);
}

}  // namespace gatehouse::web
