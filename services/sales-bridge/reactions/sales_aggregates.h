// The four aggregate runtimes of the sales bridge, as the API and the reactions use them.
#pragma once

#include "domain/account.h"
#include "domain/lead.h"
#include "domain/opportunity.h"
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
