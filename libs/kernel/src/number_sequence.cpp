#include "gatehouse/kernel/number_sequence.h"

#include <algorithm>

#include "gatehouse/kernel/envelope_view.h"
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

NumberSequence::NumberSequence(EventStore& store, std::string name, NumberFormat format, std::string aggregate_type)
    : store_(store), key_("q/" + std::move(name)), format_(std::move(format)) {
    if (auto stored = store_.read_metadata(key_)) {
        last_ = rocks::read_big_endian(*stored);
        return;
    }
    if (aggregate_type.empty() || store_.head().value == 0) {
        return;
    }
    // No stored state but events: the log was restored from the topic (metadata is not on the
    // topic). Resume after the highest number in use, so that no number is handed out twice.
    store_.scan_raw(LogPosition{1}, [&](LogPosition position, std::string_view bytes) {
        const EnvelopeView view = EnvelopeView::parse(position, bytes);
        if (view.aggregate_type == aggregate_type) {
            if (const auto number = format_.parse(view.aggregate_id)) {
                last_ = std::max(last_, *number);
            }
        }
        return true;
    });
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
