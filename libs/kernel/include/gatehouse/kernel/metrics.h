// Metrics in the Prometheus text exposition format (prometheus-cpp is not packaged for Debian,
// and the kernel needs only counters, gauges and histograms).
// Thread safety: every method may be called from any thread; updates are lock-free atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gatehouse::kernel {

class MetricCounter final {
  public:
    void increment(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

class MetricGauge final {
  public:
    void set(double value) { value_.store(value, std::memory_order_relaxed); }
    [[nodiscard]] double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

// A histogram with fixed upper bounds (seconds, for latencies).
class MetricHistogram final {
  public:
    explicit MetricHistogram(std::vector<double> bounds);
    void observe(double value);
    [[nodiscard]] std::string render(const std::string& name, const std::string& labels) const;

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, plus +Inf
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0};
};

class MetricsRegistry final {
  public:
    // `labels` is the Prometheus label text without braces, e.g. R"(topic="x")". Asking twice for
    // the same name and labels returns the same metric.
    MetricCounter& counter(const std::string& name, const std::string& help, const std::string& labels = "");
    MetricGauge& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
    MetricHistogram& histogram(const std::string& name, const std::string& help, const std::string& labels = "");
    // Called before each render to refresh gauges that are read, not pushed (e.g. consumer lag).
    void on_collect(std::function<void()> refresh);
    [[nodiscard]] std::string render() const;

  private:
    struct Family {
        std::string help;
        std::string type;
        std::map<std::string, std::unique_ptr<MetricCounter>> counters;
        std::map<std::string, std::unique_ptr<MetricGauge>> gauges;
        std::map<std::string, std::unique_ptr<MetricHistogram>> histograms;
    };
    Family& family(const std::string& name, const std::string& help, const std::string& type);
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
    std::vector<std::function<void()>> collectors_;
};

}  // namespace gatehouse::kernel
