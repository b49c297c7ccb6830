#include "reactions/sales_reactions.h"

#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/validation.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::customers {
namespace {

template <class Message>
bool parse(const kernel::InboundEvent& event, Message& message) {
    return message.ParseFromString(event.envelope.payload());
}

// What accounts and contacts carry alike: their account, request, changed fields, time and origin.
template <class Record>
CrmChange change_of(const Record& record, bool account, bool created, const std::string& crm_id) {
    CrmChange change;
    change.account = account;
    change.created = created;
    change.crm_id = crm_id;
    change.account_id = record.account_id();
    change.request_number = record.prospect_request_number();
    change.fields.assign(record.changed_fields().begin(), record.changed_fields().end());
    change.changed_at = record.changed_at();
    change.origin = record.origin();
    return change;
}

template <class Account>
CrmChange account_change(const Account& account, bool created) {
    CrmChange change = change_of(account, true, created, account.account_id());
    change.details.set_name(account.name());
    *change.details.mutable_address() = account.address();
    change.details.set_phone(account.phone());
    change.details.set_website(account.website());
    change.details.set_tax_id(account.tax_id());
    return change;
}

template <class Contact>
CrmChange contact_change(const Contact& contact, bool created) {
    CrmChange change = change_of(contact, false, created, contact.contact_id());
    change.details.set_first_name(contact.first_name());
    change.details.set_last_name(contact.last_name());
    change.details.set_name(contact.first_name() + " " + contact.last_name());
    change.details.set_email(platform::to_lower(contact.email()));
    change.details.set_phone(contact.phone());
    change.details.set_job_title(contact.job_title());
    return change;
}

kernel::HandlerVerdict replicate(const kernel::InboundEvent& event, CrmReplication& replication) {
    const std::string& type = event.envelope.event_type();
    CrmChange change;
    bool ok = false;
    if (type == sales::v1::AccountCreated::descriptor()->full_name()) {
        sales::v1::AccountCreated message;
        ok = parse(event, message);
        change = account_change(message, true);
        change.customer_id = message.customer_id();
    } else if (type == sales::v1::AccountUpdated::descriptor()->full_name()) {
        sales::v1::AccountUpdated message;
        ok = parse(event, message);
        change = account_change(message, false);
    } else if (type == sales::v1::ContactCreated::descriptor()->full_name()) {
        sales::v1::ContactCreated message;
        ok = parse(event, message);
        change = contact_change(message, true);
        change.customer_id = message.customer_id();
    } else {
        sales::v1::ContactUpdated message;
        ok = parse(event, message);
        change = contact_change(message, false);
    }
    if (!ok || change.crm_id.empty()) {
        return kernel::HandlerVerdict::poison("undecodable " + type + " or no account / contact id");
    }
    return replication.replicate(change, event);
}

kernel::HandlerVerdict record_deal(const kernel::InboundEvent& event, CrmReplication& replication) {
    const std::string& type = event.envelope.event_type();
    RecordDealOutcome outcome;
    bool ok = false;
    if (type == sales::v1::OpportunityWon::descriptor()->full_name()) {
        sales::v1::OpportunityWon won;
        ok = parse(event, won);
        outcome.won = true;
        outcome.request_number = won.prospect_request_number();
        outcome.opportunity_id = won.opportunity_id();
        outcome.decided_by = won.won_by();
        outcome.decided_at = kernel::to_time_point(won.won_at());
    } else {
        sales::v1::OpportunityLost lost;
        ok = parse(event, lost);
        outcome.request_number = lost.prospect_request_number();
        outcome.opportunity_id = lost.opportunity_id();
        outcome.reason = lost.reason();
        outcome.decided_by = lost.lost_by();
        outcome.decided_at = kernel::to_time_point(lost.lost_at());
    }
    if (!ok) {
        return kernel::HandlerVerdict::poison("undecodable " + type);
    }
    return replication.record_deal(outcome, event);
}

}  // namespace

kernel::HandlerVerdict react_to_sales_event(const kernel::InboundEvent& event, CrmReplication& replication) {
    const std::string& type = event.envelope.event_type();
    if (type == sales::v1::OpportunityWon::descriptor()->full_name() ||
        type == sales::v1::OpportunityLost::descriptor()->full_name()) {
        return record_deal(event, replication);
    }
    if (type != sales::v1::AccountCreated::descriptor()->full_name() &&
        type != sales::v1::AccountUpdated::descriptor()->full_name() &&
        type != sales::v1::ContactCreated::descriptor()->full_name() &&
        type != sales::v1::ContactUpdated::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();  // leads, opportunities, notes: not ours
    }
    return replicate(event, replication);
}

}  // namespace gatehouse::customers
