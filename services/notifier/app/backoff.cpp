#include "app/backoff.h"

#include <algorithm>

namespace gatehouse::notifier {

std::chrono::system_clock::time_point Backoff::next_attempt(std::chrono::system_clock::time_point now,
                                                            unsigned attempt) {
    const auto initial = initial_.count();
    const auto cap = max_.count();
    long long delay = initial;
    for (unsigned i = 1; i < attempt && delay < cap; ++i) {
        delay *= 2;
    }
    delay = std::min<long long>(delay, cap);
    std::uniform_int_distribution<long long> jitter(delay / 2, std::max<long long>(delay / 2, delay));
    const std::lock_guard lock(random_mutex_);
    return now + std::chrono::milliseconds(jitter(random_));
}

}  // namespace gatehouse::notifier
