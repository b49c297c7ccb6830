#include <fstream>
#include <system_error>

#include "transport/transport.h"

namespace gatehouse::notifier {
namespace {

class FileTransport final : public EmailTransport {
  public:
    explicit FileTransport(std::filesystem::path directory) : directory_(std::move(directory)) {
        std::filesystem::create_directories(directory_);
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
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
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
    std::filesystem::path directory_;
};

}  // namespace

std::unique_ptr<EmailTransport> make_file_transport(std::filesystem::path directory) {
    return std::make_unique<FileTransport>(std::move(directory));
}

}  // namespace gatehouse::notifier
