#include "chaos_world.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gatehouse/testing/wait_until.h"

namespace gatehouse::chaos {
namespace {

std::string source_path(const std::string& relative) { return std::string(GATEHOUSE_SOURCE_DIR) + "/" + relative; }

std::string utc_now() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm parts{};
    gmtime_r(&now, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

std::chrono::milliseconds left_until(Clock::time_point deadline) {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        throw std::runtime_error("socket() failed");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot pick a free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

std::shared_ptr<grpc::Channel> quick_channel(int port) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(),
                                     arguments);
}

// ------------------------------------------------------------------------------------------ service

SupervisedService::SupervisedService(std::string name, std::string binary, std::map<std::string, std::string> settings,
                                     std::filesystem::path data_dir, std::filesystem::path log_file,
                                     std::function<std::map<std::string, std::string>(int)> per_start)
    : name_(std::move(name)),
      binary_(std::move(binary)),
      settings_(std::move(settings)),
      data_dir_(std::move(data_dir)),
      log_file_(std::move(log_file)),
      per_start_(std::move(per_start)),
      grpc_port_(free_port()),
      metrics_port_(free_port()),
      channel_(quick_channel(grpc_port_)) {}

SupervisedService::~SupervisedService() {
    if (process_) {
        process_->kill(SIGKILL);
        std::string ignored;
        (void)process_->wait_or_kill(std::chrono::seconds(10), ignored);
    }
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
}

void SupervisedService::start() {
    keep_running_ = true;
    auto settings = settings_;
    if (per_start_) {
        for (auto& [setting, value] : per_start_(starts_)) {
            settings[setting] = value;
        }
    }
    settings["GATEHOUSE_DATA_DIR"] = data_dir_.string();
    settings["GATEHOUSE_GRPC_LISTEN"] = "127.0.0.1:" + std::to_string(grpc_port_);
    settings["GATEHOUSE_METRICS_LISTEN"] = "127.0.0.1:" + std::to_string(metrics_port_);
    {
        std::ofstream log(log_file_, std::ios::app);
        log << "=== chaos run: start " << starts_ + 1 << " of " << name_ << " at " << utc_now();
        if (const auto mode = settings.find("GATEHOUSE_ONBOARDING_APPROVAL_MODE"); mode != settings.end()) {
            log << " (approval mode " << mode->second << ")";
        }
        log << " ===\n";
    }
    // env sets the settings (kept out of the process description, which may be printed), sh sends
    // the service's stderr (its log) to the log file; stdout (the ready line) comes to us.
    std::vector<std::string> command = {"/usr/bin/env"};
    for (const auto& [setting, value] : settings) {
        command.push_back(setting + "=" + value);
    }
    command.insert(command.end(), {"/bin/sh", "-c", "exec \"$0\" 2>>\"$1\"", binary_, log_file_.string()});
    process_ = std::make_unique<testing::ChildProcess>(command);
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, process_->pid(), 0));
    ready_ = false;
    started_at_ = Clock::now();
    ++starts_;
}

void SupervisedService::supervise() {
    if (!process_) {
        if (keep_running_ && Clock::now() >= restart_at_) {
            start();
        }
        return;
    }
    if (!ready_) {
        const std::string ready = name_ + " ready grpc=";
        while (const auto line = process_->read_line(std::chrono::milliseconds(0))) {
            if (line->rfind(ready, 0) == 0) {
                ready_ = true;
                consecutive_failures_ = 0;
                slowest_start_ = std::max(
                    slowest_start_, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at_));
            }
        }
    }
    pollfd exited{pidfd_, POLLIN, 0};
    if (pidfd_ >= 0 && ::poll(&exited, 1, 0) > 0) {
        reap(false);
    }
}

void SupervisedService::reap(bool expected) {
    std::string failure;
    const int status = process_->wait_or_kill(std::chrono::seconds(10), failure);
    process_.reset();
    if (pidfd_ >= 0) {
        ::close(pidfd_);
        pidfd_ = -1;
    }
    ready_ = false;
    if (expected) {
        restart_at_ = Clock::now();
        return;
    }
    ++unexpected_exits_[status];
    ++consecutive_failures_;
    // As a supervisor does: again at once, then backing off up to 10 s while it keeps failing.
    const auto backoff = std::chrono::milliseconds(std::min(10'000, 500 << std::min(consecutive_failures_, 5)));
    restart_at_ = Clock::now() + backoff;
    std::ofstream log(log_file_, std::ios::app);
    log << "=== chaos run: " << name_ << " exited by itself with status " << status << " at " << utc_now()
        << "; started again in " << backoff.count() << " ms ===\n";
}

bool SupervisedService::kill9() {
    if (!process_) {
        return false;
    }
    process_->kill(SIGKILL);
    reap(true);
    ++kills_;
    std::ofstream log(log_file_, std::ios::app);
    log << "=== chaos run: " << name_ << " killed with SIGKILL at " << utc_now() << " ===\n";
    return true;
}

int SupervisedService::stop() {
    keep_running_ = false;
    if (!process_) {
        return -1;
    }
    process_->kill(SIGTERM);
    std::string failure;
    const int status = process_->wait_or_kill(std::chrono::seconds(30), failure);
    process_.reset();
    if (pidfd_ >= 0) {
        ::close(pidfd_);
        pidfd_ = -1;
    }
    ready_ = false;
    if (!failure.empty()) {
        throw std::runtime_error("stopping " + name_ + ": " + failure);
    }
    return status;
}

bool SupervisedService::wait_ready(std::chrono::milliseconds timeout) {
    return gatehouse::testing::wait_until(
        [&] {
            supervise();
            return ready_;
        },
        timeout);
}

// ------------------------------------------------------------------------------------------ broker

namespace {

// Runs kafka.sh with `arguments`, bounded; returns its exit status and output.
std::pair<int, std::string> kafka_sh(const std::vector<std::string>& arguments, std::chrono::seconds timeout) {
    std::vector<std::string> command = {"/usr/bin/env", "GATEHOUSE_KAFKA_START_TIMEOUT=150",
                                        source_path("deploy/kafka/kafka.sh")};
    command.insert(command.end(), arguments.begin(), arguments.end());
    testing::ChildProcess script(command, true);
    const int status = script.wait(timeout);
    return {status, script.output()};
}

}  // namespace

ChaosBroker::ChaosBroker(std::filesystem::path dir) : dir_(std::move(dir)) {}

ChaosBroker::~ChaosBroker() {
    if (running_) {
        try {
            stop();
        } catch (const std::exception& error) {
            std::cerr << "chaos: stopping the broker: " << error.what() << "\n";
        }
    }
}

void ChaosBroker::start() {
    std::vector<std::string> arguments = {"start", "--sasl", "--data", dir_.string()};
    if (!bootstrap_.empty()) {  // the same ports as before: the services keep their bootstrap address
        arguments.insert(arguments.end(), {"--port", bootstrap_.substr(bootstrap_.rfind(':') + 1), "--controller-port",
                                           controller_port_});
    }
    const auto [status, output] = kafka_sh(arguments, std::chrono::seconds(200));
    if (status != 0) {
        throw std::runtime_error("kafka.sh start exited with " + std::to_string(status) + ":\n" + output);
    }
    std::ifstream bootstrap(bootstrap_file());
    std::getline(bootstrap, bootstrap_);
    std::ifstream properties(dir_ / "server.properties");
    for (std::string line; std::getline(properties, line);) {
        if (line.rfind("controller.quorum.voters=", 0) == 0) {
            controller_port_ = line.substr(line.rfind(':') + 1);
        }
    }
    running_ = true;
}

void ChaosBroker::stop() {
    const auto [status, output] = kafka_sh({"stop", "--data", dir_.string()}, std::chrono::seconds(90));
    running_ = false;
    if (status != 0) {
        throw std::runtime_error("kafka.sh stop exited with " + std::to_string(status) + ":\n" + output);
    }
}

// ------------------------------------------------------------------------------------------ SMTP

ChaosSmtp::ChaosSmtp(std::filesystem::path dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }

ChaosSmtp::~ChaosSmtp() {
    if (process_) {
        process_->kill(SIGKILL);
        std::string ignored;
        (void)process_->wait_or_kill(std::chrono::seconds(10), ignored);
    }
}

void ChaosSmtp::start() {
    std::vector<std::string> command = {"/usr/bin/python3", source_path("tests/support/smtp_sink.py"), "--dir",
                                        dir_.string(), "--fast"};
    if (port_ != 0) {
        command.insert(command.end(), {"--port", std::to_string(port_)});
    }
    auto process = std::make_unique<testing::ChildProcess>(command, true);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
        const auto line = process->read_line(left_until(deadline));
        if (!line) {
            break;
        }
        if (const auto at = line->find("ready port="); at != std::string::npos) {
            port_ = std::stoi(line->substr(at + 11));
            process_ = std::move(process);
            return;
        }
    }
    process->kill(SIGKILL);
    std::string failure;
    (void)process->wait_or_kill(std::chrono::seconds(10), failure);
    throw std::runtime_error("the SMTP server did not start: " + process->output() + failure);
}

void ChaosSmtp::stop() {
    if (!process_) {
        return;
    }
    process_->kill(SIGTERM);
    std::string failure;
    (void)process_->wait_or_kill(std::chrono::seconds(15), failure);
    process_.reset();
    if (!failure.empty()) {
        throw std::runtime_error("stopping the SMTP server: " + failure);
    }
}

// ------------------------------------------------------------------------------------------ volume

namespace {
constexpr const char* kFiller = ".chaos-filler";
}

DataVolume::DataVolume(std::filesystem::path path, const std::string& size) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        why_not_ =
            std::string("mount -t tmpfs -o ") + options + " tmpfs " + path_.string() + ": " + std::strerror(errno);
        return;
    }
    mounted_ = true;
}

DataVolume::~DataVolume() {
    if (mounted_) {
        free();
        if (::umount2(path_.c_str(), MNT_DETACH) != 0) {
            std::cerr << "chaos: umount " << path_ << ": " << std::strerror(errno) << "\n";
        }
    }
}

std::uintmax_t DataVolume::fill() {
    const std::string filler = (path_ / kFiller).string();
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        return 0;
    }
    std::uintmax_t written = 0;
    const std::vector<char> zeros(1 << 20, '\0');
    // Big chunks first, then small ones for the last bytes: nothing is left for anyone.
    for (const std::size_t chunk : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{1}}) {
        for (;;) {
            const ssize_t count = ::write(fd, zeros.data(), chunk);
            if (count <= 0) {
                break;
            }
            written += static_cast<std::uintmax_t>(count);
        }
    }
    (void)::fsync(fd);
    ::close(fd);
    return written;
}

void DataVolume::free() {
    std::error_code ignored;
    std::filesystem::remove(path_ / kFiller, ignored);
}

std::pair<std::uintmax_t, std::uintmax_t> DataVolume::usage() const {
    struct statvfs stats {};
    if (::statvfs(path_.c_str(), &stats) != 0) {
        return {0, 0};
    }
    const std::uintmax_t size = static_cast<std::uintmax_t>(stats.f_blocks) * stats.f_frsize;
    return {size - static_cast<std::uintmax_t>(stats.f_bfree) * stats.f_frsize, size};
}

}  // namespace gatehouse::chaos
