#include "validation.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace gatehouse::onboarding {
namespace {

// ISO 3166-1 alpha-2, officially assigned codes.
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY "
    "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
    "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
    "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
    "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

using platform::problem;

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}
int digit(std::string_view text, std::size_t i) { return text[i] - '0'; }

bool luhn_valid(std::string_view digits) {
    int sum = 0;
    bool double_it = false;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (double_it) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        double_it = !double_it;
    }
    return sum % 10 == 0;
}

// The VAT prefix of a country (Greece uses EL); empty where VAT ids carry none.
std::string_view vat_prefix(std::string_view country) { return country == "GR" ? std::string_view("EL") : country; }

// Check digits of the national part (after the prefix), per country. True when the country has no
// check-digit rule implemented here.
bool check_digits_valid(std::string_view country, std::string_view n) {
    if (country == "DE") {  // ISO 7064 MOD 11,10
        int product = 10;
        for (std::size_t i = 0; i < 8; ++i) {
            int sum = (digit(n, i) + product) % 10;
            if (sum == 0) {
                sum = 10;
            }
            product = (2 * sum) % 11;
        }
        const int check = (11 - product) % 10;
        return check == digit(n, 8);
    }
    if (country == "AT") {  // U + 8 digits
        int sum = 0;
        for (std::size_t i = 0; i < 7; ++i) {
            int d = digit(n, i + 1);
            if (i % 2 == 1) {
                d *= 2;
                d = d / 10 + d % 10;
            }
            sum += d;
        }
        return (10 - (sum + 4) % 10) % 10 == digit(n, 8);
    }
    if (country == "BE") {
        const long long body = std::stoll(std::string(n.substr(0, 8)));
        return 97 - body % 97 == std::stoll(std::string(n.substr(8, 2)));
    }
    if (country == "DK") {
        constexpr std::array<int, 8> kWeights = {2, 7, 6, 5, 4, 3, 2, 1};
        int sum = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            sum += digit(n, i) * kWeights[i];
        }
        return sum % 11 == 0;
    }
    if (country == "FI") {
        constexpr std::array<int, 7> kWeights = {7, 9, 10, 5, 8, 4, 2};
        int sum = 0;
        for (std::size_t i = 0; i < 7; ++i) {
            sum += digit(n, i) * kWeights[i];
        }
        const int remainder = sum % 11;
        return remainder != 1 && (remainder == 0 ? 0 : 11 - remainder) == digit(n, 7);
    }
    if (country == "FR") {  // key (2) + SIREN (9); a numeric key is 12 + 3 * (SIREN mod 97) mod 97
        if (!all_digits(n.substr(0, 2))) {
            return true;
        }
        const long long siren = std::stoll(std::string(n.substr(2)));
        return (12 + 3 * (siren % 97)) % 97 == std::stoll(std::string(n.substr(0, 2)));
    }
    if (country == "IT") {
        return luhn_valid(n);
    }
    if (country == "NL") {  // 9 digits + B + 2 digits: old mod-11 rule or the 2020 mod-97 rule
        constexpr std::array<int, 8> kWeights = {9, 8, 7, 6, 5, 4, 3, 2};
        int sum = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            sum += digit(n, i) * kWeights[i];
        }
        if (sum % 11 == digit(n, 8)) {
            return true;
        }
        std::string numeric = "2321";  // "NL" as letters A=10 ... : N=23, L=21
        for (const char c : n) {
            numeric += c == 'B' ? std::string("11") : std::string(1, c);
        }
        int remainder = 0;
        for (const char c : numeric) {
            remainder = (remainder * 10 + (c - '0')) % 97;
        }
        return remainder == 1;
    }
    if (country == "PL") {
        constexpr std::array<int, 9> kWeights = {6, 5, 7, 2, 3, 4, 5, 6, 7};
        int sum = 0;
        for (std::size_t i = 0; i < 9; ++i) {
            sum += digit(n, i) * kWeights[i];
        }
        return sum % 11 == digit(n, 9);
    }
    if (country == "PT") {
        int sum = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            sum += digit(n, i) * static_cast<int>(9 - i);
        }
        const int check = 11 - sum % 11;
        return (check >= 10 ? 0 : check) == digit(n, 8);
    }
    if (country == "SE") {  // 10-digit organisation number (Luhn) + "01"
        return luhn_valid(n.substr(0, 10));
    }
    return true;
}

struct VatFormat {
    std::string_view country;
    // A pattern of the national part: '9' a digit, 'A' a letter, 'X' a letter or digit; '|'
    // separates alternatives.
    std::string_view patterns;
};

constexpr std::array<VatFormat, 30> kVatFormats = {{
    {"AT", "U99999999"},
    {"BE", "9999999999"},
    {"BG", "999999999|9999999999"},
    {"CY", "99999999A"},
    {"CZ", "99999999|999999999|9999999999"},
    {"DE", "999999999"},
    {"DK", "99999999"},
    {"EE", "999999999"},
    {"GR", "999999999"},
    {"ES", "X9999999X"},
    {"FI", "99999999"},
    {"FR", "XX999999999"},
    {"HR", "99999999999"},
    {"HU", "99999999"},
    {"IE", "9X99999A|9999999AA|9999999A"},
    {"IT", "99999999999"},
    {"LT", "999999999|999999999999"},
    {"LU", "99999999"},
    {"LV", "99999999999"},
    {"MT", "99999999"},
    {"NL", "999999999B99"},
    {"PL", "9999999999"},
    {"PT", "999999999"},
    {"RO", "99|999|9999|99999|999999|9999999|99999999|999999999|9999999999"},
    {"SE", "999999999901"},
    {"SI", "99999999"},
    {"SK", "9999999999"},
    {"GB", "999999999|999999999999|GD999|HA999"},
    {"CH", "E999999999|E999999999MWST|E999999999TVA|E999999999IVA"},
    {"NO", "999999999MVA|999999999"},
}};

bool matches(std::string_view text, std::string_view pattern) {
    if (text.size() != pattern.size()) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const char p = pattern[i];
        const bool is_digit = c >= '0' && c <= '9';
        const bool is_letter = c >= 'A' && c <= 'Z';
        const bool ok = p == '9' ? is_digit : p == 'A' ? is_letter : p == 'X' ? (is_digit || is_letter) : c == p;
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool matches_any(std::string_view text, std::string_view patterns) {
    while (true) {
        const auto bar = patterns.find('|');
        if (matches(text, patterns.substr(0, bar))) {
            return true;
        }
        if (bar == std::string_view::npos) {
            return false;
        }
        patterns.remove_prefix(bar + 1);
    }
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t");
    return std::string(text.substr(first, last - first + 1));
}

}  // namespace

std::string normalize_email(std::string_view email) {
    std::string trimmed = trim(email);
    const auto at = trimmed.rfind('@');
    if (at != std::string::npos) {
        std::transform(trimmed.begin() + static_cast<std::ptrdiff_t>(at), trimmed.end(),
                       trimmed.begin() + static_cast<std::ptrdiff_t>(at),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    return trimmed;
}

std::string mailbox_key(std::string_view email) {
    std::string key = platform::to_lower(normalize_email(email));
    const auto at = key.rfind('@');
    if (const auto plus = key.find('+'); plus != std::string::npos && at != std::string::npos && plus < at) {
        key.erase(plus, at - plus);
    }
    return key;
}

std::string normalize_tax_id(std::string_view tax_id) {
    std::string normalized;
    for (const char c : tax_id) {
        if (c != ' ' && c != '.' && c != '-') {
            normalized.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
    }
    return normalized;
}

std::string normalize_company_name(std::string_view name) {
    static constexpr std::array<std::string_view, 12> kLegalForms = {"gmbh", "ag",  "ltd", "limited", "inc", "llc",
                                                                     "sa",   "sas", "bv",  "nv",      "oy",  "ab"};
    std::string words;
    std::string word;
    auto flush = [&] {
        if (!word.empty() && std::find(kLegalForms.begin(), kLegalForms.end(), word) == kLegalForms.end()) {
            words += (words.empty() ? "" : " ") + word;
        }
        word.clear();
    };
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
            word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else {
            flush();
        }
    }
    flush();
    return words;
}

Problem check_form_text(std::string_view field, std::string_view value, std::size_t min_chars, std::size_t max_chars) {
    if (auto found = platform::check_text(field, value, min_chars, max_chars)) {
        return found;
    }
    if (value.find_first_of("<>") != std::string_view::npos) {
        return problem(field, "must not contain < or >");
    }
    return std::nullopt;
}

Problem check_phone(std::string_view field, std::string_view phone) {
    if (phone.empty()) {
        return problem(field, "is required");
    }
    if (phone.size() > platform::field_limits::kPhone.max_chars) {  // ASCII only: bytes are characters
        return problem(field,
                       "must have at most " + std::to_string(platform::field_limits::kPhone.max_chars) + " characters");
    }
    std::size_t digits = 0;
    for (std::size_t i = 0; i < phone.size(); ++i) {
        const char c = phone[i];
        if (c >= '0' && c <= '9') {
            ++digits;
        } else if (!(c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || (c == '+' && i == 0))) {
            return problem(field, "may contain only digits, spaces, - ( ) . and a leading +");
        }
    }
    if (digits < 7 || digits > 15) {
        return problem(field, "must have 7 to 15 digits (international format, e.g. +49 30 1234567)");
    }
    return std::nullopt;
}

Problem check_country(std::string_view field, std::string_view code) {
    if (code.empty()) {
        return problem(field, "is required");
    }
    if (code.size() != 2 || kCountries.find(code) == std::string_view::npos ||
        code.find(' ') != std::string_view::npos) {
        return problem(field, "must be an ISO 3166-1 alpha-2 country code such as DE, FR or US");
    }
    return std::nullopt;
}

Problem check_tax_id(std::string_view field, std::string_view tax_id, std::string_view country) {
    if (tax_id.empty()) {
        return std::nullopt;  // optional
    }
    constexpr std::size_t kMax = platform::field_limits::kTaxId.max_chars;
    if (tax_id.size() > kMax || !std::all_of(tax_id.begin(), tax_id.end(),
                                             [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); })) {
        return problem(field, "must be letters and digits (at most " + std::to_string(kMax) + ")");
    }
    const auto format =
        std::find_if(kVatFormats.begin(), kVatFormats.end(), [&](const VatFormat& f) { return f.country == country; });
    if (format == kVatFormats.end()) {
        return std::nullopt;  // no national format known: letters and digits are enough
    }
    const std::string_view prefix = vat_prefix(country) == "CH" ? std::string_view("CH") : vat_prefix(country);
    std::string_view national = tax_id;
    if (national.size() > 2 && std::isalpha(static_cast<unsigned char>(national[0])) &&
        std::isalpha(static_cast<unsigned char>(national[1])) && !(country == "CH" && national.starts_with("CHE"))) {
        if (national.substr(0, 2) != prefix) {
            return problem(field, "has country prefix " + std::string(national.substr(0, 2)) +
                                      ", which does not match " + std::string(country) + " (expected " +
                                      std::string(prefix) + ")");
        }
        national.remove_prefix(2);
    } else if (country == "CH" && national.starts_with("CHE")) {
        national.remove_prefix(2);
    }
    if (!matches_any(national, format->patterns)) {
        return problem(field, "is not a valid " + std::string(country) + " VAT number format");
    }
    if (!check_digits_valid(country, national)) {
        return problem(field, "has a wrong check digit for a " + std::string(country) + " VAT number");
    }
    return std::nullopt;
}

Problem check_website(std::string_view field, std::string_view url) {
    if (url.empty()) {
        return std::nullopt;
    }
    if (url.size() > platform::field_limits::kWebsite.max_chars) {
        return problem(
            field, "must have at most " + std::to_string(platform::field_limits::kWebsite.max_chars) + " characters");
    }
    const bool scheme = url.starts_with("https://") || url.starts_with("http://");
    const std::string_view rest = url.substr(url.find("//") == std::string_view::npos ? 0 : url.find("//") + 2);
    const std::string_view host = rest.substr(0, rest.find_first_of("/?#:"));
    if (!scheme || host.find('.') == std::string_view::npos || host.front() == '.' || host.back() == '.' ||
        !std::all_of(host.begin(), host.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }) ||
        url.find_first_of(" <>\"") != std::string_view::npos) {
        return problem(field, "must be a web address such as https://example.com");
    }
    return std::nullopt;
}

Problem check_request(const v1::CompanyDetails& company, const common::v1::ContactPerson& contact,
                      std::string_view comments) {
    using namespace platform::field_limits;
    const auto& address = company.address();
    for (const Problem& found : {
             check_form_text("company.name", company.name(), kName.min_chars, kName.max_chars),
             check_form_text("company.address.street", address.street(), 1, 200),
             check_form_text("company.address.city", address.city(), 1, 100),
             check_form_text("company.address.postal_code", address.postal_code(), 1, 20),
             address.region().empty() ? Problem{} : check_form_text("company.address.region", address.region(), 1, 100),
             check_country("company.address.country_code", address.country_code()),
             check_phone("company.phone", company.phone()),
             check_website("company.website", company.website()),
             check_tax_id("company.tax_id", company.tax_id(), address.country_code()),
             check_form_text("contact.first_name", contact.first_name(), kFirstName.min_chars, kFirstName.max_chars),
             check_form_text("contact.last_name", contact.last_name(), kLastName.min_chars, kLastName.max_chars),
             platform::check_email("contact.email", contact.email()),
             check_phone("contact.phone", contact.phone()),
             // Required here (the approver must know the contact's role), optional once replicated.
             check_form_text("contact.job_title", contact.job_title(), 1, kJobTitle.max_chars),
             check_form_text("comments", comments, 0, 2000),
         }) {
        if (found) {
            return found;
        }
    }
    const std::string_view postal = address.postal_code();
    if (!std::all_of(postal.begin(), postal.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-'; })) {
        return problem("company.address.postal_code", "may contain only letters, digits, spaces and -");
    }
    return std::nullopt;
}

}  // namespace gatehouse::onboarding
