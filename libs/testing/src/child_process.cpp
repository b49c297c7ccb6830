#include "gatehouse/testing/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <utility>

namespace gatehouse::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kTranscriptBytes = 64 * 1024;
constexpr std::size_t kTailBytes = 4 * 1024;
// After SIGKILL, how long reaping may take before the child is given up on.
constexpr std::chrono::seconds kKillTimeout{10};
// After the child was reaped, how long the reader may take to reach the end of its output.
constexpr std::chrono::seconds kOutputTimeout{1};

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string description_of(const std::vector<std::string>& argv) {
    std::size_t first = 0;
    if (!argv.empty() && base_name(argv[0]) == "env") {
        first = 1;
        while (first < argv.size() && argv[first].find('=') != std::string::npos) {
            ++first;
        }
    }
    std::string text;
    for (std::size_t i = first; i < argv.size(); ++i) {
        text += (text.empty() ? "" : " ") + (i == first ? base_name(argv[i]) : argv[i]);
    }
    return text.empty() ? "(no command)" : text;
}

std::string seconds(std::chrono::milliseconds duration) {
    const auto count = duration.count();
    return std::to_string(count / 1000) + (count % 1000 == 0 ? "" : "." + std::to_string(count % 1000 / 100)) + " s";
}

// Closes every descriptor above stderr in a forked child (async-signal-safe).
void close_inherited_descriptors() {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) {
        return;
    }
#endif
    const long limit = std::min(sysconf(_SC_OPEN_MAX), 65536L);
    for (int fd = 3; fd < limit; ++fd) {
        close(fd);
    }
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, bool merge_stderr)
    : description_(description_of(argv)) {
    // Everything the child needs is prepared before fork: the test process has threads.
    std::vector<char*> args;
    for (const std::string& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        // Killed with the test process (the signal survives exec).
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        dup2(pipe_fds[1], STDOUT_FILENO);
        if (merge_stderr) {
            dup2(pipe_fds[1], STDERR_FILENO);
        }
        close_inherited_descriptors();
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
    description_ += " (pid " + std::to_string(pid_) + ")";
    reader_ = std::thread([this] { drain(); });
}

ChildProcess::~ChildProcess() {
    if (!reaped_) {
        ::kill(pid_, SIGKILL);
        (void)reap_within(kKillTimeout);
    }
    stopping_ = true;
    if (reader_.joinable()) {
        reader_.join();
    }
    if (stdout_fd_ >= 0) {
        close(stdout_fd_);
    }
}

void ChildProcess::drain() {
    char chunk[4096];
    // Until the end of the output, or until the destructor stops it (a grandchild may still hold
    // the pipe open after the child exited).
    while (!stopping_) {
        pollfd descriptor{stdout_fd_, POLLIN, 0};
        const int ready = poll(&descriptor, 1, 100);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        if (ready <= 0) {
            continue;
        }
        const ssize_t count = read(stdout_fd_, chunk, sizeof chunk);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            break;  // every writer closed the pipe: the child (and what it started) exited
        }
        const std::lock_guard lock(mutex_);
        unread_.append(chunk, static_cast<std::size_t>(count));
        transcript_.append(chunk, static_cast<std::size_t>(count));
        if (transcript_.size() > kTranscriptBytes) {
            transcript_.erase(0, transcript_.size() - kTranscriptBytes);
        }
        changed_.notify_all();
    }
    const std::lock_guard lock(mutex_);
    end_of_output_ = true;
    changed_.notify_all();
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return end_of_output_ || unread_.find('\n') != std::string::npos; });
    if (const auto newline = unread_.find('\n'); newline != std::string::npos) {
        std::string line = unread_.substr(0, newline);
        unread_.erase(0, newline + 1);
        return line;
    }
    if (end_of_output_ && !unread_.empty()) {
        return std::exchange(unread_, std::string());
    }
    return std::nullopt;
}

void ChildProcess::kill(int signal) {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, signal);
    }
}

bool ChildProcess::reap_within(std::chrono::milliseconds timeout) noexcept {
    const auto deadline = Clock::now() + timeout;
    // A pidfd becomes readable when the child exits: poll() on it waits for exactly that, up to
    // the deadline (waitpid itself has no timeout).
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    for (;;) {
        int status = 0;
        const pid_t reaped = waitpid(pid_, &status, WNOHANG);
        if (reaped == pid_) {
            reaped_ = true;
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (reaped < 0 && errno != EINTR) {
            reaped_ = true;  // not our child any more (ECHILD): nothing to wait for
            status_ = -1;
            break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            break;
        }
        if (pidfd >= 0) {
            pollfd exited{pidfd, POLLIN, 0};
            (void)poll(&exited, 1, static_cast<int>(left.count()));
        } else {
            // No pidfd (a kernel before 5.3): a short pause between checks, still bounded.
            std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
        }
    }
    if (pidfd >= 0) {
        ::close(pidfd);
    }
    return reaped_;
}

int ChildProcess::wait_or_kill(std::chrono::milliseconds timeout, std::string& failure) noexcept {
    if (reaped_) {
        return status_;
    }
    const bool exited = reap_within(timeout);
    bool killed = false;
    if (!exited) {
        ::kill(pid_, SIGKILL);
        killed = reap_within(kKillTimeout);
    }
    {
        // Let the reader reach the end of the output, so that output() holds all of it.
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, kOutputTimeout, [&] { return end_of_output_; });
    }
    if (!exited) {
        failure = describe() + " did not exit within " + seconds(timeout) + "; " +
                  (killed ? "killed it with SIGKILL" : "SIGKILL did not end it within 10 s either") + ". " +
                  output_tail();
        return 128 + SIGKILL;
    }
    return status_;
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
    std::string failure;
    const int status = wait_or_kill(timeout, failure);
    if (!failure.empty()) {
        throw std::runtime_error(failure);
    }
    return status;
}

std::string ChildProcess::output() const {
    const std::lock_guard lock(mutex_);
    return transcript_;
}

std::string ChildProcess::describe() const { return description_; }

std::string ChildProcess::output_tail() const {
    std::string output = this->output();
    if (output.empty()) {
        return "It printed nothing.";
    }
    std::string tail = output.size() > kTailBytes ? "...\n" + output.substr(output.size() - kTailBytes) : output;
    if (tail.back() != '\n') {
        tail += '\n';
    }
    return "Its output:\n" + tail;
}

}  // namespace gatehouse::testing
