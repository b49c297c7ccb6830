#include "page_values.h"

#include <array>
#include <ctime>

#include "web_security.h"

namespace gatehouse::web {

void set_if(kainjow::mustache::data& data, const std::string& key, const std::string& value) {
    if (!value.empty()) {
        data.set(key, value);
    }
}

void set_pager(kainjow::mustache::data& data, const std::string& path, const QueryParams& filter,
               const std::string& token_param, const std::string& next_page_token, bool first_page) {
    std::string query;
    for (const auto& [name, value] : filter) {
        query += (query.empty() ? "?" : "&") + name + "=" + url_encode(value);
    }
    if (!next_page_token.empty()) {
        data.set("next_href",
                 path + query + (query.empty() ? "?" : "&") + token_param + "=" + url_encode(next_page_token));
    }
    if (!first_page) {
        data.set("first_href", path + query);
    }
}

std::string format_time(const google::protobuf::Timestamp& at) {
    if (at.seconds() == 0 && at.nanos() == 0) {
        return {};
    }
    const auto seconds = static_cast<std::time_t>(at.seconds());
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    const auto length = std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M UTC", &utc);
    return {text.data(), length};
}

std::string format_amount(const common::v1::Money& money) {
    const auto units = money.minor_units();
    const auto magnitude = units < 0 ? -units : units;
    const auto cents = magnitude % 100;
    return (units < 0 ? "-" : "") + std::to_string(magnitude / 100) + "." + (cents < 10 ? "0" : "") +
           std::to_string(cents);
}

std::string format_money(const common::v1::Money& money) {
    if (money.currency_code().empty()) {
        return {};
    }
    return format_amount(money) + " " + money.currency_code();
}

std::optional<std::int64_t> parse_amount(std::string_view text) {
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    const auto dot = text.find_first_of(".,");
    const std::string_view whole = text.substr(0, dot);
    std::string fraction(dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1));
    if (whole.empty() || whole.size() > 15 || fraction.size() > 2 ||
        whole.find_first_not_of("0123456789") != std::string_view::npos ||
        fraction.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    fraction.resize(2, '0');
    return std::stoll(std::string(whole)) * 100 + std::stoll(fraction);
}

}  // namespace gatehouse::web
