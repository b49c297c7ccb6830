// Values as every page shows them: times in UTC, amounts of money, and optional values that a
// template shows only when there is one. Pure functions, safe from any thread.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <kainjow/mustache.hpp>
#include <string>

#include "gatehouse/common/v1/common.pb.h"

namespace gatehouse::web {

// Sets `key` only when `value` is not empty: a mustache section over "" would still render.
void set_if(kainjow::mustache::data& data, const std::string& key, const std::string& value);
// "2026-12-01 09:30 UTC"; "" for an unset time.
[[nodiscard]] std::string format_time(const google::protobuf::Timestamp& at);
// The amount of minor units as a form input shows it: "25000.50", "-0.50".
[[nodiscard]] std::string format_amount(const common::v1::Money& money);
// "25000.50 EUR"; "" when there is no amount (no currency).
[[nodiscard]] std::string format_money(const common::v1::Money& money);

}  // namespace gatehouse::web
