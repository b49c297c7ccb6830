#include <fstream>
#include <mutex>
#include <optional>
#include <system_error>

#include "transport/transport.h"

namespace gatehouse::notifier {
namespace {

class FileTransport final : public EmailTransport {
  public:
    FileTransport(std::filesystem::path directory, std::chrono::milliseconds retention)
        : directory_(std::move(directory)), retention_(retention) {
        std::filesystem::create_directories(directory_);
        std::filesystem::permissions(directory_, std::filesystem::perms::owner_all);
    }

    // A local write, quick: not interrupted. Two different messages never share a file, so
    // concurrent sends are safe.
    SendOutcome send(const OutgoingEmail& email, const Interrupted& /*interrupted*/) override {
        // "<N-abc@host>" -> "N-abc@host.eml": one file per notification, so a resend overwrites
        // instead of duplicating.
        std::string name = email.message_id;
        std::erase_if(name, [](char c) { return c == '<' || c == '>' || c == '/'; });
        const auto target = directory_ / (name + ".eml");
        const auto temporary = directory_ / ("." + name + ".tmp");
        remove_expired();
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            // Owner only, before anything is written: the message holds a live one-time link.
            std::error_code denied;
            std::filesystem::permissions(
                temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, denied);
            if (denied) {
                return SendOutcome::transient("cannot restrict " + temporary.string() + ": " + denied.message());
            }
            out << compose_mime(email, std::chrono::system_clock::now());
            out.flush();
            if (!out) {
                return SendOutcome::transient("cannot write " + temporary.string());
            }
        }
        std::error_code error;
        std::filesystem::rename(temporary, target, error);
        if (error) {
            return SendOutcome::transient("cannot rename to " + target.string() + ": " + error.message());
        }
        return SendOutcome::delivered();
    }

    [[nodiscard]] std::string name() const override { return "file"; }

  private:
    // Deletes the messages older than the retention, at most once a minute.
    void remove_expired() {
        {
            std::lock_guard lock(sweep_mutex_);
            const auto tick = std::chrono::steady_clock::now();
            if (last_sweep_ && tick - *last_sweep_ < std::chrono::minutes(1)) {
                return;
            }
            last_sweep_ = tick;
        }
        const auto now = std::filesystem::file_time_type::clock::now();
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
            std::error_code ignored;
            if (entry.path().extension() == ".eml" && now - entry.last_write_time(ignored) > retention_ && !ignored) {
                std::filesystem::remove(entry.path(), ignored);
            }
        }
    }

    std::filesystem::path directory_;
    std::chrono::milliseconds retention_;
    std::mutex sweep_mutex_;
    std::optional<std::chrono::steady_clock::time_point> last_sweep_;
};

}  // namespace

std::unique_ptr<EmailTransport> make_file_transport(std::filesystem::path directory,
                                                    std::chrono::milliseconds retention) {
    return std::make_unique<FileTransport>(std::move(directory), retention);
}

}  // namespace gatehouse::notifier
