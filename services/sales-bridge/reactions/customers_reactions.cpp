#include "reactions/customers_reactions.h"

#include "domain/lead.h"
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
    kernel::logger("sales-bridge")
        ->debug("{} from {} applied to {}", event.envelope.event_type(), event.envelope.event_id(), id);
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

std::string account_id_for_customer(std::string_view customer_id) { return "ACC-" + std::string(customer_id); }
std::string contact_id_for_customer(std::string_view customer_id) { return "CON-" + std::string(customer_id); }

namespace {

// A customer made in commerce that the CRM should get: LOCAL, linked to no CRM record, not of a
// CRM-mode request (whose qualification writes it).
// (A Person's crm_account_id names its organisation's account, not a link of its own.)
bool to_write_to_crm(const customers::v1::CustomerCreated& created, bool has_lead) {
    const bool linked = created.type() == customers::v1::CUSTOMER_TYPE_PERSON ? !created.crm_contact_id().empty()
                                                                              : !created.crm_account_id().empty();
    return created.origin() == common::v1::CHANGE_ORIGIN_LOCAL && !linked && !created.customer_id().empty() &&
           !has_lead;
}

}  // namespace

std::optional<CreateAccount> account_for_customer(const customers::v1::CustomerCreated& created, bool has_lead) {
    if (created.type() != customers::v1::CUSTOMER_TYPE_ORGANIZATION || !to_write_to_crm(created, has_lead)) {
        return std::nullopt;
    }
    const auto& details = created.details();
    CreateAccount create;
    auto& account = create.account;
    account.set_account_id(account_id_for_customer(created.customer_id()));
    account.set_customer_id(created.customer_id());
    account.set_prospect_request_number(created.prospect_request_number());
    account.set_name(details.name());
    if (details.has_address()) {
        *account.mutable_address() = details.address();
    }
    account.set_phone(details.phone());
    account.set_website(details.website());
    account.set_tax_id(details.tax_id());
    create.now = created.changed_at();
    create.origin = common::v1::CHANGE_ORIGIN_REPLICATED;
    return create;
}

std::optional<CreateContact> contact_for_customer(const customers::v1::CustomerCreated& created, bool has_lead) {
    if (created.type() != customers::v1::CUSTOMER_TYPE_PERSON || !to_write_to_crm(created, has_lead) ||
        (created.organization_customer_id().empty() && created.crm_account_id().empty())) {
        return std::nullopt;
    }
    const auto& details = created.details();
    CreateContact create;
    auto& contact = create.contact;
    contact.set_contact_id(contact_id_for_customer(created.customer_id()));
    contact.set_customer_id(created.customer_id());
    // The organisation's account: the one customers names (a CRM-made or already linked organisation),
    // else the one made from the organisation.
    contact.set_account_id(!created.crm_account_id().empty()
                               ? created.crm_account_id()
                               : account_id_for_customer(created.organization_customer_id()));
    contact.set_prospect_request_number(created.prospect_request_number());
    contact.set_first_name(details.first_name());
    contact.set_last_name(details.last_name());
    contact.set_email(details.email());
    contact.set_phone(details.phone());
    contact.set_job_title(details.job_title());
    create.now = created.changed_at();
    create.origin = common::v1::CHANGE_ORIGIN_REPLICATED;
    return create;
}

kernel::HandlerVerdict react_to_customers_event(const kernel::InboundEvent& event, const SalesAggregates& aggregates) {
    const std::string& type = event.envelope.event_type();
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "customers",
                                         .inbox_key = event.inbox_key};
    customers::v1::CustomerUpdated updated;
    if (type == customers::v1::CustomerUpdated::descriptor()->full_name()) {
        if (!updated.ParseFromString(event.envelope.payload())) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
    } else if (type == customers::v1::CustomerCreated::descriptor()->full_name()) {
        customers::v1::CustomerCreated created;
        if (!created.ParseFromString(event.envelope.payload())) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        // Made in commerce: written to the CRM.
        const bool has_lead = !created.prospect_request_number().empty() &&
                              aggregates.leads.find(lead_id_for(created.prospect_request_number())).has_value();
        if (auto account = account_for_customer(created, has_lead)) {
            return verdict_of(aggregates.accounts.execute(account->account.account_id(), *account, context), event,
                              account->account.account_id());
        }
        if (auto contact = contact_for_customer(created, has_lead)) {
            return verdict_of(aggregates.contacts.execute(contact->contact.contact_id(), *contact, context), event,
                              contact->contact.contact_id());
        }
        // Otherwise normally REPLICATED (made from our own account / contact); a LOCAL one that
        // names a CRM id carries HQ's values for all its fields.
        updated = as_update(created);
    } else {
        return kernel::HandlerVerdict::ignored();  // hierarchies, users, credit limits, ...
    }
    // A change made in commerce before customers recorded the link to the record made from it.
    if (updated.origin() == common::v1::CHANGE_ORIGIN_LOCAL && !updated.customer_id().empty()) {
        if (updated.type() == customers::v1::CUSTOMER_TYPE_ORGANIZATION && updated.crm_account_id().empty() &&
            aggregates.accounts.find(account_id_for_customer(updated.customer_id()))) {
            updated.set_crm_account_id(account_id_for_customer(updated.customer_id()));
        } else if (updated.type() == customers::v1::CUSTOMER_TYPE_PERSON && updated.crm_contact_id().empty() &&
                   aggregates.contacts.find(contact_id_for_customer(updated.customer_id()))) {
            updated.set_crm_contact_id(contact_id_for_customer(updated.customer_id()));
        }
    }
    if (auto change = account_change_from(updated)) {
        return verdict_of(aggregates.accounts.execute(updated.crm_account_id(), *change, context), event,
                          updated.crm_account_id());
    }
    if (auto change = contact_change_from(updated)) {
        return verdict_of(aggregates.contacts.execute(updated.crm_contact_id(), *change, context), event,
                          updated.crm_contact_id());
    }
    return kernel::HandlerVerdict::ignored();  // REPLICATED (our own change coming back) or not linked
}

}  // namespace gatehouse::sales
