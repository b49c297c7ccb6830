// The four sales aggregates on a real event store in a temporary directory, with their read models
// as main.cpp wires them (the reactions, the lists and the qualification check read them).
#pragma once

#include <memory>

#include "domain/sales_runtimes.h"
#include "gatehouse/testing/temp_dir.h"

namespace gatehouse::sales::testing {

struct SalesStore {
    gatehouse::testing::TempDir directory;
    std::unique_ptr<kernel::EventStore> store = kernel::EventStore::open(directory.path() / "log");
    LeadRuntime leads{*store, {"sales-bridge"}, lead_read_model()};
    OpportunityRuntime opportunities{*store, {"sales-bridge"}, opportunity_read_model()};
    AccountRuntime accounts{*store, {"sales-bridge"}, account_read_model()};
    ContactRuntime contacts{*store, {"sales-bridge"}, contact_read_model()};
    SalesAggregates all{leads, opportunities, accounts, contacts};
};

}  // namespace gatehouse::sales::testing
