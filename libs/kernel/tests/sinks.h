// The test doubles of the outside world that Gatehouse talks to: a real SMTP server (aiosmtpd,
// tests/support/smtp_sink.py) and a local incoming-webhook receiver (tests/support/webhook_sink.py),
// each a child process on a free loopback port that stores what it receives as JSON files.
#pragma once

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "temp_dir.h"

namespace gatehouse::testing {

// A helper server (smtp_sink.py / webhook_sink.py) storing what it receives as JSON files.
class Sink final {
  public:
    Sink(std::string script, std::vector<std::string> arguments = {}) : script_(std::move(script)) {
        start(std::move(arguments));
    }
    ~Sink() { stop(); }

    void start(std::vector<std::string> arguments = {}) {
        std::vector<std::string> command = {"/usr/bin/python3", script_, "--dir", dir_.path().string()};
        command.insert(command.end(), arguments.begin(), arguments.end());
        process_ = std::make_unique<ChildProcess>(command, true);
        while (auto line = process_->read_line(std::chrono::seconds(20))) {
            if (const auto at = line->find("ready port="); at != std::string::npos) {
                port_ = std::stoi(line->substr(at + 11));
                return;
            }
        }
        throw std::runtime_error(script_ + " did not start");
    }
    void stop() {
        if (process_) {
            process_->kill(SIGTERM);
            process_->wait();
            process_.reset();
        }
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
