// A scripted SMTP server in the test process, on a free loopback port, for what the real one
// (tests/support/smtp_sink.py) cannot be made to do:
//
//  - silent: accepts every connection and never says a word (a relay that hangs): a send to it
//    waits for the greeting until smtp.timeout, or until the notifier abandons it.
//  - holding: speaks just enough SMTP to accept messages (EHLO, MAIL, RCPT, DATA, QUIT), and
//    holds every session before its greeting until `hold_until` sessions are open at once (from
//    then on it holds no more; at most kHoldTimeout): it proves that many sends run concurrently,
//    and counts the most sessions ever open at once.
//
// Every wait is bounded: a session that hears nothing for kIdleTimeout ends, and the destructor
// stops the listener and every session (shutdown() wakes them) and joins them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gatehouse::testing {

class FakeSmtpServer final {
  public:
    enum class Mode { silent, holding };
    static constexpr std::chrono::seconds kIdleTimeout{30};
    static constexpr std::chrono::seconds kHoldTimeout{60};

    explicit FakeSmtpServer(Mode mode, std::size_t hold_until = 0) : mode_(mode), hold_until_(hold_until) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) {
            throw std::runtime_error("fake SMTP server: socket() failed");
        }
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        socklen_t length = sizeof address;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 64) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            ::close(listener_);
            throw std::runtime_error("fake SMTP server: cannot listen on 127.0.0.1");
        }
        port_ = ntohs(address.sin_port);
        accepter_ = std::thread([this] { accept_loop(); });
    }

    ~FakeSmtpServer() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
            for (const int fd : open_) {
                ::shutdown(fd, SHUT_RDWR);
            }
        }
        changed_.notify_all();
        accepter_.join();
        for (std::thread& session : sessions_) {
            session.join();
        }
        ::close(listener_);
    }
    FakeSmtpServer(const FakeSmtpServer&) = delete;
    FakeSmtpServer& operator=(const FakeSmtpServer&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

    // Connections accepted so far.
    [[nodiscard]] std::size_t connections() const {
        const std::lock_guard lock(mutex_);
        return connections_;
    }
    // The most sessions that were open at the same time.
    [[nodiscard]] std::size_t max_concurrent() const {
        const std::lock_guard lock(mutex_);
        return max_concurrent_;
    }
    // The Message-ID header of every message accepted, in order.
    [[nodiscard]] std::vector<std::string> message_ids() const {
        const std::lock_guard lock(mutex_);
        return message_ids_;
    }

  private:
    void accept_loop() {
        for (;;) {
            {
                const std::lock_guard lock(mutex_);
                if (stopping_) {
                    return;
                }
            }
            pollfd waiting{listener_, POLLIN, 0};
            if (::poll(&waiting, 1, 50) <= 0) {
                continue;
            }
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            const std::lock_guard lock(mutex_);
            if (stopping_) {
                ::close(fd);
                return;
            }
            ++connections_;
            open_.push_back(fd);
            max_concurrent_ = std::max(max_concurrent_, open_.size());
            if (hold_until_ > 0 && open_.size() >= hold_until_) {
                holding_ = false;
            }
            changed_.notify_all();
            sessions_.emplace_back([this, fd] { session(fd); });
        }
    }

    void session(int fd) {
        std::string buffer;
        if (mode_ == Mode::silent) {
            // Reads (and ignores) whatever comes until the peer hangs up or the server stops.
            std::string ignored;
            while (read_line(fd, buffer, ignored)) {
            }
        } else if (hold()) {
            converse(fd, buffer);
        }
        end_session(fd);
        ::close(fd);
    }

    // No longer counted as open (before the last reply, so that the client's next connection is
    // never counted together with this one).
    void end_session(int fd) {
        const std::lock_guard lock(mutex_);
        if (const auto at = std::find(open_.begin(), open_.end(), fd); at != open_.end()) {
            open_.erase(at);
        }
    }

    // Waits (at most kHoldTimeout) until hold_until sessions were open at once; false when the
    // server stops meanwhile.
    bool hold() {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, kHoldTimeout, [&] { return stopping_ || !holding_ || hold_until_ == 0; });
        return !stopping_;
    }

    void converse(int fd, std::string& buffer) {
        if (!say(fd, "220 fake-smtp ready")) {
            return;
        }
        std::string line;
        while (read_line(fd, buffer, line)) {
            std::string verb = line.substr(0, line.find(' '));
            std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return std::toupper(c); });
            bool said = true;
            if (verb == "EHLO" || verb == "HELO") {
                said = say(fd, "250 fake-smtp");
            } else if (verb == "MAIL" || verb == "RCPT" || verb == "RSET" || verb == "NOOP") {
                said = say(fd, "250 OK");
            } else if (verb == "DATA") {
                said = say(fd, "354 go ahead") && receive_message(fd, buffer) && say(fd, "250 accepted");
            } else if (verb == "QUIT") {
                end_session(fd);
                say(fd, "221 bye");
                return;
            } else {
                said = say(fd, "502 unrecognised command");  // RFC 5321: the fake speaks only what the notifier sends
            }
            if (!said) {
                return;
            }
        }
    }

    // The message up to the "." line; records its Message-ID.
    bool receive_message(int fd, std::string& buffer) {
        std::string line;
        std::optional<std::string> message_id;
        while (read_line(fd, buffer, line)) {
            if (line == ".") {
                const std::lock_guard lock(mutex_);
                message_ids_.push_back(message_id.value_or(""));
                return true;
            }
            constexpr std::string_view kHeader = "message-id:";
            if (!message_id && line.size() > kHeader.size()) {
                std::string start = line.substr(0, kHeader.size());
                std::transform(start.begin(), start.end(), start.begin(),
                               [](unsigned char c) { return std::tolower(c); });
                if (start == kHeader) {
                    const auto value = line.find_first_not_of(' ', kHeader.size());
                    message_id = value == std::string::npos ? "" : line.substr(value);
                }
            }
        }
        return false;
    }

    static bool say(int fd, const std::string& reply) {
        const std::string text = reply + "\r\n";
        return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
    }

    // The next line (without CRLF); false at end of input, on an error, after kIdleTimeout without
    // data, or when the server stops (its shutdown() ends the read).
    static bool read_line(int fd, std::string& buffer, std::string& line) {
        const auto deadline = std::chrono::steady_clock::now() + kIdleTimeout;
        for (;;) {
            if (const auto end = buffer.find('\n'); end != std::string::npos) {
                line = buffer.substr(0, end);
                if (!line.empty() && line.back() == '\r') {
                    line.pop_back();
                }
                buffer.erase(0, end + 1);
                return true;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return false;
            }
            pollfd readable{fd, POLLIN, 0};
            if (::poll(&readable, 1, static_cast<int>(std::min<long long>(left.count(), 1000))) < 0) {
                return false;
            }
            if ((readable.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            char chunk[4096];
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return false;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
    }

    Mode mode_;
    std::size_t hold_until_;
    int listener_ = -1;
    int port_ = 0;
    std::thread accepter_;
    std::vector<std::thread> sessions_;  // only the accepting thread adds, the destructor joins

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    bool holding_ = true;
    std::size_t connections_ = 0;
    std::size_t max_concurrent_ = 0;
    std::vector<int> open_;
    std::vector<std::string> message_ids_;
};

}  // namespace gatehouse::testing
