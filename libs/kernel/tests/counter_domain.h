// A test domain for the kernel: a counter that can be created, incremented and closed.
#pragma once

#include <string>
#include <variant>

#include "gatehouse/kernel/decider.h"
#include "gatehouse/testing/v1/counter.pb.h"

namespace gatehouse::testing {

struct Counter final {
    using Event = v1::CounterEvent;
    struct Create {
        std::string name;
    };
    struct Increment {
        std::int64_t amount = 1;
        std::string note;
    };
    struct Close {
        std::string reason;
    };
    using Command = std::variant<Create, Increment, Close>;
    struct State {
        bool exists = false;
        bool closed = false;
        std::string name;
        std::int64_t value = 0;
        std::uint64_t increments = 0;
    };

    static constexpr std::string_view kAggregateType = "counter";

    static State initial() { return {}; }

    static kernel::Decision<Event> decide(const Command& command, const State& state) {
        using kernel::Rejection;
        using kernel::RejectionCode;
        if (const auto* create = std::get_if<Create>(&command)) {
            if (state.exists) {
                return Rejection{RejectionCode::already_exists, "counter exists"};
            }
            Event event;
            event.mutable_created()->set_name(create->name);
            return std::vector<Event>{event};
        }
        if (!state.exists) {
            return Rejection{RejectionCode::not_found, "no such counter"};
        }
        if (state.closed) {
            return Rejection{RejectionCode::failed_precondition, "counter is closed"};
        }
        if (const auto* increment = std::get_if<Increment>(&command)) {
            if (increment->amount <= 0) {
                return Rejection{RejectionCode::invalid_argument, "amount: must be positive"};
            }
            Event event;
            event.mutable_incremented()->set_amount(increment->amount);
            event.mutable_incremented()->set_note(increment->note);
            return std::vector<Event>{event};
        }
        Event event;
        event.mutable_closed()->set_reason(std::get<Close>(command).reason);
        return std::vector<Event>{event};
    }

    static State evolve(State state, const Event& event) {
        switch (event.event_case()) {
            case Event::kCreated:
                state.exists = true;
                state.name = event.created().name();
                break;
            case Event::kIncremented:
                state.value += event.incremented().amount();
                ++state.increments;
                break;
            case Event::kClosed:
                state.closed = true;
                break;
            case Event::EVENT_NOT_SET:
                break;
        }
        return state;
    }
};

static_assert(kernel::Decider<Counter>);

// The counter's read model for the kernel's tests: by name, by value (largest first), open ones by
// increments; counters of open and closed counters. `version` lets a test change the definition.
inline kernel::ReadModel<Counter::State> counter_read_model(std::uint32_t version = 1) {
    return {version, [version](const std::string&, const Counter::State& state, kernel::IndexEntries& entries) {
                entries.add("by_name", kernel::IndexKey().text(state.name), std::to_string(state.value));
                entries.add("by_value", kernel::IndexKey().i64_descending(state.value));
                if (!state.closed) {
                    entries.add("open_by_increments", kernel::IndexKey().u64(state.increments));
                }
                entries.count(state.closed ? "closed" : "open");
                if (version > 1) {
                    entries.add("by_name_v2", kernel::IndexKey().text(state.name));
                }
            }};
}

}  // namespace gatehouse::testing
