#include "gatehouse/kernel/metrics.h"

#include <fmt/format.h>

#include <stdexcept>

namespace gatehouse::kernel {
namespace {

std::string with_labels(const std::string& name, const std::string& labels) {
    return labels.empty() ? name : name + "{" + labels + "}";
}

std::string number(double value) { return fmt::format("{}", value); }

}  // namespace

MetricHistogram::MetricHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        buckets_[i] = 0;
    }
}

void MetricHistogram::observe(double value) {
    std::size_t bucket = 0;
    while (bucket < bounds_.size() && value > bounds_[bucket]) {
        ++bucket;
    }
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    double sum = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
    }
}

std::string MetricHistogram::render(const std::string& name, const std::string& labels) const {
    std::string out;
    const std::string prefix = labels.empty() ? "" : labels + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, number(bounds_[i]), cumulative);
    }
    cumulative += buckets_[bounds_.size()].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, cumulative);
    out += fmt::format("{} {}\n", with_labels(name + "_sum", labels), number(sum_.load()));
    out += fmt::format("{} {}\n", with_labels(name + "_count", labels), count_.load());
    return out;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 const std::string& type) {
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.help = help;
        it->second.type = type;
    } else if (it->second.type != type) {
        throw std::logic_error("metric " + name + " is registered as a " + it->second.type);
    }
    return it->second;
}

MetricCounter& MetricsRegistry::counter(const std::string& name, const std::string& help, const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, "counter").counters[labels];
    if (!slot) {
        slot = std::make_unique<MetricCounter>();
    }
    return *slot;
}

MetricGauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, "gauge").gauges[labels];
    if (!slot) {
        slot = std::make_unique<MetricGauge>();
    }
    return *slot;
}

MetricHistogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                            const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, "histogram").histograms[labels];
    if (!slot) {
        slot = std::make_unique<MetricHistogram>(
            std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
    }
    return *slot;
}

void MetricsRegistry::on_collect(std::function<void()> refresh) {
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(refresh));
}

std::string MetricsRegistry::render() const {
    std::vector<std::function<void()>> collectors;
    {
        std::lock_guard lock(mutex_);
        collectors = collectors_;
    }
    for (const auto& collect : collectors) {
        collect();
    }
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, family] : families_) {
        out += "# HELP " + name + " " + family.help + "\n# TYPE " + name + " " + family.type + "\n";
        for (const auto& [labels, metric] : family.counters) {
            out += with_labels(name, labels) + " " + std::to_string(metric->value()) + "\n";
        }
        for (const auto& [labels, metric] : family.gauges) {
            out += with_labels(name, labels) + " " + number(metric->value()) + "\n";
        }
        for (const auto& [labels, metric] : family.histograms) {
            out += metric->render(name, labels);
        }
    }
    return out;
}

}  // namespace gatehouse::kernel
