// Disaster recovery for a service's log, from its own topic.
//
// Every event a service publishes carries, in record headers, the log it comes from (log id) and
// its position there, and the record's value is the stored envelope. A lost RocksDB log can
// therefore be rebuilt: read the topic from the beginning, order the records by position, and
// append them again at the same positions under the same log id — the relay then finds the topic
// already up to date and publishes nothing twice. What the topic does not hold is lost with the
// log: events that were not published yet (the relay's lag at the moment of loss), command
// idempotency keys (a client retrying an old request gets a new answer), and inbox records of
// input events that caused no event (they are re-read and, deciders being deterministic, ignored
// again). Inbox records of input events that did cause events are restored from the events'
// causation ids; number sequences resume after the highest id in the log (NumberSequence).
//
// Also: verify, which compares a log with its topic and reports any divergence.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/kernel/config.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/kafka_settings.h"

namespace gatehouse::kernel {

// Progress of a long operation: (done, total) — total 0 when not known yet.
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct RestoreReport final {
    std::uint64_t records_read = 0;
    std::uint64_t events_restored = 0;
    std::uint64_t duplicates_skipped = 0;  // the same position published twice (relay retry window)
    std::uint64_t inbox_records = 0;
    std::string log_id;
};

// Rebuilds the log in `directory` (which must not hold a log) from `topic`. `inbox_namespace` is
// the service's name (its inbox records' namespace). `log_id`: which log to restore when the topic
// holds events of several (empty: there must be exactly one). Throws ConfigError with what to do
// when the directory holds a log, the topic is empty or missing, holds several logs, or a position
// is missing in the middle.
RestoreReport restore_log_from_topic(const std::filesystem::path& directory, const KafkaSettings& kafka,
                                     const std::string& topic, const std::string& inbox_namespace,
                                     const std::string& log_id = {}, const Progress& progress = {});

struct VerifyReport final {
    std::uint64_t log_events = 0;          // events in the log
    std::uint64_t topic_records = 0;       // records of this log on the topic
    std::uint64_t not_yet_published = 0;   // log events after the last published position
    std::uint64_t duplicates = 0;          // positions published twice (harmless: consumers dedupe)
    std::uint64_t other_logs = 0;          // records from other logs (e.g. before a loss)
    std::vector<std::string> divergences;  // missing positions, differing events
    [[nodiscard]] bool consistent() const { return divergences.empty(); }
};

// Compares every event of `store` with its record on `topic`.
VerifyReport verify_log_against_topic(const EventStore& store, const KafkaSettings& kafka, const std::string& topic,
                                      const Progress& progress = {});

// The operator commands every service binary offers besides running:
//   <binary> restore-from-topic [CONFIG.yaml] [--log-id ID]
//   <binary> verify [CONFIG.yaml]
// Returns nullopt when argv names no such command (run the service), else the exit code
// (0 done / consistent, 1 failed / divergent, 2 bad configuration or usage).
std::optional<int> run_log_command(int argc, char** argv, const std::string& service, const ConfigSchema& schema,
                                   const std::string& own_topic);

KafkaSettings kafka_settings_from(const Config& config);

}  // namespace gatehouse::kernel
