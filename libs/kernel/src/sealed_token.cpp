#include "gatehouse/kernel/sealed_token.h"

#include <sodium.h>

#include <stdexcept>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {
namespace {

std::string decode_key(std::string_view text, std::size_t size, const std::string& setting, const char* what) {
    static const bool sodium_ready = sodium_init() >= 0;
    if (!sodium_ready) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    std::string key(size, '\0');
    std::size_t length = 0;
    if (text.empty() ||
        sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(), text.size(), nullptr,
                          &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        length != size) {
        throw ConfigError("setting " + setting + ": expected the notifier's " + std::to_string(size) + "-byte " + what +
                          " in base64url (run gatehouse-keygen)");
    }
    return key;
}

const unsigned char* bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

}  // namespace

TokenSealer::TokenSealer(std::string_view public_key_base64url, const std::string& setting)
    : public_key_(decode_key(public_key_base64url, crypto_box_PUBLICKEYBYTES, setting, "public key")) {}

IssuedToken TokenSealer::issue() const {
    IssuedToken issued;
    issued.token = random_token(16);  // 128 random bits
    issued.hash = blake2b_256(issued.token);
    issued.sealed_for_notifier.assign(crypto_box_SEALBYTES + issued.token.size(), '\0');
    if (crypto_box_seal(reinterpret_cast<unsigned char*>(issued.sealed_for_notifier.data()), bytes(issued.token),
                        issued.token.size(), bytes(public_key_)) != 0) {
        throw std::runtime_error("cannot seal a one-time token");
    }
    return issued;
}

TokenOpener::TokenOpener(std::string_view public_key_base64url, std::string_view secret_key_base64url,
                         const std::string& public_setting, const std::string& secret_setting)
    : public_key_(decode_key(public_key_base64url, crypto_box_PUBLICKEYBYTES, public_setting, "public key")),
      secret_key_(decode_key(secret_key_base64url, crypto_box_SECRETKEYBYTES, secret_setting, "secret key")) {
    unsigned char derived[crypto_box_PUBLICKEYBYTES];
    crypto_scalarmult_base(derived, bytes(secret_key_));
    if (sodium_memcmp(derived, bytes(public_key_), sizeof derived) != 0) {
        throw ConfigError("settings " + public_setting + " and " + secret_setting +
                          ": the public key does not belong to the secret key");
    }
}

std::optional<std::string> TokenOpener::open(std::string_view sealed) const {
    if (sealed.size() <= crypto_box_SEALBYTES) {
        return std::nullopt;
    }
    std::string token(sealed.size() - crypto_box_SEALBYTES, '\0');
    if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(token.data()), bytes(sealed), sealed.size(),
                             bytes(public_key_), bytes(secret_key_)) != 0) {
        return std::nullopt;
    }
    return token;
}

}  // namespace gatehouse::kernel
