// gatehouse-mock-broker: hosts librdkafka's mock Kafka cluster (in memory, loopback TCP) so that
// Gatehouse runs on a machine without Java. Prints the bootstrap address on stdout (and into
// --bootstrap-file), creates the requested topics, and runs until SIGTERM / SIGINT.
//
// Limits (librdkafka's): data lives in memory only, at most ~5 MiB or 100,000 message sets per
// partition (older data is dropped), no CreateTopics admin API (topics are created here).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int /*signal*/) { g_stop = 1; }

void usage() {
    std::cout << "usage: gatehouse-mock-broker [--brokers N] [--topic NAME[:PARTITIONS]]... [--bootstrap-file PATH]\n"
                 "Runs librdkafka's in-memory mock Kafka cluster on 127.0.0.1 until SIGTERM or SIGINT.\n"
                 "  --brokers N          number of mock brokers (default 1)\n"
                 "  --topic NAME[:P]     create topic NAME with P partitions (default 3); repeatable\n"
                 "  --bootstrap-file F   also write the bootstrap address to F\n";
}

}  // namespace

int main(int argc, char** argv) {
    int brokers = 1;
    std::vector<std::pair<std::string, int>> topics;
    std::string bootstrap_file;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--help" || arg == "-h") {
            usage();
            return 0;
        }
        if (arg == "--brokers" && has_value) {
            brokers = std::atoi(argv[++i]);
        } else if (arg == "--topic" && has_value) {
            std::string spec = argv[++i];
            int partitions = 3;
            if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
                partitions = std::atoi(spec.c_str() + colon + 1);
                spec.resize(colon);
            }
            if (spec.empty() || partitions <= 0) {
                std::cerr << "gatehouse-mock-broker: --topic needs NAME[:PARTITIONS>0]\n";
                return 2;
            }
            topics.emplace_back(spec, partitions);
        } else if (arg == "--bootstrap-file" && has_value) {
            bootstrap_file = argv[++i];
        } else {
            std::cerr << "gatehouse-mock-broker: unknown or incomplete option " << arg << "\n";
            usage();
            return 2;
        }
    }
    if (brokers <= 0) {
        std::cerr << "gatehouse-mock-broker: --brokers must be at least 1\n";
        return 2;
    }

    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_t* host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (host == nullptr) {
        std::cerr << "gatehouse-mock-broker: " << error << "\n";
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host, brokers);
    if (cluster == nullptr) {
        std::cerr << "gatehouse-mock-broker: could not start the mock cluster\n";
        rd_kafka_destroy(host);
        return 1;
    }
    for (const auto& [name, partitions] : topics) {
        const rd_kafka_resp_err_t code = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::cerr << "gatehouse-mock-broker: cannot create topic " << name << ": " << rd_kafka_err2str(code)
                      << "\n";
            return 1;
        }
    }
    const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    if (!bootstrap_file.empty()) {
        std::ofstream(bootstrap_file) << bootstrap << "\n";
    }
    std::cout << bootstrap << std::endl;

    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    while (g_stop == 0) {
        pause();  // woken by the signal
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(host);
    return 0;
}
