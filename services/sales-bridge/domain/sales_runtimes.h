// The four aggregate runtimes of the sales bridge, as the use cases (app/) and the reactions use
// them. Each is constructed with its read model (lead_read_model() etc.): the lists, counts and
// checks read them.
#pragma once

#include "domain/account.h"
#include "domain/account_read_model.h"
#include "domain/lead.h"
#include "domain/lead_read_model.h"
#include "domain/opportunity.h"
#include "domain/opportunity_read_model.h"
#include "gatehouse/kernel/decider.h"

namespace gatehouse::sales {

using LeadRuntime = kernel::AggregateRuntime<Lead>;
using OpportunityRuntime = kernel::AggregateRuntime<Opportunity>;
using AccountRuntime = kernel::AggregateRuntime<Account>;
using ContactRuntime = kernel::AggregateRuntime<Contact>;

struct SalesAggregates final {
    LeadRuntime& leads;
    OpportunityRuntime& opportunities;
    AccountRuntime& accounts;
    ContactRuntime& contacts;
};

}  // namespace gatehouse::sales
