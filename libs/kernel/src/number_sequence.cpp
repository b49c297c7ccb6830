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

std::optional<std::uint64_t> NumberFormat::parse(std::string_view text) const {
    if (text.size() < prefix_.size() + suffix_.size() + 1 || text.substr(0, prefix_.size()) != prefix_ ||
        text.substr(text.size() - suffix_.size()) != suffix_) {
        return std::nullopt;
    }
    const std::string_view digits = text.substr(prefix_.size(), text.size() - prefix_.size() - suffix_.size());
    std::uint64_t number = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9' || number > (UINT64_MAX - 9) / 10) {
            return std::nullopt;
        }
        number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return number;
}

std::uint64_t NumberFormat::highest_in(std::string_view bytes) const {
    std::uint64_t highest = 0;
    const std::string_view prefix = prefix_;
    for (auto at = bytes.find(prefix); at != std::string_view::npos; at = bytes.find(prefix, at + 1)) {
        const auto digits_start = at + prefix.size();
        auto digits_end = digits_start;
        while (digits_end < bytes.size() && bytes[digits_end] >= '0' && bytes[digits_end] <= '9') {
            ++digits_end;
        }
        if (digits_end - digits_start < width_ || bytes.substr(digits_end, suffix_.size()) != suffix_) {
            continue;
        }
        if (const auto number = parse(bytes.substr(at, digits_end + suffix_.size() - at))) {
            highest = std::max(highest, *number);
        }
    }
    return highest;
}

NumberSequence::NumberSequence(EventStore& store, std::string name, NumberFormat format)
    : store_(store), key_("q/" + std::move(name)), format_(std::move(format)) {
    if (auto stored = store_.read_metadata(key_)) {
        last_ = rocks::read_big_endian(*stored);
        return;
    }
    if (store_.head().value == 0) {
        return;
    }
    // No stored state but events: the log was restored from its topic. Numbers are ids that
    // events carry (as aggregate ids or in payloads); resume after the highest one. A false match
    // (the same pattern in free text) only skips numbers.
    store_.scan_raw(LogPosition{1}, [&](LogPosition, std::string_view bytes) {
        last_ = std::max(last_, format_.highest_in(bytes));
        return true;
    });
}

std::string NumberSequence::next() {
    // The number is taken while its commit is queued, so the stored values are written in
    // increasing order, while concurrent callers share one fsync (no lock held across it).
    std::uint64_t number = 0;
    (void)store_.commit_in_queue_order([&] {
        std::lock_guard lock(mutex_);
        number = ++last_;
        Commit commit;
        std::string value;
        rocks::append_big_endian(value, number);
        commit.metadata.emplace_back(key_, std::move(value));
        return commit;
    });
    return format_.format(number);
}

std::uint64_t NumberSequence::last_allocated() const {
    std::lock_guard lock(mutex_);
    return last_;
}

}  // namespace gatehouse::kernel
