// The customer master data: creating customers (a Person only with an email no active Person
// customer has), changing their master data (HQ or CRM; a Person's web accounts follow), any other
// command on a customer, and the customer number sequence. No gRPC here; safe on any thread
// (commands go through the Customer runtime; Person creation holds AppContext::person_emails()).
#pragma once

#include <string>
#include <variant>

#include "app/app_context.h"
#include "app/customer_lookups.h"
#include "app/partner_users.h"
#include "gatehouse/kernel/number_sequence.h"

namespace gatehouse::customers {

// A customer HQ creates (CreateCustomer), its request checked for shape already.
struct NewCustomer final {
    v1::CustomerType type = v1::CUSTOMER_TYPE_UNSPECIFIED;
    v1::CustomerDetails details;  // email lower-cased; a Person's name is made from its names
    std::string organization_id;  // a Person's organisation, or empty
    bool b2b_admin = false;       // the Person becomes the organisation's administrator
};

class MasterData final {
  public:
    MasterData(AppContext& context, const CustomerLookups& lookups, PartnerUsers& users,
               kernel::NumberSequence& numbers)
        : context_(context), lookups_(lookups), users_(users), numbers_(numbers) {}

    // One command on one customer, by `actor`.
    Result execute(const std::string& customer_id, const Customer::Command& command, const std::string& actor) {
        return context_.execute(customer_id, command, actor);
    }
    // Creates a customer; a Person only if its email is not an active Person customer's (checked
    // and created under one lock, so two concurrent calls cannot both pass).
    Result create_customer(const CreateCustomer& create, const std::string& actor);
    // Creates HQ's customer under the next customer number; answers its id. A Person of an
    // organisation (NOT_FOUND if there is none such) gets the organisation's CRM account (where the
    // CRM puts its contact), and with b2b_admin becomes its administrator (web account, invited).
    std::variant<std::string, kernel::Rejection> create_by_hq(const NewCustomer& customer, const std::string& actor);
    // A change of a customer's master data (HQ or CRM). For a Person, its web accounts follow
    // (PartnerUsers::sync_users) first, from the state the change will produce, so that a retry
    // after a crash in between finds the accounts up to date and the change still to apply.
    Result update_customer(const std::string& customer_id, const UpdateCustomer& update,
                           const kernel::CommandContext& context);

  private:
    AppContext& context_;
    const CustomerLookups& lookups_;
    PartnerUsers& users_;
    kernel::NumberSequence& numbers_;
};

}  // namespace gatehouse::customers
