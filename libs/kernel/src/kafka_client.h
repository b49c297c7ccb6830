// Internal: building librdkafka configurations from KafkaSettings, with errors that name the
// property, and librdkafka's own log lines routed into the "kafka" logger.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "gatehouse/kernel/kafka_settings.h"

namespace gatehouse::kernel::kafka {

class LogRouter final : public RdKafka::EventCb {
  public:
    void event_cb(RdKafka::Event& event) override;
};

// A global configuration with the settings' bootstrap, client id and properties, then `overrides`
// (the kernel's own required values, e.g. acks=all, which must win). Throws ConfigError.
std::unique_ptr<RdKafka::Conf> make_conf(const KafkaSettings& settings,
                                         const std::map<std::string, std::string>& overrides);
void set(RdKafka::Conf& conf, const std::string& name, const std::string& value);

// The partition count of `topic`, or -1 if the topic does not exist (or the broker did not answer).
int partition_count(RdKafka::Handle& handle, const std::string& topic, int timeout_ms);

std::string header_value(const RdKafka::Headers* headers, const std::string& name);

}  // namespace gatehouse::kernel::kafka
