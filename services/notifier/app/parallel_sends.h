// The sending loop shared by the notification and the webhook dispatchers: up to `parallelism`
// workers (the calling thread one of them) take the next item in order until none is left or
// `stopping` answers true; each item is handled by one worker. An exception in a worker stops the
// others from taking work and is rethrown once all have ended. Returns how many items `attempt`
// answered true for.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace gatehouse::notifier {

std::size_t run_parallel_sends(const std::vector<std::string>& items, std::size_t parallelism,
                               const std::function<bool()>& stopping,
                               const std::function<bool(const std::string&)>& attempt);

}  // namespace gatehouse::notifier
