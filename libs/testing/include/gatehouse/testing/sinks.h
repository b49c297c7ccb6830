// The test doubles of the outside world that Gatehouse talks to: a real SMTP server (aiosmtpd,
// tests/support/smtp_sink.py) and a local incoming-webhook receiver (tests/support/webhook_sink.py),
// each a child process on a free loopback port that stores what it receives as JSON files.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/support_failure.h"
#include "gatehouse/testing/temp_dir.h"

namespace gatehouse::testing {

// A helper server (smtp_sink.py / webhook_sink.py) storing what it receives as JSON files.
class Sink final {
  public:
    // How long a sink may take to print its ready line, and to exit after SIGTERM.
    static constexpr std::chrono::seconds kStartTimeout{20};
    static constexpr std::chrono::seconds kStopTimeout{10};

    Sink(std::string script, std::vector<std::string> arguments = {}) : script_(std::move(script)) {
        start(std::move(arguments));
    }
    ~Sink() {
        if (process_) {
            process_->kill(SIGTERM);
            std::string failure;
            process_->wait_or_kill(kStopTimeout, failure);
            process_.reset();
            if (!failure.empty()) {
                report_support_failure("stopping the sink: " + failure);
            }
        }
    }
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    // Starts the script and waits (at most kStartTimeout) until it prints its ready line; when it
    // does not, kills it and throws with what it printed.
    void start(std::vector<std::string> arguments = {}) {
        std::vector<std::string> command = {"/usr/bin/python3", script_, "--dir", dir_.path().string()};
        command.insert(command.end(), arguments.begin(), arguments.end());
        auto process = std::make_unique<ChildProcess>(command, true);
        const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto line = process->read_line(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
            if (!line) {
                break;  // it exited, or the time is up
            }
            if (const auto at = line->find("ready port="); at != std::string::npos) {
                port_ = std::stoi(line->substr(at + 11));
                process_ = std::move(process);
                return;
            }
        }
        const bool timed_out = std::chrono::steady_clock::now() >= deadline;
        process->kill(SIGKILL);
        std::string failure;
        const int status = process->wait_or_kill(kStopTimeout, failure);
        const std::string what =
            timed_out ? " did not print its ready line within " + std::to_string(kStartTimeout.count()) +
                            " s; killed it with SIGKILL."
                      : " exited with status " + std::to_string(status) + " before printing its ready line.";
        throw std::runtime_error(process->describe() + what + " Its output:\n" + process->output() + failure);
    }
    // SIGTERM, and waits (at most kStopTimeout) until the sink exited; when it does not, kills it
    // and throws with what it printed. Returns its exit status.
    int stop() {
        if (!process_) {
            return -1;
        }
        const std::unique_ptr<ChildProcess> process = std::move(process_);
        process->kill(SIGTERM);
        return process->wait(kStopTimeout);
    }
    [[nodiscard]] int port() const { return port_; }

    // Everything received so far, in arrival order.
    [[nodiscard]] std::vector<nlohmann::json> received() const {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
            if (entry.path().extension() == ".json") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        std::vector<nlohmann::json> records;
        for (const auto& file : files) {
            std::ifstream in(file);
            records.push_back(nlohmann::json::parse(in));
        }
        return records;
    }

  private:
    std::string script_;
    TempDir dir_;
    std::unique_ptr<ChildProcess> process_;
    int port_ = 0;
};

// The path of a support script (smtp_sink.py, webhook_sink.py) in the source tree.
inline std::string support_script(const std::string& name) {
    return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/support/" + name;
}

}  // namespace gatehouse::testing
