#include "site.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>
#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "gatehouse/kernel/auth.h"

namespace gatehouse::web {
namespace {

// The texts of the layout and of the answers every page may give.
constexpr Text kCommonTexts[] = {
    {"site", "Gatehouse partner portal", "Gatehouse Partnerportal"},
    {"skip", "Skip to content", "Zum Inhalt springen"},
    {"nav_home", "Home", "Start"},
    {"nav_partner", "Become a partner", "Partner werden"},
    {"nav_status", "Request status", "Status der Anfrage"},
    {"nav_sign_in", "Sign in", "Anmelden"},
    {"nav_sign_out", "Sign out", "Abmelden"},
    {"nav_account", "My Account", "Mein Konto"},
    {"nav_users", "Organization users", "Benutzer der Organisation"},
    {"nav_office", "Back office", "Backoffice"},
    {"nav_prospects", "All prospects", "Alle Interessenten"},
    {"nav_customers", "Customers", "Kunden"},
    {"nav_leads", "All commerce B2B leads", "Alle Commerce-B2B-Leads"},
    {"nav_my_leads", "My open leads", "Meine offenen Leads"},
    {"nav_opportunities", "Opportunities", "Verkaufschancen"},
    {"nav_notifications", "Notifications", "Benachrichtigungen"},
    {"nav_dead_letters", "Dead letters", "Unzustellbare Ereignisse"},
    {"signed_in_as", "Signed in as", "Angemeldet als"},
    {"language", "Language", "Sprache"},
    {"errors_title", "There is a problem", "Es gibt ein Problem"},
    {"required", "required", "Pflichtfeld"},
    {"optional", "optional", "optional"},
    {"email", "Email", "E-Mail"},
    {"password", "Password", "Passwort"},
    {"cancel", "Cancel", "Abbrechen"},
    {"forbidden_title", "Not allowed", "Nicht erlaubt"},
    {"forbidden_text", "You may not do this.", "Das dürfen Sie nicht."},
    {"csrf_text", "The form has expired or did not come from this site. Go back, reload the page and try again.",
     "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Gehen Sie zurück, laden Sie die Seite neu und "
     "versuchen Sie es noch einmal."},
    {"not_found_title", "Not found", "Nicht gefunden"},
    {"not_found_text", "There is nothing here for you.", "Hier gibt es nichts für Sie."},
    {"conflict_title", "This cannot be done now", "Das geht jetzt nicht"},
    {"bad_request_title", "This address does not work", "Diese Adresse funktioniert nicht"},
    {"bad_request_text", "A number or link in the address is not right. Go back and follow a link on the page.",
     "Eine Nummer oder ein Link in der Adresse stimmt nicht. Gehen Sie zurück und folgen Sie einem Link auf der "
     "Seite."},
    {"organization", "Organization", "Organisation"},
    {"customer_id", "Customer number", "Kundennummer"},
    {"address", "Address", "Adresse"},
    {"phone", "Phone", "Telefon"},
    {"website", "Website", "Website"},
    {"tax_id", "VAT / tax id", "USt-IdNr. / Steuernummer"},
    {"name", "Name", "Name"},
    {"status", "Status", "Status"},
    {"role", "Role", "Rolle"},
    {"actions", "Actions", "Aktionen"},
    {"first_name", "First name", "Vorname"},
    {"last_name", "Last name", "Nachname"},
    {"job_title", "Job title", "Position"},
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

// An INVALID_ARGUMENT on the input `names` names, or the summary's line.
FormErrors errors_on(const grpc::Status& status, const std::vector<std::string>& names) {
    FormErrors errors;
    if (auto found = field_error(status.error_message(), names)) {
        errors.fields[found->field] = found->rule;
    } else {
        errors.general.push_back(status.error_message());
    }
    return errors;
}

// A line of a form's error summary: an input's label and rule, linking to the input (`href`, its
// id), or a line about the whole form (no link).
mustache::data summary_line(const std::string& text, const std::string& href = {}) {
    mustache::data item = mustache::data::type::object;
    item.set("text", text);
    if (!href.empty()) {
        item.set("href", href);
    }
    return item;
}

// The summary's lines about the whole form; the inputs' lines follow.
mustache::data general_summary(const FormErrors& errors) {
    mustache::data summary = mustache::data::type::list;
    for (const auto& line : errors.general) {
        summary.push_back(summary_line(line));
    }
    return summary;
}

std::string cookie(const Visit& v, const char* name) {
    const auto found = v.cookies.find(name);
    return found == v.cookies.end() ? std::string{} : found->second;
}

}  // namespace

std::string Visit::field(const std::string& name) const {
    const auto found = form.find(name);
    return found == form.end() ? std::string{} : found->second;
}

std::string Visit::param(const std::string& name) const {
    return request->has_param(name) ? request->get_param_value(name) : std::string{};
}

Site::Site(WebSettings settings, Channels channels) : settings_(std::move(settings)), channels_(std::move(channels)) {
    add_texts(kCommonTexts);
    add_templates({"layout", "form", "message"});
    stylesheet_ = read_file(settings_.static_dir / "web.css");
    if (!settings_.staff_file.empty()) {
        staff_directory_ = std::make_unique<StaffDirectory>(settings_.staff_file);
    }
}

Site::~Site() = default;

void Site::add_texts(std::span<const Text> texts) {
    for (const auto& entry : texts) {
        if (!texts_.emplace(entry.key, std::make_pair(std::string(entry.en), std::string(entry.de))).second) {
            throw std::logic_error(std::string("the text ") + entry.key + " is defined twice");
        }
    }
}

void Site::add_templates(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        auto body = read_file(settings_.templates_dir / (std::string(name) + ".mustache"));
        if (mustache::mustache check(body); !check.is_valid()) {
            throw std::runtime_error("template " + std::string(name) + ": " + check.error_message());
        }
        templates_[name] = std::move(body);
    }
}

void Site::add_partials(std::initializer_list<const char*> names) {
    add_templates(names);
    partials_.insert(partials_.end(), names.begin(), names.end());
}

void Site::get(const std::string& path, Handler handler) { gets_.emplace_back(path, std::move(handler)); }

void Site::post(const std::string& path, Handler handler) { posts_.emplace_back(path, std::move(handler)); }

std::string Site::text(const Visit& visit, const std::string& key) const {
    const auto found = texts_.find(key);
    if (found == texts_.end()) {
        return key;
    }
    return visit.lang == "de" ? found->second.second : found->second.first;
}

CookieOptions Site::cookie_options(std::optional<long> max_age, const std::string& same_site) const {
    return CookieOptions{settings_.secure_cookies, same_site, max_age};
}

Visit Site::visit(const httplib::Request& request, httplib::Response& response) {
    Visit v;
    v.request = &request;
    v.response = &response;
    v.cookies = parse_cookies(request.get_header_value("Cookie"));
    std::string chosen = cookie(v, kLanguageCookie);
    if (request.has_param("lang")) {
        const std::string asked = request.get_param_value("lang");
        if (asked == "en" || asked == "de") {
            chosen = asked;
            response.headers.emplace("Set-Cookie",
                                     set_cookie(kLanguageCookie, asked, cookie_options(60L * 60 * 24 * 365)));
        }
    }
    v.lang = choose_language(chosen, request.get_header_value("Accept-Language"));
    v.csrf = cookie(v, kCsrfCookie);
    if (v.csrf.size() != 64) {
        v.csrf = new_csrf_token();
        // Strict: a page of another site never sends it, so it cannot be paired with a forged form.
        response.headers.emplace("Set-Cookie", set_cookie(kCsrfCookie, v.csrf, cookie_options({}, "Strict")));
    }
    v.session = cookie(v, kSessionCookie);
    v.organization = cookie(v, kOrganizationCookie);
    if (const auto staff_token = cookie(v, kStaffCookie); !staff_token.empty() && staff_directory_) {
        v.staff = staff_sessions_.use(staff_token, settings_.staff_idle_timeout, settings_.staff_session_lifetime);
        // A member removed from the directory loses the back office at once.
        if (v.staff && !staff_directory_->find(v.staff->email)) {
            staff_sessions_.close(staff_token);
            v.staff.reset();
        }
    }
    if (request.method == "POST") {
        v.form = parse_form(request.body);
    }
    return v;
}

std::unique_ptr<grpc::ClientContext> Site::context(const Visit& v, Caller caller) const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + settings_.rpc_timeout);
    if (!v.request->remote_addr.empty()) {
        context->AddMetadata("x-forwarded-for", v.request->remote_addr);
    }
    if (caller == Caller::partner && !v.session.empty()) {
        context->AddMetadata("authorization", "Bearer " + v.session);
    }
    if (caller == Caller::staff && v.staff) {
        context->AddMetadata("authorization", "Bearer " + settings_.gateway_token);
        context->AddMetadata(std::string(kernel::kOnBehalfOfHeader), v.staff->principal());
    }
    return context;
}

void Site::render(Visit& v, const std::string& page, mustache::data data, int status) {
    const auto& texts = text_tables_.at(v.lang);
    data.set("t", texts);
    data.set("csrf", v.csrf);
    for (const auto& name : partials_) {
        data.set(name, templates_.at(name));  // kainjow reads a {{>name}} partial from the data
    }
    mustache::mustache body_template(templates_.at(page));
    const std::string body = body_template.render(data);
    mustache::data layout = mustache::data::type::object;
    layout.set("t", texts);
    layout.set("lang", v.lang);
    layout.set("csrf", v.csrf);
    layout.set("body", body);
    layout.set("title", data.get("title") != nullptr ? *data.get("title") : mustache::data(text(v, "site")));
    layout.set("signed_in", !v.session.empty());
    layout.set("staff", v.staff.has_value());
    if (v.staff) {
        layout.set("staff_email", v.staff->email);
        layout.set("staff_hq", v.staff->role == "hq");
        layout.set("staff_sales", v.staff->role == "sales" || v.staff->role == "sales-manager");
        layout.set("staff_operator", v.staff->role == "operator");
    }
    layout.set("anonymous", v.session.empty() && !v.staff);
    std::string query;
    for (const auto& [name, value] : v.request->params) {
        if (name != "lang" && v.request->method == "GET") {
            query += url_encode(name) + "=" + url_encode(value) + "&";
        }
    }
    layout.set("en_href", v.request->path + "?" + query + "lang=en");
    layout.set("de_href", v.request->path + "?" + query + "lang=de");
    layout.set("is_en", v.lang == "en");
    layout.set("is_de", v.lang == "de");
    mustache::mustache layout_template(templates_.at("layout"));
    v.response->status = status;
    v.response->set_header("Cache-Control", "no-store");
    v.response->set_content(layout_template.render(layout), "text/html; charset=utf-8");
}

void Site::message(Visit& v, const std::string& title_key, const std::string& text_key, int status) {
    mustache::data data = mustache::data::type::object;
    data.set("title", text(v, title_key));
    data.set("text", text(v, text_key));
    render(v, "message", data, status);
}

void Site::redirect(Visit& v, const std::string& location) {
    v.response->status = 303;
    v.response->set_header("Location", location);
}

void Site::failed(Visit& v, const grpc::Status& status) {
    switch (status.error_code()) {
        case grpc::StatusCode::UNAUTHENTICATED:
            if (v.staff) {
                redirect(v, "/office/sign-in");
                return;
            }
            end_session(v);
            redirect(v, "/sign-in");
            return;
        case grpc::StatusCode::PERMISSION_DENIED:
            if (v.staff) {
                // Staff are told the rule they met; a partner learns nothing more than "not allowed".
                mustache::data data = mustache::data::type::object;
                data.set("title", text(v, "forbidden_title"));
                data.set("text", status.error_message());
                render(v, "message", data, 403);
                return;
            }
            message(v, "forbidden_title", "forbidden_text", 403);
            return;
        case grpc::StatusCode::INVALID_ARGUMENT:
            message(v, "bad_request_title", "bad_request_text", 400);
            return;
        case grpc::StatusCode::NOT_FOUND:
            message(v, "not_found_title", "not_found_text", 404);
            return;
        case grpc::StatusCode::FAILED_PRECONDITION:
        case grpc::StatusCode::ALREADY_EXISTS: {
            // The service's reason ("the request is already approved") is what the person needs.
            mustache::data data = mustache::data::type::object;
            data.set("title", text(v, "conflict_title"));
            data.set("text", status.error_message());
            render(v, "message", data, 409);
            return;
        }
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
            message(v, "unavailable_title", "unavailable_text", 429);
            return;
        default:
            message(v, "unavailable_title", "unavailable_text", 503);
            return;
    }
}

void Site::lookup_failed(Visit& v, const grpc::Status& status) {
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        message(v, "not_found_title", "not_found_text", 404);
        return;
    }
    failed(v, status);
}

std::optional<int> Site::shown_on_form(const grpc::Status& status, Refusals shown) {
    switch (status.error_code()) {
        case grpc::StatusCode::INVALID_ARGUMENT:
            return 422;
        case grpc::StatusCode::FAILED_PRECONDITION:
        case grpc::StatusCode::ALREADY_EXISTS:
            if (shown == Refusals::input_and_state) {
                return 409;
            }
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

void Site::form_failed(Visit& v, const grpc::Status& status, const std::vector<Field>& fields, const ShowForm& show,
                       Refusals shown) {
    if (const auto http_status = shown_on_form(status, shown)) {
        show(errors_of(status, fields), *http_status);
        return;
    }
    failed(v, status);
}

void Site::form_failed(Visit& v, const grpc::Status& status, std::initializer_list<FormInput> inputs,
                       const ShowForm& show, Refusals shown) {
    if (const auto http_status = shown_on_form(status, shown)) {
        show(errors_of(status, inputs), *http_status);
        return;
    }
    failed(v, status);
}

void Site::end_session(Visit& v) {
    v.response->headers.emplace("Set-Cookie", set_cookie(kSessionCookie, "", cookie_options(0L)));
    v.response->headers.emplace("Set-Cookie", set_cookie(kOrganizationCookie, "", cookie_options(0L)));
    v.session.clear();
}

bool Site::require_staff(Visit& v, const Roles& roles) {
    if (!v.staff) {
        redirect(v, "/office/sign-in?next=" + url_encode(v.request->path));
        return false;
    }
    if (std::find(roles.begin(), roles.end(), v.staff->role) != roles.end()) {
        return true;
    }
    message(v, "forbidden_title", "forbidden_text", 403);
    return false;
}

mustache::data Site::form_data(const Visit& v, const std::vector<Field>& fields, const FormErrors& errors,
                               const std::map<std::string, std::string>& values, const FormLayout& layout) const {
    mustache::data data = mustache::data::type::object;
    mustache::data inputs = mustache::data::type::list;
    mustache::data summary = general_summary(errors);
    for (const auto& f : fields) {
        mustache::data input = mustache::data::type::object;
        const std::string id = layout.id_prefix.empty() ? input_id(f.name) : layout.id_prefix + "-" + input_id(f.name);
        std::string label_key = layout.label_prefix + f.name;
        if (!layout.label_prefix.empty()) {
            std::replace(label_key.begin(), label_key.end(), '.', '_');
        }
        const std::string label = text(v, label_key);
        if (f.type == "select") {
            data.set("select_id", id);
            if (const auto error = errors.fields.find(f.name); error != errors.fields.end()) {
                data.set("select_error", error->second);
                summary.push_back(summary_line(label + ": " + error->second, id));
            }
            continue;
        }
        input.set("id", id);
        input.set("name", f.name);
        input.set("label", label);
        input.set("type", f.type);
        input.set("textarea", f.type == "textarea");
        input.set("required", f.required);
        input.set("autocomplete", f.autocomplete);
        const auto value = values.find(f.name);
        input.set("value", value == values.end() || f.type == "password" ? std::string{} : value->second);
        if (const auto error = errors.fields.find(f.name); error != errors.fields.end()) {
            input.set("error", error->second);
            summary.push_back(summary_line(label + ": " + error->second, id));
        }
        inputs.push_back(input);
    }
    data.set("fields", inputs);
    data.set("has_errors", !errors.empty());
    data.set("summary", summary);
    return data;
}

void Site::render_form(Visit& v, const std::string& title_key, const std::string& intro_key, const std::string& action,
                       const std::vector<Field>& fields, const FormErrors& errors, const std::string& submit_key,
                       const std::map<std::string, std::string>& hidden) {
    mustache::data data = form_data(v, fields, errors, v.form);
    data.set("title", text(v, title_key));
    data.set("intro", intro_key.empty() ? std::string{} : text(v, intro_key));
    data.set("action", action);
    data.set("submit", text(v, submit_key));
    data.set("hidden", hidden_inputs(hidden));
    render(v, "form", data, errors.empty() ? 200 : 422);
}

mustache::data Site::hidden_inputs(const std::map<std::string, std::string>& hidden) {
    mustache::data list = mustache::data::type::list;
    for (const auto& [name, value] : hidden) {
        mustache::data item = mustache::data::type::object;
        item.set("name", name);
        item.set("value", value);
        list.push_back(item);
    }
    return list;
}

void Site::set_errors(const Visit& v, mustache::data& data, const FormErrors& errors,
                      std::initializer_list<FormInput> inputs) const {
    mustache::data summary = general_summary(errors);
    for (const auto& input : inputs) {
        if (const auto found = errors.fields.find(input.name); found != errors.fields.end()) {
            data.set(std::string(input.name) + "_error", found->second);
            summary.push_back(summary_line(text(v, input.label) + ": " + found->second, input.id));
        }
    }
    data.set("has_errors", !errors.empty());
    data.set("summary", summary);
}

FormErrors Site::errors_of(const grpc::Status& status, const std::vector<Field>& fields) {
    std::vector<std::string> names;
    names.reserve(fields.size());
    for (const auto& field : fields) {
        names.push_back(field.name);
    }
    return errors_on(status, names);
}

FormErrors Site::errors_of(const grpc::Status& status, std::initializer_list<FormInput> inputs) {
    std::vector<std::string> names;
    names.reserve(inputs.size());
    for (const auto& input : inputs) {
        names.emplace_back(input.name);
    }
    return errors_on(status, names);
}

void Site::install(httplib::Server& server) {
    for (const auto* routes : {&gets_, &posts_}) {
        for (const auto& route : *routes) {
            const bool office = route.first == "/office" || route.first.rfind("/office/", 0) == 0;
            const bool open = route.first == "/office/sign-in" || route.first == "/office/sign-out";
            if (office && !open &&
                std::find(staff_paths_.begin(), staff_paths_.end(), route.first) == staff_paths_.end()) {
                throw std::logic_error("the back-office page " + route.first + " was added without staff roles");
            }
        }
    }
    for (const char* lang : {"en", "de"}) {
        mustache::data table = mustache::data::type::object;
        for (const auto& [key, both] : texts_) {
            table.set(key, std::string(lang) == "de" ? both.second : both.first);
        }
        text_tables_.emplace(lang, std::move(table));
    }
    server.set_default_headers({
        {"Content-Security-Policy",
         "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
         "frame-ancestors 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
    });
    server.set_exception_handler([this](const httplib::Request& request, httplib::Response& response,
                                        std::exception_ptr) {  // NOLINT(performance-unnecessary-value-param)
        auto v = visit(request, response);
        message(v, "unavailable_title", "unavailable_text", 500);
    });
    for (const auto& route : gets_) {
        server.Get(route.first,
                   [this, handler = route.second](const httplib::Request& request, httplib::Response& response) {
                       auto v = visit(request, response);
                       handler(v);
                   });
    }
    // Every POST carries its form's CSRF token, equal to the cookie's: otherwise 403 and nothing is
    // called. (Checked here, not in a pre-routing handler: httplib reads the body after that one.)
    for (const auto& route : posts_) {
        server.Post(route.first,
                    [this, handler = route.second](const httplib::Request& request, httplib::Response& response) {
                        auto v = visit(request, response);
                        const auto cookie_value = v.cookies.find(kCsrfCookie);
                        const auto sent = v.form.find(kCsrfField);
                        if (cookie_value == v.cookies.end() || sent == v.form.end() ||
                            !csrf_matches(cookie_value->second, sent->second)) {
                            message(v, "forbidden_title", "csrf_text", 403);
                            return;
                        }
                        handler(v);
                    });
    }
    server.Get("/static/web.css", [this](const httplib::Request&, httplib::Response& response) {
        response.set_header("Cache-Control", "public, max-age=3600");
        response.set_content(stylesheet_, "text/css; charset=utf-8");
    });
    server.set_error_handler([this](const httplib::Request& request, httplib::Response& response) {
        if (response.status == 404 || response.status == 405) {
            auto v = visit(request, response);
            message(v, "not_found_title", "not_found_text", 404);
        }
    });
}

}  // namespace gatehouse::web
