// The message templates: mustache files, plain text + HTML (+ a subject) per email, a text per chat
// post, per locale with a default, in a directory operators can override.
//
//   <dir>/<locale>/<template>.subject.mustache   one line
//   <dir>/<locale>/<template>.txt.mustache       the text/plain part
//   <dir>/<locale>/<template>.html.mustache      the text/html part
//   <dir>/<locale>/<template>.chat.mustache      a chat post (incoming-webhook "text")
//
// Every variable is escaped for where it lands: HTML-escaped in the HTML part, with line breaks
// removed in the subject (no header injection), Slack/Teams control characters escaped in chat
// posts, verbatim in the text part. Each template declares the variables it may use (kCatalogue);
// a template that names any other variable, or a missing default-locale file, stops start-up
// with a ConfigError — an unknown variable never renders as a blank in a customer's email.
// For each variable `x` the templates also see `has_x` (true when x is not empty), for sections.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::notifier {

enum class TemplateKind { email, chat };

struct TemplateSpec {
    std::string name;
    TemplateKind kind;
    std::vector<std::string> variables;
};

// Every template the notifier knows, with the variables the planner fills in.
const std::vector<TemplateSpec>& template_catalogue();
const TemplateSpec& template_spec(const std::string& name);  // throws std::out_of_range

struct RenderedEmail {
    std::string subject;
    std::string text;
    std::string html;
};

class TemplateSet final {
  public:
    // Loads and checks every catalogue template from `dir`; throws kernel::ConfigError naming the
    // file and the problem.
    TemplateSet(const std::filesystem::path& dir, std::string default_locale);

    // The locale used for `name`: `locale` when its files exist, else the default.
    [[nodiscard]] std::string resolve_locale(const std::string& name, const std::string& locale) const;
    [[nodiscard]] RenderedEmail render_email(const std::string& name, const std::string& locale,
                                             const std::map<std::string, std::string>& variables) const;
    [[nodiscard]] std::string render_chat(const std::string& name, const std::string& locale,
                                          const std::map<std::string, std::string>& variables) const;
    [[nodiscard]] const std::set<std::string>& locales() const { return locales_; }

  private:
    std::string render(const std::string& key, const std::map<std::string, std::string>& variables,
                       std::string (*escape)(const std::string&)) const;

    std::string default_locale_;
    std::set<std::string> locales_;
    std::map<std::string, std::string> sources_;  // "<locale>/<template>.<part>" -> mustache text
};

// The variable names a mustache text refers to (sections and inverted sections included).
std::set<std::string> template_variables(const std::string& mustache_text);

}  // namespace gatehouse::notifier
