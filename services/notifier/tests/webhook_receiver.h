// The example webhook receiver (services/notifier/examples/webhook_receiver.py) as a test double:
// a child process on a loopback port that verifies every request with the `standardwebhooks`
// package from PyPI (in the venv the ctest fixture notifier.webhook_venv makes, at
// GATEHOUSE_WEBHOOK_VENV) and stores each one as JSON: {"verified": true, "webhook_id", "signature",
// "event": <the body>, "duplicate"} or {"verified": false, "error", "headers"}.
#pragma once

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gatehouse/testing/sinks.h"
#include "gatehouse/testing/temp_dir.h"

namespace gatehouse::testing {

inline constexpr const char* kReceiver = GATEHOUSE_SOURCE_DIR "/services/notifier/examples/webhook_receiver.py";
inline constexpr const char* kVenvPython = GATEHOUSE_WEBHOOK_VENV "/bin/python";

// The example receiver: verifies with standardwebhooks, stores each request as JSON.
class WebhookReceiver final {
  public:
    WebhookReceiver() : sink_(kReceiver, arguments()) { port_ = sink_.port(); }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks"; }
    // The secret it verifies with (read at each request).
    void use_secret(const std::string& secret) { std::ofstream(secret_file_) << secret << "\n"; }
    // Stops it (SIGTERM); returns its exit status.
    int stop() { return sink_.stop(); }
    // After stop(): listens on the same port again.
    void start_again() {
        auto again = arguments();
        again.insert(again.end(), {"--port", std::to_string(port_)});
        sink_.start(again);
    }
    [[nodiscard]] std::vector<nlohmann::json> received() const { return sink_.received(); }
    // Requests whose signature did not verify.
    [[nodiscard]] std::size_t rejected() const {
        std::size_t n = 0;
        for (const auto& record : received()) {
            n += record["verified"].get<bool>() ? 0 : 1;
        }
        return n;
    }
    // The event ids of the verified requests.
    [[nodiscard]] std::set<std::string> event_ids() const {
        std::set<std::string> ids;
        for (const auto& record : received()) {
            if (record["verified"].get<bool>()) {
                ids.insert(record["event"]["eventId"].get<std::string>());
            }
        }
        return ids;
    }
    // How many verified requests came with `webhook_id`.
    [[nodiscard]] std::size_t times_received(const std::string& webhook_id) const {
        std::size_t n = 0;
        for (const auto& record : received()) {
            n += record["verified"].get<bool>() && record["webhook_id"] == webhook_id ? 1 : 0;
        }
        return n;
    }

  private:
    std::vector<std::string> arguments() const {
        return {"--python", kVenvPython, "--secret-file", secret_file_.string()};
    }
    TempDir dir_;
    std::filesystem::path secret_file_ = dir_.path() / "secret";
    Sink sink_;
    int port_ = 0;
};

}  // namespace gatehouse::testing
