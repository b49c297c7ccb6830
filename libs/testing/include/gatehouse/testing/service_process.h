// A Gatehouse service binary as a real child process for tests: started with its settings (as
// GATEHOUSE_* environment variables) on its own data directory, ready once it prints
// "<service> ready grpc=PORT metrics=PORT", stopped with SIGTERM or killed with SIGKILL, restarted
// on the same data directory, and able to run its operator commands (restore-from-topic, verify).
// Also the notifier key pair tests hold, to seal and open one-time tokens as the services do.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/metrics_reader.h"
#include "gatehouse/testing/support_failure.h"
#include "gatehouse/testing/temp_dir.h"

namespace gatehouse::testing {

class ServiceProcess final {
  public:
    // How long a service may take to print its ready line, to exit after SIGTERM (a graceful
    // shutdown) or SIGKILL, and an operator command to finish.
    static constexpr std::chrono::seconds kStartTimeout{90};
    static constexpr std::chrono::seconds kStopTimeout{30};
    static constexpr std::chrono::seconds kKillTimeout{10};
    static constexpr std::chrono::seconds kCommandTimeout{120};

    // `name` is the service's name as it prints it in its ready line (e.g. "sales-bridge").
    ServiceProcess(std::string name, std::string binary, std::map<std::string, std::string> settings)
        : name_(std::move(name)), binary_(std::move(binary)), settings_(std::move(settings)) {}
    ~ServiceProcess() {
        if (process_) {
            process_->kill(SIGKILL);
            std::string failure;
            process_->wait_or_kill(kKillTimeout, failure);
            process_.reset();
            if (!failure.empty()) {
                report_support_failure("stopping gatehouse " + name_ + ": " + failure);
            }
        }
    }
    ServiceProcess(const ServiceProcess&) = delete;
    ServiceProcess& operator=(const ServiceProcess&) = delete;

    // Starts the binary (with `extra` settings on top of the constructor's) and waits (at most
    // kStartTimeout) until it is ready; when it is not, kills it and throws with what it printed
    // (its stdout; its stderr is the test's).
    void start(const std::map<std::string, std::string>& extra = {}) {
        std::vector<std::string> command = environment(extra);
        command.push_back(binary_);
        auto process = std::make_unique<ChildProcess>(command);
        const std::string ready = name_ + " ready grpc=";
        const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto line = process->read_line(left_until(deadline));
            if (!line) {
                break;  // it exited, or the time is up
            }
            if (line->rfind(ready, 0) == 0) {
                grpc_port_ = std::stoi(line->substr(ready.size()));
                const auto metrics = line->find("metrics=");
                metrics_port_ = metrics == std::string::npos ? 0 : std::stoi(line->substr(metrics + 8));
                channel_ =
                    grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_), grpc::InsecureChannelCredentials());
                process_ = std::move(process);
                return;
            }
        }
        const bool timed_out = std::chrono::steady_clock::now() >= deadline;
        process->kill(SIGKILL);
        std::string failure;
        const int status = process->wait_or_kill(kKillTimeout, failure);
        const std::string what = timed_out ? " did not become ready within " + std::to_string(kStartTimeout.count()) +
                                                 " s; killed it with SIGKILL."
                                           : " exited with status " + std::to_string(status) + " before it was ready.";
        throw std::runtime_error("gatehouse " + name_ + what + " Its log is on stderr above; its stdout:\n" +
                                 process->output() + failure);
    }

    // Signals the process and waits for it (at most kStopTimeout after SIGTERM, kKillTimeout
    // after SIGKILL); returns its exit code (-1 if it was not running). When it does not exit in
    // time, kills it with SIGKILL and throws with what it printed.
    int stop(int signal = SIGTERM) {
        if (!process_) {
            return -1;
        }
        const std::unique_ptr<ChildProcess> process = std::move(process_);
        process->kill(signal);
        return process->wait(signal == SIGKILL ? kKillTimeout : kStopTimeout);
    }

    // Runs an operator command of the binary (restore-from-topic, verify) while the service is
    // stopped; returns its exit code and its output (stdout and stderr). When it does not finish
    // within kCommandTimeout, kills it and throws with what it printed.
    [[nodiscard]] std::pair<int, std::string> run_command(const std::vector<std::string>& arguments) const {
        std::vector<std::string> command = environment({});
        command.push_back(binary_);
        command.insert(command.end(), arguments.begin(), arguments.end());
        ChildProcess tool(command, true);
        std::string output;
        const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto line = tool.read_line(left_until(deadline));
            if (!line) {
                break;
            }
            output += *line + "\n";
        }
        const auto left = left_until(deadline);
        return {tool.wait(std::max(left, std::chrono::milliseconds(kKillTimeout))), output};
    }

    [[nodiscard]] std::shared_ptr<grpc::Channel> channel() const { return channel_; }
    [[nodiscard]] int grpc_port() const { return grpc_port_; }
    [[nodiscard]] int metrics_port() const { return metrics_port_; }
    // A gauge or counter from the running process's /metrics (-1 when unreadable or absent).
    [[nodiscard]] double metric(const std::string& metric_name) const {
        return read_metric(metrics_port_, metric_name);
    }
    [[nodiscard]] std::filesystem::path data_dir() const { return data_.path() / "log"; }
    [[nodiscard]] const std::string& name() const { return name_; }

  private:
    static std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
        return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          deadline - std::chrono::steady_clock::now()));
    }

    [[nodiscard]] std::vector<std::string> environment(const std::map<std::string, std::string>& extra) const {
        auto settings = settings_;
        for (const auto& [setting, value] : extra) {
            settings[setting] = value;
        }
        std::vector<std::string> command = {"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + data_dir().string()};
        for (const auto& [setting, value] : settings) {
            command.push_back(setting + "=" + value);
        }
        return command;
    }

    std::string name_;
    std::string binary_;
    std::map<std::string, std::string> settings_;
    TempDir data_;
    std::unique_ptr<ChildProcess> process_;
    std::shared_ptr<grpc::Channel> channel_;
    int grpc_port_ = 0;
    int metrics_port_ = 0;
};

// The notifier's key pair, held by a test: the services get the public half (they seal one-time
// tokens to it), the notifier both; the test can open sealed tokens as the notifier would.
class NotifierKeys final {
  public:
    NotifierKeys() {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium failed to initialise");
        }
        crypto_box_keypair(public_key_, secret_key_);
    }
    ~NotifierKeys() { sodium_memzero(secret_key_, sizeof secret_key_); }
    NotifierKeys(const NotifierKeys&) = delete;
    NotifierKeys& operator=(const NotifierKeys&) = delete;

    // As gatehouse-keygen prints them (base64url): the values of notifier.public_key / secret_key.
    [[nodiscard]] std::string public_text() const { return text(public_key_, sizeof public_key_); }
    [[nodiscard]] std::string secret_text() const { return text(secret_key_, sizeof secret_key_); }

    [[nodiscard]] std::string seal(const std::string& token) const {
        std::string sealed(crypto_box_SEALBYTES + token.size(), '\0');
        crypto_box_seal(reinterpret_cast<unsigned char*>(sealed.data()),
                        reinterpret_cast<const unsigned char*>(token.data()), token.size(), public_key_);
        return sealed;
    }
    // The token, or "" when `sealed` was not sealed to this key pair.
    [[nodiscard]] std::string unseal(const std::string& sealed) const {
        if (sealed.size() < crypto_box_SEALBYTES) {
            return {};
        }
        std::string token(sealed.size() - crypto_box_SEALBYTES, '\0');
        if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(token.data()),
                                 reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(), public_key_,
                                 secret_key_) != 0) {
            return {};
        }
        return token;
    }

  private:
    static std::string text(const unsigned char* bytes, std::size_t size) {
        std::string encoded(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
        sodium_bin2base64(encoded.data(), encoded.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        encoded.resize(encoded.find('\0'));
        return encoded;
    }

    unsigned char public_key_[crypto_box_PUBLICKEYBYTES]{};
    unsigned char secret_key_[crypto_box_SECRETKEYBYTES]{};
};

// A client context with a bearer credential (or none) and a deadline.
inline std::unique_ptr<grpc::ClientContext> call_as(const std::string& token = {}) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    if (!token.empty()) {
        context->AddMetadata("authorization", "Bearer " + token);
    }
    return context;
}

}  // namespace gatehouse::testing
