// What the notifier's use cases answer: a value or a kernel::Rejection whose code and message are
// what the caller sees (kernel::to_grpc_status), and the rows of their lists. Plain values; no I/O,
// any thread.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::notifier {

// A value, or why not.
template <class Value>
using Outcome = std::variant<Value, kernel::Rejection>;

// The caller's input is refused; `message` names the field and the rule ("url: is required").
inline kernel::Rejection invalid_argument(std::string message) {
    return {kernel::RejectionCode::invalid_argument, std::move(message)};
}

// One row of a list: an aggregate's id and its state.
template <class State>
struct Listed final {
    std::string id;
    State state;
};

}  // namespace gatehouse::notifier
