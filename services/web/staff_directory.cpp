#include "staff_directory.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace gatehouse::web {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

void ensure_sodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

std::string hash_password(const std::string& password) {
    ensure_sodium();
    std::string hash(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str(hash.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        throw std::runtime_error("argon2id: out of memory");
    }
    hash.resize(std::char_traits<char>::length(hash.c_str()));
    return hash;
}

// Why `member` cannot be in the directory, or empty.
std::string invalid_member(const StaffMember& member) {
    if (member.email.find('@') == std::string::npos || member.email.find_first_of(" \t:") != std::string::npos) {
        return "the email must be an address without spaces or ':'";
    }
    if (!is_staff_role(member.role)) {
        return "the role must be hq, sales, sales-manager or operator";
    }
    if (member.user_id.empty() || member.user_id.find_first_of(" \t:") != std::string::npos) {
        return "the user id must be non-empty, without spaces or ':'";
    }
    return {};
}

void write_staff_file(const std::filesystem::path& path, const std::vector<StaffEntry>& entries) {
    std::ostringstream text;
    text << "# Gatehouse staff directory: email role user_id argon2id-hash. Managed with `gatehouse staff`.\n";
    for (const auto& entry : entries) {
        text << entry.member.email << ' ' << entry.member.role << ' ' << entry.member.user_id << ' '
             << entry.password_hash << '\n';
    }
    const std::string body = text.str();
    const auto temporary = path.string() + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot write " + temporary);
    }
    const bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw std::runtime_error("cannot write " + path.string());
    }
}

}  // namespace

bool is_staff_role(const std::string& role) {
    return role == "hq" || role == "sales" || role == "sales-manager" || role == "operator";
}

std::vector<StaffEntry> read_staff_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("staff directory: cannot read " + path.string());
    }
    std::vector<StaffEntry> entries;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = trim(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::istringstream fields(line);
        StaffEntry entry;
        std::string extra;
        fields >> entry.member.email >> entry.member.role >> entry.member.user_id >> entry.password_hash;
        entry.member.email = lower(entry.member.email);
        const auto where = "staff directory " + path.string() + " line " + std::to_string(number) + ": ";
        if (fields >> extra || entry.password_hash.empty()) {
            throw std::runtime_error(where + "expected \"email role user_id argon2id-hash\"");
        }
        if (const auto reason = invalid_member(entry.member); !reason.empty()) {
            throw std::runtime_error(where + reason);
        }
        if (entry.password_hash.rfind("$argon2id$", 0) != 0) {
            throw std::runtime_error(where + "the password hash is not argon2id (use gatehouse staff add)");
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

void put_staff_entry(const std::filesystem::path& path, const StaffMember& member, const std::string& password) {
    StaffMember normalised = member;
    normalised.email = lower(trim(member.email));
    if (const auto reason = invalid_member(normalised); !reason.empty()) {
        throw std::invalid_argument(reason);
    }
    if (password.size() < 12) {
        throw std::invalid_argument("the password must have at least 12 characters");
    }
    std::vector<StaffEntry> entries;
    std::error_code missing;
    if (std::filesystem::exists(path, missing)) {
        entries = read_staff_file(path);
    }
    std::erase_if(entries, [&](const StaffEntry& entry) { return entry.member.email == normalised.email; });
    entries.push_back(StaffEntry{normalised, hash_password(password)});
    write_staff_file(path, entries);
}

bool remove_staff_entry(const std::filesystem::path& path, const std::string& email) {
    auto entries = read_staff_file(path);
    const auto removed =
        std::erase_if(entries, [&](const StaffEntry& entry) { return entry.member.email == lower(trim(email)); });
    if (removed > 0) {
        write_staff_file(path, entries);
    }
    return removed > 0;
}

StaffDirectory::StaffDirectory(std::filesystem::path path)
    : path_(std::move(path)), dummy_hash_(hash_password("not-a-password-of-anyone")) {
    for (auto& entry : read_staff_file(path_)) {
        by_email_[entry.member.email] = std::move(entry);
    }
    loaded_time_ = std::filesystem::last_write_time(path_);
    checked_ = std::chrono::steady_clock::now();
}

void StaffDirectory::reload_if_changed() {
    const auto now = std::chrono::steady_clock::now();
    if (now - checked_ < std::chrono::seconds(1)) {
        return;
    }
    checked_ = now;
    std::error_code error;
    const auto written = std::filesystem::last_write_time(path_, error);
    if (error || written == loaded_time_) {
        return;
    }
    try {
        std::map<std::string, StaffEntry> fresh;
        for (auto& entry : read_staff_file(path_)) {
            fresh[entry.member.email] = std::move(entry);
        }
        by_email_ = std::move(fresh);
        loaded_time_ = written;
        std::cerr << "web: staff directory reloaded (" << by_email_.size() << " members)\n";
    } catch (const std::exception& failure) {
        std::cerr << "web: staff directory not reloaded, the last good version stays: " << failure.what() << "\n";
        loaded_time_ = written;
    }
}

std::optional<StaffMember> StaffDirectory::find(const std::string& email) {
    const std::lock_guard lock(mutex_);
    reload_if_changed();
    const auto found = by_email_.find(lower(trim(email)));
    return found == by_email_.end() ? std::nullopt : std::optional<StaffMember>(found->second.member);
}

StaffDirectory::Verdict StaffDirectory::sign_in(const std::string& email, const std::string& password) {
    std::optional<StaffEntry> entry;
    {
        const std::lock_guard lock(mutex_);
        reload_if_changed();
        if (const auto found = by_email_.find(lower(trim(email))); found != by_email_.end()) {
            entry = found->second;
        }
    }
    if (password.size() > 256) {
        return {};
    }
    if (!hashing_.try_acquire_for(std::chrono::seconds(2))) {
        return {Outcome::busy, std::nullopt};
    }
    const std::string& hash = entry ? entry->password_hash : dummy_hash_;
    const bool matches = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    hashing_.release();
    if (!entry || !matches) {
        return {};
    }
    return {Outcome::signed_in, entry->member};
}

}  // namespace gatehouse::web
