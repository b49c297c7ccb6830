// Standard Webhooks signing (https://www.standardwebhooks.com): the secret format and the
// `webhook-signature` header. A secret is "whsec_" + base64 of 32 random bytes; the key is the
// decoded bytes. A signature is "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), and
// the header holds one per secret that currently signs, separated by spaces (after a rotation both
// the new and the previous secret sign for a grace period).
//
// Thread safety: pure functions, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::notifier {

// A new random secret "whsec_<base64>" (libsodium's randombytes).
std::string generate_webhook_secret();

// The key bytes of a "whsec_<base64>" secret (the prefix is optional, as in the reference
// libraries); nullopt when it is not base64 or shorter than 24 bytes.
std::optional<std::string> webhook_secret_key(std::string_view secret);

// "v1,<base64 signature>" of `body` for message `id` sent at `timestamp` (seconds since the epoch).
std::string webhook_signature(std::string_view key, std::string_view id, long long timestamp, std::string_view body);

// The webhook-signature header: one "v1,..." per key, space-separated.
std::string webhook_signature_header(const std::vector<std::string>& keys, std::string_view id, long long timestamp,
                                     std::string_view body);

}  // namespace gatehouse::notifier
