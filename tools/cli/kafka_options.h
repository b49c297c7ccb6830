// How the CLI's Kafka commands (tail, replay) reach the broker: --bootstrap, -X properties and the
// deployment's topic prefix, with the same environment variables as the services.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}
namespace RdKafka {
class Conf;
class KafkaConsumer;
}  // namespace RdKafka

namespace gatehouse::cli {

struct KafkaArgs {
    std::string bootstrap = "127.0.0.1:9092";
    // Extra librdkafka properties (e.g. SASL: security.protocol, sasl.mechanisms, ...).
    std::vector<std::string> properties;
    std::string topic_prefix;
};

// Adds --bootstrap, -X/--property and --topic-prefix to `command`, with defaults from
// GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS, GATEHOUSE_KAFKA_PROPERTIES ("name=value,name=value", as the
// services read it) and GATEHOUSE_KAFKA_TOPIC_PREFIX.
void add_kafka_options(CLI::App& command, KafkaArgs& args);

// A librdkafka configuration: the bootstrap servers, then `fixed`, then the -X properties. On a bad
// property prints the error (never a value: it may be a password) and returns nullptr.
std::unique_ptr<RdKafka::Conf> kafka_conf(const KafkaArgs& args,
                                          const std::vector<std::pair<std::string, std::string>>& fixed);

// A consumer that only reads assigned partitions or queries the broker: it never joins a group
// (its group id is random, required by the API) and never commits. On failure prints why and
// returns nullptr with `exit_code` set (kExitUsage for a bad property, kExitUnreachable otherwise).
std::unique_ptr<RdKafka::KafkaConsumer> standalone_consumer(const KafkaArgs& args, const std::string& client_id,
                                                            int& exit_code);

}  // namespace gatehouse::cli
