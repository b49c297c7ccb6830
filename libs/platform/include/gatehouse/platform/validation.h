// The input rules the services share, so that a value one service accepts the others accept too:
// text (valid UTF-8, counted in characters, not bytes), the one email rule, and the limits of the
// fields customers and sales-bridge replicate to each other (docs/replication.md, "Field rules").
// Each check returns the first problem as "field: rule" text, for an INVALID_ARGUMENT that names
// the field and the rule, or nothing. Pure functions, no I/O, safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::platform {

using Problem = std::optional<std::string>;

// "field: rule".
std::string problem(std::string_view field, std::string_view rule);

// ASCII lower case; other bytes (UTF-8 sequences included) are left as they are.
std::string to_lower(std::string_view text);

// The number of characters (code points) of valid UTF-8: no overlong forms, surrogates or code
// points past U+10FFFF. Nothing if `text` is not valid UTF-8. Control characters count like any
// other (passwords may hold them); check_text refuses them.
std::optional<std::size_t> utf8_length(std::string_view text);

// Whether a text may span lines: Lines::many also allows tab and line feed (notes, reasons).
enum class Lines { one, many };

// Valid UTF-8 without control characters (Lines::many: except tab and line feed), with
// `min_chars` to `max_chars` characters. Messages: "field: is required" (empty but min_chars > 0),
// "field: must have at least N characters", "field: must have at most N characters",
// "field: must be valid UTF-8 text without control characters".
Problem check_text(std::string_view field, std::string_view value, std::size_t min_chars, std::size_t max_chars,
                   Lines lines = Lines::one);

// Exactly one mailbox, name@domain: a dot-atom local part (RFC 5322 atext, at most 64 bytes), a
// domain of letters, digits, dots and hyphens with at least one dot, at most 254 bytes in all.
// No display names (<a@b>), lists (commas), quotes, spaces or control characters, so that the
// address a message is sent to is the address that was checked.
bool valid_email(std::string_view email);
// valid_email with its message: "field: is required", "field: must have at most 254 characters",
// "field: must be an email address such as name@example.com".
Problem check_email(std::string_view field, std::string_view email);

struct TextLimits final {
    std::size_t min_chars;
    std::size_t max_chars;
};

// One set of limits per replicated field (docs/replication.md): customers and sales-bridge check a
// change with these, and onboarding, whose requests become the first values of these fields,
// checks its form within them, so that a value accepted on one side is never refused on the other.
namespace field_limits {
inline constexpr TextLimits kName{2, 120};          // an organisation's / account's name
inline constexpr TextLimits kFirstName{1, 80};      // a person's / contact's
inline constexpr TextLimits kLastName{1, 80};       // a person's / contact's
inline constexpr TextLimits kJobTitle{0, 100};      // a person's / contact's
inline constexpr TextLimits kPhone{0, 40};          // free text; onboarding checks the format as well
inline constexpr TextLimits kWebsite{0, 200};       // free text; onboarding checks the format as well
inline constexpr TextLimits kTaxId{0, 32};          // normalised: letters and digits
inline constexpr std::size_t kEmailMaxChars = 254;  // RFC 5321's path limit, in bytes (ASCII only)
}  // namespace field_limits

// The limits of a replicated text field by its name in `changed_fields` ("name", "phone",
// "website", "tax_id", "first_name", "last_name", "job_title"); nothing for "email" (check_email)
// and "address" (checked per line by each service) and for names that are not replicated.
std::optional<TextLimits> replicated_text_limits(std::string_view name);

// check_text with the limits of the replicated field `name`, reported as `field` (e.g.
// "account.name", "details.name"). For "email": check_email, where an empty email passes only
// when `email_required` is false. A name that is not a replicated text field passes: the caller
// decides which names it accepts.
Problem check_replicated_field(std::string_view field, std::string_view name, std::string_view value,
                               bool email_required);

}  // namespace gatehouse::platform
