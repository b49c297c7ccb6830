// The Customer aggregate's runtime: the kernel's decider runtime over the Customer decider, with
// its read model (domain/customer_read_model.h). One per process, shared by the use cases of app/;
// the kernel runtime is safe to call from any thread.
#pragma once

#include "domain/customer.h"
#include "gatehouse/kernel/decider.h"

namespace gatehouse::customers {

using CustomerRuntime = kernel::AggregateRuntime<Customer>;

}  // namespace gatehouse::customers
