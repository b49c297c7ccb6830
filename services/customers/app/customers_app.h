// The customers service's use cases, between the API / reactions and the Customer aggregate:
// looking customers and users up, the prospect approval, replication from the CRM, partner users
// with their invitations, passwords and sessions. No gRPC here.
//
// Secrets: invitation tokens are sealed to the notifier (kernel::TokenSealer); their hashes, the
// argon2id password hashes and the session token hashes live only in the store's metadata, never
// in an event (events go to Kafka). A log rebuilt from the topic therefore has no credentials:
// its users need new invitations.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/customer.h"
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
    // Sign-in attempts per account: a token bucket (rate per second, burst).
    double sign_in_per_account_rate = 0.2;
    double sign_in_per_account_burst = 5;
};

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

struct NewPartnerUser final {
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

    // --- lookups (over the in-memory states; see README for the cost) ---
    [[nodiscard]] std::optional<CustomerState> customer(const std::string& customer_id);
    // The first customer satisfying `match` (in customer id order).
    [[nodiscard]] std::optional<CustomerState> find_customer(const std::function<bool(const CustomerState&)>& match);
    [[nodiscard]] std::optional<UserRef> find_user(const std::function<bool(const PartnerUserState&)>& match);
    // The organisation a Person belongs to: its own link, else through the CRM account.
    [[nodiscard]] std::string organization_of(const CustomerState& person);
    // Is `email` the primary email of an active (not blocked) Person customer?
    [[nodiscard]] bool person_email_taken(const std::string& email);
    void for_each(const std::function<void(const CustomerState&, kernel::StreamVersion)>& visit) const;

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
    // Adds a user to an organisation: Pending, then its Person customer, then Active and invited.
    Result add_partner_user(const std::string& organization_id, const NewPartnerUser& user, const std::string& by);
    // A new link for the user (the old one stops working).
    Result resend_invitation(const std::string& organization_id, const std::string& user_id, const std::string& by);
    // Closes invitations whose links expired; returns how many.
    std::size_t expire_invitations(Clock::time_point now);

    // --- passwords and sessions ---
    // nullopt, or why the password is refused (for the caller; names the rule, never the password).
    [[nodiscard]] static std::optional<std::string> check_password_policy(const std::string& password,
                                                                          const std::string& email);
    // Sets the password of the user the link belongs to. Rejection invalid_argument for any bad link.
    std::optional<kernel::Rejection> set_password(const std::string& token, const std::string& password);
    // Checks email and password; nullopt for any failure (the caller says nothing more).
    std::optional<SignedIn> sign_in(const std::string& email, const std::string& password);
    // The session of a bearer token, if it is valid, unexpired and its user still Active.
    [[nodiscard]] std::optional<PartnerSession> session(const std::string& token);
    void sign_out(const PartnerSession& session);

  private:
    v1::InvitationIssued new_invitation(const std::string& organization_id, const std::string& user_id,
                                        Clock::time_point now);
    kernel::HandlerVerdict onboard(const kernel::InboundEvent& event, const std::string& payload);
    kernel::HandlerVerdict replicate(const kernel::InboundEvent& event);
    static kernel::HandlerVerdict verdict(const Result& result, const kernel::InboundEvent& event);

    CustomerRuntime& customers_;
    kernel::EventStore& store_;
    NumberSequences numbers_;
    CustomersSettings settings_;
    kernel::TokenSealer sealer_;
    kernel::RateLimiter sign_in_per_account_;
    std::mutex person_emails_;  // held from the uniqueness check to the Person's creation
};

}  // namespace gatehouse::customers
