// Who is calling: bearer credentials mapped to a principal (role, user id, email), and a rate
// limiter for anonymous callers. Pure (no gRPC); the API edge passes the "authorization" header.
// Thread safety: authenticate() and allow() may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::kernel {

struct Principal final {
    std::string role;     // e.g. "hq", "sales", "sales-manager", "operator"
    std::string user_id;  // e.g. "alice"
    std::string email;    // for rules such as "an approver may not approve their own request"
    std::string via;      // the gateway that vouched for a staff member signed in there (e.g. "web"), or empty
};

// The role of a gateway credential (the web front door): it authenticates staff itself (email and
// password) and calls the services on their behalf. Alone it may do nothing: every call names the
// staff member in the kOnBehalfOfHeader, "role:user_id:email". Trust: whoever holds a gateway
// token can act as any staff member, like an HQ token; keep it as secret as one.
inline constexpr std::string_view kGatewayRole = "gateway";
inline constexpr std::string_view kOnBehalfOfHeader = "gatehouse-on-behalf-of";

class BearerAuthenticator final {
  public:
    // `credentials`: bearer token -> "role:user_id:email". Only BLAKE2b hashes of the tokens are
    // kept in memory. Throws ConfigError (naming `setting`, never the token) on a malformed entry,
    // an entry without an email (rules such as "no self-approval" need it), or a token that is not
    // a secret: shorter than 16 characters, fewer than 10 distinct characters, or a placeholder
    // left from an example ("REPLACE", "CHANGE-ME", "placeholder", "example", "xxxx").
    BearerAuthenticator(const std::map<std::string, std::string>& credentials, const std::string& setting);
    // The principal for an "authorization" header value ("Bearer <token>"); nullopt if the header is
    // missing, malformed or names no credential. `on_behalf_of` (the kOnBehalfOfHeader's value) is
    // required with a gateway credential and refused with any other: a gateway's call is the named
    // staff member's (Principal::via the gateway's user id), if that names a role other than gateway
    // and an email; a gateway credential without it, or another credential with it, is nullopt.
    [[nodiscard]] std::optional<Principal> authenticate(std::string_view authorization,
                                                        std::string_view on_behalf_of = {}) const;
    // Replaces every credential at once (a rotation): each call sees the old set or the new one,
    // never a mix. Checks the new set as the constructor does; if it throws, the old set stays.
    void replace(const std::map<std::string, std::string>& credentials, const std::string& setting);
    [[nodiscard]] std::size_t size() const;

  private:
    using Table = std::unordered_map<std::string, Principal>;
    static std::shared_ptr<const Table> build(const std::map<std::string, std::string>& credentials,
                                              const std::string& setting);
    mutable std::mutex mutex_;  // guards the pointer only; a table never changes once built
    std::shared_ptr<const Table> by_token_hash_;
};

// The credentials of a file of "token=role:user_id:email" lines (blank lines and lines starting
// with # are skipped), for auth.tokens_file. Throws ConfigError naming `setting`, the file and the
// line — never a token — if the file cannot be read or a line is not token=credential.
std::map<std::string, std::string> read_credentials_file(const std::filesystem::path& path, const std::string& setting);

// Token buckets per key (e.g. per client address): `rate` requests per second, bursts of `burst`.
class RateLimiter final {
  public:
    RateLimiter(double rate_per_second, double burst);
    // Takes one token for `key`; false when the key is over its limit.
    bool allow(const std::string& key, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point updated;
    };
    double rate_;
    double burst_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    std::chrono::steady_clock::time_point last_sweep_{};
};

// BLAKE2b-256 of `data` (libsodium's crypto_generichash), as raw bytes.
std::string blake2b_256(std::string_view data);
// `bytes` random bytes from libsodium, as URL-safe base64 without padding.
std::string random_token(std::size_t bytes = 24);

}  // namespace gatehouse::kernel
