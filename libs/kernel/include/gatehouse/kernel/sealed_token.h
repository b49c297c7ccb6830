// One-time link tokens (email verification, set-password invitations) that never travel in the
// clear: the issuing service keeps only the token's BLAKE2b hash and puts the token on its topic
// sealed (libsodium crypto_box_seal) to the notifier's public key; only the notifier, holding the
// secret key, opens it to build the link it emails. Keys come from `gatehouse-keygen`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::kernel {

struct IssuedToken final {
    std::string token;                // 128 random bits, URL-safe base64; for the caller's tests only
    std::string hash;                 // BLAKE2b-256 of the token: what the issuing service stores
    std::string sealed_for_notifier;  // what the event carries
};

// Issues tokens sealed to the notifier's public key.
class TokenSealer final {
  public:
    // `public_key_base64url`: the notifier's public key as gatehouse-keygen prints it. Throws
    // ConfigError naming `setting` when it is not a 32-byte key.
    TokenSealer(std::string_view public_key_base64url, const std::string& setting);
    [[nodiscard]] IssuedToken issue() const;

  private:
    std::string public_key_;
};

// Opens sealed tokens: the notifier's side.
class TokenOpener final {
  public:
    // Both keys base64url as gatehouse-keygen prints them; throws ConfigError naming the settings.
    TokenOpener(std::string_view public_key_base64url, std::string_view secret_key_base64url,
                const std::string& public_setting, const std::string& secret_setting);
    // The token, or nullopt when `sealed` was not sealed to this key pair (or is damaged).
    [[nodiscard]] std::optional<std::string> open(std::string_view sealed) const;

  private:
    std::string public_key_;
    std::string secret_key_;
};

}  // namespace gatehouse::kernel
