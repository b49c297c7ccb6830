// The Account and Contact aggregates: the company and the requester of a qualified lead, kept in
// step with the customers service's Organization / Person customers (docs/replication.md).
//
//   Account: (none) --create--> Active --change (local edit or replicated from customers)--> Active
//   Contact: the same.
//
// A change carries its stamp; per field the later stamp wins (replicated_record.h). A local change
// is published with origin LOCAL, a replicated one with origin REPLICATED; a change of which no
// field wins produces no event at all. Pure deciders, no I/O.
#pragma once

#include <array>
#include <string_view>
#include <variant>

#include "domain/replicated_record.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::sales {

inline constexpr std::array<std::string_view, 5> kAccountFields = {"name", "address", "phone", "website", "tax_id"};
inline constexpr std::array<std::string_view, 5> kContactFields = {"first_name", "last_name", "email", "phone",
                                                                   "job_title"};

// Create the account: the values and ids; the decider lists the fields and sets the origin. LOCAL:
// made in the CRM (qualification), stamped `now`; REPLICATED: written from a customer made in
// commerce (account.customer_id set), stamped with the customer's own changed_at as `now`, so that
// both sides hold the same stamp (docs/replication.md). Creating an existing account does nothing.
struct CreateAccount final {
    v1::AccountCreated account;
    google::protobuf::Timestamp now;
    common::v1::ChangeOrigin origin = common::v1::CHANGE_ORIGIN_LOCAL;
};

// Change replicated fields: `change` names them in changed_fields with their new values and
// changed_at. Side sales = a CRM user's edit; side customers = applied from the customers topic.
struct ChangeAccount final {
    v1::AccountUpdated change;
    Side side = Side::sales;
};

struct AccountState final {
    bool exists = false;
    v1::AccountCreated record;  // current values
    FieldStamps stamps;
};

struct Account final {
    using Event = v1::AccountEvent;
    using Command = std::variant<CreateAccount, ChangeAccount>;
    using State = AccountState;
    static constexpr std::string_view kAggregateType = "account";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

struct CreateContact final {
    v1::ContactCreated contact;
    google::protobuf::Timestamp now;
    common::v1::ChangeOrigin origin = common::v1::CHANGE_ORIGIN_LOCAL;  // as for CreateAccount
};

struct ChangeContact final {
    v1::ContactUpdated change;
    Side side = Side::sales;
};

struct ContactState final {
    bool exists = false;
    v1::ContactCreated record;
    FieldStamps stamps;
};

struct Contact final {
    using Event = v1::ContactEvent;
    using Command = std::variant<CreateContact, ChangeContact>;
    using State = ContactState;
    static constexpr std::string_view kAggregateType = "contact";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

static_assert(kernel::Decider<Account>);
static_assert(kernel::Decider<Contact>);

}  // namespace gatehouse::sales
