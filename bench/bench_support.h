// What the benchmark drivers share: latency samples summarised the same way, the one-line result
// format the bench scripts parse ("TAG calls=N ok=N rate=R/s p50=… ms p99=… ms max=… ms"), and
// "--name value" command-line options. Header-only and free of gRPC, so every driver can use it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::bench {

// Quantiles of a set of samples (sorted once), by nearest rank: the quantile q of n samples is
// the ceil(q * n)-th smallest (p50 of 2 samples is the smaller one, p99 of 100 the 99th, p99 of
// 1,000 the 990th), so every reported figure is a latency that was measured.
class Samples {
  public:
    explicit Samples(std::vector<double> samples) : sorted_(std::move(samples)) {
        std::sort(sorted_.begin(), sorted_.end());
    }
    [[nodiscard]] bool empty() const { return sorted_.empty(); }
    [[nodiscard]] std::size_t size() const { return sorted_.size(); }
    [[nodiscard]] double quantile(double q) const {
        if (sorted_.empty()) {
            return 0.0;
        }
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted_.size())));
        return sorted_[std::clamp<std::size_t>(rank, 1, sorted_.size()) - 1];
    }
    [[nodiscard]] double max() const { return sorted_.empty() ? 0.0 : sorted_.back(); }
    [[nodiscard]] double mean() const {
        double sum = 0;
        for (const double sample : sorted_) {
            sum += sample;
        }
        return sorted_.empty() ? 0.0 : sum / static_cast<double>(sorted_.size());
    }

  private:
    std::vector<double> sorted_;
};

// Prints the result line of one load and returns the process's exit status: 0 when every call
// succeeded. `first_error` is what the first failed call said (empty when none failed).
inline int report_load(const std::string& tag, const std::vector<double>& latencies_ms, std::uint64_t expected,
                       std::uint64_t ok, double seconds, const std::string& first_error) {
    const Samples latency(latencies_ms);
    std::printf("%s calls=%zu ok=%llu rate=%.1f/s p50=%.1f ms p99=%.1f ms max=%.1f ms%s%s\n", tag.c_str(),
                latency.size(), static_cast<unsigned long long>(ok),
                seconds > 0 ? static_cast<double>(latency.size()) / seconds : 0.0, latency.quantile(0.50),
                latency.quantile(0.99), latency.max(), first_error.empty() ? "" : " first_error=", first_error.c_str());
    return ok == expected ? 0 : 1;
}

// Reads "--name value" and "--flag" options after a subcommand. Each handler is called with the
// option's value; an unknown option, or a missing value, throws std::invalid_argument.
class OptionReader {
  public:
    using Handler = std::function<void(const std::string& value)>;
    using FlagHandler = std::function<void()>;

    OptionReader& value(std::string name, Handler handler) {
        options_.push_back({std::move(name), std::move(handler), {}});
        return *this;
    }
    OptionReader& flag(std::string name, FlagHandler handler) {
        options_.push_back({std::move(name), {}, std::move(handler)});
        return *this;
    }
    // Reads args[first..].
    void read(const std::vector<std::string>& args, std::size_t first) const {
        for (std::size_t i = first; i < args.size(); ++i) {
            const auto option = std::find_if(options_.begin(), options_.end(),
                                             [&](const Option& candidate) { return candidate.name == args[i]; });
            if (option == options_.end()) {
                throw std::invalid_argument("unknown option " + args[i]);
            }
            if (option->on_flag) {
                option->on_flag();
                continue;
            }
            if (i + 1 >= args.size()) {
                throw std::invalid_argument(args[i] + " needs a value");
            }
            option->on_value(args[++i]);
        }
    }

  private:
    struct Option {
        std::string name;
        Handler on_value;
        FlagHandler on_flag;
    };
    std::vector<Option> options_;
};

}  // namespace gatehouse::bench
