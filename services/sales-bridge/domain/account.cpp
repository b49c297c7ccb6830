#include "domain/account.h"

namespace gatehouse::sales {
namespace {

using kernel::Rejection;
using kernel::RejectionCode;

// Creation and change, the same for accounts and contacts. `Union` is the event union; `created_of`
// / `updated_of` pick its cases.
template <class Union, class Created, class State, class CreatedOf>
kernel::Decision<Union> decide_create(const Created& record, const google::protobuf::Timestamp& now,
                                      common::v1::ChangeOrigin origin, const State& state,
                                      std::span<const std::string_view> fields, CreatedOf created_of) {
    if (state.exists) {
        return std::vector<Union>{};
    }
    std::vector<Union> events(1);
    Created& created = *created_of(events[0]);
    created = record;
    created.clear_changed_fields();
    for (const std::string& name : fields_with_values(record, fields)) {
        created.add_changed_fields(name);
    }
    *created.mutable_changed_at() = now;
    created.set_origin(origin == common::v1::CHANGE_ORIGIN_REPLICATED ? origin : common::v1::CHANGE_ORIGIN_LOCAL);
    return events;
}

template <class Union, class Updated, class State, class UpdatedOf, class CopyIds>
kernel::Decision<Union> decide_update(const Updated& change, Side side, const State& state,
                                      std::span<const std::string_view> fields, std::string_view what,
                                      UpdatedOf updated_of, CopyIds copy_ids) {
    if (!state.exists) {
        return Rejection{RejectionCode::not_found, std::string(what) + ": no such record"};
    }
    Updated out;
    if (auto rejected = decide_change(state.record, state.stamps, change, side, fields, out)) {
        return *rejected;
    }
    if (out.changed_fields_size() == 0) {
        return std::vector<Union>{};  // nothing won (or nothing changed): nothing to publish
    }
    copy_ids(state.record, out);
    std::vector<Union> events(1);
    *updated_of(events[0]) = std::move(out);
    return events;
}

}  // namespace

kernel::Decision<v1::AccountEvent> Account::decide(const Command& command, const State& state) {
    if (const auto* create = std::get_if<CreateAccount>(&command)) {
        if (create->account.account_id().empty()) {
            return Rejection{RejectionCode::invalid_argument, "account_id: is required"};
        }
        if (create->origin == common::v1::CHANGE_ORIGIN_REPLICATED && create->account.customer_id().empty()) {
            return Rejection{RejectionCode::invalid_argument, "customer_id: is required for a replicated account"};
        }
        return decide_create<v1::AccountEvent>(create->account, create->now, create->origin, state, kAccountFields,
                                               [](v1::AccountEvent& event) { return event.mutable_account_created(); });
    }
    const auto& change = std::get<ChangeAccount>(command);
    return decide_update<v1::AccountEvent>(
        change.change, change.side, state, kAccountFields, "account_id",
        [](v1::AccountEvent& event) { return event.mutable_account_updated(); },
        [](const v1::AccountCreated& record, v1::AccountUpdated& out) {
            out.set_account_id(record.account_id());
            out.set_prospect_request_number(record.prospect_request_number());
        });
}

AccountState Account::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kAccountCreated:
            state.exists = true;
            state.record = event.account_created();
            state.stamps.clear();
            apply_change(event.account_created(), state.record, state.stamps);
            break;
        case Event::kAccountUpdated:
            apply_change(event.account_updated(), state.record, state.stamps);
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

kernel::Decision<v1::ContactEvent> Contact::decide(const Command& command, const State& state) {
    if (const auto* create = std::get_if<CreateContact>(&command)) {
        if (create->contact.contact_id().empty() || create->contact.account_id().empty()) {
            return Rejection{RejectionCode::invalid_argument, "contact_id and account_id: are required"};
        }
        if (create->origin == common::v1::CHANGE_ORIGIN_REPLICATED && create->contact.customer_id().empty()) {
            return Rejection{RejectionCode::invalid_argument, "customer_id: is required for a replicated contact"};
        }
        return decide_create<v1::ContactEvent>(create->contact, create->now, create->origin, state, kContactFields,
                                               [](v1::ContactEvent& event) { return event.mutable_contact_created(); });
    }
    const auto& change = std::get<ChangeContact>(command);
    return decide_update<v1::ContactEvent>(
        change.change, change.side, state, kContactFields, "contact_id",
        [](v1::ContactEvent& event) { return event.mutable_contact_updated(); },
        [](const v1::ContactCreated& record, v1::ContactUpdated& out) {
            out.set_contact_id(record.contact_id());
            out.set_account_id(record.account_id());
            out.set_prospect_request_number(record.prospect_request_number());
        });
}

ContactState Contact::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kContactCreated:
            state.exists = true;
            state.record = event.contact_created();
            state.stamps.clear();
            apply_change(event.contact_created(), state.record, state.stamps);
            break;
        case Event::kContactUpdated:
            apply_change(event.contact_updated(), state.record, state.stamps);
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::sales
