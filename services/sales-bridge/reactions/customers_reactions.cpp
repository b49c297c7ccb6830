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

kernel::HandlerVerdict react_to_customers_event(const kernel::InboundEvent& event, AccountRuntime& accounts,
                                                ContactRuntime& contacts) {
    if (event.envelope.event_type() != customers::v1::CustomerUpdated::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();  // created (from our own accounts), hierarchies, users, ...
    }
    customers::v1::CustomerUpdated updated;
    if (!updated.ParseFromString(event.envelope.payload())) {
        return kernel::HandlerVerdict::poison("undecodable " + event.envelope.event_type());
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
