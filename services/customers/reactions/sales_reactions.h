// How customers reacts to the sales bridge (docs/replication.md): CRM accounts and contacts created
// or updated become, or change, customers; opportunities won or lost decide the customers made at
// their lead's qualification (app/crm_replication.h). Each effect is committed with the input
// event's inbox record (effectively once). Leads, opportunities and notes are not ours and are
// ignored; an undecodable event, or an account / contact without its id, is dead-lettered. Runs
// on the sales topic's consumer thread.
#pragma once

#include "app/crm_replication.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::customers {

kernel::HandlerVerdict react_to_sales_event(const kernel::InboundEvent& event, CrmReplication& replication);

}  // namespace gatehouse::customers
