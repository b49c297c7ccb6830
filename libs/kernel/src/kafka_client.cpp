#include "kafka_client.h"

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"

namespace gatehouse::kernel::kafka {

void LogRouter::event_cb(RdKafka::Event& event) {
    static const auto log = logger("kafka");
    switch (event.type()) {
        case RdKafka::Event::EVENT_LOG: {
            const int severity = event.severity();
            const auto level = severity <= RdKafka::Event::EVENT_SEVERITY_ERROR     ? spdlog::level::err
                               : severity <= RdKafka::Event::EVENT_SEVERITY_WARNING ? spdlog::level::warn
                               : severity <= RdKafka::Event::EVENT_SEVERITY_INFO    ? spdlog::level::info
                                                                                    : spdlog::level::debug;
            log->log(level, "{}: {}", event.fac(), event.str());
            break;
        }
        case RdKafka::Event::EVENT_ERROR:
            log->log(event.fatal() ? spdlog::level::critical : spdlog::level::warn, "{}: {}",
                     RdKafka::err2str(event.err()), event.str());
            break;
        default:
            break;
    }
}

void set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
    std::string error;
    if (conf.set(name, value, error) != RdKafka::Conf::CONF_OK) {
        throw ConfigError("Kafka property " + name + ": " + error);
    }
}

std::unique_ptr<RdKafka::Conf> make_conf(const KafkaSettings& settings,
                                         const std::map<std::string, std::string>& overrides) {
    static LogRouter router;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set(*conf, "bootstrap.servers", settings.bootstrap_servers);
    set(*conf, "client.id", settings.client_id);
    std::string error;
    if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(&router), error) != RdKafka::Conf::CONF_OK) {
        throw ConfigError("Kafka event callback: " + error);
    }
    for (const auto& [name, value] : settings.properties) {
        set(*conf, name, value);
    }
    for (const auto& [name, value] : overrides) {
        set(*conf, name, value);
    }
    return conf;
}

int partition_count(RdKafka::Handle& handle, const std::string& topic, int timeout_ms) {
    std::string error;
    std::unique_ptr<RdKafka::Topic> topic_handle(RdKafka::Topic::create(&handle, topic, nullptr, error));
    if (!topic_handle) {
        return -1;
    }
    RdKafka::Metadata* raw = nullptr;
    if (handle.metadata(false, topic_handle.get(), &raw, timeout_ms) != RdKafka::ERR_NO_ERROR) {
        return -1;
    }
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const RdKafka::TopicMetadata* topic_metadata : *metadata->topics()) {
        if (topic_metadata->topic() == topic && topic_metadata->err() == RdKafka::ERR_NO_ERROR) {
            return static_cast<int>(topic_metadata->partitions()->size());
        }
    }
    return -1;
}

std::string header_value(const RdKafka::Headers* headers, const std::string& name) {
    if (headers == nullptr) {
        return {};
    }
    for (const RdKafka::Headers::Header& header : headers->get(name)) {
        if (header.value() != nullptr) {
            return std::string(static_cast<const char*>(header.value()), header.value_size());
        }
    }
    return {};
}

}  // namespace gatehouse::kernel::kafka
