// What the use cases of app/ share, so that none of them copies it: the Customer runtime and the
// event store, the command helper that stamps a call's actor, the inbox verdict of a command's
// result, the two locks that serialise find-or-create steps across use cases, and the layout of
// the credentials in the store's metadata. No gRPC here. Every member is safe on any thread.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer_runtime.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::customers {

using Result = kernel::CommandResult<v1::CustomerEvent>;

class AppContext final {
  public:
    AppContext(CustomerRuntime& customers, kernel::EventStore& store) : customers_(customers), store_(store) {}
    AppContext(const AppContext&) = delete;
    AppContext& operator=(const AppContext&) = delete;

    [[nodiscard]] CustomerRuntime& customers() const { return customers_; }
    [[nodiscard]] kernel::EventStore& store() const { return store_; }

    // One command on one customer, by `actor`, under a new correlation id.
    Result execute(const std::string& customer_id, const Customer::Command& command, const std::string& actor) const;

    // Held from a Person email's uniqueness check to the Person's creation (create_customer,
    // add_partner_user), so that two concurrent calls cannot both pass the check.
    std::mutex& person_emails() { return person_emails_; }
    // Held by an approval, a CRM account / contact replication and a deal outcome from finding a
    // request's customers to creating or linking them, so that one request makes one of each.
    std::mutex& request_customers() { return request_customers_; }

  private:
    CustomerRuntime& customers_;
    kernel::EventStore& store_;
    std::mutex person_emails_;
    std::mutex request_customers_;
};

// The inbox's verdict on the result of a reaction's command: applied; a conflict or unavailable
// store retried (TransientError); any other rejection recorded as processed and logged.
kernel::HandlerVerdict verdict_of(const Result& result, const kernel::InboundEvent& event);

// The store's metadata (never in an event): a user's argon2id password hash, by user and credential id.
std::string credential_key(const std::string& user_id, const std::string& credential_id);
// Binary bytes (a token's hash) as lower-case hex, for a metadata key.
std::string hex(std::string_view bytes);
// A metadata value's fields, one per line.
std::vector<std::string> split_lines(const std::string& text);

}  // namespace gatehouse::customers
