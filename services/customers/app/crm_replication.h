// The CRM's side of the customer master (docs/replication.md): a CRM account / contact created or
// changed LOCALLY in the CRM becomes, or changes, its linked Organization / Person (per-field last
// writer wins in the decider; a Person's web accounts follow); a CRM record sales-bridge made from
// one of our customers only links it (no echo). A deal outcome (opportunity won / lost) decides the
// customers made at its lead's qualification. Request customers are found and created under
// AppContext::request_customers(), which an approval of the same request also takes. No gRPC
// here; safe on any thread.
#pragma once

#include <string>
#include <vector>

#include "app/app_context.h"
#include "app/customer_lookups.h"
#include "app/master_data.h"
#include "gatehouse/kernel/number_sequence.h"

namespace gatehouse::customers {

// One CRM account / contact change, in the shape the customers side keeps it.
struct CrmChange final {
    bool account = true;
    bool created = false;
    std::string crm_id;
    std::string account_id;
    std::string request_number;
    std::string customer_id;  // a CRM record made from one of our customers (created events only)
    v1::CustomerDetails details;
    std::vector<std::string> fields;
    google::protobuf::Timestamp changed_at;
    common::v1::ChangeOrigin origin = common::v1::CHANGE_ORIGIN_UNSPECIFIED;
};

class CrmReplication final {
  public:
    CrmReplication(AppContext& context, const CustomerLookups& lookups, MasterData& master_data,
                   kernel::NumberSequence& customer_numbers)
        : context_(context), lookups_(lookups), master_data_(master_data), customer_numbers_(customer_numbers) {}

    // Applies one account / contact change (`event`: the sales event it came in, for its ids and
    // inbox record). One customer per CRM id, however often the change is delivered.
    kernel::HandlerVerdict replicate(const CrmChange& change, const kernel::InboundEvent& event);
    // OpportunityWon / OpportunityLost: the request's PROSPECTIVE Organization and Person become
    // PARTNER / CLOSED (seed 000 made them at qualification); the outcome is kept (store metadata)
    // for those not replicated yet, which replicate() then creates decided.
    kernel::HandlerVerdict record_deal(const RecordDealOutcome& outcome, const kernel::InboundEvent& event);

  private:
    AppContext& context_;
    const CustomerLookups& lookups_;
    MasterData& master_data_;
    kernel::NumberSequence& customer_numbers_;
};

}  // namespace gatehouse::customers
