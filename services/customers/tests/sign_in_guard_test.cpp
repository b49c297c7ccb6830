// The sign-in guards without a process: the throttle's growing lockouts, reset and memory bound,
// and the hashing gate's bound on work running and waiting.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "app/sign_in_guard.h"

using namespace gatehouse::customers;
using namespace std::chrono_literals;

TEST_CASE("throttle: free failures, then lockouts doubling per failure up to the maximum", "[sign-in]") {
    SignInThrottle throttle({.free_failures = 3, .lockout = 60s, .lockout_max = 600s, .max_entries = 100});
    const auto t0 = SignInThrottle::Clock::now();
    const std::string key = "jane@acme.example\nipv4:10.0.0.1";
    CHECK_FALSE(throttle.failed(key, t0));
    CHECK_FALSE(throttle.failed(key, t0));
    CHECK_FALSE(throttle.locked_until(key, t0));
    CHECK(throttle.failed(key, t0) == t0 + 60s);  // the third failure locks for the base time
    CHECK(throttle.locked_until(key, t0 + 59s) == t0 + 60s);
    CHECK_FALSE(throttle.locked_until(key, t0 + 60s));
    CHECK(throttle.failed(key, t0 + 60s) == t0 + 60s + 120s);    // doubled
    CHECK(throttle.failed(key, t0 + 180s) == t0 + 180s + 240s);  // doubled again
    CHECK(throttle.failed(key, t0 + 420s) == t0 + 420s + 480s);
    CHECK(throttle.failed(key, t0 + 900s) == t0 + 900s + 600s);  // capped
    for (int i = 0; i < 100; ++i) {
        CHECK(throttle.failed(key, t0 + 1000s) == t0 + 1000s + 600s);  // no overflow however many
    }
    // Another address of the same email is its own pair.
    CHECK_FALSE(throttle.locked_until("jane@acme.example\nipv4:10.0.0.2", t0 + 1000s));
    // A success clears the pair.
    throttle.succeeded(key);
    CHECK_FALSE(throttle.locked_until(key, t0 + 1000s));
    CHECK_FALSE(throttle.failed(key, t0 + 1000s));
}

TEST_CASE("throttle: memory is bounded, the least recently failed and the old are forgotten", "[sign-in]") {
    SignInThrottle throttle({.free_failures = 1, .lockout = 60s, .lockout_max = 600s, .max_entries = 1000});
    const auto t0 = SignInThrottle::Clock::now();
    CHECK(throttle.failed("keep", t0 + 1s));
    for (int i = 0; i < 5000; ++i) {
        (void)throttle.failed("attacker-" + std::to_string(i), t0);
        if (i % 100 == 0) {
            (void)throttle.failed("keep", t0 + 1s);  // recently failed: kept
        }
    }
    CHECK(throttle.size() == 1000);
    CHECK(throttle.locked_until("keep", t0 + 2s));
    CHECK_FALSE(throttle.locked_until("attacker-0", t0 + 2s));
    // Nothing failed for lockout_max: forgotten.
    CHECK_FALSE(throttle.locked_until("keep", t0 + 1s + 600s));
    CHECK(throttle.size() == 0);
}

TEST_CASE("hashing gate: at most `concurrency` run, at most `queue` wait, the rest are refused at once", "[sign-in]") {
    HashingGate gate(2, 3);
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    std::atomic<int> refused{0};
    std::atomic<bool> release{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; ++i) {
        threads.emplace_back([&] {
            const auto turn = gate.enter();
            if (!turn) {
                ++refused;
                return;
            }
            const int now = ++running;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            while (!release.load()) {
                std::this_thread::yield();  // holds its turn until every caller has entered or been refused
            }
            --running;
        });
    }
    // 2 run and 3 wait; the other 15 are refused without waiting, so this loop ends.
    while (refused.load() < 15) {
        std::this_thread::yield();
    }
    release = true;
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(refused.load() == 15);
    CHECK(most.load() == 2);
    CHECK(gate.enter().has_value());  // every turn was given back
}
