// Two guards around sign-in and password setting, both pure (no I/O, time passed in):
//
// - HashingGate bounds the expensive work. An argon2id hash or check takes 64 MiB and ~80 ms of
//   one core; without a bound, N concurrent sign-ins need N x 64 MiB and the process is killed for
//   memory. At most `concurrency` run at once, at most `queue` callers wait for a turn, and any
//   caller beyond that is refused at once (the API answers RESOURCE_EXHAUSTED: retry later).
// - SignInThrottle slows password guessing without letting anyone lock a user out: it counts
//   FAILED sign-ins per (email, client address), so an attacker's failures from one address do not
//   stop the user signing in from another. After `free_failures` failures the pair is locked for
//   `lockout`, doubling with each further failure up to `lockout_max`; a success clears the pair.
//   Unknown emails count the same way, so a lock says nothing about whether an account exists.
//   Memory is bounded: at most `max_entries` pairs, the least recently failed forgotten first,
//   and a pair is forgotten once `lockout_max` has passed since its last failure.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace gatehouse::customers {

class HashingGate final {
  public:
    HashingGate(std::size_t concurrency, std::size_t queue);

    // Held while hashing; gives the turn to the next waiter when it goes.
    class Turn final {
      public:
        explicit Turn(HashingGate* gate) : gate_(gate) {}
        Turn(Turn&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
        Turn& operator=(Turn&&) = delete;
        Turn(const Turn&) = delete;
        Turn& operator=(const Turn&) = delete;
        ~Turn();

      private:
        HashingGate* gate_;
    };

    // A turn (after waiting for one, if `concurrency` hashes run), or nothing when `queue` callers
    // wait already.
    [[nodiscard]] std::optional<Turn> enter();

  private:
    void leave();

    std::size_t concurrency_;
    std::size_t queue_;
    std::mutex mutex_;
    std::condition_variable turn_free_;
    std::size_t running_ = 0;
    std::size_t waiting_ = 0;
};

struct ThrottleSettings final {
    int free_failures = 5;
    std::chrono::seconds lockout{60};
    std::chrono::seconds lockout_max{3600};
    std::size_t max_entries = 100'000;
};

class SignInThrottle final {
  public:
    using Clock = std::chrono::system_clock;

    explicit SignInThrottle(ThrottleSettings settings);

    // Until when `key` (email + client address) is locked, if it is locked at `now`.
    [[nodiscard]] std::optional<Clock::time_point> locked_until(const std::string& key, Clock::time_point now);
    // A failed sign-in of `key`; returns until when it is locked now, if it is.
    std::optional<Clock::time_point> failed(const std::string& key, Clock::time_point now);
    // A successful sign-in: `key` starts again from no failures.
    void succeeded(const std::string& key);
    [[nodiscard]] std::size_t size();

  private:
    struct Entry {
        int failures = 0;
        Clock::time_point last_failure;
        Clock::time_point locked_until;
        std::list<std::string>::iterator position;  // in recent_, most recently failed last
    };
    void forget_old(Clock::time_point now);

    ThrottleSettings settings_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> recent_;
};

}  // namespace gatehouse::customers
