#include "page_values.h"

#include <array>
#include <ctime>

namespace gatehouse::web {

void set_if(kainjow::mustache::data& data, const std::string& key, const std::string& value) {
    if (!value.empty()) {
        data.set(key, value);
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

}  // namespace gatehouse::web
