// Staff sign-in and the back office's home: email and password against the staff directory
// (staff_directory.h), a session in the web service's memory, and the pages each role works on.
#include <httplib.h>

#include "gatehouse/kernel/auth.h"
#include "site.h"

namespace gatehouse::web {
namespace {

constexpr Text kTexts[] = {
    {"office_sign_in_title", "Staff sign in", "Anmeldung für Mitarbeitende"},
    {"office_sign_in_intro", "For HQ, sales and operators. Partners sign in on the partner sign-in page.",
     "Für Zentrale, Vertrieb und Betrieb. Partner melden sich auf der Partner-Anmeldeseite an."},
    {"office_no_directory", "The back office is not set up: this web service has no staff directory (web.staff_file).",
     "Das Backoffice ist nicht eingerichtet: Dieser Webdienst hat kein Mitarbeiterverzeichnis (web.staff_file)."},
    {"office_title", "Back office", "Backoffice"},
    {"office_intro", "What you can work on:", "Woran Sie arbeiten können:"},
    {"office_too_many", "Too many attempts from your address. Wait a minute and try again.",
     "Zu viele Versuche von Ihrer Adresse. Warten Sie eine Minute und versuchen Sie es noch einmal."},
};

const std::vector<Field>& staff_sign_in_fields() {
    static const std::vector<Field> fields = {{"email", "email", true, "username"},
                                              {"password", "password", true, "current-password"}};
    return fields;
}

// Where a signed-in member goes: only a path of this site (no open redirect).
std::string next_page(const std::string& next) {
    if (next.size() > 1 && next.front() == '/' && next[1] != '/' && next.find('\\') == std::string::npos &&
        next.rfind("/office", 0) == 0) {
        return next;
    }
    return "/office";
}

struct Staff final {
    explicit Staff(Site& pages_site) : site(pages_site) {}

    Site& site;
    // Per browser address: five attempts, then one every twelve seconds. The directory's two
    // argon2id slots bound the memory; this bounds one address's share of them.
    kernel::RateLimiter attempts{1.0 / 12.0, 5.0};

    void sign_in_page(Visit& v) {
        if (site.staff_directory() == nullptr) {
            site.message(v, "office_sign_in_title", "office_no_directory", 503);
            return;
        }
        site.render_form(v, "office_sign_in_title", "office_sign_in_intro", "/office/sign-in", staff_sign_in_fields(),
                         {}, "nav_sign_in", {{"next", next_page(v.param("next"))}});
    }

    void sign_in(Visit& v) {
        auto* directory = site.staff_directory();
        if (directory == nullptr) {
            site.message(v, "office_sign_in_title", "office_no_directory", 503);
            return;
        }
        const std::map<std::string, std::string> hidden = {{"next", next_page(v.field("next"))}};
        if (!attempts.allow(v.request->remote_addr)) {
            site.render_form(v, "office_sign_in_title", "office_sign_in_intro", "/office/sign-in",
                             staff_sign_in_fields(), FormErrors{{}, {site.text(v, "office_too_many")}}, "nav_sign_in",
                             hidden);
            v.response->status = 429;
            return;
        }
        const auto verdict = directory->sign_in(v.field("email"), v.field("password"));
        if (verdict.outcome == StaffDirectory::Outcome::busy) {
            site.message(v, "unavailable_title", "unavailable_text", 503);
            return;
        }
        if (verdict.outcome != StaffDirectory::Outcome::signed_in) {
            site.render_form(v, "office_sign_in_title", "office_sign_in_intro", "/office/sign-in",
                             staff_sign_in_fields(), FormErrors{{}, {site.text(v, "sign_in_failed")}}, "nav_sign_in",
                             hidden);
            return;
        }
        const auto token = site.staff_sessions().open(*verdict.member);
        // Strict: the back office is never entered from a link on another site with this cookie.
        v.response->headers.emplace("Set-Cookie", set_cookie(kStaffCookie, token, site.cookie_options({}, "Strict")));
        Site::redirect(v, hidden.at("next"));
    }

    void sign_out(Visit& v) {
        const auto token = v.cookies.find(kStaffCookie);
        if (token != v.cookies.end()) {
            site.staff_sessions().close(token->second);
        }
        v.response->headers.emplace("Set-Cookie", set_cookie(kStaffCookie, "", site.cookie_options(0L, "Strict")));
        Site::redirect(v, "/");
    }

    void home(Visit& v) {
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "office_title"));
        data.set("email", v.staff->email);
        data.set("role", v.staff->role);
        data.set("hq", v.staff->role == "hq");
        data.set("sales", v.staff->role == "sales" || v.staff->role == "sales-manager");
        data.set("operator", v.staff->role == "operator");
        site.render(v, "office", data);
    }
};

}  // namespace

void add_staff(Site& site) {
    site.add_texts(kTexts);
    site.add_templates({"office"});
    auto pages = std::make_shared<Staff>(site);
    site.get("/office/sign-in", pages, &Staff::sign_in_page);
    site.post("/office/sign-in", pages, &Staff::sign_in);
    site.post("/office/sign-out", pages, &Staff::sign_out);
    site.get("/office", pages, &Staff::home, {"hq", "sales", "sales-manager", "operator"});
}

}  // namespace gatehouse::web
