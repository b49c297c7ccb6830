// How the sales bridge applies the customers service's changes to linked accounts / contacts
// (docs/replication.md): only CustomerUpdated (and CustomerCreated) events with origin LOCAL (no
// echo), only for a CRM
// id this service knows, per field last-writer-wins (the Account / Contact deciders). What wins is
// published as AccountUpdated / ContactUpdated with origin REPLICATED; if nothing wins, nothing is
// published and the event is only recorded as processed.
#pragma once

#include <optional>

#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "reactions/sales_aggregates.h"

namespace gatehouse::sales {

// The change to apply to the linked account, if the event is one to apply (origin LOCAL, an
// Organization linked to an account). Pure.
std::optional<ChangeAccount> account_change_from(const customers::v1::CustomerUpdated& updated);
// The same for a Person linked to a contact.
std::optional<ChangeContact> contact_change_from(const customers::v1::CustomerUpdated& updated);

// A CustomerCreated as the change of every field it has a value for.
customers::v1::CustomerUpdated as_update(const customers::v1::CustomerCreated& created);

kernel::HandlerVerdict react_to_customers_event(const kernel::InboundEvent& event, AccountRuntime& accounts,
                                                ContactRuntime& contacts);

}  // namespace gatehouse::sales
