#include "web_app.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "web_security.h"

namespace gatehouse::web {
namespace {

namespace mustache = kainjow::mustache;
namespace onboarding_v1 = gatehouse::onboarding::v1;
namespace customers_v1 = gatehouse::customers::v1;

constexpr const char* kSessionCookie = "gh_session";
constexpr const char* kOrganizationCookie = "gh_org";
constexpr const char* kCsrfCookie = "gh_csrf";
constexpr const char* kLanguageCookie = "gh_lang";
constexpr const char* kCsrfField = "csrf";

// Every text a page shows, English and German. The API's rules ("must have at least 12
// characters") come in English from the services and are shown as they are.
struct Text final {
    const char* key;
    const char* en;
    const char* de;
};
constexpr Text kTexts[] = {
    {"site", "Gatehouse partner portal", "Gatehouse Partnerportal"},
    {"skip", "Skip to content", "Zum Inhalt springen"},
    {"nav_home", "Home", "Start"},
    {"nav_partner", "Become a partner", "Partner werden"},
    {"nav_sign_in", "Sign in", "Anmelden"},
    {"nav_sign_out", "Sign out", "Abmelden"},
    {"nav_account", "My Account", "Mein Konto"},
    {"nav_users", "Organization users", "Benutzer der Organisation"},
    {"language", "Language", "Sprache"},
    {"home_title", "Welcome", "Willkommen"},
    {"home_text",
     "Sell our products as a business partner: tell us about your company, confirm your email, and HQ "
     "reviews your request.",
     "Verkaufen Sie unsere Produkte als Geschäftspartner: Erzählen Sie uns von Ihrem Unternehmen, bestätigen Sie Ihre "
     "E-Mail-Adresse, und die Zentrale prüft Ihre Anfrage."},
    {"errors_title", "There is a problem", "Es gibt ein Problem"},
    {"required", "required", "Pflichtfeld"},
    {"optional", "optional", "optional"},
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
    {"email", "Email", "E-Mail"},
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
    {"password", "Password", "Passwort"},
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
    {"account_title", "My Account", "Mein Konto"},
    {"organization", "Organization", "Organisation"},
    {"customer_id", "Customer number", "Kundennummer"},
    {"address", "Address", "Adresse"},
    {"phone", "Phone", "Telefon"},
    {"website", "Website", "Website"},
    {"tax_id", "VAT / tax id", "USt-IdNr. / Steuernummer"},
    {"users_title", "Organization users", "Benutzer der Organisation"},
    {"name", "Name", "Name"},
    {"status", "Status", "Status"},
    {"role", "Role", "Rolle"},
    {"administrator", "Administrator", "Administrator"},
    {"user", "User", "Benutzer"},
    {"actions", "Actions", "Aktionen"},
    {"remove", "Remove", "Entfernen"},
    {"user_status_1", "Pending", "Ausstehend"},
    {"user_status_2", "Active", "Aktiv"},
    {"user_status_3", "Removed", "Entfernt"},
    {"not_admin", "Only your organization's administrator manages its users.",
     "Nur der Administrator Ihrer Organisation verwaltet ihre Benutzer."},
    {"add_user_title", "Add a user", "Benutzer hinzufügen"},
    {"add_user_text", "The new user gets an email with a link to set a password.",
     "Der neue Benutzer erhält eine E-Mail mit einem Link zum Festlegen des Passworts."},
    {"first_name", "First name", "Vorname"},
    {"last_name", "Last name", "Nachname"},
    {"job_title", "Job title", "Position"},
    {"add_user_submit", "Add user and send invitation", "Benutzer hinzufügen und einladen"},
    {"added", "Invitation sent to", "Einladung gesendet an"},
    {"removed", "The user was removed.", "Der Benutzer wurde entfernt."},
    {"remove_title", "Remove this user?", "Diesen Benutzer entfernen?"},
    {"remove_text", "They can no longer sign in. Their customer record stays.",
     "Er oder sie kann sich nicht mehr anmelden. Der Kundendatensatz bleibt erhalten."},
    {"remove_submit", "Yes, remove the user", "Ja, Benutzer entfernen"},
    {"cancel", "Cancel", "Abbrechen"},
    {"forbidden_title", "Not allowed", "Nicht erlaubt"},
    {"forbidden_text", "You may not do this.", "Das dürfen Sie nicht."},
    {"csrf_text", "The form has expired or did not come from this site. Go back, reload the page and try again.",
     "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Gehen Sie zurück, laden Sie die Seite neu und "
     "versuchen Sie es noch einmal."},
    {"not_found_title", "Not found", "Nicht gefunden"},
    {"not_found_text", "There is nothing here for you.", "Hier gibt es nichts für Sie."},
    {"unavailable_title", "Please try again", "Bitte versuchen Sie es noch einmal"},
    {"unavailable_text", "The service is busy or unreachable right now. Try again in a moment.",
     "Der Dienst ist gerade ausgelastet oder nicht erreichbar. Versuchen Sie es gleich noch einmal."},
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// One input of a form; the name is the API's field name, so an INVALID_ARGUMENT lands on it.
struct Field final {
    std::string name;
    std::string type = "text";  // text, email, tel, url, password, textarea
    bool required = true;
    std::string autocomplete;
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
const std::vector<Field>& add_user_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "off"},
                                              {"first_name", "text", true, "off"},
                                              {"last_name", "text", true, "off"},
                                              {"job_title", "text", false, "off"}};
    return fields;
}
const std::vector<Field>& resend_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "email"}};
    return fields;
}

std::vector<std::string> names_of(const std::vector<Field>& fields) {
    std::vector<std::string> names;
    for (const auto& field : fields) {
        names.push_back(field.name);
    }
    return names;
}

// What a failed form shows: per-field errors and the summary at the top.
struct FormErrors final {
    std::map<std::string, std::string> fields;  // field name -> rule
    std::vector<std::string> general;
    [[nodiscard]] bool empty() const { return fields.empty() && general.empty(); }
};

}  // namespace

struct WebApp::Impl final {
    WebSettings settings;
    std::unique_ptr<onboarding_v1::OnboardingService::Stub> onboarding;
    std::unique_ptr<customers_v1::CustomersService::Stub> customers;
    std::map<std::string, std::string> templates;
    std::string stylesheet;
    std::map<std::string, mustache::data> texts;  // per language

    // What every request carries: its language, cookies, CSRF token and partner session.
    struct Visit final {
        const httplib::Request* request = nullptr;
        httplib::Response* response = nullptr;
        std::string lang;
        std::map<std::string, std::string> cookies;
        std::string csrf;
        std::string session;
        std::string organization;
        std::map<std::string, std::string> form;  // a POST's fields
    };

    Impl(WebSettings web_settings, const std::shared_ptr<grpc::Channel>& onboarding_channel,
         const std::shared_ptr<grpc::Channel>& customers_channel)
        : settings(std::move(web_settings)),
          onboarding(onboarding_v1::OnboardingService::NewStub(onboarding_channel)),
          customers(customers_v1::CustomersService::NewStub(customers_channel)) {
        for (const char* name :
             {"layout", "home", "form", "message", "received", "verify", "account", "users", "remove_user"}) {
            templates[name] = read_file(settings.templates_dir / (std::string(name) + ".mustache"));
            if (mustache::mustache check(templates[name]); !check.is_valid()) {
                throw std::runtime_error("template " + std::string(name) + ": " + check.error_message());
            }
        }
        stylesheet = read_file(settings.static_dir / "web.css");
        for (const char* lang : {"en", "de"}) {
            mustache::data table = mustache::data::type::object;
            for (const auto& text : kTexts) {
                table.set(text.key, std::string(lang) == "de" ? text.de : text.en);
            }
            texts.emplace(lang, std::move(table));
        }
    }

    [[nodiscard]] std::string text(const Visit& visit, const std::string& key) const {
        for (const auto& entry : kTexts) {
            if (key == entry.key) {
                return visit.lang == "de" ? entry.de : entry.en;
            }
        }
        return key;
    }

    [[nodiscard]] CookieOptions cookie_options(std::optional<long> max_age = std::nullopt,
                                               const std::string& same_site = "Lax") const {
        return CookieOptions{settings.secure_cookies, same_site, max_age};
    }

    Visit visit(const httplib::Request& request, httplib::Response& response) {
        Visit v;
        v.request = &request;
        v.response = &response;
        v.cookies = parse_cookies(request.get_header_value("Cookie"));
        std::string chosen = v.cookies.count(kLanguageCookie) != 0 ? v.cookies[kLanguageCookie] : "";
        if (request.has_param("lang")) {
            const std::string asked = request.get_param_value("lang");
            if (asked == "en" || asked == "de") {
                chosen = asked;
                response.set_header("Set-Cookie",
                                    set_cookie(kLanguageCookie, asked, cookie_options(60L * 60 * 24 * 365)));
            }
        }
        v.lang = choose_language(chosen, request.get_header_value("Accept-Language"));
        v.csrf = v.cookies.count(kCsrfCookie) != 0 ? v.cookies[kCsrfCookie] : "";
        if (v.csrf.size() != 64) {
            v.csrf = new_csrf_token();
            // Strict: a page of another site never sends it, so it cannot be paired with a forged form.
            response.headers.emplace("Set-Cookie", set_cookie(kCsrfCookie, v.csrf, cookie_options({}, "Strict")));
        }
        v.session = v.cookies.count(kSessionCookie) != 0 ? v.cookies[kSessionCookie] : "";
        v.organization = v.cookies.count(kOrganizationCookie) != 0 ? v.cookies[kOrganizationCookie] : "";
        if (request.method == "POST") {
            v.form = parse_form(request.body);
        }
        return v;
    }

    [[nodiscard]] std::string field(const Visit& v, const std::string& name) const {
        const auto found = v.form.find(name);
        return found == v.form.end() ? std::string{} : found->second;
    }

    // A client context: deadline, the browser's address for per-person limits, and the session.
    [[nodiscard]] std::unique_ptr<grpc::ClientContext> context(const Visit& v, bool with_session) const {
        auto context = std::make_unique<grpc::ClientContext>();
        context->set_deadline(std::chrono::system_clock::now() + settings.rpc_timeout);
        if (!v.request->remote_addr.empty()) {
            context->AddMetadata("x-forwarded-for", v.request->remote_addr);
        }
        if (with_session && !v.session.empty()) {
            context->AddMetadata("authorization", "Bearer " + v.session);
        }
        return context;
    }

    // The header's language switch: this page with ?lang=xx.
    [[nodiscard]] std::string switch_href(const Visit& v, const std::string& lang) const {
        std::string href = v.request->path + "?";
        for (const auto& [name, value] : v.request->params) {
            if (name != "lang" && v.request->method == "GET") {
                href += url_encode(name) + "=" + url_encode(value) + "&";
            }
        }
        return href + "lang=" + lang;
    }

    void render(Visit& v, const std::string& page, mustache::data data, int status = 200) {
        data.set("t", texts.at(v.lang));
        data.set("csrf", v.csrf);
        mustache::mustache body_template(templates[page]);
        const std::string body = body_template.render(data);
        mustache::data layout = mustache::data::type::object;
        layout.set("t", texts.at(v.lang));
        layout.set("lang", v.lang);
        layout.set("csrf", v.csrf);
        layout.set("body", body);
        layout.set("title", data.get("title") != nullptr ? *data.get("title") : mustache::data(text(v, "site")));
        layout.set("signed_in", !v.session.empty());
        layout.set("en_href", switch_href(v, "en"));
        layout.set("de_href", switch_href(v, "de"));
        layout.set("is_en", v.lang == "en");
        layout.set("is_de", v.lang == "de");
        mustache::mustache layout_template(templates["layout"]);
        v.response->status = status;
        v.response->set_header("Cache-Control", "no-store");
        v.response->set_content(layout_template.render(layout), "text/html; charset=utf-8");
    }

    void message(Visit& v, const std::string& title_key, const std::string& text_key, int status) {
        mustache::data data = mustache::data::type::object;
        data.set("title", text(v, title_key));
        data.set("text", text(v, text_key));
        render(v, "message", data, status);
    }

    static void redirect(Visit& v, const std::string& location) {
        v.response->status = 303;
        v.response->set_header("Location", location);
    }

    // The answer to a call that failed for a reason other than the form's input.
    void failed(Visit& v, const grpc::Status& status) {
        switch (status.error_code()) {
            case grpc::StatusCode::UNAUTHENTICATED:
                end_session(v);
                redirect(v, "/sign-in");
                return;
            case grpc::StatusCode::PERMISSION_DENIED:
                message(v, "forbidden_title", "forbidden_text", 403);
                return;
            case grpc::StatusCode::NOT_FOUND:
                message(v, "not_found_title", "not_found_text", 404);
                return;
            case grpc::StatusCode::RESOURCE_EXHAUSTED:
                message(v, "unavailable_title", "unavailable_text", 429);
                return;
            default:
                message(v, "unavailable_title", "unavailable_text", 503);
                return;
        }
    }

    void end_session(Visit& v) {
        v.response->headers.emplace("Set-Cookie", set_cookie(kSessionCookie, "", cookie_options(0L)));
        v.response->headers.emplace("Set-Cookie", set_cookie(kOrganizationCookie, "", cookie_options(0L)));
        v.session.clear();
    }

    // The form's fields with their values and errors, and the error summary.
    mustache::data form_data(const Visit& v, const std::vector<Field>& fields, const FormErrors& errors,
                             const std::map<std::string, std::string>& values) const {
        mustache::data data = mustache::data::type::object;
        mustache::data inputs = mustache::data::type::list;
        mustache::data summary = mustache::data::type::list;
        for (const auto& message_text : errors.general) {
            mustache::data item = mustache::data::type::object;
            item.set("text", message_text);
            summary.push_back(item);
        }
        for (const auto& f : fields) {
            mustache::data input = mustache::data::type::object;
            const std::string id = input_id(f.name);
            input.set("id", id);
            input.set("name", f.name);
            input.set("label", text(v, f.name));
            input.set("type", f.type);
            input.set("textarea", f.type == "textarea");
            input.set("required", f.required);
            input.set("autocomplete", f.autocomplete);
            const auto value = values.find(f.name);
            input.set("value", value == values.end() || f.type == "password" ? std::string{} : value->second);
            if (const auto error = errors.fields.find(f.name); error != errors.fields.end()) {
                input.set("error", error->second);
                mustache::data item = mustache::data::type::object;
                item.set("text", text(v, f.name) + ": " + error->second);
                item.set("href", id);
                summary.push_back(item);
            }
            inputs.push_back(input);
        }
        data.set("fields", inputs);
        data.set("has_errors", !errors.empty());
        data.set("summary", summary);
        return data;
    }

    void render_form(Visit& v, const std::string& title_key, const std::string& intro_key, const std::string& action,
                     const std::vector<Field>& fields, const FormErrors& errors, const std::string& submit_key,
                     const std::map<std::string, std::string>& hidden = {}) {
        mustache::data data = form_data(v, fields, errors, v.form);
        data.set("title", text(v, title_key));
        data.set("intro", intro_key.empty() ? std::string{} : text(v, intro_key));
        data.set("action", action);
        data.set("submit", text(v, submit_key));
        mustache::data hidden_list = mustache::data::type::list;
        for (const auto& [name, value] : hidden) {
            mustache::data item = mustache::data::type::object;
            item.set("name", name);
            item.set("value", value);
            hidden_list.push_back(item);
        }
        data.set("hidden", hidden_list);
        render(v, "form", data, errors.empty() ? 200 : 422);
    }

    // An INVALID_ARGUMENT on the form's field, or the summary's line.
    static FormErrors errors_of(const grpc::Status& status, const std::vector<Field>& fields) {
        FormErrors errors;
        if (auto found = field_error(status.error_message(), names_of(fields))) {
            errors.fields[found->field] = found->rule;
        } else {
            errors.general.push_back(status.error_message());
        }
        return errors;
    }

    // ---- the storefront ----

    void home(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", text(v, "home_title"));
        render(v, "home", data);
    }

    void partner_form(Visit& v) {
        render_form(v, "nav_partner", "", "/partner", partner_fields(), {}, "partner_submit",
                    {{"idempotency_key", new_csrf_token()}});
    }

    void submit_partner(Visit& v) {
        onboarding_v1::SubmitRequestRequest request;
        auto* company = request.mutable_company();
        company->set_name(field(v, "company.name"));
        company->mutable_address()->set_street(field(v, "company.address.street"));
        company->mutable_address()->set_postal_code(field(v, "company.address.postal_code"));
        company->mutable_address()->set_city(field(v, "company.address.city"));
        company->mutable_address()->set_country_code(field(v, "company.address.country_code"));
        company->set_phone(field(v, "company.phone"));
        company->set_tax_id(field(v, "company.tax_id"));
        company->set_website(field(v, "company.website"));
        auto* contact = request.mutable_contact();
        contact->set_first_name(field(v, "contact.first_name"));
        contact->set_last_name(field(v, "contact.last_name"));
        contact->set_email(field(v, "contact.email"));
        contact->set_phone(field(v, "contact.phone"));
        contact->set_job_title(field(v, "contact.job_title"));
        request.set_comments(field(v, "comments"));
        // One key per form shown: a double submit (or a retry) gets the first answer.
        request.set_idempotency_key(field(v, "idempotency_key"));
        onboarding_v1::SubmitRequestResponse response;
        const auto status = onboarding->SubmitRequest(context(v, false).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            render_form(v, "nav_partner", "", "/partner", partner_fields(), errors_of(status, partner_fields()),
                        "partner_submit", {{"idempotency_key", field(v, "idempotency_key")}});
            return;
        }
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        redirect(v, "/partner/received?request=" + url_encode(response.request_number()));
    }

    void received(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", text(v, "received_title"));
        data.set("request_number", v.request->get_param_value("request"));
        render(v, "received", data);
    }

    void verify_page(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", text(v, "verify_title"));
        data.set("confirm", true);
        data.set("request_number", v.request->get_param_value("request"));
        data.set("token", v.request->get_param_value("token"));
        render(v, "verify", data);
    }

    void verify(Visit& v) {
        onboarding_v1::VerifyEmailRequest request;
        request.set_request_number(field(v, "request"));
        request.set_token(field(v, "token"));
        onboarding_v1::VerifyEmailResponse response;
        const auto status = onboarding->VerifyEmail(context(v, false).get(), request, &response);
        if (status.ok()) {
            mustache::data data = mustache::data::type::object;
            data.set("title", text(v, "verified_title"));
            data.set("verified", true);
            data.set("request_number", field(v, "request"));
            data.set("status", text(v, "status_" + std::to_string(static_cast<int>(response.status()))));
            render(v, "verify", data);
            return;
        }
        if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT &&
            status.error_code() != grpc::StatusCode::FAILED_PRECONDITION &&
            status.error_code() != grpc::StatusCode::NOT_FOUND) {
            failed(v, status);
            return;
        }
        // Expired, used or wrong: offer a new link (ResendVerification answers alike either way).
        v.form.erase("token");
        render_form(v, "verify_failed_title", "verify_failed_text", "/verify/resend", resend_fields(), {},
                    "resend_submit", {{"request", field(v, "request")}});
    }

    void resend(Visit& v) {
        onboarding_v1::ResendVerificationRequest request;
        request.set_request_number(field(v, "request"));
        request.set_email(field(v, "email"));
        onboarding_v1::ResendVerificationResponse response;
        const auto status = onboarding->ResendVerification(context(v, false).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            render_form(v, "verify_failed_title", "verify_failed_text", "/verify/resend", resend_fields(),
                        errors_of(status, resend_fields()), "resend_submit", {{"request", field(v, "request")}});
            return;
        }
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        message(v, "resent_title", "resent_text", 200);
    }

    void set_password_page(Visit& v) {
        render_form(v, "set_password_title", "password_rules", "/set-password", set_password_fields(), {},
                    "set_password_submit", {{"token", v.request->get_param_value("token")}});
    }

    void set_password(Visit& v) {
        const std::map<std::string, std::string> hidden = {{"token", field(v, "token")}};
        if (field(v, "password") != field(v, "password_confirm")) {
            FormErrors errors;
            errors.fields["password_confirm"] = text(v, "password_mismatch");
            render_form(v, "set_password_title", "password_rules", "/set-password", set_password_fields(), errors,
                        "set_password_submit", hidden);
            return;
        }
        customers_v1::SetPasswordRequest request;
        request.set_token(field(v, "token"));
        request.set_password(field(v, "password"));
        customers_v1::SetPasswordResponse response;
        const auto status = customers->SetPassword(context(v, false).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            FormErrors errors = errors_of(status, set_password_fields());
            if (status.error_message().rfind("token:", 0) == 0) {
                errors = FormErrors{{}, {text(v, "link_failed")}};
            }
            render_form(v, "set_password_title", "password_rules", "/set-password", set_password_fields(), errors,
                        "set_password_submit", hidden);
            return;
        }
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", text(v, "password_set_title"));
        data.set("text", text(v, "password_set_text"));
        data.set("sign_in", true);
        render(v, "message", data);
    }

    void sign_in_page(Visit& v) {
        render_form(v, "sign_in_title", "", "/sign-in", sign_in_fields(), {}, "sign_in_submit");
    }

    void sign_in(Visit& v) {
        customers_v1::SignInRequest request;
        request.set_email(field(v, "email"));
        request.set_password(field(v, "password"));
        customers_v1::SignInResponse response;
        const auto status = customers->SignIn(context(v, false).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
            status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            FormErrors errors = status.error_code() == grpc::StatusCode::INVALID_ARGUMENT
                                    ? errors_of(status, sign_in_fields())
                                    : FormErrors{{}, {text(v, "sign_in_failed")}};
            render_form(v, "sign_in_title", "", "/sign-in", sign_in_fields(), errors, "sign_in_submit");
            return;
        }
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        v.response->headers.emplace("Set-Cookie",
                                    set_cookie(kSessionCookie, response.session_token(), cookie_options()));
        v.response->headers.emplace(
            "Set-Cookie", set_cookie(kOrganizationCookie, response.organization_customer_id(), cookie_options()));
        redirect(v, "/account");
    }

    void sign_out(Visit& v) {
        if (!v.session.empty()) {
            customers_v1::SignOutResponse response;
            // The session ends here whatever the service answers (it may have ended already).
            (void)customers->SignOut(context(v, true).get(), customers_v1::SignOutRequest{}, &response);
        }
        end_session(v);
        redirect(v, "/");
    }

    // ---- My Account ----

    bool signed_in(Visit& v) {
        if (v.session.empty() || v.organization.empty()) {
            redirect(v, "/sign-in");
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
        const auto status = customers->GetCustomer(context(v, true).get(), request, &response);
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        const auto& details = response.customer().details();
        mustache::data data = mustache::data::type::object;
        data.set("title", text(v, "account_title"));
        data.set("customer_id", response.customer().customer_id());
        data.set("name", details.name());
        data.set("street", details.address().street());
        data.set("postal_code", details.address().postal_code());
        data.set("city", details.address().city());
        data.set("country_code", details.address().country_code());
        data.set("phone", details.phone());
        data.set("website", details.website());
        data.set("tax_id", details.tax_id());
        render(v, "account", data);
    }

    // The organisation's users, or PERMISSION_DENIED for a user who is not its administrator.
    grpc::Status list_users(const Visit& v, customers_v1::ListPartnerUsersResponse& response) {
        return customers->ListPartnerUsers(context(v, true).get(), customers_v1::ListPartnerUsersRequest{}, &response);
    }

    void users(Visit& v, const FormErrors& errors = {}) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::ListPartnerUsersResponse response;
        const auto status = list_users(v, response);
        mustache::data data = errors.empty() ? form_data(v, add_user_fields(), errors, {})
                                             : form_data(v, add_user_fields(), errors, v.form);
        data.set("title", text(v, "users_title"));
        if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            data.set("admin", false);
            render(v, "users", data);
            return;
        }
        if (!status.ok()) {
            failed(v, status);
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
            row.set("status", text(v, "user_status_" + std::to_string(static_cast<int>(user.status()))));
            row.set("administrator", user.administrator());
            row.set("remove_href", "/account/users/remove?user=" + url_encode(user.user_id()));
            rows.push_back(row);
        }
        data.set("users", rows);
        if (v.request->has_param("added")) {
            data.set("added", v.request->get_param_value("added"));
        }
        data.set("removed", v.request->has_param("removed"));
        render(v, "users", data, errors.empty() ? 200 : 422);
    }

    void add_user(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::AddPartnerUserRequest request;
        request.set_email(field(v, "email"));
        request.set_first_name(field(v, "first_name"));
        request.set_last_name(field(v, "last_name"));
        request.set_job_title(field(v, "job_title"));
        customers_v1::AddPartnerUserResponse response;
        const auto status = customers->AddPartnerUser(context(v, true).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            users(v, errors_of(status, add_user_fields()));
            return;
        }
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        redirect(v, "/account/users?added=" + url_encode(response.user().email()));
    }

    void remove_page(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::ListPartnerUsersResponse response;
        if (const auto status = list_users(v, response); !status.ok()) {
            failed(v, status);
            return;
        }
        const std::string user_id = v.request->get_param_value("user");
        for (const auto& user : response.users()) {
            if (user.user_id() == user_id && !user.administrator()) {
                mustache::data data = mustache::data::type::object;
                data.set("title", text(v, "remove_title"));
                data.set("user_id", user.user_id());
                data.set("name", user.first_name() + " " + user.last_name());
                data.set("email", user.email());
                render(v, "remove_user", data);
                return;
            }
        }
        // Another organisation's user (or none): the page does not say which.
        message(v, "not_found_title", "not_found_text", 404);
    }

    void remove_user(Visit& v) {
        if (!signed_in(v)) {
            return;
        }
        customers_v1::RemovePartnerUserRequest request;
        request.set_user_id(field(v, "user"));
        customers_v1::RemovePartnerUserResponse response;
        const auto status = customers->RemovePartnerUser(context(v, true).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            message(v, "not_found_title", "not_found_text", 404);
            return;
        }
        if (!status.ok()) {
            failed(v, status);
            return;
        }
        redirect(v, "/account/users?removed=1");
    }
};

WebApp::WebApp(WebSettings settings, std::shared_ptr<grpc::Channel> onboarding,
               std::shared_ptr<grpc::Channel> customers)
    : impl_(std::make_unique<Impl>(std::move(settings), onboarding, customers)) {}

WebApp::~WebApp() = default;

void WebApp::install(httplib::Server& server) {
    Impl& app = *impl_;
    server.set_default_headers({
        {"Content-Security-Policy",
         "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
         "frame-ancestors 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
    });
    server.set_exception_handler([&app](const httplib::Request& request, httplib::Response& response,
                                        std::exception_ptr) {  // NOLINT(performance-unnecessary-value-param)
        auto v = app.visit(request, response);
        app.message(v, "unavailable_title", "unavailable_text", 500);
    });

    // Every POST carries its form's CSRF token, equal to the cookie's: otherwise 403 and nothing is
    // called. (Checked here, not in a pre-routing handler: httplib reads the body after that one.)
    const auto page = [&app](void (Impl::*handler)(Impl::Visit&)) {
        return [&app, handler](const httplib::Request& request, httplib::Response& response) {
            auto v = app.visit(request, response);
            if (request.method == "POST") {
                const auto cookie = v.cookies.find(kCsrfCookie);
                const auto sent = v.form.find(kCsrfField);
                if (cookie == v.cookies.end() || sent == v.form.end() || !csrf_matches(cookie->second, sent->second)) {
                    app.message(v, "forbidden_title", "csrf_text", 403);
                    return;
                }
            }
            (app.*handler)(v);
        };
    };
    server.Get("/", page(&Impl::home));
    server.Get("/partner", page(&Impl::partner_form));
    server.Post("/partner", page(&Impl::submit_partner));
    server.Get("/partner/received", page(&Impl::received));
    server.Get("/verify", page(&Impl::verify_page));
    server.Post("/verify", page(&Impl::verify));
    server.Post("/verify/resend", page(&Impl::resend));
    server.Get("/set-password", page(&Impl::set_password_page));
    server.Post("/set-password", page(&Impl::set_password));
    server.Get("/sign-in", page(&Impl::sign_in_page));
    server.Post("/sign-in", page(&Impl::sign_in));
    server.Post("/sign-out", page(&Impl::sign_out));
    server.Get("/account", page(&Impl::account));
    server.Get("/account/users", [&app](const httplib::Request& request, httplib::Response& response) {
        auto v = app.visit(request, response);
        app.users(v);
    });
    server.Post("/account/users/add", page(&Impl::add_user));
    server.Get("/account/users/remove", page(&Impl::remove_page));
    server.Post("/account/users/remove", page(&Impl::remove_user));
    server.Get("/static/web.css", [&app](const httplib::Request&, httplib::Response& response) {
        response.set_header("Cache-Control", "public, max-age=3600");
        response.set_content(app.stylesheet, "text/css; charset=utf-8");
    });
    server.set_error_handler([&app](const httplib::Request& request, httplib::Response& response) {
        if (response.status == 404 || response.status == 405) {
            auto v = app.visit(request, response);
            app.message(v, "not_found_title", "not_found_text", 404);
        }
    });
}

}  // namespace gatehouse::web
