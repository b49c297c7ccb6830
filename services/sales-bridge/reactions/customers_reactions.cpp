#include "reactions/customers_reactions.h"

#include "gatehouse/kernel/logging.h"

namespace gatehouse::sales {
namespace {

bool applies(const customers::v1::CustomerUpdated& updated) {
    return updated.origin() == common::v1::CHANGE_ORIGIN_LOCAL && updated.changed_fields_size() > 0;
}

template <class Result>
kernel::HandlerVerdict verdict_of(const Result& result, const kernel::InboundEvent& event, const std::string& id) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        if (rejection->code == kernel::RejectionCode::not_found) {
            return kernel::HandlerVerdict::ignored();  // a CRM id this service does not know
        }
        return kernel::HandlerVerdict::poison(rejection->message);
    }
    kernel::logger("sales")->debug("{} from {} applied to {}", event.envelope.event_type(), event.envelope.event_id(),
                                   id);
    return kernel::HandlerVerdict::applied();
}

}  // namespace

std::optional<ChangeAccount> account_change_from(const customers::v1::CustomerUpdated& updated) {
    if (!applies(updated) || updated.crm_account_id().empty() ||
        updated.type() == customers::v1::CUSTOMER_TYPE_PERSON) {
        return std::nullopt;
    }
    const auto& details = updated.details();
    ChangeAccount change;
    change.side = Side::customers;
    auto& body = change.change;
    body.set_account_id(updated.crm_account_id());
    body.set_name(details.name());
    *body.mutable_address() = details.address();
    body.set_phone(details.phone());
    body.set_website(details.website());
    body.set_tax_id(details.tax_id());
    *body.mutable_changed_fields() = updated.changed_fields();  // fields accounts lack are skipped
    *body.mutable_changed_at() = updated.changed_at();
    return change;
}

std::optional<ChangeContact> contact_change_from(const customers::v1::CustomerUpdated& updated) {
    if (!applies(updated) || updated.crm_contact_id().empty() ||
        updated.type() == customers::v1::CUSTOMER_TYPE_ORGANIZATION) {
        return std::nullopt;
    }
    const auto& details = updated.details();
    ChangeContact change;
    change.side = Side::customers;
    auto& body = change.change;
    body.set_contact_id(updated.crm_contact_id());
    body.set_first_name(details.first_name());
    body.set_last_name(details.last_name());
    body.set_email(details.email());
    body.set_phone(details.phone());
    body.set_job_title(details.job_title());
    *body.mutable_changed_fields() = updated.changed_fields();
    *body.mutable_changed_at() = updated.changed_at();
    return change;
}

customers::v1::CustomerUpdated as_update(const customers::v1::CustomerCreated& created) {
    customers::v1::CustomerUpdated updated;
    updated.set_customer_id(created.customer_id());
    updated.set_type(created.type());
    *updated.mutable_details() = created.details();
    *updated.mutable_changed_at() = created.changed_at();
    updated.set_origin(created.origin());
    updated.set_crm_account_id(created.crm_account_id());
    updated.set_crm_contact_id(created.crm_contact_id());
    const auto& details = created.details();
    for (const auto& [name, has_value] :
         std::initializer_list<std::pair<const char*, bool>>{{"name", !details.name().empty()},
                                                             {"phone", !details.phone().empty()},
                                                             {"email", !details.email().empty()},
                                                             {"website", !details.website().empty()},
                                                             {"tax_id", !details.tax_id().empty()},
                                                             {"address", details.has_address()},
                                                             {"first_name", !details.first_name().empty()},
                                                             {"last_name", !details.last_name().empty()},
                                                             {"job_title", !details.job_title().empty()}}) {
        if (has_value) {
            updated.add_changed_fields(name);
        }
    }
    return updated;
}

kernel::HandlerVerdict react_to_customers_event(const kernel::InboundEvent& event, AccountRuntime& accounts,
                                                ContactRuntime& contacts) {
    const std::string& type = event.envelope.event_type();
    customers::v1::CustomerUpdated updated;
    if (type == customers::v1::CustomerUpdated::descriptor()->full_name()) {
        if (!updated.ParseFromString(event.envelope.payload())) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
    } else if (type == customers::v1::CustomerCreated::descriptor()->full_name()) {
        // Normally REPLICATED (made from our own account / contact); a LOCAL one that names a CRM
        // id carries HQ's values for all its fields.
        customers::v1::CustomerCreated created;
        if (!created.ParseFromString(event.envelope.payload())) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        updated = as_update(created);
    } else {
        return kernel::HandlerVerdict::ignored();  // hierarchies, users, credit limits, ...
    }
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "customers",
                                         .inbox_key = event.inbox_key};
    if (auto change = account_change_from(updated)) {
        return verdict_of(accounts.execute(updated.crm_account_id(), *change, context), event,
                          updated.crm_account_id());
    }
    if (auto change = contact_change_from(updated)) {
        return verdict_of(contacts.execute(updated.crm_contact_id(), *change, context), event,
                          updated.crm_contact_id());
    }
    return kernel::HandlerVerdict::ignored();  // REPLICATED (our own change coming back) or not linked
}

}  // namespace gatehouse::sales
