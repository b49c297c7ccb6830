// The customers service's use cases, between the API / reactions and the Customer aggregate:
// looking customers and users up, the prospect approval, replication from the CRM, partner users
// with their invitations, passwords and sessions. No gRPC here.
//
// Lookups go through the Customer read model (domain/customer_read_model.h), which the kernel
// keeps in the same write as the events: by email, CRM id, request number, hierarchy, user id,
// invitation expiry, and the lists' keyset pages. Each costs O(log n + matches), or O(log n + page)
// for a list page; aggregates are loaded on demand (an LRU cache) only for the hits. Nothing walks
// all customers, except a list's free-text filter, which scans the summaries of the range it filters
// (see README).
//
// Secrets: invitation tokens are sealed to the notifier (kernel::TokenSealer); their hashes, the
// argon2id password hashes and the session token hashes live only in the store's metadata, never
// in an event (events go to Kafka). A log rebuilt from the topic therefore has no credentials:
// its users need new invitations.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/sign_in_guard.h"
#include "domain/customer.h"
#include "domain/customer_read_model.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/kernel/sealed_token.h"

namespace gatehouse::customers {

using CustomerRuntime = kernel::AggregateRuntime<Customer>;
using Result = kernel::CommandResult<v1::CustomerEvent>;

struct CustomersSettings final {
    std::chrono::seconds invitation_ttl{72 * 3600};
    std::chrono::seconds session_ttl{8 * 3600};
    std::string notifier_public_key;  // base64url, as gatehouse-keygen prints it
    // argon2id runs (sign-in, set password) at once, and callers that may wait for a turn.
    std::size_t password_hash_concurrency = 2;
    std::size_t password_hash_queue = 32;
    // Failed sign-ins per (email, client address) before growing lockouts (sign_in_guard.h).
    ThrottleSettings sign_in_throttle;
    // "Forgot password": how long a reset link is valid, and how many links one email address may
    // get per hour (more requests are answered alike and send nothing: no mail bombing).
    std::chrono::seconds password_reset_ttl{3600};
    double password_reset_per_email_per_hour = 3;
};

// Too much password hashing at once: the caller is told to retry (RESOURCE_EXHAUSTED).
struct HashingBusy final {};

// Password lengths, in characters (code points), not bytes: 200 x "ä" is 200 characters.
inline constexpr std::size_t kMinPasswordCharacters = 12;
inline constexpr std::size_t kMaxPasswordCharacters = 256;

// Password-reset requests waiting to be issued; more are dropped (their answer is the same anyway).
inline constexpr std::size_t kPasswordResetQueue = 1'000;

struct NumberSequences final {
    kernel::NumberSequence& customers;
    kernel::NumberSequence& hierarchies;
    kernel::NumberSequence& users;
};

// A partner user found anywhere: their organisation and their record there.
struct UserRef final {
    std::string organization_id;
    PartnerUserState user;
};

// What ListCustomers asks for.
struct CustomerQuery final {
    v1::CustomerType type = v1::CUSTOMER_TYPE_UNSPECIFIED;  // UNSPECIFIED: any
    ListStatus status = ListStatus::any;
    std::string text;               // lower-case; empty: any
    std::string after_customer_id;  // the previous page's last id
    std::size_t page_size = 50;
};

struct CustomerPage final {
    std::vector<CustomerState> customers;
    std::string last_customer_id;  // set when more customers follow: the next page starts after it
    std::int64_t total = 0;        // all customers that match, on every page
};

// A hierarchy with the organisation it belongs to.
struct HierarchyRef final {
    std::string hierarchy_id;
    std::string organization_id;
    HierarchyState hierarchy;
};

// Who a partner session belongs to.
struct PartnerSession final {
    std::string user_id;
    std::string organization_id;
    std::string email;
    bool administrator = false;
    std::string token_hash;  // to end the session
};

struct SignedIn final {
    std::string session_token;
    Clock::time_point expires_at;
    std::string user_id;
    std::string organization_id;
};

// A refused sign-in: the email or password is not correct (whichever: the caller is not told), or
// too many failures of this email from this client address (until `locked_until`).
struct SignInRefused final {
    std::optional<Clock::time_point> locked_until;
};

using SignInResult = std::variant<SignedIn, SignInRefused, HashingBusy>;
// Set, refused (why), or busy.
using SetPasswordResult = std::variant<std::monostate, kernel::Rejection, HashingBusy>;

struct NewPartnerUser final {
    // An existing Person customer of the organisation (its email and names are used), or empty.
    std::string customer_id;
    std::string email;
    std::string first_name;
    std::string last_name;
    std::string job_title;
    common::v1::Money spending_limit;
    v1::PartnerUserPermissions permissions;
};

class CustomersApp final {
  public:
    CustomersApp(CustomerRuntime& customers, kernel::EventStore& store, NumberSequences numbers,
                 CustomersSettings settings);

    // --- lookups (index lookups on the read model; see README for the cost) ---
    [[nodiscard]] std::optional<CustomerState> customer(const std::string& customer_id);
    // The Organization linked to this CRM account.
    [[nodiscard]] std::optional<CustomerState> organization_by_crm_account(const std::string& crm_account_id);
    // The customer linked to this CRM contact.
    [[nodiscard]] std::optional<CustomerState> customer_by_crm_contact(const std::string& crm_contact_id);
    // The customer of this type that this prospect request created, linked to its CRM record or
    // not (the first in customer id order).
    [[nodiscard]] std::optional<CustomerState> customer_of_request(const std::string& request_number,
                                                                   v1::CustomerType type, bool crm_linked);
    // Has this request made an Organization a partner already?
    [[nodiscard]] bool request_onboarded(const std::string& request_number);
    // The Organization that has this hierarchy.
    [[nodiscard]] std::optional<CustomerState> organization_of_hierarchy(const std::string& hierarchy_id);
    // A partner user (of any status) by id, with their organisation.
    [[nodiscard]] std::optional<UserRef> user(const std::string& user_id);
    // The Active partner user with this email (case-insensitive).
    [[nodiscard]] std::optional<UserRef> active_user_by_email(const std::string& email);
    // The organisation a Person belongs to: its own link, else through the CRM account.
    [[nodiscard]] std::string organization_of(const CustomerState& person);
    // ... or, for a Person without a link, the organisation where it has a web account.
    [[nodiscard]] std::string organization_of_person(const CustomerState& person);
    // Is `email` the primary email of an active (not blocked) Person customer?
    [[nodiscard]] bool person_email_taken(const std::string& email);
    // ... of one that belongs to this organisation?
    [[nodiscard]] bool person_email_taken_in(const std::string& email, const std::string& organization_id);
    // Does this Person belong to the organisation: its own link, its CRM account, or a member of
    // one of the organisation's hierarchies (seed 001: HQ builds the hierarchy)?
    [[nodiscard]] bool belongs_to(const CustomerState& person, const CustomerState& organization);
    // The active Person customer of this organisation with this email, if any.
    [[nodiscard]] std::optional<CustomerState> person_in(const std::string& email, const CustomerState& organization);

    // --- lists ---
    // One page of customers in customer id order (ids are zero-padded numbers: creation order),
    // after `after_customer_id` (empty: from the first). Type and status filters select an index
    // range and its counter: O(log n + page). A `text` filter (lower-case substring of name, email,
    // customer id or CRM ids) scans the summaries of that range to count its matches: O(range).
    [[nodiscard]] CustomerPage list_customers(const CustomerQuery& query);
    // The hierarchies of one organisation (empty id: of all), in hierarchy id order.
    [[nodiscard]] std::vector<HierarchyRef> hierarchies(const std::string& organization_id);

    // --- reactions ---
    kernel::HandlerVerdict on_onboarding_event(const kernel::InboundEvent& event);
    kernel::HandlerVerdict on_sales_event(const kernel::InboundEvent& event);

    // --- commands ---
    Result execute(const std::string& customer_id, const Customer::Command& command, const std::string& actor);
    // Creates a customer; a Person only if its email is not an active Person customer's (checked
    // and created under one lock, so two concurrent calls cannot both pass).
    Result create_customer(const CreateCustomer& create, const std::string& actor);
    std::string next_customer_id() { return numbers_.customers.next(); }
    std::string next_hierarchy_id() { return numbers_.hierarchies.next(); }
    // Adds a user to an organisation: Pending, then its Person customer (an existing Person of the
    // organisation, named by `customer_id` or found by the email, or a new one), then Active and
    // invited. The email may be a person's of another organisation (the answer must not tell, see
    // docs/api.md); ALREADY_EXISTS only when a live user of this organisation has the email or Person.
    Result add_partner_user(const std::string& organization_id, const NewPartnerUser& user, const std::string& by);
    // Makes a Person of the organisation its partner administrator ("B2B administrator = Yes"):
    // their web account (added and invited first when they have none, or none live), then
    // AdministratorChanged. NOT_FOUND for a person that is not of this organisation.
    Result make_administrator(const std::string& organization_id, const std::string& person_id, const std::string& by);
    // A change of a customer's master data (HQ or CRM). For a Person, its web accounts follow
    // (SyncUsersWithPerson) first, from the state the change will produce, so that a retry after a
    // crash in between finds the accounts up to date and the change still to apply.
    Result update_customer(const std::string& customer_id, const UpdateCustomer& update,
                           const kernel::CommandContext& context);
    // "Forgot password": queues the email (at most `password_reset_per_email_per_hour` per email, and
    // kPasswordResetQueue at once) and returns at once, so that the caller's answer is the same, in
    // status and in time, whatever the email. issue_password_resets() (a runtime task) then gives
    // each Active user with this email whose organisation is not blocked a reset link.
    void request_password_reset(const std::string& email);
    // Issues the queued resets; returns how many links it issued.
    std::size_t issue_password_resets();
    // A new link for the user (the old one stops working).
    Result resend_invitation(const std::string& organization_id, const std::string& user_id, const std::string& by);
    // Closes invitations whose links expired; returns how many.
    std::size_t expire_invitations(Clock::time_point now);

    // --- passwords and sessions ---
    // nullopt, or why the password is refused (for the caller; names the rule, never the password).
    [[nodiscard]] static std::optional<std::string> check_password_policy(const std::string& password,
                                                                          const std::string& email);
    // Sets the password of the user the link belongs to. Rejection invalid_argument for any bad link.
    SetPasswordResult set_password(const std::string& token, const std::string& password);
    // Checks email and password, throttled per (email, `client`). One refusal for every failure
    // (unknown email, wrong password, inactive user, blocked organisation); a lockout says until
    // when, the same way for emails that exist and ones that do not. An email that is a user of
    // several organisations signs in to the one whose password matches.
    SignInResult sign_in(const std::string& email, const std::string& password, const std::string& client);
    // The session of a bearer token, if it is valid, unexpired and its user still Active.
    [[nodiscard]] std::optional<PartnerSession> session(const std::string& token);
    void sign_out(const PartnerSession& session);

  private:
    v1::InvitationIssued new_invitation(const std::string& organization_id, const std::string& user_id,
                                        Clock::time_point expires_at);
    // SyncUsersWithPerson on the organisations with web accounts of this Person, for `next`.
    Result sync_users(const CustomerState& next, const kernel::CommandContext& context);
    kernel::HandlerVerdict onboard(const kernel::InboundEvent& event, const std::string& payload);
    kernel::HandlerVerdict replicate(const kernel::InboundEvent& event);
    // OpportunityWon / OpportunityLost: the request's PROSPECTIVE Organization and Person become
    // PARTNER / CLOSED (seed 000 made them at qualification); the outcome is kept (store metadata)
    // for those not replicated yet, which replicate() then creates decided.
    kernel::HandlerVerdict record_deal(const kernel::InboundEvent& event);
    static kernel::HandlerVerdict verdict(const Result& result, const kernel::InboundEvent& event);
    // The customer of the first hit of `index` under `key`.
    std::optional<CustomerState> first_customer(std::string_view index, const kernel::IndexKey& key);

    CustomerRuntime& customers_;
    kernel::EventStore& store_;
    NumberSequences numbers_;
    CustomersSettings settings_;
    kernel::TokenSealer sealer_;
    HashingGate hashing_;
    SignInThrottle throttle_;
    std::string dummy_hash_;    // checked for unknown emails, so that they take as long as known ones
    std::mutex person_emails_;  // held from the uniqueness check to the Person's creation
    // Held by an approval and by a CRM account / contact replication from finding a request's
    // customers to creating or linking them (onboard(), replicate()).
    std::mutex request_customers_;
    kernel::RateLimiter resets_per_email_;
    std::mutex resets_mutex_;
    std::deque<std::string> resets_;  // lower-cased emails waiting for issue_password_resets()
};

}  // namespace gatehouse::customers
