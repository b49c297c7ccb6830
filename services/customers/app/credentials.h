// Partner users' credentials: setting a password from a link, signing in (throttled per email and
// client address, see app/sign_in_guard.h), sessions and signing out, and "forgot password" resets.
// argon2id password hashes and session token hashes live only in the store's metadata, never in an
// event (events go to Kafka). No gRPC here. Safe on any thread: hashing is bounded by a
// HashingGate; the throttle and the reset queue have their own locks; issue_password_resets() is
// a runtime task's.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "app/app_context.h"
#include "app/customer_lookups.h"
#include "app/invitations.h"
#include "app/sign_in_guard.h"
#include "gatehouse/kernel/auth.h"

namespace gatehouse::customers {

struct CredentialSettings final {
    std::chrono::seconds session_ttl{8 * 3600};
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

class Credentials final {
  public:
    Credentials(AppContext& context, const CustomerLookups& lookups, Invitations& invitations,
                const CredentialSettings& settings);

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
    [[nodiscard]] std::optional<PartnerSession> session(const std::string& token) const;
    void sign_out(const PartnerSession& session);

    // "Forgot password": queues the email (at most `password_reset_per_email_per_hour` per email, and
    // kPasswordResetQueue at once) and returns at once, so that the caller's answer is the same, in
    // status and in time, whatever the email. issue_password_resets() (a runtime task) then gives
    // each Active user with this email whose organisation is not blocked a reset link.
    void request_password_reset(const std::string& email);
    // Issues the queued resets; returns how many links it issued.
    std::size_t issue_password_resets();

  private:
    AppContext& context_;
    const CustomerLookups& lookups_;
    Invitations& invitations_;
    CredentialSettings settings_;
    HashingGate hashing_;
    SignInThrottle throttle_;
    std::string dummy_hash_;  // checked for unknown emails, so that they take as long as known ones
    kernel::RateLimiter resets_per_email_;
    std::mutex resets_mutex_;
    std::deque<std::string> resets_;  // lower-cased emails waiting for issue_password_resets()
};

}  // namespace gatehouse::customers
