// The back office's staff: a small directory file an operator manages with `gatehouse staff`, and
// the sessions of staff signed in to the web service.
//
// The file: one member per line, "email role user_id argon2id-hash" (whitespace between; blank lines
// and lines starting with # skipped). Roles: hq, sales, sales-manager, operator. Passwords are
// argon2id (libsodium's crypto_pwhash_str, the partners' parameters); the file holds no password.
// Keep it readable by the web service only (`gatehouse staff` writes it with mode 0600).
//
// Sessions live in the web service's memory: a restart signs staff out, and with more than one
// web replica a staff member needs a sticky route. A session ends on sign-out, after the idle
// timeout, after its lifetime, or when its member leaves the directory.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <vector>

namespace gatehouse::web {

struct StaffMember final {
    std::string email;  // lower-case; the sign-in name
    std::string role;   // hq, sales, sales-manager, operator
    std::string user_id;

    // "role:user_id:email", the gatehouse-on-behalf-of header a gateway call carries.
    [[nodiscard]] std::string principal() const { return role + ":" + user_id + ":" + email; }
};

// The staff roles a directory may name.
[[nodiscard]] bool is_staff_role(const std::string& role);

// One line of the file, parsed.
struct StaffEntry final {
    StaffMember member;
    std::string password_hash;
};

// Reads the file. Throws std::runtime_error naming the file and line (never a hash) if it cannot
// be read or a line is malformed (unknown role, email without '@', hash not argon2id).
[[nodiscard]] std::vector<StaffEntry> read_staff_file(const std::filesystem::path& path);
// Adds the member or replaces the entry with the same email (a new password, role or user id), and
// writes the file atomically (temporary file, fsync, rename) with mode 0600. The password needs
// at least 12 characters. Throws std::invalid_argument for a bad member or password,
// std::runtime_error for a file that cannot be written.
void put_staff_entry(const std::filesystem::path& path, const StaffMember& member, const std::string& password);
// Removes the member with this email; false if there was none.
bool remove_staff_entry(const std::filesystem::path& path, const std::string& email);

// The directory the web service signs staff in with. Re-reads the file when it changes (checked
// at most once a second), so `gatehouse staff add/remove` needs no restart; a broken new version
// is logged to stderr and the last good one stays.
class StaffDirectory final {
  public:
    // Reads the file now; throws as read_staff_file does.
    explicit StaffDirectory(std::filesystem::path path);
    enum class Outcome { signed_in, wrong, busy };
    struct Verdict final {
        Outcome outcome = Outcome::wrong;
        std::optional<StaffMember> member;
    };
    // Checks the password. An unknown email costs one argon2id check like a known one (the answer
    // does not tell which). At most two checks run at once (64 MiB each); a caller that cannot get
    // a turn within two seconds gets `busy`.
    [[nodiscard]] Verdict sign_in(const std::string& email, const std::string& password);
    // The member with this email now, or nothing (removed since).
    [[nodiscard]] std::optional<StaffMember> find(const std::string& email);

  private:
    void reload_if_changed();

    std::filesystem::path path_;
    std::mutex mutex_;
    std::map<std::string, StaffEntry> by_email_;
    std::filesystem::file_time_type loaded_time_{};
    std::chrono::steady_clock::time_point checked_{};
    std::string dummy_hash_;
    std::counting_semaphore<2> hashing_{2};
};

class StaffSessions final {
  public:
    // A new session for `member`; returns its token (256 random bits; only its hash is kept).
    [[nodiscard]] std::string open(const StaffMember& member);
    // The session's member if it is alive (and marks it used), else nothing.
    [[nodiscard]] std::optional<StaffMember> use(const std::string& token, std::chrono::minutes idle_timeout,
                                                 std::chrono::hours lifetime);
    void close(const std::string& token);

  private:
    struct Session final {
        StaffMember member;
        std::chrono::steady_clock::time_point opened;
        std::chrono::steady_clock::time_point used;
    };
    std::mutex mutex_;
    std::map<std::string, Session> by_token_hash_;
};

}  // namespace gatehouse::web
