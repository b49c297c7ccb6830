// Partner users: the web accounts of an organisation's people. Adding one (Pending, its Person
// customer, then Active and invited), making a Person the administrator, updating and re-inviting
// a user, closing invitations whose link expired (a sweeper), and keeping the accounts in sync
// with their Person's master data. No gRPC here; safe on any thread (commands go through the
// Customer runtime; Person creation holds AppContext::person_emails()).
#pragma once

#include <cstddef>
#include <string>

#include "app/app_context.h"
#include "app/customer_lookups.h"
#include "app/invitations.h"
#include "gatehouse/kernel/number_sequence.h"

namespace gatehouse::customers {

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

// A user's names, job title, spending limit and permissions, as the manager sets them.
struct PartnerUserChange final {
    std::string first_name;
    std::string last_name;
    std::string job_title;
    common::v1::Money spending_limit;
    v1::PartnerUserPermissions permissions;
};

class PartnerUsers final {
  public:
    PartnerUsers(AppContext& context, const CustomerLookups& lookups, Invitations& invitations,
                 kernel::NumberSequence& customer_numbers, kernel::NumberSequence& user_numbers)
        : context_(context),
          lookups_(lookups),
          invitations_(invitations),
          customer_numbers_(customer_numbers),
          user_numbers_(user_numbers) {}

    // Adds a user to an organisation: Pending, then its Person customer (an existing Person of the
    // organisation, named by `customer_id` or found by the email, or a new one), then Active and
    // invited. The email may be a person's of another organisation (the answer must not tell, see
    // docs/api.md); ALREADY_EXISTS only when a live user of this organisation has the email or Person.
    Result add_partner_user(const std::string& organization_id, const NewPartnerUser& user, const std::string& by);
    // Makes a Person of the organisation its partner administrator ("B2B administrator = Yes"):
    // their web account (added and invited first when they have none, or none live), then
    // AdministratorChanged. NOT_FOUND for a person that is not of this organisation.
    Result make_administrator(const std::string& organization_id, const std::string& person_id, const std::string& by);
    // The B2B administrator flag of a Person of the organisation: true makes them the
    // administrator (make_administrator) unless they are; false for the current administrator is
    // FAILED_PRECONDITION (an organisation keeps one); otherwise nothing changes.
    Result set_administrator(const std::string& organization_id, const std::string& person_id, bool administrator,
                             const std::string& by);
    // Changes a user; their Person customer follows (names, job title, spending limit), and the
    // change goes to the CRM contact like an HQ edit. The Person's answer is not the caller's.
    Result update_partner_user(const UserRef& user, const PartnerUserChange& change, const std::string& by);
    // A new link for the user (the old one stops working).
    Result resend_invitation(const std::string& organization_id, const std::string& user_id, const std::string& by);
    // Closes invitations whose links expired; returns how many. The sweeper's work.
    std::size_t expire_invitations(Clock::time_point now);
    // SyncUsersWithPerson on the organisations with web accounts of this Person, for `next` (the
    // Person as a change will make it): their names and sign-in email follow the master data.
    Result sync_users(const CustomerState& next, const kernel::CommandContext& context);

  private:
    AppContext& context_;
    const CustomerLookups& lookups_;
    Invitations& invitations_;
    kernel::NumberSequence& customer_numbers_;
    kernel::NumberSequence& user_numbers_;
};

}  // namespace gatehouse::customers
