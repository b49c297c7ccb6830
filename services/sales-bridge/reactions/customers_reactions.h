// How the sales bridge applies the customers service's changes (docs/replication.md): only events
// with origin LOCAL (no echo).
// - A customer made in commerce (HQ, a direct-mode approval, a partner user) and linked to no CRM
//   record becomes one: an Organization an account `ACC-<customer id>`, a Person a contact
//   `CON-<customer id>` in its organisation's account, both with origin REPLICATED, the customer's
//   own changed_at and its id (customers then links the customer to them). Not for a customer of a
//   CRM-mode request, whose lead's qualification makes (and links) its account and contact, nor
//   for a Person without an organisation (a contact belongs to an account).
// - Changes: per field last-writer-wins (the Account / Contact deciders) on the linked account /
//   contact, found by the CRM id the event names or else by the id made from the customer's. What
//   wins is published as AccountUpdated / ContactUpdated with origin REPLICATED; if nothing wins,
//   nothing is published and the event is only recorded as processed.
#pragma once

#include <optional>

#include "domain/sales_runtimes.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::sales {

// The change to apply to the linked account, if the event is one to apply (origin LOCAL, an
// Organization linked to an account). Pure.
std::optional<ChangeAccount> account_change_from(const customers::v1::CustomerUpdated& updated);
// The same for a Person linked to a contact.
std::optional<ChangeContact> contact_change_from(const customers::v1::CustomerUpdated& updated);

// A CustomerCreated as the change of every field it has a value for.
customers::v1::CustomerUpdated as_update(const customers::v1::CustomerCreated& created);

// The CRM ids of the account / contact made from a customer made in commerce.
std::string account_id_for_customer(std::string_view customer_id);
std::string contact_id_for_customer(std::string_view customer_id);

// The account or contact to create for a customer made in commerce, if it is one to write to the
// CRM (see above; `has_lead`: whether a lead exists for its request). Pure.
std::optional<CreateAccount> account_for_customer(const customers::v1::CustomerCreated& created, bool has_lead);
std::optional<CreateContact> contact_for_customer(const customers::v1::CustomerCreated& created, bool has_lead);

kernel::HandlerVerdict react_to_customers_event(const kernel::InboundEvent& event, const SalesAggregates& aggregates);

}  // namespace gatehouse::sales
