// The service runtime: what every Gatehouse service's main() is built from.
//
// It owns, in dependency order: configuration and logging, the RocksDB event store, the metrics
// registry and its HTTP endpoint (/metrics, /healthz, /readyz), the read models (rebuilt from the
// log only when their definition changed or they were never built), the projections rebuilt from
// the log, the outbox relay, the inbox consumer and the gRPC server (with grpc.health.v1 and
// reflection). run() starts them in that order and, on SIGTERM / SIGINT, stops them in reverse:
// in-flight RPCs drain, the inbox commits its offsets, the relay flushes its producer; exit 0.
// A relay or inbox that fails for good makes run() return 1, so the orchestrator restarts it.
//
// Construct it first thing in main(): it blocks SIGTERM / SIGINT in every thread it (and RocksDB,
// librdkafka and gRPC) starts, so that run() alone receives them.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/client_address.h"
#include "gatehouse/kernel/config.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/kafka_settings.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/kernel/projection.h"
#include "gatehouse/kernel/read_model.h"

namespace grpc {
class Service;
class ServerCredentials;
}  // namespace grpc

namespace gatehouse::kernel {

class ServiceRuntime final {
  public:
    // Applies the logging settings and opens the store. Throws ConfigError / StoreError.
    ServiceRuntime(std::string service_name, Config config);
    ~ServiceRuntime();
    ServiceRuntime(const ServiceRuntime&) = delete;
    ServiceRuntime& operator=(const ServiceRuntime&) = delete;

    [[nodiscard]] EventStore& store() { return *store_; }
    [[nodiscard]] MetricsRegistry& metrics() { return metrics_; }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] KafkaSettings kafka_settings() const;
    [[nodiscard]] const std::string& name() const { return name_; }
    // Who the client of a call is, for per-client limits (setting grpc.trusted_proxies).
    [[nodiscard]] const ClientAddressResolver& client_addresses() const { return client_addresses_; }
    // The staff / machine credentials: auth.tokens (if the service declares it) and the lines of
    // auth.tokens_file, which is re-read within 5 s of a change (rotation without a restart; a file
    // that does not check keeps the credentials in use and is logged). The operator API uses it too.
    [[nodiscard]] const BearerAuthenticator& authenticator() const { return *authenticator_; }

    // Options for an AggregateRuntime of this service: its name as producer, the shared command
    // latency histogram, the cache bound from store.aggregate_cache_size.
    [[nodiscard]] RuntimeOptions aggregate_options();

    // A topic's name as configured: kafka.topic_prefix + name.
    [[nodiscard]] std::string topic(const std::string& name) const;

    // Wiring, before run() (topic names without the prefix):
    // A read model brought up to date before the service is ready (an AggregateRuntime with one).
    void add_read_model(MaintainedReadModel& model);
    // A projection rebuilt by replaying the whole log at every start (cost grows with history:
    // prefer a read model).
    void add_projection(Projection& projection);
    void relay_to(const std::string& topic);
    // Consumes `topics` with `handler` effectively once (see inbox_consumer.h). Each call gets its own
    // consumer and consumer group ("<service>.<topic>[+<topic>...]"): call it once per input topic
    // so that a handler retrying a transient failure on one topic never holds up another.
    // `producer`: the service that owns the topics; events naming another are dead-lettered.
    void consume(std::vector<std::string> topics, std::string producer, InboxHandler handler);
    void add_grpc_service(grpc::Service& service);
    // Runs `task` every `interval` on a thread of its own while the service is ready (e.g. a sweeper
    // that closes expired requests). An exception is logged and the task runs again next time.
    void every(std::chrono::milliseconds interval, std::string name, std::function<void()> task);
    // Called once, on run()'s thread, when the service has become ready. Several callbacks may be
    // added (each part of a service its own); they run in the order they were added.
    void on_ready(std::function<void()> callback);

    // Starts everything and blocks until SIGTERM / SIGINT or request_stop(); returns the exit code.
    int run();
    // Asks run() to stop as on SIGTERM (for tests and embedding). Safe from any thread.
    void request_stop();
    // Ports actually bound (valid once ready).
    [[nodiscard]] int grpc_port() const { return grpc_port_.load(); }
    [[nodiscard]] int metrics_port() const { return metrics_port_.load(); }
    [[nodiscard]] bool ready() const { return ready_.load(); }

  private:
    struct Parts;
    // The phases of run(), in order; each throws ConfigError when its settings do not work.
    void collect_metrics();
    void serve_http();
    void bring_read_models_up();
    void start_messaging();
    void serve_grpc(const std::shared_ptr<grpc::ServerCredentials>& credentials);
    void start_periodic_tasks();
    void announce_ready();
    int wait_for_stop();
    void shut_down();

    std::string name_;
    Config config_;
    ClientAddressResolver client_addresses_;
    std::unique_ptr<BearerAuthenticator> authenticator_;
    std::unique_ptr<EventStore> store_;
    MetricsRegistry metrics_;
    std::unique_ptr<Parts> parts_;
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> ready_{false};
    std::atomic<int> grpc_port_{0};
    std::atomic<int> metrics_port_{0};
};

}  // namespace gatehouse::kernel
