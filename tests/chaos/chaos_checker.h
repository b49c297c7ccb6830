// The independent checker of the chaos run: after the faults, it compares what the clients were
// told (the acknowledged requests) with what the platform shows from outside — the four event
// topics and the dead-letter topics read with a plain Kafka consumer from offset 0 to their end,
// the public APIs (prospects, customers, leads, notifications, each service's parked records) and
// the messages the SMTP server accepted. It knows nothing of the services' internals.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "chaos_clients.h"

namespace gatehouse::chaos {

struct CheckerInputs final {
    const std::vector<Onboarding>* onboardings = nullptr;
    ServiceChannels channels;
    std::filesystem::path mailbox_dir;
    std::string bootstrap;
    std::map<std::string, std::string> kafka_properties;  // the plain consumer's SASL settings
    std::string topic_prefix;
    // The documented window: a notifier killed while sending may send up to `parallelism`
    // messages again (same Message-ID), so kills × parallelism resends at most.
    int notifier_kills = 0;
    int notifier_parallelism = 4;
};

struct TopicFigures final {
    std::size_t records = 0;
    std::size_t duplicate_event_ids = 0;
    std::size_t aggregates = 0;
    std::size_t aggregates_with_gaps = 0;
};

struct CheckReport final {
    std::vector<std::string> violations;
    std::vector<std::string> lines;  // the figures, for the summary
    [[nodiscard]] bool passed() const { return violations.empty(); }
};

// Waits (at most `timeout`) until the platform is quiet — every acknowledged request in its
// expected state, the expected emails there, nothing queued in the notifier, nothing parked —
// and returns how long that took; gives up quietly at the deadline (the checks then say what is
// wrong). `tick` runs between two looks (the run supervises its services in it).
std::chrono::milliseconds wait_until_settled(const CheckerInputs& inputs, std::chrono::milliseconds timeout,
                                             const std::function<void()>& tick);

CheckReport check(const CheckerInputs& inputs);

}  // namespace gatehouse::chaos
