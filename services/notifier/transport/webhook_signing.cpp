#include "transport/webhook_signing.h"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace gatehouse::notifier {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kMinimumKeyBytes = 24;  // the Standard Webhooks minimum

std::string to_base64(const unsigned char* bytes, std::size_t size) {
    std::string text(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(text.data(), text.size(), bytes, size, sodium_base64_VARIANT_ORIGINAL);
    text.resize(text.size() - 1);  // the terminating NUL
    return text;
}

void ensure_sodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium cannot be initialised");
    }
}

}  // namespace

std::string generate_webhook_secret() {
    ensure_sodium();
    std::array<unsigned char, kSecretBytes> key{};
    randombytes_buf(key.data(), key.size());
    std::string secret = std::string(kSecretPrefix) + to_base64(key.data(), key.size());
    sodium_memzero(key.data(), key.size());
    return secret;
}

std::optional<std::string> webhook_secret_key(std::string_view secret) {
    if (secret.starts_with(kSecretPrefix)) {
        secret.remove_prefix(kSecretPrefix.size());
    }
    std::string key(secret.size(), '\0');
    std::size_t length = 0;
    if (secret.empty() ||
        sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), secret.data(), secret.size(),
                          nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length < kMinimumKeyBytes) {
        return std::nullopt;
    }
    key.resize(length);
    return key;
}

std::string webhook_signature(std::string_view key, std::string_view id, long long timestamp, std::string_view body) {
    ensure_sodium();
    // HMAC-SHA256 takes a key of any length through the init / update / final interface.
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    const std::string prefix = std::string(id) + "." + std::to_string(timestamp) + ".";
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_final(&state, mac.data());
    sodium_memzero(&state, sizeof state);
    return "v1," + to_base64(mac.data(), mac.size());
}

std::string webhook_signature_header(const std::vector<std::string>& keys, std::string_view id, long long timestamp,
                                     std::string_view body) {
    std::string header;
    for (const std::string& key : keys) {
        if (!header.empty()) {
            header.push_back(' ');
        }
        header += webhook_signature(key, id, timestamp, body);
    }
    return header;
}

}  // namespace gatehouse::notifier
