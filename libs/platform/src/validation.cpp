#include "gatehouse/platform/validation.h"

#include <algorithm>
#include <cstdint>

namespace gatehouse::platform {
namespace {

bool is_ascii_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Control characters (C0 and DEL) a text may not hold; Lines::many lets tab and line feed through.
// C1 controls (U+0080..U+009F) are left to the UTF-8 text they appear in: they are rare and
// harmless in the places this text goes (stored fields, mail bodies).
bool forbidden_control(unsigned char c, Lines lines) {
    if (lines == Lines::many && (c == '\t' || c == '\n')) {
        return false;
    }
    return c < 0x20 || c == 0x7F;
}

}  // namespace

std::string problem(std::string_view field, std::string_view rule) {
    std::string text(field);
    text += ": ";
    text += rule;
    return text;
}

std::string to_lower(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return lower;
}

std::optional<std::size_t> utf8_length(std::string_view text) {
    std::size_t characters = 0;
    for (std::size_t i = 0; i < text.size(); ++characters) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (lead < 0x80) {
            length = 1;
            code = lead;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            code = lead & 0x1Fu;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            code = lead & 0x0Fu;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            code = lead & 0x07u;
        } else {
            return std::nullopt;  // a continuation byte first, C0 / C1 (always overlong) or F5..FF
        }
        if (i + length > text.size()) {
            return std::nullopt;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0u) != 0x80u) {
                return std::nullopt;
            }
            code = (code << 6u) | (next & 0x3Fu);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8: a decoder that
        // took them would see characters (e.g. '<' or '/') that this check never saw.
        if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10FFFF)) ||
            (code >= 0xD800 && code <= 0xDFFF)) {
            return std::nullopt;
        }
        i += length;
    }
    return characters;
}

Problem check_text(std::string_view field, std::string_view value, std::size_t min_chars, std::size_t max_chars,
                   Lines lines) {
    const auto characters = utf8_length(value);
    if (!characters ||
        std::any_of(value.begin(), value.end(), [lines](char c) { return forbidden_control(c, lines); })) {
        return problem(field, "must be valid UTF-8 text without control characters");
    }
    if (*characters == 0 && min_chars > 0) {
        return problem(field, "is required");
    }
    if (*characters < min_chars) {
        return problem(field, "must have at least " + std::to_string(min_chars) + " characters");
    }
    if (*characters > max_chars) {
        return problem(field, "must have at most " + std::to_string(max_chars) + " characters");
    }
    return std::nullopt;
}

bool valid_email(std::string_view email) {
    if (email.empty() || email.size() > field_limits::kEmailMaxChars) {
        return false;
    }
    const auto at = email.rfind('@');
    if (at == std::string_view::npos || at == 0 || at > 64 || at + 1 >= email.size()) {
        return false;
    }
    const std::string_view local = email.substr(0, at);
    const std::string_view domain = email.substr(at + 1);
    const bool local_ok = std::all_of(local.begin(), local.end(), [](char c) {
        return is_ascii_alnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) != std::string_view::npos;
    });
    const bool domain_ok =
        std::all_of(domain.begin(), domain.end(), [](char c) { return is_ascii_alnum(c) || c == '.' || c == '-'; });
    return local_ok && domain_ok && local.front() != '.' && local.back() != '.' &&
           local.find("..") == std::string_view::npos && domain.find('.') != std::string_view::npos &&
           domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string_view::npos &&
           domain.front() != '-';
}

Problem check_email(std::string_view field, std::string_view email) {
    if (email.empty()) {
        return problem(field, "is required");
    }
    if (email.size() > field_limits::kEmailMaxChars) {
        return problem(field, "must have at most " + std::to_string(field_limits::kEmailMaxChars) + " characters");
    }
    if (!valid_email(email)) {
        return problem(field, "must be an email address such as name@example.com");
    }
    return std::nullopt;
}

std::optional<TextLimits> replicated_text_limits(std::string_view name) {
    using namespace field_limits;
    if (name == "name") return kName;
    if (name == "first_name") return kFirstName;
    if (name == "last_name") return kLastName;
    if (name == "job_title") return kJobTitle;
    if (name == "phone") return kPhone;
    if (name == "website") return kWebsite;
    if (name == "tax_id") return kTaxId;
    return std::nullopt;
}

Problem check_replicated_field(std::string_view field, std::string_view name, std::string_view value,
                               bool email_required) {
    if (name == "email") {
        return value.empty() && !email_required ? Problem{} : check_email(field, value);
    }
    if (const auto limits = replicated_text_limits(name)) {
        return check_text(field, value, limits->min_chars, limits->max_chars);
    }
    return std::nullopt;
}

}  // namespace gatehouse::platform
