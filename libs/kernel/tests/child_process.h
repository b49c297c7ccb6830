// A child process for crash tests: started with a pipe on its stdout, read line by line with a
// deadline, killed with any signal, and always reaped.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace gatehouse::testing {

class ChildProcess final {
  public:
    // With merge_stderr, the child's stderr goes into the same pipe as its stdout.
    explicit ChildProcess(const std::vector<std::string>& argv, bool merge_stderr = false);
    ~ChildProcess();  // SIGKILLs and reaps the child if it still runs
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // The next line of the child's stdout, or nullopt at end of output or when the deadline passes.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    void kill(int signal);
    // Waits for the child to exit; returns its exit status (or 128 + signal).
    int wait();

  private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string buffer_;
    bool reaped_ = false;
    int status_ = 0;
};

}  // namespace gatehouse::testing
