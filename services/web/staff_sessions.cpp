// The staff sessions of staff_directory.h: the kernel's random tokens and BLAKE2b hashes, as the
// services' bearer credentials use them.
#include "gatehouse/kernel/auth.h"
#include "staff_directory.h"

namespace gatehouse::web {

std::string StaffSessions::open(const StaffMember& member) {
    std::string token = kernel::random_token(32);  // 256 bits, URL-safe base64: 43 characters
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    by_token_hash_[kernel::blake2b_256(token)] = Session{member, now, now};
    return token;
}

std::optional<StaffMember> StaffSessions::use(const std::string& token, std::chrono::minutes idle_timeout,
                                              std::chrono::hours lifetime) {
    if (token.empty() || token.size() > 64) {
        return std::nullopt;
    }
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    // Expired sessions go on every use: the map holds only live ones (and is small: staff only).
    std::erase_if(by_token_hash_, [&](const auto& entry) {
        return now - entry.second.used >= idle_timeout || now - entry.second.opened >= lifetime;
    });
    const auto found = by_token_hash_.find(kernel::blake2b_256(token));
    if (found == by_token_hash_.end()) {
        return std::nullopt;
    }
    found->second.used = now;
    return found->second.member;
}

void StaffSessions::close(const std::string& token) {
    const std::lock_guard lock(mutex_);
    by_token_hash_.erase(kernel::blake2b_256(token));
}

}  // namespace gatehouse::web
