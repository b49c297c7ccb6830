// The outside world of the chaos run, as the run controls it: the four service processes under a
// supervisor (restarted when they exit, as Kubernetes or systemd would), a Kafka broker of the
// run's own (kafka.sh --sasl on a data directory of its own, stopped and started mid-run), the SMTP
// server (tests/support/smtp_sink.py, stopped and started on the same port) and a small tmpfs that
// holds one service's data directory (filled to the last byte, then freed).
//
// Every process is started and signalled from the thread that owns the world (children get
// SIGKILL when the thread that created them ends: see child_process.h). Ports are fixed for the
// whole run, so clients keep one channel per service across restarts.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/testing/child_process.h"

namespace gatehouse::chaos {

using Clock = std::chrono::steady_clock;

// A free TCP port on 127.0.0.1 (bound, read and closed: free for a moment, then ours by convention).
int free_port();

// A channel that reconnects quickly after its server restarts (gRPC's default backoff grows to
// two minutes, which would make a service that is back look down).
std::shared_ptr<grpc::Channel> quick_channel(int port);

// One Gatehouse service binary, kept running: start() spawns it without waiting; supervise(), called
// often, notices its ready line, notices when it exited and starts it again after a short backoff.
class SupervisedService final {
  public:
    // `name` as it prints it in its ready line; `log_file` receives its stderr (appended);
    // `per_start` adds settings for the n-th start (0-based), e.g. an approval mode.
    SupervisedService(std::string name, std::string binary, std::map<std::string, std::string> settings,
                      std::filesystem::path data_dir, std::filesystem::path log_file,
                      std::function<std::map<std::string, std::string>(int)> per_start = {});
    ~SupervisedService();
    SupervisedService(const SupervisedService&) = delete;
    SupervisedService& operator=(const SupervisedService&) = delete;

    void start();
    void supervise();
    // SIGKILL now if the process runs (ready or still starting), reaped within 10 s; it is
    // started again by the next supervise(). Returns false when no process was running.
    bool kill9();
    // SIGTERM and wait (at most 30 s, then SIGKILL); not restarted. Returns the exit status.
    int stop();
    // Waits (at most `timeout`) until it is ready.
    bool wait_ready(std::chrono::milliseconds timeout);

    [[nodiscard]] bool ready() const { return ready_; }
    [[nodiscard]] bool running() const { return process_ != nullptr; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] int grpc_port() const { return grpc_port_; }
    [[nodiscard]] int metrics_port() const { return metrics_port_; }
    [[nodiscard]] const std::filesystem::path& data_dir() const { return data_dir_; }
    [[nodiscard]] std::shared_ptr<grpc::Channel> channel() const { return channel_; }
    [[nodiscard]] int starts() const { return starts_; }
    [[nodiscard]] int kills() const { return kills_; }
    // Exits the run did not cause, by exit status (128 + signal for a signal).
    [[nodiscard]] const std::map<int, int>& unexpected_exits() const { return unexpected_exits_; }
    // The longest a start took until the ready line.
    [[nodiscard]] std::chrono::milliseconds slowest_start() const { return slowest_start_; }

  private:
    void reap(bool expected);

    std::string name_;
    std::string binary_;
    std::map<std::string, std::string> settings_;
    std::filesystem::path data_dir_;
    std::filesystem::path log_file_;
    std::function<std::map<std::string, std::string>(int)> per_start_;
    int grpc_port_;
    int metrics_port_;
    std::shared_ptr<grpc::Channel> channel_;
    std::unique_ptr<testing::ChildProcess> process_;
    int pidfd_ = -1;
    bool ready_ = false;
    Clock::time_point started_at_{};
    Clock::time_point restart_at_{};  // when stopped by an exit: when to start again
    bool keep_running_ = true;
    int consecutive_failures_ = 0;
    int starts_ = 0;
    int kills_ = 0;
    std::map<int, int> unexpected_exits_;
    std::chrono::milliseconds slowest_start_{0};
};

// The run's own Kafka broker (deploy/kafka/kafka.sh start --sasl --data DIR): started, stopped
// and started again on the same ports and credentials.
class ChaosBroker final {
  public:
    explicit ChaosBroker(std::filesystem::path dir);
    ~ChaosBroker();  // stops it if it runs
    ChaosBroker(const ChaosBroker&) = delete;
    ChaosBroker& operator=(const ChaosBroker&) = delete;

    void start();  // throws with kafka.sh's output when it does not serve
    void stop();
    [[nodiscard]] bool running() const { return running_; }
    [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }
    [[nodiscard]] std::filesystem::path bootstrap_file() const { return dir_ / "bootstrap"; }

  private:
    std::filesystem::path dir_;
    std::string bootstrap_;
    std::string controller_port_;
    bool running_ = false;
};

// The SMTP server (tests/support/smtp_sink.py --fast): each accepted message a JSON file in dir.
class ChaosSmtp final {
  public:
    explicit ChaosSmtp(std::filesystem::path dir);
    ~ChaosSmtp();
    ChaosSmtp(const ChaosSmtp&) = delete;
    ChaosSmtp& operator=(const ChaosSmtp&) = delete;

    void start();  // on the port of the first start
    void stop();
    [[nodiscard]] bool running() const { return process_ != nullptr; }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  private:
    std::filesystem::path dir_;
    int port_ = 0;
    std::unique_ptr<testing::ChildProcess> process_;
};

// A tmpfs of `size` mounted at `path` for one service's data directory. fill() writes a filler
// file until the volume has no byte left; free() deletes it. Unmounted when destroyed.
class DataVolume final {
  public:
    // Mounts; when that is not allowed (not root, no CAP_SYS_ADMIN), `mounted()` is false and
    // `why_not()` says why.
    DataVolume(std::filesystem::path path, const std::string& size);
    ~DataVolume();
    DataVolume(const DataVolume&) = delete;
    DataVolume& operator=(const DataVolume&) = delete;

    [[nodiscard]] bool mounted() const { return mounted_; }
    [[nodiscard]] const std::string& why_not() const { return why_not_; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    // Fills the volume; returns the bytes written.
    std::uintmax_t fill();
    void free();
    // Bytes in use and the volume's size.
    [[nodiscard]] std::pair<std::uintmax_t, std::uintmax_t> usage() const;

  private:
    std::filesystem::path path_;
    bool mounted_ = false;
    std::string why_not_;
};

}  // namespace gatehouse::chaos
