// What the web front door decides without the network: CSRF tokens and their constant-time check,
// cookies (parsing the Cookie header, building Set-Cookie with the security attributes), form
// bodies (application/x-www-form-urlencoded), the mapping of an API's INVALID_ARGUMENT
// "field: rule" message to a form input, and the choice of language. Pure functions, safe from
// any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::web {

// A fresh CSRF token: 32 random bytes (libsodium), hex. The double-submit pattern: the same value
// is in the csrf cookie (HttpOnly, SameSite=Strict) and in a hidden field of every form.
[[nodiscard]] std::string new_csrf_token();
// True when both are non-empty, of equal length and equal, compared in constant time.
[[nodiscard]] bool csrf_matches(std::string_view cookie_value, std::string_view form_value);

// The cookies of a Cookie header ("a=1; b=2"); later duplicates do not replace earlier ones.
[[nodiscard]] std::map<std::string, std::string> parse_cookies(std::string_view header);

struct CookieOptions final {
    bool secure = false;            // served behind TLS: add Secure
    std::string same_site = "Lax";  // Lax or Strict
    std::optional<long> max_age;    // seconds; 0 deletes the cookie; none: a session cookie
};
// A Set-Cookie value: always Path=/ and HttpOnly. Throws std::invalid_argument for a name or value
// with characters a cookie may not hold.
[[nodiscard]] std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options);

// Decodes "%41+b" to "A b". Malformed escapes are kept as they are.
[[nodiscard]] std::string url_decode(std::string_view text);
// Encodes everything but unreserved characters (RFC 3986).
[[nodiscard]] std::string url_encode(std::string_view text);
// An application/x-www-form-urlencoded body (or query string). A repeated name keeps its first value.
[[nodiscard]] std::map<std::string, std::string> parse_form(std::string_view body);

// An API's INVALID_ARGUMENT message "field: rule" split, when it names one of `fields` (the form's
// inputs, named as the API's fields, e.g. "contact.email"); nothing otherwise (the message then
// belongs in the summary alone).
struct FieldError final {
    std::string field;
    std::string rule;
};
[[nodiscard]] std::optional<FieldError> field_error(std::string_view message, const std::vector<std::string>& fields);
// The id of a form input for an API field: "contact.email" -> "f-contact-email".
[[nodiscard]] std::string input_id(std::string_view field);

// "de" or "en": the `chosen` language when it is one of them (the switch's cookie), else the first
// supported language of an Accept-Language header by quality, else "en".
[[nodiscard]] std::string choose_language(std::string_view chosen, std::string_view accept_language);

}  // namespace gatehouse::web
