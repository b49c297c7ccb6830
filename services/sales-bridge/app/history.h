// The timeline of a lead or an opportunity as people read it: every event of its stream, oldest
// first, with when, who and what in words (the first entry says it was created by replication
// from the storefront). Read from the log (O(the record's stream)); no gRPC here.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

#include "gatehouse/kernel/event_store.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::sales {

struct HistoryEntry final {
    google::protobuf::Timestamp at;
    std::string event_type;  // the event's full name, e.g. "gatehouse.sales.v1.NoteAdded"
    std::string actor;       // a user id, or "sales-bridge" for what the service did itself
    std::string detail;      // what happened, for people
};

// What happened, for people ("assigned to bob", "note: ...").
std::string describe(const v1::LeadEvent& event);
std::string describe(const v1::OpportunityEvent& event);

std::vector<HistoryEntry> lead_history(const kernel::EventStore& store, const std::string& lead_id);
std::vector<HistoryEntry> opportunity_history(const kernel::EventStore& store, const std::string& opportunity_id);

}  // namespace gatehouse::sales
