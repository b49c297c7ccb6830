#include "kafka_options.h"

#include <librdkafka/rdkafkacpp.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <random>
#include <sstream>

#include "cli.h"

namespace gatehouse::cli {

void add_kafka_options(CLI::App& command, KafkaArgs& args) {
    args.bootstrap = env_or("GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", args.bootstrap);
    args.topic_prefix = env_or("GATEHOUSE_KAFKA_TOPIC_PREFIX", "");
    for (std::stringstream list(env_or("GATEHOUSE_KAFKA_PROPERTIES", "")); !list.eof();) {
        std::string property;
        std::getline(list, property, ',');
        if (!property.empty()) {
            args.properties.push_back(property);
        }
    }
    command
        .add_option("--bootstrap", args.bootstrap, "Kafka bootstrap servers (env GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS)")
        ->capture_default_str();
    command.add_option("-X,--property", args.properties,
                       "a librdkafka property NAME=VALUE, e.g. for SASL (repeatable; env GATEHOUSE_KAFKA_PROPERTIES, "
                       "comma-separated)");
    command.add_option("--topic-prefix", args.topic_prefix,
                       "topic prefix of the deployment (env GATEHOUSE_KAFKA_TOPIC_PREFIX)");
}

std::unique_ptr<RdKafka::Conf> kafka_conf(const KafkaArgs& args,
                                          const std::vector<std::pair<std::string, std::string>>& fixed) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    std::vector<std::pair<std::string, std::string>> properties = {{"bootstrap.servers", args.bootstrap}};
    properties.insert(properties.end(), fixed.begin(), fixed.end());
    for (const auto& [name, value] : properties) {
        if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
            std::cerr << "error: " << name << ": " << error << "\n";
            return nullptr;
        }
    }
    for (const std::string& property : args.properties) {
        const auto equals = property.find('=');
        if (equals == std::string::npos || equals == 0) {
            std::cerr << "error: -X wants NAME=VALUE, got \"" << property.substr(0, property.find('=')) << "\"\n";
            return nullptr;
        }
        // The value may be a password: never echoed.
        if (conf->set(property.substr(0, equals), property.substr(equals + 1), error) != RdKafka::Conf::CONF_OK) {
            std::cerr << "error: " << property.substr(0, equals) << ": " << error << "\n";
            return nullptr;
        }
    }
    return conf;
}

std::unique_ptr<RdKafka::KafkaConsumer> standalone_consumer(const KafkaArgs& args, const std::string& client_id,
                                                            int& exit_code) {
    std::random_device random;
    const std::unique_ptr<RdKafka::Conf> conf =
        kafka_conf(args, {{"client.id", client_id},
                          {"group.id", client_id + "-" + std::to_string(random())},
                          {"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"},
                          {"log_level", "3"}});
    if (!conf) {
        exit_code = kExitUsage;
        return nullptr;
    }
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!consumer) {
        std::cerr << "error: cannot create a Kafka client: " << error << "\n";
        exit_code = kExitUnreachable;
    }
    return consumer;
}

}  // namespace gatehouse::cli
