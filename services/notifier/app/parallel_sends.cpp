#include "app/parallel_sends.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

namespace gatehouse::notifier {

std::size_t run_parallel_sends(const std::vector<std::string>& items, std::size_t parallelism,
                               const std::function<bool()>& stopping,
                               const std::function<bool(const std::string&)>& attempt) {
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> attempted{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    const auto work = [&] {
        try {
            while (!stopping()) {
                const std::size_t i = next.fetch_add(1);
                if (i >= items.size()) {
                    return;
                }
                if (attempt(items[i])) {
                    ++attempted;
                }
            }
        } catch (...) {
            // Reported once all workers ended; the others stop taking work.
            next = items.size();
            const std::lock_guard lock(failure_mutex);
            if (!failure) {
                failure = std::current_exception();
            }
        }
    };
    const std::size_t workers = std::min(std::max<std::size_t>(parallelism, 1), items.size());
    std::vector<std::thread> helpers;
    for (std::size_t i = 1; i < workers; ++i) {
        try {
            helpers.emplace_back(work);
        } catch (const std::system_error&) {
            break;  // no thread to be had now: fewer senders this time
        }
    }
    work();
    for (std::thread& helper : helpers) {
        helper.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    return attempted;
}

}  // namespace gatehouse::notifier
