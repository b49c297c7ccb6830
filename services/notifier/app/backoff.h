// Retry timing shared by the notification and the webhook dispatchers: capped exponential backoff
// with "full jitter" in [delay/2, delay]. Thread safety: next_attempt() is safe from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <random>

namespace gatehouse::notifier {

class Backoff final {
  public:
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}

    // When to try again after `attempt` (1-based) failed attempts: initial * 2^(attempt-1), capped
    // at max, then jittered.
    [[nodiscard]] std::chrono::system_clock::time_point next_attempt(std::chrono::system_clock::time_point now,
                                                                     unsigned attempt);

  private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::mutex random_mutex_;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace gatehouse::notifier
