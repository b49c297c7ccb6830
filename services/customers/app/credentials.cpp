#include "app/credentials.h"

#include <google/protobuf/util/time_util.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {
namespace {

using google::protobuf::util::TimeUtil;

std::string session_key(const std::string& token_hash) { return "session/" + hex(token_hash); }

// Common passwords of 12 characters or more (a small bundled list; compared in lower case).
constexpr std::array kCommonPasswords = {
    "password1234",   "password12345", "password123456", "passwordpassword", "123456789012", "1234567890123",
    "12345678901234", "111111111111",  "000000000000",   "qwertyuiop12",     "qwerty123456", "qwertyuiopasdf",
    "1q2w3e4r5t6y",   "1qaz2wsx3edc",  "iloveyou1234",   "abc123456789",     "abcdefghijkl", "welcome12345",
    "welcome123456",  "letmein12345",  "changeme1234",   "administrator",    "admin1234567", "password123!",
    "p@ssword1234",   "p@ssw0rd1234",  "monkey123456",   "sunshine1234",     "football1234", "baseball1234",
    "princess1234",   "dragon123456",  "trustno11234",   "starwars1234",     "superman1234", "asdfghjkl123",
    "zaq12wsxcde3",   "passw0rd1234",  "summer202412",   "winter202412",     "gatehouse123", "gatehouse1234"};

}  // namespace

Credentials::Credentials(AppContext& context, const CustomerLookups& lookups, Invitations& invitations,
                         const CredentialSettings& settings)
    : context_(context),
      lookups_(lookups),
      invitations_(invitations),
      settings_(settings),
      hashing_(settings_.password_hash_concurrency, settings_.password_hash_queue),
      throttle_(settings_.sign_in_throttle),
      resets_per_email_(settings_.password_reset_per_email_per_hour / 3600.0,
                        settings_.password_reset_per_email_per_hour) {
    // Made once at start-up (one hash, ~80 ms), not on the first unknown email under load.
    std::string hash(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str(hash.data(), "not-a-password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        throw std::runtime_error("out of memory hashing the dummy password");
    }
    dummy_hash_ = hash.c_str();
}

std::optional<std::string> Credentials::check_password_policy(const std::string& password, const std::string& email) {
    const auto characters = platform::utf8_length(password);
    if (!characters) {
        return "password: must be valid UTF-8 text";
    }
    if (*characters < kMinPasswordCharacters) {
        return "password: must have at least 12 characters";
    }
    if (*characters > kMaxPasswordCharacters) {
        return "password: must have at most 256 characters";
    }
    const std::string lower = platform::to_lower(password);
    if (lower == platform::to_lower(email) || lower == platform::to_lower(email.substr(0, email.find('@')))) {
        return "password: must not be the email address";
    }
    if (std::find(kCommonPasswords.begin(), kCommonPasswords.end(), lower) != kCommonPasswords.end()) {
        return "password: is one of the most common passwords";
    }
    return std::nullopt;
}

SetPasswordResult Credentials::set_password(const std::string& token, const std::string& password) {
    const kernel::Rejection invalid{kernel::RejectionCode::invalid_argument,
                                    "token: the link is invalid or has expired"};
    const auto link = invitations_.link(token);
    if (!link) {
        return invalid;
    }
    const auto organization = lookups_.customer(link->organization_id);
    const PartnerUserState* user = organization ? organization->user(link->user_id) : nullptr;
    if (user == nullptr || user->invitation_id != link->invitation_id) {
        return invalid;
    }
    if (auto problem = check_password_policy(password, user->user.email())) {
        return kernel::Rejection{kernel::RejectionCode::invalid_argument, *problem};
    }
    std::string hash(crypto_pwhash_STRBYTES, '\0');
    {
        const auto turn = hashing_.enter();
        if (!turn) {
            return HashingBusy{};
        }
        if (crypto_pwhash_str(hash.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
            return kernel::Rejection{kernel::RejectionCode::unavailable,
                                     "out of memory hashing the password; try again"};
        }
    }
    hash.resize(std::strlen(hash.c_str()));
    // The hash is stored first under a fresh id; only the PasswordSet event that names the id makes it
    // the user's password (a concurrent second use of the link loses in the decider).
    const std::string credential_id = kernel::new_uuid_v7();
    kernel::Commit commit;
    commit.metadata.emplace_back(credential_key(link->user_id, credential_id), hash);
    (void)context_.store().commit(std::move(commit));
    auto result =
        context_.execute(link->organization_id,
                         SetPassword{link->user_id, link->invitation_id, credential_id, Clock::now()}, link->user_id);
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return *rejection;
    }
    return std::monostate{};
}

SignInResult Credentials::sign_in(const std::string& email, const std::string& password, const std::string& client) {
    const std::string wanted = platform::to_lower(email);
    const std::string key = wanted + "\n" + client;
    const auto now = Clock::now();
    // Checked before any hashing: a locked pair costs nothing. Unknown emails lock alike.
    if (auto until = throttle_.locked_until(key, now)) {
        return SignInRefused{until};
    }
    // The Active accounts with this email that have a password: usually one; one per organisation
    // when people of other organisations were added as users (add_partner_user), at most a few.
    constexpr std::size_t kAccountsPerEmail = 4;
    std::vector<std::pair<UserRef, std::string>> accounts;
    for (const kernel::IndexHit& hit :
         context_.customers().lookup(customer_index::kUserEmail, kernel::IndexKey().text(wanted), kAccountsPerEmail)) {
        const auto organization = lookups_.customer(hit.aggregate_id);
        const PartnerUserState* user = organization ? organization->user(hit.value) : nullptr;
        if (user == nullptr || user->credential_id.empty()) {
            continue;
        }
        if (auto stored = context_.store().read_metadata(credential_key(user->user.user_id(), user->credential_id))) {
            accounts.emplace_back(UserRef{hit.aggregate_id, *user}, std::move(*stored));
        }
    }
    std::optional<UserRef> found;
    {
        const auto turn = hashing_.enter();
        if (!turn) {
            return HashingBusy{};
        }
        if (accounts.empty()) {
            // Spend the same time as a real check, so that timing does not tell existing emails apart.
            if (crypto_pwhash_str_verify(dummy_hash_.c_str(), password.data(), password.size()) == 0) {
                kernel::logger("customers")->error("the dummy password hash matched: should never happen");
            }
        }
        for (const auto& [account, hash] : accounts) {
            if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0) {
                found = account;
                break;
            }
        }
    }
    const auto organization = found ? lookups_.customer(found->organization_id) : std::nullopt;
    if (!organization || organization->blocked) {
        (void)throttle_.failed(key, now);  // the lock shows on the next attempt
        return SignInRefused{};
    }
    throttle_.succeeded(key);
    SignedIn signed_in;
    signed_in.session_token = kernel::random_token(32);
    signed_in.expires_at = Clock::now() + settings_.session_ttl;
    signed_in.user_id = found->user.user.user_id();
    signed_in.organization_id = found->organization_id;
    context_.store().write_metadata_lazily(
        session_key(kernel::blake2b_256(signed_in.session_token)),
        signed_in.user_id + "\n" + signed_in.organization_id + "\n" +
            std::to_string(TimeUtil::TimestampToNanoseconds(kernel::to_timestamp(signed_in.expires_at))));
    return signed_in;
}

std::optional<PartnerSession> Credentials::session(const std::string& token) const {
    const std::string token_hash = kernel::blake2b_256(token);
    const auto stored = context_.store().read_metadata(session_key(token_hash));
    if (!stored) {
        return std::nullopt;
    }
    const auto parts = split_lines(*stored);
    if (parts.size() != 3) {
        return std::nullopt;  // ended
    }
    if (TimeUtil::TimestampToNanoseconds(kernel::to_timestamp(Clock::now())) > std::stoll(parts[2])) {
        return std::nullopt;
    }
    // Revocation is immediate: a removed user, or a blocked organisation, has no session.
    const auto organization = lookups_.customer(parts[1]);
    const PartnerUserState* user = organization ? organization->user(parts[0]) : nullptr;
    if (user == nullptr || user->status != UserStatus::active || organization->blocked) {
        return std::nullopt;
    }
    return PartnerSession{parts[0], parts[1], user->user.email(), organization->admin_user_id == parts[0], token_hash};
}

void Credentials::sign_out(const PartnerSession& session) {
    // Durable before the answer (a commit shares the group's fsync): after a power loss a signed-out
    // session must not come back. (A session's start is written lazily: losing one only means
    // signing in again.)
    kernel::Commit commit;
    commit.metadata.emplace_back(session_key(session.token_hash), "ended");
    (void)context_.store().commit(std::move(commit));
}

void Credentials::request_password_reset(const std::string& email) {
    const std::string wanted = platform::to_lower(email);
    // Counted for every email, known or not, so that the limit says nothing either.
    if (!resets_per_email_.allow("reset:" + wanted)) {
        return;
    }
    const std::lock_guard lock(resets_mutex_);
    if (resets_.size() >= kPasswordResetQueue) {
        kernel::logger("customers")->warn("password-reset queue full: a request is dropped");
        return;
    }
    resets_.push_back(wanted);
}

std::size_t Credentials::issue_password_resets() {
    std::deque<std::string> due;
    {
        const std::lock_guard lock(resets_mutex_);
        due.swap(resets_);
    }
    constexpr std::size_t kAccountsPerEmail = 4;
    std::size_t issued = 0;
    for (const std::string& email : due) {
        const auto now = Clock::now();
        for (const kernel::IndexHit& hit : context_.customers().lookup(
                 customer_index::kUserEmail, kernel::IndexKey().text(email), kAccountsPerEmail)) {
            const auto organization = lookups_.customer(hit.aggregate_id);
            const PartnerUserState* user = organization ? organization->user(hit.value) : nullptr;
            if (user == nullptr || user->status != UserStatus::active || organization->blocked) {
                continue;
            }
            auto result = context_.customers().execute(
                hit.aggregate_id,
                ResetPassword{hit.value,
                              invitations_.issue(hit.aggregate_id, hit.value, now + settings_.password_reset_ttl)},
                {.correlation_id = kernel::new_uuid_v7(), .actor = "self-service"});
            if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
                kernel::logger("customers")
                    ->warn("password reset of user {} not issued: {}", hit.value, rejection->message);
            } else {
                ++issued;
            }
        }
    }
    return issued;
}

}  // namespace gatehouse::customers
