#include "web_security.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace gatehouse::web {
namespace {

bool cookie_octets(std::string_view text) {
    // RFC 6265 cookie-octet: visible ASCII but DQUOTE , ; backslash.
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
    });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::string new_csrf_token() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium could not be initialised");
    }
    std::array<unsigned char, 32> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string hex(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
    hex.pop_back();
    return hex;
}

bool csrf_matches(std::string_view cookie_value, std::string_view form_value) {
    if (cookie_value.empty() || cookie_value.size() != form_value.size()) {
        return false;
    }
    return sodium_memcmp(cookie_value.data(), form_value.data(), cookie_value.size()) == 0;
}

std::map<std::string, std::string> parse_cookies(std::string_view header) {
    std::map<std::string, std::string> cookies;
    while (!header.empty()) {
        const auto end = header.find(';');
        const std::string_view pair = trim(header.substr(0, end));
        header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            continue;
        }
        std::string_view value = trim(pair.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        cookies.emplace(std::string(trim(pair.substr(0, equals))), std::string(value));
    }
    return cookies;
}

std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options) {
    if (name.empty() || !cookie_octets(name) || name.find('=') != std::string_view::npos || !cookie_octets(value)) {
        throw std::invalid_argument("a cookie name or value with characters a cookie may not hold");
    }
    if (options.same_site != "Lax" && options.same_site != "Strict") {
        throw std::invalid_argument("SameSite must be Lax or Strict");
    }
    std::string header =
        std::string(name) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=" + options.same_site;
    if (options.secure) {
        header += "; Secure";
    }
    if (options.max_age) {
        header += "; Max-Age=" + std::to_string(*options.max_age);
    }
    return header;
}

std::string url_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 0x0f];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(std::string_view body) {
    std::map<std::string, std::string> form;
    while (!body.empty()) {
        const auto end = body.find('&');
        const std::string_view pair = body.substr(0, end);
        body = end == std::string_view::npos ? std::string_view{} : body.substr(end + 1);
        if (pair.empty()) {
            continue;
        }
        const auto equals = pair.find('=');
        const std::string name = url_decode(pair.substr(0, equals));
        if (name.empty()) {
            continue;
        }
        form.emplace(name, equals == std::string_view::npos ? std::string{} : url_decode(pair.substr(equals + 1)));
    }
    return form;
}

std::optional<FieldError> field_error(std::string_view message, const std::vector<std::string>& fields) {
    const auto colon = message.find(": ");
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string field(message.substr(0, colon));
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
        return std::nullopt;
    }
    return FieldError{field, std::string(message.substr(colon + 2))};
}

std::string input_id(std::string_view field) {
    std::string id = "f-";
    for (const char c : field) {
        id += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ? c : '-';
    }
    return id;
}

std::string choose_language(std::string_view chosen, std::string_view accept_language) {
    if (chosen == "en" || chosen == "de") {
        return std::string(chosen);
    }
    std::string best = "en";
    double best_quality = -1;
    while (!accept_language.empty()) {
        const auto end = accept_language.find(',');
        std::string_view item = trim(accept_language.substr(0, end));
        accept_language = end == std::string_view::npos ? std::string_view{} : accept_language.substr(end + 1);
        double quality = 1.0;
        if (const auto semicolon = item.find(';'); semicolon != std::string_view::npos) {
            const std::string_view parameter = trim(item.substr(semicolon + 1));
            item = trim(item.substr(0, semicolon));
            if (parameter.substr(0, 2) == "q=") {
                try {
                    quality = std::stod(std::string(parameter.substr(2)));
                } catch (const std::exception&) {
                    quality = 0;
                }
            }
        }
        std::string primary(item.substr(0, item.find('-')));
        std::transform(primary.begin(), primary.end(), primary.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if ((primary == "en" || primary == "de") && quality > 0 && quality > best_quality) {
            best = primary;
            best_quality = quality;
        }
    }
    return best;
}

}  // namespace gatehouse::web
