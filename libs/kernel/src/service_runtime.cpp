#include "gatehouse/kernel/service_runtime.h"

#include <malloc.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/resource_quota.h>
#include <httplib.h>

#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/outbox_relay.h"
#include "operator_service.h"

namespace gatehouse::kernel {
namespace {

sigset_t shutdown_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    return signals;
}

std::string read_file(const std::string& path, const std::string& setting) {
    std::ifstream in(path);
    if (!in) {
        throw ConfigError("setting " + setting + ": cannot read " + path);
    }
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

// The gRPC server's credentials: plaintext, TLS (grpc.tls_cert / grpc.tls_key), or mutual TLS
// (grpc.tls_client_ca). Errors name the setting and the file, never a file's content.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const Config& config) {
    const std::string cert = config.string("grpc.tls_cert");
    const std::string client_ca = config.string("grpc.tls_client_ca");
    if (cert.empty()) {
        if (!client_ca.empty()) {
            // A client CA without a server certificate would silently serve plaintext to anyone.
            throw ConfigError(
                "setting grpc.tls_client_ca: needs grpc.tls_cert and grpc.tls_key (client certificates are "
                "checked in the TLS handshake)");
        }
        return grpc::InsecureServerCredentials();
    }
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back(
        {read_file(config.string("grpc.tls_key"), "grpc.tls_key"), read_file(cert, "grpc.tls_cert")});
    // Mutual TLS: with a client CA, a caller without a certificate signed by it never reaches a
    // handler (the handshake fails), so reaching the port is no longer enough to call the API.
    if (!client_ca.empty()) {
        tls.pem_root_certs = read_file(client_ca, "grpc.tls_client_ca");
        tls.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    return grpc::SslServerCredentials(tls);
}

// An integer setting that only some services declare (in their own schema); 0 when not declared.
// Kept out of the kernel's options so that the services without it keep their settings unchanged.
std::int64_t declared_integer(const Config& config, const std::string& name) {
    try {
        (void)config.source(name);
    } catch (const std::out_of_range&) {
        return 0;
    }
    return config.integer(name);
}

// The credentials of auth.tokens (when the service declares it) and auth.tokens_file (when set).
std::map<std::string, std::string> configured_credentials(const Config& config) {
    std::map<std::string, std::string> credentials;
    try {
        credentials = config.map("auth.tokens");
    } catch (const std::logic_error&) {
        // The service declares no auth.tokens: only the file's, if any.
    }
    if (const std::string file = config.string("auth.tokens_file"); !file.empty()) {
        for (auto& [token, who] : read_credentials_file(file, "auth.tokens_file")) {
            credentials[token] = std::move(who);
        }
    }
    return credentials;
}

// What identifies a version of a file without reading it: its modification time and size.
std::string file_version(const std::string& path) {
    std::error_code error;
    const auto modified = std::filesystem::last_write_time(path, error);
    const auto size = std::filesystem::file_size(path, error);
    return error ? std::string() : std::to_string(modified.time_since_epoch().count()) + "/" + std::to_string(size);
}

// "host:port" -> (host, port); throws ConfigError naming the setting.
std::pair<std::string, int> split_address(const std::string& address, const std::string& setting) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) {
        throw ConfigError("setting " + setting + ": \"" + address + "\" is not host:port");
    }
    try {
        return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
    } catch (const std::exception&) {
        throw ConfigError("setting " + setting + ": \"" + address + "\" has no valid port");
    }
}

// "a, b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) {
            items.push_back(item);
        }
    }
    return items;
}

}  // namespace

struct ServiceRuntime::Parts {
    std::vector<Projection*> projections;
    std::vector<MaintainedReadModel*> read_models;
    std::string relay_topic;
    struct Input {
        std::vector<std::string> topics;
        std::string producer;
        InboxHandler handler;
    };
    std::vector<Input> inputs;
    std::vector<grpc::Service*> grpc_services;
    std::vector<std::function<void()>> on_ready;
    struct Periodic {
        std::chrono::milliseconds interval;
        std::string name;
        std::function<void()> task;
    };
    std::vector<Periodic> periodic;
    std::vector<std::thread> periodic_threads;
    std::mutex periodic_mutex;
    std::condition_variable periodic_stop;
    bool stopping = false;

    std::unique_ptr<OutboxRelay> relay;
    std::vector<std::unique_ptr<InboxConsumer>> inboxes;
    std::unique_ptr<grpc::Service> operator_service;  // dead letters: list, re-drive (every service)
    std::unique_ptr<grpc::Server> grpc_server;
    httplib::Server http;
    std::thread http_thread;
};

ServiceRuntime::ServiceRuntime(std::string service_name, Config config)
    : name_(std::move(service_name)),
      config_(std::move(config)),
      client_addresses_(split_list(config_.string("grpc.trusted_proxies")), "grpc.trusted_proxies"),
      parts_(std::make_unique<Parts>()) {
    const sigset_t signals = shutdown_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    configure_logging({config_.string("log.level"), config_.boolean("log.json")});
    for (const std::string& warning : config_.warnings()) {
        logger(name_)->warn("{}", warning);
    }
    const std::string credentials_settings =
        config_.string("auth.tokens_file").empty() ? "auth.tokens" : "auth.tokens / auth.tokens_file";
    authenticator_ = std::make_unique<BearerAuthenticator>(configured_credentials(config_), credentials_settings);
    if (const std::string file = config_.string("auth.tokens_file"); !file.empty()) {
        // Rotation without a restart: the file is looked at every 5 s and re-read when it changed.
        every(std::chrono::seconds(5), "auth-tokens-file",
              [this, file, credentials_settings, seen = file_version(file)]() mutable {
                  const std::string version = file_version(file);
                  if (version == seen) {
                      return;
                  }
                  seen = version;
                  try {
                      const std::size_t before = authenticator_->size();
                      authenticator_->replace(configured_credentials(config_), credentials_settings);
                      logger(name_)->info("auth.tokens_file {} re-read: {} credentials (were {})", file,
                                          authenticator_->size(), before);
                  } catch (const std::exception& error) {
                      logger(name_)->error("auth.tokens_file {} not used, the credentials in use stay: {}", file,
                                           error.what());
                  }
              });
    }
    store_ = EventStore::open(config_.string("data_dir"), StoreOptions{config_.boolean("store.durable")});
}

ServiceRuntime::~ServiceRuntime() {
    if (parts_->http_thread.joinable()) {
        parts_->http.stop();
        parts_->http_thread.join();
    }
}

KafkaSettings ServiceRuntime::kafka_settings() const {
    KafkaSettings settings;
    settings.bootstrap_servers = config_.string("kafka.bootstrap_servers");
    settings.client_id = config_.string("kafka.client_id");
    settings.properties = config_.map("kafka.properties");
    return settings;
}

std::string ServiceRuntime::topic(const std::string& name) const { return config_.string("kafka.topic_prefix") + name; }

RuntimeOptions ServiceRuntime::aggregate_options() {
    const std::int64_t cache_size = config_.integer("store.aggregate_cache_size");
    if (cache_size < 1) {
        throw ConfigError("setting store.aggregate_cache_size: must be at least 1, got " + std::to_string(cache_size));
    }
    return RuntimeOptions{.producer = name_,
                          .max_attempts = 16,
                          .command_latency = &metrics_.histogram("gatehouse_command_seconds", "Command latency (s)"),
                          .cache_capacity = static_cast<std::size_t>(cache_size)};
}

void ServiceRuntime::add_read_model(MaintainedReadModel& model) { parts_->read_models.push_back(&model); }
void ServiceRuntime::add_projection(Projection& projection) { parts_->projections.push_back(&projection); }
void ServiceRuntime::relay_to(const std::string& name) { parts_->relay_topic = topic(name); }
void ServiceRuntime::consume(std::vector<std::string> topics, std::string producer, InboxHandler handler) {
    Parts::Input input{{}, std::move(producer), std::move(handler)};
    for (const std::string& name : topics) {
        input.topics.push_back(topic(name));
    }
    parts_->inputs.push_back(std::move(input));
}
void ServiceRuntime::add_grpc_service(grpc::Service& service) { parts_->grpc_services.push_back(&service); }
void ServiceRuntime::every(std::chrono::milliseconds interval, std::string name, std::function<void()> task) {
    parts_->periodic.push_back({interval, std::move(name), std::move(task)});
}

void ServiceRuntime::on_ready(std::function<void()> callback) {
    if (callback) {
        parts_->on_ready.push_back(std::move(callback));
    }
}
void ServiceRuntime::request_stop() { stop_requested_ = true; }

namespace {
constexpr std::chrono::seconds kStorageRestartAfter{60};
}  // namespace

// The gauges read at each scrape: the store, the relay and the inboxes summed.
void ServiceRuntime::collect_metrics() {
    metrics_.on_collect([this] {
        const auto gauge = [this](const char* name, const char* help, std::uint64_t value) {
            metrics_.gauge(name, help).set(static_cast<double>(value));
        };
        const StoreStats stats = store_->stats();
        const std::uint64_t head = store_->head().value;
        gauge("gatehouse_log_head_position", "Position of the last event in the log", head);
        gauge("gatehouse_store_commits", "Commits written since start", stats.commits);
        gauge("gatehouse_store_appended_events", "Events appended since start", stats.events);
        gauge("gatehouse_store_write_groups", "RocksDB writes (fsyncs) since start; commits/groups = batching",
              stats.groups);
        gauge("gatehouse_store_conflicts", "Commits refused for a version conflict since start", stats.conflicts);
        const StoreMemory memory = store_->memory();
        gauge("gatehouse_store_memtable_bytes", "RocksDB write buffers, all column families", memory.memtables);
        gauge("gatehouse_store_table_reader_bytes", "RocksDB index and filter blocks held outside the block cache",
              memory.table_readers);
        gauge("gatehouse_store_block_cache_bytes", "RocksDB block cache in use", memory.block_cache);
        gauge("gatehouse_store_block_cache_capacity_bytes", "RocksDB block cache capacity",
              memory.block_cache_capacity);
        // glibc's view of the heap: what is allocated, and what it holds from the OS (the
        // difference is fragmentation and per-thread arenas' free space).
        const struct mallinfo2 heap = mallinfo2();
        gauge("gatehouse_heap_in_use_bytes", "Heap bytes allocated (glibc mallinfo2)", heap.uordblks + heap.hblkhd);
        gauge("gatehouse_heap_held_bytes", "Heap bytes held from the OS (glibc mallinfo2)", heap.arena + heap.hblkhd);
        if (parts_->relay) {
            const RelayStats relay = parts_->relay->stats();
            gauge("gatehouse_relay_position", "Last log position known to be on the topic", relay.position.value);
            gauge("gatehouse_relay_lag_events", "Events in the log not yet on the topic",
                  head - std::min(head, relay.position.value));
            gauge("gatehouse_relay_published", "Events published since start", relay.published);
            gauge("gatehouse_relay_waiting", "1 while the relay cannot publish (broker unreachable, topic missing)",
                  relay.waiting.empty() ? 0 : 1);
        }
        if (!parts_->inboxes.empty()) {
            InboxStats inbox;  // summed over the service's input consumers
            for (const auto& consumer : parts_->inboxes) {
                const InboxStats one = consumer->stats();
                inbox.lag += std::max<std::int64_t>(one.lag, 0);
                inbox.applied += one.applied;
                inbox.ignored += one.ignored;
                inbox.duplicates += one.duplicates;
                inbox.dead_lettered += one.dead_lettered;
                inbox.retries += one.retries;
                inbox.parked += one.parked;
                inbox.unparked += one.unparked;
            }
            gauge("gatehouse_inbox_consumer_lag", "Records behind the end of the input partitions",
                  static_cast<std::uint64_t>(inbox.lag));
            gauge("gatehouse_inbox_applied", "Input events applied since start", inbox.applied);
            gauge("gatehouse_inbox_ignored",
                  "Input events processed that changed nothing here (not this service's "
                  "concern)",
                  inbox.ignored);
            gauge("gatehouse_inbox_duplicates", "Input events skipped as already processed", inbox.duplicates);
            gauge("gatehouse_inbox_dead_lettered", "Input records sent to the dead-letter topic", inbox.dead_lettered);
            gauge("gatehouse_inbox_retries", "Handler retries after transient failures", inbox.retries);
            gauge("gatehouse_inbox_parked", "Input records parked now (retry budget spent)", inbox.parked);
            gauge("gatehouse_inbox_unparked", "Parked input records processed since start", inbox.unparked);
        }
    });
}

// 1. Metrics and health over HTTP (metrics.listen), before the replay so that liveness answers
// during a long one.
void ServiceRuntime::serve_http() {
    Parts& parts = *parts_;
    const auto log = logger(name_);
    if (const std::string address = config_.string("metrics.listen"); !address.empty()) {
        const auto [host, port] = split_address(address, "metrics.listen");
        parts.http.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
            response.set_content(metrics_.render(), "text/plain; version=0.0.4");
        });
        parts.http.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
            response.set_content("ok\n", "text/plain");
        });
        parts.http.Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
            response.status = ready_ ? 200 : 503;
            // Without the broker the API still serves (commands are logged and published later):
            // ready, but saying so, so that nothing restarts a service that is doing its job.
            const std::string waiting = ready_ && parts_->relay ? parts_->relay->stats().waiting : "";
            // A store that cannot write (disk full) cannot take commands: not ready, until it can.
            const std::string storage = ready_ ? store_->write_failure() : "";
            if (!storage.empty()) {
                response.status = 503;
                response.set_content("storage failing: " + storage + "\n", "text/plain");
                return;
            }
            response.set_content(!ready_           ? "replaying the log\n"
                                 : waiting.empty() ? "ready\n"
                                                   : "degraded: " + waiting + "\n",
                                 "text/plain");
        });
        const int bound =
            port == 0 ? parts.http.bind_to_any_port(host) : (parts.http.bind_to_port(host, port) ? port : -1);
        if (bound <= 0) {
            throw ConfigError("setting metrics.listen: cannot listen on " + address);
        }
        metrics_port_ = bound;
        parts.http_thread = std::thread([&parts] { parts.http.listen_after_bind(); });
        log->info("metrics on http://{}:{}/metrics", host, bound);
    }
}

// 2. Read models to the log's head (a rebuild only when a definition changed or the log was
// restored), then any projection from the log.
void ServiceRuntime::bring_read_models_up() {
    Parts& parts = *parts_;
    const auto log = logger(name_);
    const auto replay_started = std::chrono::steady_clock::now();
    const auto elapsed_ms = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - replay_started)
            .count();
    };
    for (MaintainedReadModel* model : parts.read_models) {
        if (const std::uint64_t indexed = model->bring_up_to_date(); indexed > 0) {
            log->info("rebuilt the {} read model from the log: {} aggregates in {} ms", model->aggregate_type(),
                      indexed, elapsed_ms());
        }
    }
    if (!parts.projections.empty()) {
        const RebuildSummary summary = rebuild_from_log(*store_, parts.projections);
        log->info("replayed {} events in {} ms", summary.events, elapsed_ms());
    }
}

// 3. The relay and the inbox consumers.
void ServiceRuntime::start_messaging() {
    Parts& parts = *parts_;
    if (!parts.relay_topic.empty()) {
        RelayOptions options;
        options.kafka = kafka_settings();
        options.topic = parts.relay_topic;
        options.topic_wait = config_.duration("kafka.topic_wait");
        parts.relay = std::make_unique<OutboxRelay>(*store_, options);
        parts.relay->start();
    }
    for (const Parts::Input& input : parts.inputs) {
        // One consumer (and consumer group) per consume() call, so that a handler retrying one
        // input never holds up another. The group is named after the service and its topics (with
        // the deployment's prefixes), e.g. "notifier.gatehouse.sales.events.v1"; the inbox records
        // are namespaced by the service alone, so a new group (kafka.consumer_group_prefix)
        // re-reads the topics without re-applying anything.
        InboxOptions options;
        options.kafka = kafka_settings();
        options.consumer_name = name_;
        options.group_id = config_.string("kafka.consumer_group_prefix") + name_;
        for (std::size_t i = 0; i < input.topics.size(); ++i) {
            options.group_id += (i == 0 ? "." : "+") + input.topics[i];
        }
        options.topics = input.topics;
        options.producer = input.producer;
        options.dead_letter_topic = topic("gatehouse." + name_ + ".dead-letters.v1");
        options.retry_attempts = static_cast<int>(config_.integer("inbox.retry_attempts"));
        if (options.retry_attempts < 1) {
            throw ConfigError("setting inbox.retry_attempts: must be at least 1, got " +
                              std::to_string(options.retry_attempts));
        }
        options.retry_budget = config_.duration("inbox.retry_budget");
        options.parked_retry_interval = config_.duration("inbox.parked_retry_interval");
        parts.inboxes.push_back(std::make_unique<InboxConsumer>(*store_, options, input.handler));
        parts.inboxes.back()->start();
    }
}

// 4. The gRPC server with the services, health, reflection and the operator service; then ready.
void ServiceRuntime::serve_grpc(const std::shared_ptr<grpc::ServerCredentials>& credentials) {
    Parts& parts = *parts_;
    const auto log = logger(name_);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int grpc_port = 0;
    builder.AddListeningPort(config_.string("grpc.listen"), credentials, &grpc_port);
    // A service whose schema declares grpc.max_threads (customers: sign-ins wait for argon2) caps its
    // server's threads with a resource quota; gRPC answers calls beyond it RESOURCE_EXHAUSTED.
    if (const std::int64_t max_threads = declared_integer(config_, "grpc.max_threads"); max_threads > 0) {
        grpc::ResourceQuota quota(name_ + "-grpc");
        quota.SetMaxThreads(static_cast<int>(max_threads));
        builder.SetResourceQuota(quota);
    }
    for (grpc::Service* service : parts.grpc_services) {
        builder.RegisterService(service);
    }
    std::vector<InboxConsumer*> inboxes;
    for (const auto& inbox : parts.inboxes) {
        inboxes.push_back(inbox.get());
    }
    parts.operator_service = make_operator_service(name_, *authenticator_, kafka_settings(),
                                                   topic("gatehouse." + name_ + ".dead-letters.v1"), inboxes);
    builder.RegisterService(parts.operator_service.get());
    parts.grpc_server = builder.BuildAndStart();
    if (!parts.grpc_server || grpc_port == 0) {
        throw ConfigError("setting grpc.listen: cannot listen on " + config_.string("grpc.listen"));
    }
    grpc_port_ = grpc_port;
    parts.grpc_server->GetHealthCheckService()->SetServingStatus(true);
    ready_ = true;
    log->info("{} ready: gRPC on port {}", name_, grpc_port);
}

// The tasks of every(), each on its own thread until shut_down().
void ServiceRuntime::start_periodic_tasks() {
    Parts& parts = *parts_;
    const auto log = logger(name_);
    // Free heap pages go back to the OS (see service_main.cpp's allocator settings): RSS follows
    // what is in use instead of the highest point since start. Measured: 1-23 ms per call with
    // 1M events in the log under 500 requests/s.
    every(std::chrono::seconds(10), "return free heap to the OS", [] { malloc_trim(0); });
    for (const Parts::Periodic& periodic : parts.periodic) {
        parts.periodic_threads.emplace_back([&parts, &periodic, log] {
            std::unique_lock lock(parts.periodic_mutex);
            while (!parts.periodic_stop.wait_for(lock, periodic.interval, [&] { return parts.stopping; })) {
                lock.unlock();
                try {
                    periodic.task();
                } catch (const std::exception& error) {
                    log->error("periodic task {} failed: {}", periodic.name, error.what());
                }
                lock.lock();
            }
        });
    }
}

// One line on stdout for whoever started the process (scripts, tests): where it listens; then the
// on_ready callbacks.
void ServiceRuntime::announce_ready() {
    Parts& parts = *parts_;
    // One line on stdout for whoever started the process (scripts, tests): where it listens.
    std::printf("%s ready grpc=%d metrics=%d\n", name_.c_str(), grpc_port_.load(), metrics_port_.load());
    std::fflush(stdout);
    for (const auto& callback : parts.on_ready) {
        callback();
    }
}

// 5. Waits for SIGTERM / SIGINT, a stop request or a component that failed for good; returns the exit
// code. Meanwhile, a store whose writes failed (disk full) is asked to resume every 2 s.
int ServiceRuntime::wait_for_stop() {
    Parts& parts = *parts_;
    const auto log = logger(name_);
    const sigset_t signals = shutdown_signals();
    std::string storage_failure;
    auto last_resume = std::chrono::steady_clock::now();
    auto failing_since = last_resume;
    for (;;) {
        if (const std::string failing = store_->write_failure(); failing != storage_failure) {
            failing_since = std::chrono::steady_clock::now();
            if (!failing.empty()) {
                log->critical(
                    "the store in {} cannot write: {}; commands answer UNAVAILABLE and /readyz 503 "
                    "until it can (free space or fix the disk: it resumes by itself)",
                    store_->directory().string(), failing);
            } else {
                log->info("the store writes again");
            }
            storage_failure = failing;
        }
        if (!storage_failure.empty() && std::chrono::steady_clock::now() - last_resume > std::chrono::seconds(2)) {
            (void)store_->try_resume();
            last_resume = std::chrono::steady_clock::now();
        }
        // RocksDB refuses for good after some failures (a failed write-ahead-log append): only a
        // reopen writes again. Nothing acknowledged is lost by stopping; the supervisor's restart
        // reopens the log (and fails with a clear error while the disk is still full).
        if (!storage_failure.empty() && std::chrono::steady_clock::now() - failing_since > kStorageRestartAfter) {
            log->critical("the store has not written for {} s ({}); stopping (exit 75) so that a restart reopens it",
                          kStorageRestartAfter.count(), storage_failure);
            return 75;  // EX_TEMPFAIL
        }
        timespec wait{0, 200'000'000};
        const int signal = sigtimedwait(&signals, nullptr, &wait);
        if (signal > 0) {
            log->info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
            return 0;
        }
        if (stop_requested_) {
            return 0;
        }
        const std::string relay_failure = parts.relay ? parts.relay->failure() : "";
        std::string inbox_failure;
        for (const auto& inbox : parts.inboxes) {
            if (inbox_failure.empty()) {
                inbox_failure = inbox->failure();
            }
        }
        if (!relay_failure.empty() || !inbox_failure.empty()) {
            log->critical("stopping after a failure: {}", relay_failure.empty() ? inbox_failure : relay_failure);
            return 1;
        }
    }
}

// 6. Stops in reverse order: RPCs drain for shutdown.grace, then the periodic tasks, the inboxes
// (offsets committed), the relay (producer flushed) and the HTTP endpoint.
void ServiceRuntime::shut_down() {
    Parts& parts = *parts_;
    ready_ = false;
    parts.grpc_server->GetHealthCheckService()->SetServingStatus(false);
    const auto grace = config_.duration("shutdown.grace");
    parts.grpc_server->Shutdown(std::chrono::system_clock::now() + grace);
    parts.grpc_server->Wait();
    {
        std::lock_guard lock(parts.periodic_mutex);
        parts.stopping = true;
    }
    parts.periodic_stop.notify_all();
    for (std::thread& thread : parts.periodic_threads) {
        thread.join();
    }
    for (const auto& inbox : parts.inboxes) {
        inbox->stop();
    }
    if (parts.relay) {
        parts.relay->stop(grace);
    }
    if (parts.http_thread.joinable()) {
        parts.http.stop();
        parts.http_thread.join();
    }
}

int ServiceRuntime::run() {
    // Read before anything starts: a wrong TLS file stops start-up at once, not after the replay
    // and with Kafka clients to close.
    const std::shared_ptr<grpc::ServerCredentials> credentials = server_credentials(config_);
    collect_metrics();
    serve_http();             // 1. first, so that liveness answers during a long replay
    bring_read_models_up();   // 2.
    start_messaging();        // 3.
    serve_grpc(credentials);  // 4. then ready
    start_periodic_tasks();
    announce_ready();
    const int exit_code = wait_for_stop();  // 5.
    shut_down();                            // 6. in reverse order
    logger(name_)->info("{} stopped", name_);
    return exit_code;
}

}  // namespace gatehouse::kernel
