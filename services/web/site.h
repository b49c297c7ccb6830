// What every page of the web front door shares: one request's view (language, cookies, CSRF token,
// partner or staff session, form), rendering a mustache page inside the layout, forms with per-field
// errors, the answer to a failed call, and a gRPC client context carrying the caller's credential.
// The pages themselves are modules (storefront.cpp, my_account.cpp, staff.cpp, office_*.cpp) that
// register their texts, templates and routes here. Thread safety: after install(), handlers run on
// the server's threads at once; Site's state is read-only then except the staff sessions, which
// lock.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <kainjow/mustache.hpp>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "staff_directory.h"
#include "web_security.h"

namespace grpc {
class Channel;
class ClientContext;
class Status;
}  // namespace grpc
namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace gatehouse::web {

namespace mustache = kainjow::mustache;

// The cookies: the partner's session (customers' token) and organisation id, the staff session,
// the CSRF token (double submit) and the language choice. All HttpOnly.
inline constexpr const char* kSessionCookie = "gh_session";
inline constexpr const char* kOrganizationCookie = "gh_org";
inline constexpr const char* kStaffCookie = "gh_staff";
inline constexpr const char* kCsrfCookie = "gh_csrf";
inline constexpr const char* kLanguageCookie = "gh_lang";
inline constexpr const char* kCsrfField = "csrf";

struct WebSettings final {
    std::filesystem::path templates_dir;
    std::filesystem::path static_dir;
    bool secure_cookies = false;  // served behind TLS: cookies get Secure
    std::chrono::milliseconds rpc_timeout{10000};
    // The back office: the staff directory (empty: no staff sign-in) and the gateway credential the
    // web service calls the services with on a staff member's behalf (auth.tokens role "gateway").
    std::filesystem::path staff_file;
    std::string gateway_token;
    std::chrono::minutes staff_idle_timeout{30};
    std::chrono::hours staff_session_lifetime{12};
};

// The services' addresses, as channels (created once; a channel reconnects by itself).
struct Channels final {
    std::shared_ptr<grpc::Channel> onboarding;
    std::shared_ptr<grpc::Channel> customers;
    std::shared_ptr<grpc::Channel> sales;
    std::shared_ptr<grpc::Channel> notifier;
};

// A text in both languages; every module has a table of them.
struct Text final {
    const char* key;
    const char* en;
    const char* de;
};

// One input of a form; the name is the API's field name, so an INVALID_ARGUMENT lands on it.
struct Field final {
    std::string name;
    std::string type = "text";  // text, email, tel, url, password, textarea, date, datetime-local, number
    bool required = true;
    std::string autocomplete;
};

// Where a form's inputs get their ids and labels: with several forms on one page the ids carry
// the form's name ("qualify-f-reason"), and a module's label texts a prefix ("sales_f_reason";
// dots in field names become '_'). Empty: ids "f-<field>", labels the text keyed by the field name.
struct FormLayout final {
    std::string id_prefix;
    std::string label_prefix;
};

// What a failed form shows: per-field errors and the summary at the top.
struct FormErrors final {
    std::map<std::string, std::string> fields;  // field name -> rule
    std::vector<std::string> general;
    [[nodiscard]] bool empty() const { return fields.empty() && general.empty(); }
};

// An input a page's template writes out itself (a confirmation page's reason, a select of the
// page's options): the API's field name, the element's id (the summary links to it) and its label's
// text key.
struct FormInput final {
    const char* name;
    const char* id;
    const char* label;
};

// Which refusals of a form's call the form shows again, with the service's reason on it. Every
// form shows its input's (INVALID_ARGUMENT); a form that decides on a record's state (approve,
// reject, change the administrator) also the state's (FAILED_PRECONDITION, ALREADY_EXISTS: "the
// request is already approved"), which otherwise get failed()'s page.
enum class Refusals { input, input_and_state };

// One request: its language, cookies, CSRF token, sessions and (for a POST) form.
struct Visit final {
    const httplib::Request* request = nullptr;
    httplib::Response* response = nullptr;
    std::string lang;
    std::map<std::string, std::string> cookies;
    std::string csrf;
    std::string session;       // a partner's session token (customers' SignIn)
    std::string organization;  // the partner's organisation id
    std::optional<StaffMember> staff;
    std::map<std::string, std::string> form;

    // A POST field, or "".
    [[nodiscard]] std::string field(const std::string& name) const;
    // A query parameter, or "".
    [[nodiscard]] std::string param(const std::string& name) const;
};

// Whose credential a call carries.
enum class Caller { anonymous, partner, staff };

class Site final {
  public:
    // Reads the common templates and the stylesheet now (std::runtime_error naming a missing file)
    // and the staff directory when one is configured.
    Site(WebSettings settings, Channels channels);
    ~Site();
    Site(const Site&) = delete;
    Site& operator=(const Site&) = delete;

    // ---- what modules register ----
    void add_texts(std::span<const Text> texts);
    // Reads and checks templates/<name>.mustache for each name.
    void add_templates(std::initializer_list<const char*> names);
    // Templates other templates include by name ({{>name}}): a form's inputs, a timeline.
    void add_partials(std::initializer_list<const char*> names);
    using Handler = std::function<void(Visit&)>;
    // A page. POSTs are refused with 403 unless the form's CSRF token equals the cookie's.
    void get(const std::string& path, Handler handler);
    void post(const std::string& path, Handler handler);
    // A page that is a member of a module's pages object (kept alive by the route).
    template <class Pages>
    void get(const std::string& path, const std::shared_ptr<Pages>& pages, void (Pages::*handler)(Visit&)) {
        get(path, [pages, handler](Visit& v) { ((*pages).*handler)(v); });
    }
    template <class Pages>
    void post(const std::string& path, const std::shared_ptr<Pages>& pages, void (Pages::*handler)(Visit&)) {
        post(path, [pages, handler](Visit& v) { ((*pages).*handler)(v); });
    }
    // A back-office page: only a signed-in staff member with one of `roles` reaches the handler
    // (require_staff answers the others). install() refuses to start if a page under /office
    // (sign-in and sign-out aside) was added without roles, so none can be left open.
    using Roles = std::vector<std::string>;
    template <class Pages>
    void get(const std::string& path, const std::shared_ptr<Pages>& pages, void (Pages::*handler)(Visit&),
             Roles roles) {
        staff_paths_.push_back(path);
        get(path, [this, pages, handler, roles = std::move(roles)](Visit& v) {
            if (require_staff(v, roles)) {
                ((*pages).*handler)(v);
            }
        });
    }
    template <class Pages>
    void post(const std::string& path, const std::shared_ptr<Pages>& pages, void (Pages::*handler)(Visit&),
              Roles roles) {
        staff_paths_.push_back(path);
        post(path, [this, pages, handler, roles = std::move(roles)](Visit& v) {
            if (require_staff(v, roles)) {
                ((*pages).*handler)(v);
            }
        });
    }
    // Routes every registered page, the stylesheet, the security headers and the error pages.
    void install(httplib::Server& server);

    // ---- what pages use ----
    [[nodiscard]] const WebSettings& settings() const { return settings_; }
    [[nodiscard]] const Channels& channels() const { return channels_; }
    [[nodiscard]] std::string text(const Visit& visit, const std::string& key) const;
    // The body template `page` rendered with `data` (plus t = the texts, csrf) inside the layout.
    void render(Visit& v, const std::string& page, mustache::data data, int status = 200);
    void message(Visit& v, const std::string& title_key, const std::string& text_key, int status);
    static void redirect(Visit& v, const std::string& location);
    // The answer to a call that failed for a reason other than the form's input: UNAUTHENTICATED
    // ends the session and goes to the matching sign-in page, PERMISSION_DENIED 403 (with the
    // service's reason for staff: "may not approve their own request"), NOT_FOUND 404,
    // INVALID_ARGUMENT 400 (an id or page token in the address that does not parse), RESOURCE_EXHAUSTED
    // 429, FAILED_PRECONDITION / ALREADY_EXISTS 409 with the service's reason, else 503.
    void failed(Visit& v, const grpc::Status& status);
    // The answer to a failed call that is not a form's: its INVALID_ARGUMENT can only be an id or
    // a page token in the address (or a form's hidden input) that is not one, so 404 as for
    // NOT_FOUND; the rest as failed().
    void lookup_failed(Visit& v, const grpc::Status& status);
    // The HTTP status the form answers a refusal it shows with (422 for the input, 409 for the
    // state), or nothing: the refusal goes to failed().
    [[nodiscard]] static std::optional<int> shown_on_form(const grpc::Status& status, Refusals shown = Refusals::input);
    // The answer to a form's call that failed: a refusal the form shows calls show(errors, status),
    // the errors (errors_of) on the page again with that HTTP status; the rest go to failed().
    using ShowForm = std::function<void(const FormErrors& errors, int http_status)>;
    void form_failed(Visit& v, const grpc::Status& status, const std::vector<Field>& fields, const ShowForm& show,
                     Refusals shown = Refusals::input);
    void form_failed(Visit& v, const grpc::Status& status, std::initializer_list<FormInput> inputs,
                     const ShowForm& show, Refusals shown = Refusals::input);
    // The form's fields with their values and errors, and the error summary (has_errors, summary,
    // fields: id, name, label, type, required, autocomplete, value, error). A select is written out
    // by the page's template (its options are the page's): the data names its id (select_id) and
    // error (select_error) instead.
    [[nodiscard]] mustache::data form_data(const Visit& v, const std::vector<Field>& fields, const FormErrors& errors,
                                           const std::map<std::string, std::string>& values,
                                           const FormLayout& layout = {}) const;
    // The generic form page (templates/form.mustache).
    void render_form(Visit& v, const std::string& title_key, const std::string& intro_key, const std::string& action,
                     const std::vector<Field>& fields, const FormErrors& errors, const std::string& submit_key,
                     const std::map<std::string, std::string>& hidden = {});
    // A form's hidden inputs ({{#hidden}}name, value{{/hidden}}) from name -> value.
    [[nodiscard]] static mustache::data hidden_inputs(const std::map<std::string, std::string>& hidden);
    // The error summary (has_errors, summary) and each input's rule (<name>_error) of a form whose
    // template writes its inputs itself; with no inputs, the summary of a page's general errors.
    void set_errors(const Visit& v, mustache::data& data, const FormErrors& errors,
                    std::initializer_list<FormInput> inputs) const;
    // An INVALID_ARGUMENT on one of the form's fields, or the summary's line.
    [[nodiscard]] static FormErrors errors_of(const grpc::Status& status, const std::vector<Field>& fields);
    [[nodiscard]] static FormErrors errors_of(const grpc::Status& status, std::initializer_list<FormInput> inputs);
    // A client context: deadline, the browser's address in x-forwarded-for (per-person limits),
    // and the caller's credential: the partner's session, or the gateway token on behalf of the
    // signed-in staff member.
    [[nodiscard]] std::unique_ptr<grpc::ClientContext> context(const Visit& v, Caller caller) const;
    [[nodiscard]] CookieOptions cookie_options(std::optional<long> max_age = std::nullopt,
                                               const std::string& same_site = "Lax") const;
    void end_session(Visit& v);

    // ---- staff ----
    [[nodiscard]] StaffDirectory* staff_directory() { return staff_directory_.get(); }
    [[nodiscard]] StaffSessions& staff_sessions() { return staff_sessions_; }
    // True when a staff member with one of `roles` is signed in; otherwise answers (the staff
    // sign-in page, or 403 for another role) and returns false.
    bool require_staff(Visit& v, const Roles& roles);

  private:
    Visit visit(const httplib::Request& request, httplib::Response& response);

    WebSettings settings_;
    Channels channels_;
    std::map<std::string, std::string> templates_;
    std::vector<std::string> partials_;
    std::map<std::string, std::pair<std::string, std::string>> texts_;  // key -> (en, de)
    std::map<std::string, mustache::data> text_tables_;                 // per language, built by install()
    std::string stylesheet_;
    std::vector<std::pair<std::string, Handler>> gets_;
    std::vector<std::pair<std::string, Handler>> posts_;
    std::vector<std::string> staff_paths_;  // added with roles
    std::unique_ptr<StaffDirectory> staff_directory_;
    StaffSessions staff_sessions_;
};

// The modules: each adds its texts, templates and routes.
void add_storefront(Site& site);
void add_storefront_extras(Site& site);
void add_my_account(Site& site);
void add_staff(Site& site);
void add_office_hq(Site& site);
void add_office_sales(Site& site);
void add_office_operator(Site& site);

}  // namespace gatehouse::web
