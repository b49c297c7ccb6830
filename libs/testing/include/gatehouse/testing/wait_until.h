// Waiting on a condition with a deadline, for tests that watch another process or system (a
// service's API, a broker's metadata) which cannot notify the test. Not a fixed sleep: it returns
// as soon as the condition holds, and fails when the deadline passes.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace gatehouse::testing {

inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds poll_interval = std::chrono::milliseconds(50)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    return condition();
}

}  // namespace gatehouse::testing
