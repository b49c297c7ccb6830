#include "gatehouse/kernel/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>
#include <vector>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {
namespace {

void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

}  // namespace

std::string blake2b_256(std::string_view data) {
    ensure_sodium();
    std::string hash(crypto_generichash_BYTES, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size(), nullptr, 0);
    return hash;
}

std::string random_token(std::size_t bytes) {
    ensure_sodium();
    std::vector<unsigned char> raw(bytes);
    std::string text;
    // A token that starts with '-' reads as an option on a command line (gatehouse request verify
    // NUMBER TOKEN): draw again. That excludes 1/64 of the values: 0.02 bits of 128.
    do {
        randombytes_buf(raw.data(), raw.size());
        text.assign(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
        sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        text.resize(std::strlen(text.c_str()));
    } while (!text.empty() && text.front() == '-');
    sodium_memzero(raw.data(), raw.size());
    return text;
}

namespace {

// Why `token` is not fit to guard a staff API, or empty. The message never quotes the token.
std::string weak_token_reason(const std::string& token) {
    if (token.size() < 16) {
        return "a bearer token must have at least 16 characters";
    }
    if (std::set<char>(token.begin(), token.end()).size() < 10) {
        return "a bearer token must have at least 10 distinct characters (generate one: openssl rand -base64 32)";
    }
    std::string lower(token);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* placeholder : {"replace", "change-me", "changeme", "placeholder", "example", "xxxx"}) {
        if (lower.find(placeholder) != std::string::npos) {
            return "a bearer token still holds the placeholder \"" + std::string(placeholder) +
                   "\" of an example: generate a secret one";
        }
    }
    return {};
}

// "role:user_id:email", each part non-empty and the email holding an '@'.
std::optional<Principal> parse_principal(std::string_view who) {
    const auto first = who.find(':');
    const auto second = first == std::string_view::npos ? std::string_view::npos : who.find(':', first + 1);
    if (first == std::string_view::npos || first == 0 || second == std::string_view::npos || second == first + 1 ||
        second + 1 == who.size() || who.find('@', second) == std::string_view::npos) {
        return std::nullopt;
    }
    return Principal{std::string(who.substr(0, first)),
                     std::string(who.substr(first + 1, second - first - 1)),
                     std::string(who.substr(second + 1)),
                     {}};
}

}  // namespace

BearerAuthenticator::BearerAuthenticator(const std::map<std::string, std::string>& credentials,
                                         const std::string& setting)
    : by_token_hash_(build(credentials, setting)) {}

void BearerAuthenticator::replace(const std::map<std::string, std::string>& credentials, const std::string& setting) {
    auto table = build(credentials, setting);
    const std::lock_guard lock(mutex_);
    by_token_hash_ = std::move(table);
}

std::size_t BearerAuthenticator::size() const {
    const std::lock_guard lock(mutex_);
    return by_token_hash_->size();
}

std::shared_ptr<const BearerAuthenticator::Table> BearerAuthenticator::build(
    const std::map<std::string, std::string>& credentials, const std::string& setting) {
    auto by_token_hash = std::make_shared<Table>();
    for (const auto& [token, who] : credentials) {
        if (const auto reason = weak_token_reason(token); !reason.empty()) {
            throw ConfigError("setting " + setting + " (credential of \"" + who + "\"): " + reason);
        }
        auto principal = parse_principal(who);
        if (!principal) {
            throw ConfigError("setting " + setting + ": \"" + who +
                              "\" is not role:user_id:email (every staff credential names its email)");
        }
        by_token_hash->emplace(blake2b_256(token), std::move(*principal));
    }
    return by_token_hash;
}

std::map<std::string, std::string> read_credentials_file(const std::filesystem::path& path,
                                                         const std::string& setting) {
    std::ifstream in(path);
    if (!in) {
        throw ConfigError("setting " + setting + ": cannot read " + path.string());
    }
    std::map<std::string, std::string> credentials;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.pop_back();
        }
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') {
            continue;
        }
        const auto equals = line.find('=', start);
        if (equals == std::string::npos || equals == start || equals + 1 == line.size()) {
            throw ConfigError("setting " + setting + ": " + path.string() + " line " + std::to_string(number) +
                              " is not token=role:user_id:email");
        }
        credentials[line.substr(start, equals - start)] = line.substr(equals + 1);
    }
    return credentials;
}

std::optional<Principal> BearerAuthenticator::authenticate(std::string_view authorization,
                                                           std::string_view on_behalf_of) const {
    constexpr std::string_view kScheme = "Bearer ";
    if (!authorization.starts_with(kScheme)) {
        return std::nullopt;
    }
    std::shared_ptr<const Table> table;
    {
        const std::lock_guard lock(mutex_);
        table = by_token_hash_;
    }
    // Looked up by hash: the comparison never runs over the secret itself.
    const auto found = table->find(blake2b_256(authorization.substr(kScheme.size())));
    if (found == table->end()) {
        return std::nullopt;
    }
    if (found->second.role != kGatewayRole) {
        return on_behalf_of.empty() ? std::optional<Principal>(found->second) : std::nullopt;
    }
    auto staff = parse_principal(on_behalf_of);
    if (!staff || staff->role == kGatewayRole) {
        return std::nullopt;
    }
    staff->via = found->second.user_id;
    return staff;
}

RateLimiter::RateLimiter(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst) {}

bool RateLimiter::allow(const std::string& key, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (now - last_sweep_ > std::chrono::minutes(1)) {
        // Forget full buckets so that the map does not grow with every client ever seen.
        std::erase_if(buckets_, [&](const auto& entry) {
            const double refill = std::chrono::duration<double>(now - entry.second.updated).count() * rate_;
            return entry.second.tokens + refill >= burst_;
        });
        last_sweep_ = now;
    }
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& bucket = it->second;
    bucket.tokens =
        std::min(burst_, bucket.tokens + std::chrono::duration<double>(now - bucket.updated).count() * rate_);
    bucket.updated = now;
    if (bucket.tokens < 1.0) {
        return false;
    }
    bucket.tokens -= 1.0;
    return true;
}

}  // namespace gatehouse::kernel
