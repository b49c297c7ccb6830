#include "domain/templates.h"

#include <kainjow/mustache.hpp>

#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::notifier {
namespace {

namespace mustache = kainjow::mustache;

std::string keep(const std::string& text) { return text; }

std::string one_line(const std::string& text) {
    std::string line;
    for (const char c : text) {
        line.push_back(c == '\r' || c == '\n' ? ' ' : c);
    }
    return line;
}

// Slack's and Teams' incoming webhooks treat <, > and & as markup.
std::string chat_escape(const std::string& text) {
    std::string escaped;
    for (const char c : text) {
        switch (c) {
            case '&':
                escaped += "&amp;";
                break;
            case '<':
                escaped += "&lt;";
                break;
            case '>':
                escaped += "&gt;";
                break;
            default:
                escaped.push_back(c);
        }
    }
    return escaped;
}

std::string html_escape(const std::string& text) { return mustache::html_escape<std::string>(text); }

std::vector<std::string> parts_of(TemplateKind kind) {
    return kind == TemplateKind::email ? std::vector<std::string>{"subject", "txt", "html"}
                                       : std::vector<std::string>{"chat"};
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

const std::vector<TemplateSpec>& template_catalogue() {
    static const std::vector<TemplateSpec> catalogue = {
        {"request_received",
         TemplateKind::email,
         {"company_name", "contact_name", "request_number", "link", "link_expires_at"}},
        {"verification_link",
         TemplateKind::email,
         {"company_name", "contact_name", "request_number", "link", "link_expires_at"}},
        {"prospect_pending",
         TemplateKind::email,
         {"company_name", "request_number", "contact_name", "contact_email", "country_code"}},
        {"prospect_pending_chat",
         TemplateKind::chat,
         {"company_name", "request_number", "contact_name", "contact_email", "country_code"}},
        {"prospect_rejected", TemplateKind::email, {"company_name", "contact_name", "request_number", "reason"}},
        {"partner_approved",
         TemplateKind::email,
         {"company_name", "contact_name", "request_number", "link", "link_expires_at"}},
        {"partner_user_invitation", TemplateKind::email, {"organization_name", "user_name", "link", "link_expires_at"}},
        {"password_reset", TemplateKind::email, {"organization_name", "user_name", "link", "link_expires_at"}},
        {"partner_user_removed", TemplateKind::email, {"organization_name", "user_name", "removed_by"}},
        {"administrator_granted",
         TemplateKind::email,
         {"organization_name", "user_name", "old_admin_name", "new_admin_name"}},
        {"administrator_revoked",
         TemplateKind::email,
         {"organization_name", "user_name", "old_admin_name", "new_admin_name"}},
        {"lead_created_chat",
         TemplateKind::chat,
         {"lead_id", "company_name", "request_number", "contact_name", "contact_email", "owner"}},
        {"lead_assigned_chat", TemplateKind::chat, {"lead_id", "company_name", "request_number", "owner"}},
        {"opportunity_won_chat",
         TemplateKind::chat,
         {"opportunity_id", "company_name", "request_number", "estimated_value", "decided_by"}},
        {"opportunity_lost_chat",
         TemplateKind::chat,
         {"opportunity_id", "company_name", "request_number", "estimated_value", "decided_by", "reason"}},
        {"opportunity_created_chat",
         TemplateKind::chat,
         {"opportunity_id", "company_name", "request_number", "stage", "estimated_value", "estimated_close_date",
          "owner"}},
        {"opportunity_updated_chat",
         TemplateKind::chat,
         {"opportunity_id", "company_name", "request_number", "old_stage", "new_stage", "old_value", "new_value",
          "updated_by"}},
        {"appointment_invitation",
         TemplateKind::email,
         {"subject", "company_name", "starts_at", "ends_at", "previous_starts_at", "online_meeting_url", "organizer"}},
        {"appointment_cancelled",
         TemplateKind::email,
         {"subject", "company_name", "starts_at", "ends_at", "online_meeting_url", "organizer", "reason"}},
        {"webhook_endpoint_disabled",
         TemplateKind::email,
         {"endpoint_id", "url", "delivery_id", "event_type", "reason"}},
    };
    return catalogue;
}

const TemplateSpec& template_spec(const std::string& name) {
    for (const auto& spec : template_catalogue()) {
        if (spec.name == name) {
            return spec;
        }
    }
    throw std::out_of_range("no template named " + name);
}

std::set<std::string> template_variables(const std::string& mustache_text) {
    // {{name}}, {{{name}}}, {{&name}}, {{#name}}, {{^name}}, {{/name}}; comments ({{! }}) and
    // partials ({{> }}) are not variables (partials are not supported: they are reported).
    static const std::regex tag(R"(\{\{\{?\s*([#^/&>!]?)\s*([^}\s]*)\s*\}?\}\})");
    std::set<std::string> names;
    for (auto it = std::sregex_iterator(mustache_text.begin(), mustache_text.end(), tag); it != std::sregex_iterator();
         ++it) {
        const std::string sigil = (*it)[1];
        if (sigil == "!") {
            continue;
        }
        names.insert(sigil == ">" ? ">" + (*it)[2].str() : (*it)[2].str());
    }
    return names;
}

TemplateSet::TemplateSet(const std::filesystem::path& dir, std::string default_locale)
    : default_locale_(std::move(default_locale)) {
    std::error_code error;
    if (!std::filesystem::is_directory(dir / default_locale_, error)) {
        throw kernel::ConfigError("setting templates.dir: " + (dir / default_locale_).string() +
                                  " is not a directory of templates for the default locale " + default_locale_);
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.is_directory()) {
            locales_.insert(entry.path().filename().string());
        }
    }
    std::vector<std::string> problems;
    for (const auto& locale : locales_) {
        for (const auto& spec : template_catalogue()) {
            const std::set<std::string> allowed = [&] {
                std::set<std::string> names;
                for (const auto& variable : spec.variables) {
                    names.insert(variable);
                    names.insert("has_" + variable);
                }
                return names;
            }();
            for (const auto& part : parts_of(spec.kind)) {
                const auto path = dir / locale / (spec.name + "." + part + ".mustache");
                auto text = read_file(path);
                if (!text) {
                    if (locale == default_locale_) {
                        problems.push_back(path.string() + ": missing");
                    }
                    continue;
                }
                mustache::mustache parsed(*text);
                if (!parsed.is_valid()) {
                    problems.push_back(path.string() + ": " + parsed.error_message());
                    continue;
                }
                for (const auto& name : template_variables(*text)) {
                    if (allowed.count(name) == 0) {
                        problems.push_back(path.string() + ": unknown variable \"" + name + "\" (" + spec.name +
                                           " has: " +
                                           [&] {
                                               std::string list;
                                               for (const auto& v : spec.variables) {
                                                   list += (list.empty() ? "" : ", ") + v;
                                               }
                                               return list;
                                           }() +
                                           ")");
                    }
                }
                sources_.emplace(locale + "/" + spec.name + "." + part, std::move(*text));
            }
        }
    }
    if (!problems.empty()) {
        std::string message = "setting templates.dir: " + std::to_string(problems.size()) + " template problem(s):";
        for (const auto& problem : problems) {
            message += "\n  " + problem;
        }
        throw kernel::ConfigError(message);
    }
}

std::string TemplateSet::resolve_locale(const std::string& name, const std::string& locale) const {
    const std::string part = template_spec(name).kind == TemplateKind::email ? "txt" : "chat";
    return sources_.count(locale + "/" + name + "." + part) != 0 ? locale : default_locale_;
}

std::string TemplateSet::render(const std::string& key, const std::map<std::string, std::string>& variables,
                                std::string (*escape)(const std::string&)) const {
    const auto source = sources_.find(key);
    if (source == sources_.end()) {
        throw std::out_of_range("no template " + key);
    }
    mustache::mustache compiled(source->second);
    compiled.set_custom_escape(escape);
    mustache::data context;
    for (const auto& [name, value] : variables) {
        context.set(name, value);
        context.set("has_" + name, mustache::data(!value.empty()));
    }
    std::string rendered = compiled.render(context);
    if (!compiled.is_valid()) {
        throw std::runtime_error("template " + key + ": " + compiled.error_message());
    }
    return rendered;
}

RenderedEmail TemplateSet::render_email(const std::string& name, const std::string& locale,
                                        const std::map<std::string, std::string>& variables) const {
    const std::string prefix = resolve_locale(name, locale) + "/" + name + ".";
    RenderedEmail email;
    // The subject is a header: one line, whatever a variable holds.
    email.subject = one_line(render(prefix + "subject", variables, &one_line));
    while (!email.subject.empty() && email.subject.back() == ' ') {
        email.subject.pop_back();
    }
    email.text = render(prefix + "txt", variables, &keep);
    email.html = render(prefix + "html", variables, &html_escape);
    return email;
}

std::string TemplateSet::render_chat(const std::string& name, const std::string& locale,
                                     const std::map<std::string, std::string>& variables) const {
    return render(resolve_locale(name, locale) + "/" + name + ".chat", variables, &chat_escape);
}

}  // namespace gatehouse::notifier
