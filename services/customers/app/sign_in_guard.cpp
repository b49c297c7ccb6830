#include "app/sign_in_guard.h"

#include <algorithm>

namespace gatehouse::customers {

HashingGate::HashingGate(std::size_t concurrency, std::size_t queue)
    : concurrency_(std::max<std::size_t>(concurrency, 1)), queue_(queue) {}

HashingGate::Turn::~Turn() {
    if (gate_ != nullptr) {
        gate_->leave();
    }
}

std::optional<HashingGate::Turn> HashingGate::enter() {
    std::unique_lock lock(mutex_);
    if (running_ >= concurrency_) {
        if (waiting_ >= queue_) {
            return std::nullopt;
        }
        ++waiting_;
        // No deadline needed: the wait is bounded by queue x the time of one hash.
        turn_free_.wait(lock, [this] { return running_ < concurrency_; });
        --waiting_;
    }
    ++running_;
    return std::optional<Turn>(std::in_place, this);
}

void HashingGate::leave() {
    {
        const std::lock_guard lock(mutex_);
        --running_;
    }
    turn_free_.notify_one();
}

SignInThrottle::SignInThrottle(ThrottleSettings settings) : settings_(settings) {
    settings_.free_failures = std::max(settings_.free_failures, 1);
    settings_.max_entries = std::max<std::size_t>(settings_.max_entries, 1);
}

void SignInThrottle::forget_old(Clock::time_point now) {
    // Oldest failures first: stop at the first one still recent.
    while (!recent_.empty()) {
        const auto it = entries_.find(recent_.front());
        if (it->second.last_failure + settings_.lockout_max > now && entries_.size() <= settings_.max_entries) {
            return;
        }
        entries_.erase(it);
        recent_.pop_front();
    }
}

std::optional<SignInThrottle::Clock::time_point> SignInThrottle::locked_until(const std::string& key,
                                                                              Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    forget_old(now);
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.locked_until <= now) {
        return std::nullopt;
    }
    return it->second.locked_until;
}

std::optional<SignInThrottle::Clock::time_point> SignInThrottle::failed(const std::string& key, Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    auto [it, added] = entries_.try_emplace(key);
    Entry& entry = it->second;
    if (added) {
        entry.position = recent_.insert(recent_.end(), key);
    } else {
        recent_.splice(recent_.end(), recent_, entry.position);
    }
    ++entry.failures;
    entry.last_failure = now;
    std::optional<Clock::time_point> locked;
    if (entry.failures >= settings_.free_failures) {
        // lockout x 2^(failures beyond the free ones), capped (the shift is capped before it overflows).
        const int doublings = std::min(entry.failures - settings_.free_failures, 30);
        const auto lockout =
            std::min<std::chrono::seconds>(settings_.lockout * (std::int64_t{1} << doublings), settings_.lockout_max);
        entry.locked_until = now + lockout;
        locked = entry.locked_until;
    }
    forget_old(now);
    return locked;
}

void SignInThrottle::succeeded(const std::string& key) {
    const std::lock_guard lock(mutex_);
    if (const auto it = entries_.find(key); it != entries_.end()) {
        recent_.erase(it->second.position);
        entries_.erase(it);
    }
}

std::size_t SignInThrottle::size() {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace gatehouse::customers
