// The storefront: become a partner, confirm the email, set a password, partner sign in / out.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "site.h"

namespace gatehouse::web {
namespace {

namespace onboarding_v1 = gatehouse::onboarding::v1;
namespace customers_v1 = gatehouse::customers::v1;

constexpr Text kTexts[] = {
    {"home_title", "Welcome", "Willkommen"},
    {"home_text",
     "Sell our products as a business partner: tell us about your company, confirm your email, and HQ "
     "reviews your request.",
     "Verkaufen Sie unsere Produkte als Geschäftspartner: Erzählen Sie uns von Ihrem Unternehmen, bestätigen Sie Ihre "
     "E-Mail-Adresse, und die Zentrale prüft Ihre Anfrage."},
    {"company", "Your company", "Ihr Unternehmen"},
    {"contact", "Contact person", "Ansprechperson"},
    {"company.name", "Company name", "Firmenname"},
    {"company.address.street", "Street and number", "Straße und Hausnummer"},
    {"company.address.postal_code", "Postal code", "Postleitzahl"},
    {"company.address.city", "City", "Ort"},
    {"company.address.country_code", "Country code (e.g. DE, US)", "Ländercode (z. B. DE, US)"},
    {"company.phone", "Phone", "Telefon"},
    {"company.tax_id", "VAT / tax id", "USt-IdNr. / Steuernummer"},
    {"company.website", "Website", "Website"},
    {"contact.first_name", "First name", "Vorname"},
    {"contact.last_name", "Last name", "Nachname"},
    {"contact.email", "Your email", "Ihre E-Mail-Adresse"},
    {"contact.phone", "Your phone", "Ihre Telefonnummer"},
    {"contact.job_title", "Job title", "Position"},
    {"comments", "Comments", "Anmerkungen"},
    {"partner_submit", "Send request", "Anfrage senden"},
    {"received_title", "Request received", "Anfrage eingegangen"},
    {"received_text", "Thank you. Your request number is", "Vielen Dank. Ihre Anfragenummer lautet"},
    {"received_next",
     "We have sent you an email: open its link to confirm your address. Keep the number for "
     "questions.",
     "Wir haben Ihnen eine E-Mail geschickt: Öffnen Sie den Link darin, um Ihre Adresse zu bestätigen. Bewahren Sie "
     "die Nummer für Rückfragen auf."},
    {"verify_title", "Confirm your email", "E-Mail-Adresse bestätigen"},
    {"verify_text", "Confirm the email address of request", "Bestätigen Sie die E-Mail-Adresse der Anfrage"},
    {"verify_submit", "Confirm my email", "E-Mail-Adresse bestätigen"},
    {"verified_title", "Email confirmed", "E-Mail-Adresse bestätigt"},
    {"verified_text", "Thank you. The status of your request is:", "Vielen Dank. Der Status Ihrer Anfrage:"},
    {"verify_failed_title", "This link does not work any more", "Dieser Link gilt nicht mehr"},
    {"verify_failed_text",
     "The link is invalid, already used or expired. Enter the email you submitted the request "
     "with and we send a new link.",
     "Der Link ist ungültig, schon benutzt oder abgelaufen. Geben Sie die E-Mail-Adresse Ihrer Anfrage ein, und wir "
     "schicken einen neuen Link."},
    {"resend_submit", "Send a new link", "Neuen Link senden"},
    {"resent_title", "Check your inbox", "Sehen Sie in Ihr Postfach"},
    {"resent_text",
     "If the number and the email belong to a request waiting for confirmation, a new link is on its "
     "way.",
     "Wenn Nummer und E-Mail-Adresse zu einer unbestätigten Anfrage gehören, ist ein neuer Link unterwegs."},
    {"status_1", "Waiting for email confirmation", "Wartet auf Bestätigung der E-Mail-Adresse"},
    {"status_2", "Pending: HQ reviews your request", "In Prüfung: Die Zentrale prüft Ihre Anfrage"},
    {"status_3", "Approved", "Genehmigt"},
    {"status_4", "Rejected", "Abgelehnt"},
    {"status_5", "Closed", "Geschlossen"},
    {"set_password_title", "Set your password", "Passwort festlegen"},
    {"password_rules",
     "Your password: at least 12 characters (longer is better), at most 256, not your email "
     "address and not one of the most common passwords.",
     "Ihr Passwort: mindestens 12 Zeichen (länger ist besser), höchstens 256, nicht Ihre E-Mail-Adresse und keines "
     "der häufigsten Passwörter."},
    {"password_confirm", "Repeat the password", "Passwort wiederholen"},
    {"password_mismatch", "the two passwords differ", "die beiden Passwörter unterscheiden sich"},
    {"set_password_submit", "Set password", "Passwort festlegen"},
    {"password_set_title", "Password set", "Passwort festgelegt"},
    {"password_set_text", "Your password is set. You can sign in now.",
     "Ihr Passwort ist festgelegt. Sie können sich jetzt anmelden."},
    {"link_failed", "The link is invalid, already used or expired: ask your administrator (or HQ) for a new one.",
     "Der Link ist ungültig, schon benutzt oder abgelaufen: Bitten Sie Ihren Administrator (oder die Zentrale) um "
     "einen neuen."},
    {"sign_in_title", "Sign in", "Anmelden"},
    {"sign_in_submit", "Sign in", "Anmelden"},
    {"sign_in_failed", "The email or the password is not right.", "E-Mail-Adresse oder Passwort stimmen nicht."},
};

const std::vector<Field>& partner_fields() {
    static const std::vector<Field> fields = {
        {"company.name", "text", true, "organization"},
        {"company.address.street", "text", true, "street-address"},
        {"company.address.postal_code", "text", true, "postal-code"},
        {"company.address.city", "text", true, "address-level2"},
        {"company.address.country_code", "text", true, "country"},
        {"company.phone", "tel", true, "tel"},
        {"company.tax_id", "text", false, "off"},
        {"company.website", "url", false, "url"},
        {"contact.first_name", "text", true, "given-name"},
        {"contact.last_name", "text", true, "family-name"},
        {"contact.email", "email", true, "email"},
        {"contact.phone", "tel", true, "tel"},
        {"contact.job_title", "text", true, "organization-title"},
        {"comments", "textarea", false, "off"},
    };
    return fields;
}
const std::vector<Field>& set_password_fields() {
    static const std::vector<Field> fields = {{"password", "password", true, "new-password"},
                                              {"password_confirm", "password", true, "new-password"}};
    return fields;
}
const std::vector<Field>& sign_in_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "username"},
                                              {"password", "password", true, "current-password"}};
    return fields;
}
const std::vector<Field>& resend_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "email"}};
    return fields;
}

struct Storefront final {
    Site& site;
    std::unique_ptr<onboarding_v1::OnboardingService::Stub> onboarding;
    std::unique_ptr<customers_v1::CustomersService::Stub> customers;

    void home(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "home_title"));
        site.render(v, "home", data);
    }

    void partner_form(Visit& v) {
        site.render_form(v, "nav_partner", "", "/partner", partner_fields(), {}, "partner_submit",
                         {{"idempotency_key", new_csrf_token()}});
    }

    void submit_partner(Visit& v) {
        onboarding_v1::SubmitRequestRequest request;
        auto* company = request.mutable_company();
        company->set_name(v.field("company.name"));
        company->mutable_address()->set_street(v.field("company.address.street"));
        company->mutable_address()->set_postal_code(v.field("company.address.postal_code"));
        company->mutable_address()->set_city(v.field("company.address.city"));
        company->mutable_address()->set_country_code(v.field("company.address.country_code"));
        company->set_phone(v.field("company.phone"));
        company->set_tax_id(v.field("company.tax_id"));
        company->set_website(v.field("company.website"));
        auto* contact = request.mutable_contact();
        contact->set_first_name(v.field("contact.first_name"));
        contact->set_last_name(v.field("contact.last_name"));
        contact->set_email(v.field("contact.email"));
        contact->set_phone(v.field("contact.phone"));
        contact->set_job_title(v.field("contact.job_title"));
        request.set_comments(v.field("comments"));
        // One key per form shown: a double submit (or a retry) gets the first answer.
        request.set_idempotency_key(v.field("idempotency_key"));
        onboarding_v1::SubmitRequestResponse response;
        const auto status = onboarding->SubmitRequest(site.context(v, Caller::anonymous).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, partner_fields(), [&](const FormErrors& errors, int) {
                site.render_form(v, "nav_partner", "", "/partner", partner_fields(), errors, "partner_submit",
                                 {{"idempotency_key", v.field("idempotency_key")}});
            });
            return;
        }
        Site::redirect(v, "/partner/received?request=" + url_encode(response.request_number()));
    }

    void received(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "received_title"));
        data.set("request_number", v.request->get_param_value("request"));
        site.render(v, "received", data);
    }

    void verify_page(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "verify_title"));
        data.set("confirm", true);
        data.set("request_number", v.request->get_param_value("request"));
        data.set("token", v.request->get_param_value("token"));
        site.render(v, "verify", data);
    }

    void verify(Visit& v) {
        onboarding_v1::VerifyEmailRequest request;
        request.set_request_number(v.field("request"));
        request.set_token(v.field("token"));
        onboarding_v1::VerifyEmailResponse response;
        const auto status = onboarding->VerifyEmail(site.context(v, Caller::anonymous).get(), request, &response);
        if (status.ok()) {
            mustache::data data = mustache::data::type::object;
            data.set("title", site.text(v, "verified_title"));
            data.set("verified", true);
            data.set("request_number", v.field("request"));
            data.set("status", site.text(v, "status_" + std::to_string(static_cast<int>(response.status()))));
            site.render(v, "verify", data);
            return;
        }
        if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT &&
            status.error_code() != grpc::StatusCode::FAILED_PRECONDITION &&
            status.error_code() != grpc::StatusCode::NOT_FOUND) {
            site.failed(v, status);
            return;
        }
        // Expired, used or wrong: offer a new link (ResendVerification answers alike either way).
        v.form.erase("token");
        site.render_form(v, "verify_failed_title", "verify_failed_text", "/verify/resend", resend_fields(), {},
                         "resend_submit", {{"request", v.field("request")}});
    }

    void resend(Visit& v) {
        onboarding_v1::ResendVerificationRequest request;
        request.set_request_number(v.field("request"));
        request.set_email(v.field("email"));
        onboarding_v1::ResendVerificationResponse response;
        const auto status =
            onboarding->ResendVerification(site.context(v, Caller::anonymous).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, resend_fields(), [&](const FormErrors& errors, int) {
                site.render_form(v, "verify_failed_title", "verify_failed_text", "/verify/resend", resend_fields(),
                                 errors, "resend_submit", {{"request", v.field("request")}});
            });
            return;
        }
        site.message(v, "resent_title", "resent_text", 200);
    }

    void set_password_page(Visit& v) {
        site.render_form(v, "set_password_title", "password_rules", "/set-password", set_password_fields(), {},
                         "set_password_submit", {{"token", v.request->get_param_value("token")}});
    }

    void set_password(Visit& v) {
        const std::map<std::string, std::string> hidden = {{"token", v.field("token")}};
        if (v.field("password") != v.field("password_confirm")) {
            FormErrors errors;
            errors.fields["password_confirm"] = site.text(v, "password_mismatch");
            site.render_form(v, "set_password_title", "password_rules", "/set-password", set_password_fields(), errors,
                             "set_password_submit", hidden);
            return;
        }
        customers_v1::SetPasswordRequest request;
        request.set_token(v.field("token"));
        request.set_password(v.field("password"));
        customers_v1::SetPasswordResponse response;
        const auto status = customers->SetPassword(site.context(v, Caller::anonymous).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, set_password_fields(), [&](const FormErrors& errors, int) {
                // A token that does not work is the link's fault, not an input's.
                const bool link_failed = status.error_message().rfind("token:", 0) == 0;
                site.render_form(v, "set_password_title", "password_rules", "/set-password", set_password_fields(),
                                 link_failed ? FormErrors{{}, {site.text(v, "link_failed")}} : errors,
                                 "set_password_submit", hidden);
            });
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "password_set_title"));
        data.set("text", site.text(v, "password_set_text"));
        data.set("sign_in", true);
        site.render(v, "message", data);
    }

    // The sign-in form, with the way out for a forgotten password under it.
    void sign_in_form(Visit& v, const FormErrors& errors) {
        mustache::data data = site.form_data(v, sign_in_fields(), errors, v.form);
        data.set("title", site.text(v, "sign_in_title"));
        data.set("action", "/sign-in");
        data.set("submit", site.text(v, "sign_in_submit"));
        data.set("hidden", mustache::data::type::list);
        mustache::data forgot = mustache::data::type::object;
        forgot.set("id", "forgot-password-link");
        forgot.set("href", "/forgot-password");
        forgot.set("text", site.text(v, "sx_forgot_link"));
        data.set("after_form", forgot);
        site.render(v, "form", data, errors.empty() ? 200 : 422);
    }

    void sign_in_page(Visit& v) { sign_in_form(v, {}); }

    void sign_in(Visit& v) {
        customers_v1::SignInRequest request;
        request.set_email(v.field("email"));
        request.set_password(v.field("password"));
        customers_v1::SignInResponse response;
        const auto status = customers->SignIn(site.context(v, Caller::anonymous).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
            status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            FormErrors errors = status.error_code() == grpc::StatusCode::INVALID_ARGUMENT
                                    ? Site::errors_of(status, sign_in_fields())
                                    : FormErrors{{}, {site.text(v, "sign_in_failed")}};
            sign_in_form(v, errors);
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        v.response->headers.emplace("Set-Cookie",
                                    set_cookie(kSessionCookie, response.session_token(), site.cookie_options()));
        v.response->headers.emplace(
            "Set-Cookie", set_cookie(kOrganizationCookie, response.organization_customer_id(), site.cookie_options()));
        Site::redirect(v, "/account");
    }

    void sign_out(Visit& v) {
        if (!v.session.empty()) {
            customers_v1::SignOutResponse response;
            // The session ends here whatever the service answers (it may have ended already).
            (void)customers->SignOut(site.context(v, Caller::partner).get(), customers_v1::SignOutRequest{}, &response);
        }
        site.end_session(v);
        Site::redirect(v, "/");
    }
};

}  // namespace

void add_storefront(Site& site) {
    site.add_texts(kTexts);
    site.add_templates({"home", "received", "verify"});
    auto pages = std::make_shared<Storefront>(
        Storefront{site, onboarding_v1::OnboardingService::NewStub(site.channels().onboarding),
                   customers_v1::CustomersService::NewStub(site.channels().customers)});
    site.get("/", pages, &Storefront::home);
    site.get("/partner", pages, &Storefront::partner_form);
    site.post("/partner", pages, &Storefront::submit_partner);
    site.get("/partner/received", pages, &Storefront::received);
    site.get("/verify", pages, &Storefront::verify_page);
    site.post("/verify", pages, &Storefront::verify);
    site.post("/verify/resend", pages, &Storefront::resend);
    site.get("/set-password", pages, &Storefront::set_password_page);
    site.post("/set-password", pages, &Storefront::set_password);
    site.get("/sign-in", pages, &Storefront::sign_in_page);
    site.post("/sign-in", pages, &Storefront::sign_in);
    site.post("/sign-out", pages, &Storefront::sign_out);
}

}  // namespace gatehouse::web
