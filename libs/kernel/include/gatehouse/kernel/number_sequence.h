// Human-readable number sequences (e.g. "PR-000123"), as the seeds' "number sequences" setup asks.
// Each number is made durable in the store before it is handed out, so a number is never reused,
// even after a crash (a crash may leave a gap: a number handed out but never used).
// Thread safety: next() may be called concurrently; use one NumberSequence per name per process.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/kernel/event_store.h"

namespace gatehouse::kernel {

// A number format: text with exactly one run of '#', replaced by the zero-padded number, e.g.
// "PR-######" -> "PR-000123". A number longer than the run is written in full.
class NumberFormat final {
  public:
    // Throws ConfigError naming the format if it has no run of '#' or more than one.
    explicit NumberFormat(std::string pattern);
    [[nodiscard]] std::string format(std::uint64_t number) const;
    // The number in `text` if it is in this format ("PR-000123" -> 123), else nullopt.
    [[nodiscard]] std::optional<std::uint64_t> parse(std::string_view text) const;
    // The highest number written in this format anywhere in `bytes` (0 if none).
    [[nodiscard]] std::uint64_t highest_in(std::string_view bytes) const;
    [[nodiscard]] const std::string& pattern() const { return pattern_; }

  private:
    std::string pattern_;
    std::string prefix_;
    std::string suffix_;
    std::size_t width_ = 0;
};

class NumberSequence final {
  public:
    // When the sequence has no stored state but the log has events (a log restored from its topic,
    // see log_restore.h: sequences are metadata, not events), it resumes after the highest number
    // in this format found in any event, so that no number is handed out twice.
    NumberSequence(EventStore& store, std::string name, NumberFormat format);
    // Allocates the next number durably and returns it formatted.
    [[nodiscard]] std::string next();
    [[nodiscard]] std::uint64_t last_allocated() const;

  private:
    EventStore& store_;
    std::string key_;
    NumberFormat format_;
    mutable std::mutex mutex_;
    std::uint64_t last_ = 0;
};

}  // namespace gatehouse::kernel
