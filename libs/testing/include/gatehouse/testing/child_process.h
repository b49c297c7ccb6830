// A child process for tests: started with a pipe on its stdout (and its stderr, when merged) that a
// reader thread drains all the time, so the child never blocks on a full pipe and the test always
// has what it printed. Its lines are read with a deadline; it is killed with any signal and always
// reaped. No wait is unbounded: wait() gives the child a deadline, then kills it with SIGKILL and
// fails with the child's last output. The child also gets SIGKILL when the test process dies, so
// no child outlives its test (create a ChildProcess on a thread that outlives it: the signal comes
// when the creating thread ends).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace gatehouse::testing {

class ChildProcess final {
  public:
    // How long wait() waits by default for the child to exit.
    static constexpr std::chrono::seconds kExitTimeout{60};

    // With merge_stderr, the child's stderr goes into the same pipe as its stdout.
    explicit ChildProcess(const std::vector<std::string>& argv, bool merge_stderr = false);
    ~ChildProcess();  // SIGKILLs and reaps the child if it still runs (bounded; never throws)
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // The next line of the child's stdout, or nullopt at end of output or when the deadline passes.
    // At end of output, a last line without a newline is returned as a line.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    void kill(int signal);
    // Waits up to `timeout` for the child to exit; returns its exit status (or 128 + signal). When
    // it has not exited by then, kills it with SIGKILL, reaps it and throws std::runtime_error
    // naming the child and the wait, with the child's last output.
    int wait(std::chrono::milliseconds timeout = kExitTimeout);
    // As wait(), but never throws (for destructors): on timeout the child is killed and reaped the
    // same way, the message is stored in `failure` and 128 + SIGKILL returned.
    int wait_or_kill(std::chrono::milliseconds timeout, std::string& failure) noexcept;

    // What the child printed (the last 64 KiB): its stdout, and its stderr when merged.
    [[nodiscard]] std::string output() const;
    // The program and its arguments without the environment assignments (which may hold secrets),
    // and the pid: for messages.
    [[nodiscard]] std::string describe() const;
    [[nodiscard]] pid_t pid() const { return pid_; }

  private:
    void drain();
    bool reap_within(std::chrono::milliseconds timeout) noexcept;
    [[nodiscard]] std::string output_tail() const;

    std::string description_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    bool reaped_ = false;
    int status_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::string unread_;      // output read_line has not returned yet
    std::string transcript_;  // the last 64 KiB of output
    bool end_of_output_ = false;
    std::atomic<bool> stopping_{false};
    std::thread reader_;
};

}  // namespace gatehouse::testing
