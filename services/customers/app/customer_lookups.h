// The master data's reads: customers and partner users looked up, and the customer list. Lookups
// go through the Customer read model (domain/customer_read_model.h), which the kernel keeps in the
// same write as the events: by email, CRM id, request number, hierarchy, user id, and the list's
// keyset pages. Each costs O(log n + matches), or O(log n + page) for a list page; aggregates are
// loaded on demand (an LRU cache) only for the hits. Nothing walks all customers, except a list's
// free-text filter, which scans the summaries of the range it filters (see README). Reads only;
// safe on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/app_context.h"
#include "domain/customer_read_model.h"

namespace gatehouse::customers {

// A partner user found anywhere: their organisation and their record there.
struct UserRef final {
    std::string organization_id;
    PartnerUserState user;
};

// What ListCustomers asks for.
struct CustomerQuery final {
    v1::CustomerType type = v1::CUSTOMER_TYPE_UNSPECIFIED;  // UNSPECIFIED: any
    ListStatus status = ListStatus::any;
    std::string text;   // lower-case; empty: any
    std::string after;  // the read-model cursor of the previous page's last customer; empty: from the first
    std::size_t page_size = 50;
};

struct CustomerPage final {
    std::vector<CustomerState> customers;
    std::string last_cursor;  // set when more customers follow: the next page starts after it
    std::int64_t total = 0;   // all customers that match, on every page
};

// One event of a customer's history, as GetCustomer shows it to staff.
struct HistoryEntry final {
    google::protobuf::Timestamp at;
    std::string event_type;
    std::string actor;
};

class CustomerLookups final {
  public:
    explicit CustomerLookups(const AppContext& context) : customers_(context.customers()), store_(context.store()) {}

    [[nodiscard]] std::optional<CustomerState> customer(const std::string& customer_id) const;
    // The Organization linked to this CRM account.
    [[nodiscard]] std::optional<CustomerState> organization_by_crm_account(const std::string& crm_account_id) const;
    // The customer linked to this CRM contact.
    [[nodiscard]] std::optional<CustomerState> customer_by_crm_contact(const std::string& crm_contact_id) const;
    // The customer of this type that this prospect request created, linked to its CRM record or
    // not (the first in customer id order).
    [[nodiscard]] std::optional<CustomerState> customer_of_request(const std::string& request_number,
                                                                   v1::CustomerType type, bool crm_linked) const;
    // Has this request made an Organization a partner already?
    [[nodiscard]] bool request_onboarded(const std::string& request_number) const;
    // The Organization that has this hierarchy.
    [[nodiscard]] std::optional<CustomerState> organization_of_hierarchy(const std::string& hierarchy_id) const;
    // A partner user (of any status) by id, with their organisation.
    [[nodiscard]] std::optional<UserRef> user(const std::string& user_id) const;
    // The Active partner user with this email (case-insensitive).
    [[nodiscard]] std::optional<UserRef> active_user_by_email(const std::string& email) const;
    // The organisation a Person belongs to: its own link, else through the CRM account.
    [[nodiscard]] std::string organization_of(const CustomerState& person) const;
    // ... or, for a Person without a link, the organisation where it has a web account.
    [[nodiscard]] std::string organization_of_person(const CustomerState& person) const;
    // Is `email` the primary email of an active (not blocked) Person customer?
    [[nodiscard]] bool person_email_taken(const std::string& email) const;
    // ... of one that belongs to this organisation?
    [[nodiscard]] bool person_email_taken_in(const std::string& email, const std::string& organization_id) const;
    // Does this Person belong to the organisation: its own link, its CRM account, or a member of
    // one of the organisation's hierarchies (seed 001: HQ builds the hierarchy)?
    [[nodiscard]] bool belongs_to(const CustomerState& person, const CustomerState& organization) const;
    // The active Person customer of this organisation with this email, if any.
    [[nodiscard]] std::optional<CustomerState> person_in(const std::string& email,
                                                         const CustomerState& organization) const;

    // One page of customers in customer id order (ids are zero-padded numbers: creation order),
    // after the cursor `query.after`. Type and status filters select an index range and its
    // counter: O(log n + page). A `text` filter (lower-case substring of name, email, customer id
    // or CRM ids) scans the summaries of that range to count its matches: O(range).
    [[nodiscard]] CustomerPage list_customers(const CustomerQuery& query) const;
    // The customer's events, oldest first: when, what and by whom.
    [[nodiscard]] std::vector<HistoryEntry> history(const std::string& customer_id) const;

  private:
    // The customer of the first hit of `index` under `key`.
    [[nodiscard]] std::optional<CustomerState> first_customer(std::string_view index,
                                                              const kernel::IndexKey& key) const;

    CustomerRuntime& customers_;
    kernel::EventStore& store_;
};

}  // namespace gatehouse::customers
