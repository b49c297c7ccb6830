#include "gatehouse/kernel/number_sequence.h"

#include <algorithm>

#include "gatehouse/kernel/errors.h"
#include "rocks_helpers.h"

namespace gatehouse::kernel {

NumberFormat::NumberFormat(std::string pattern) : pattern_(std::move(pattern)) {
    const auto first = pattern_.find('#');
    if (first == std::string::npos) {
        throw ConfigError("number format \"" + pattern_ + "\" has no '#' run for the digits");
    }
    const auto end = pattern_.find_first_not_of('#', first);
    if (end != std::string::npos && pattern_.find('#', end) != std::string::npos) {
        throw ConfigError("number format \"" + pattern_ + "\" has more than one '#' run");
    }
    prefix_ = pattern_.substr(0, first);
    width_ = (end == std::string::npos ? pattern_.size() : end) - first;
    suffix_ = end == std::string::npos ? std::string() : pattern_.substr(end);
}

std::string NumberFormat::format(std::uint64_t number) const {
    std::string digits = std::to_string(number);
    if (digits.size() < width_) {
        digits.insert(0, width_ - digits.size(), '0');
    }
    return prefix_ + digits + suffix_;
}

NumberSequence::NumberSequence(EventStore& store, std::string name, NumberFormat format)
    : store_(store), key_("q/" + std::move(name)), format_(std::move(format)) {
    if (auto stored = store_.read_metadata(key_)) {
        last_ = rocks::read_big_endian(*stored);
    }
}

std::string NumberSequence::next() {
    std::lock_guard lock(mutex_);
    const std::uint64_t number = last_ + 1;
    Commit commit;
    std::string value;
    rocks::append_big_endian(value, number);
    commit.metadata.emplace_back(key_, std::move(value));
    (void)store_.commit(std::move(commit));
    last_ = number;
    return format_.format(number);
}

std::uint64_t NumberSequence::last_allocated() const {
    std::lock_guard lock(mutex_);
    return last_;
}

}  // namespace gatehouse::kernel
