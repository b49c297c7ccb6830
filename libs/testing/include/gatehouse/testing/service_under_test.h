// A Gatehouse service as a real process for tests, with its gRPC stub: what the per-service
// harnesses (customers_process.h, onboarding_process.h, ...) share, so each of them only says what
// is its own (binary, topics, bearer tokens, default settings).
//
// Guarantees, once constructed:
// - the service runs (ready on free loopback ports, see ServiceProcess) and api() is a stub on it;
// - its topics (the `topics` given, 3 partitions each, and its dead-letter topic, 1 partition)
//   exist under a prefix of its own, so tests never see each other's events; topic(name) names them;
// - its settings are the caller's, then the harness's defaults, then the common ones below — each
//   only where not set before (try_emplace), so a test can override any of them;
// - common settings: the Kafka cluster's bootstrap servers and client properties, log level "warn",
//   the topic prefix, and the notifier key (public half, both halves, or none; see NotifierKey)
//   of a key pair the test holds, so it can seal and open one-time tokens as the services do.
// It does not include any service's generated code: the stub comes from GrpcService.
#pragma once

#include <grpcpp/grpcpp.h>

#include <csignal>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_process.h"

namespace gatehouse::testing {

// Which half of the test's notifier key pair the service gets: the services that issue one-time
// tokens seal them to the public half, the notifier opens them with both, the others need none.
enum class NotifierKey { none, public_half, key_pair };

template <class GrpcService>
class ServiceUnderTest {
  public:
    using Stub = typename GrpcService::Stub;

    // Starts the binary again (with `extra` settings on top), on the same data directory.
    void start(const std::map<std::string, std::string>& extra = {}) {
        process_->start(extra);
        stub_ = GrpcService::NewStub(process_->channel());
    }
    // Signals the process (SIGTERM: a graceful shutdown) and waits; returns its exit code (-1 if
    // it was not running).
    int stop(int signal = SIGTERM) {
        stub_.reset();
        return process_->stop(signal);
    }

    Stub& api() { return *stub_; }
    std::shared_ptr<grpc::Channel> channel() { return process_->channel(); }
    [[nodiscard]] int grpc_port() const { return process_->grpc_port(); }
    // "127.0.0.1:<gRPC port>", e.g. for the CLI's --notifier.
    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(process_->grpc_port()); }
    // A gauge or counter of the running process's /metrics (-1 when unreadable or absent).
    [[nodiscard]] double metric(const std::string& name) const { return process_->metric(name); }
    // The process's data directory: its environment names it, which is how a test finds its pid.
    [[nodiscard]] std::filesystem::path data_dir() const { return process_->data_dir(); }
    // An operator command of the binary (restore-from-topic, verify), with the service stopped.
    [[nodiscard]] std::pair<int, std::string> run_command(const std::vector<std::string>& arguments) const {
        return process_->run_command(arguments);
    }

    // `name` (e.g. "gatehouse.sales.events.v1") under this service's prefix.
    [[nodiscard]] std::string topic(const std::string& name) const { return prefix_ + name; }
    [[nodiscard]] std::string dead_letter_topic() const {
        return topic("gatehouse." + process_->name() + ".dead-letters.v1");
    }

    // Seals `token` to the notifier's public key, as the issuing services do.
    [[nodiscard]] std::string seal(const std::string& token) const { return keys_.seal(token); }
    // Opens a token sealed for the notifier, as the notifier will.
    [[nodiscard]] std::string unseal(const std::string& sealed) const { return keys_.unseal(sealed); }

  protected:
    // `service` is the name the binary prints in its ready line (e.g. "sales-bridge"); it also
    // names the dead-letter topic. `prefix_stem` starts the unique topic prefix.
    ServiceUnderTest(KafkaTestCluster& kafka, const std::string& service, const std::string& binary,
                     std::initializer_list<const char*> topics, std::map<std::string, std::string> settings,
                     NotifierKey notifier_key, const std::string& prefix_stem = "test")
        : kafka_(kafka), prefix_(unique_topic(prefix_stem) + ".") {
        for (const char* name : topics) {
            kafka_.create_topic(topic(name), 3);
        }
        kafka_.create_topic(topic("gatehouse." + service + ".dead-letters.v1"), 1);
        settings.try_emplace("GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", kafka_.bootstrap());
        settings.try_emplace("GATEHOUSE_KAFKA_PROPERTIES", kafka_.client_properties());
        settings.try_emplace("GATEHOUSE_LOG_LEVEL", "warn");
        settings.try_emplace("GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix_);
        if (notifier_key != NotifierKey::none) {
            settings.try_emplace("GATEHOUSE_NOTIFIER_PUBLIC_KEY", keys_.public_text());
        }
        if (notifier_key == NotifierKey::key_pair) {
            settings.try_emplace("GATEHOUSE_NOTIFIER_SECRET_KEY", keys_.secret_text());
        }
        process_ = std::make_unique<ServiceProcess>(service, binary, std::move(settings));
        start();
    }

    [[nodiscard]] KafkaTestCluster& kafka() const { return kafka_; }

  private:
    KafkaTestCluster& kafka_;
    std::string prefix_;
    NotifierKeys keys_;
    std::unique_ptr<ServiceProcess> process_;
    std::unique_ptr<Stub> stub_;
};

}  // namespace gatehouse::testing
