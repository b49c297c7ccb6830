// The service runtime as operators meet it: a real process, configured by environment, ready only
// after its replay, with /metrics and gRPC health, stopping cleanly on SIGTERM.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "gatehouse/kernel/event_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "kafka_test_cluster.h"
#include "temp_dir.h"
#include "wait_until.h"

using namespace gatehouse::testing;
using namespace std::chrono_literals;

namespace {

struct Ports {
    int grpc = 0;
    int metrics = 0;
};

Ports wait_ready(ChildProcess& service) {
    while (auto line = service.read_line(60s)) {
        if (line->rfind("ready ", 0) == 0) {
            std::istringstream in(line->substr(6));
            Ports ports;
            in >> ports.grpc >> ports.metrics;
            return ports;
        }
    }
    FAIL("the service did not become ready");
    return {};
}

std::string metrics_of(int port) {
    httplib::Client client("127.0.0.1", port);
    auto response = client.Get("/metrics");
    return response && response->status == 200 ? response->body : std::string();
}

// Scrapes /metrics until it contains `line` or the deadline passes.
bool metrics_show(int port, const std::string& line, std::chrono::milliseconds timeout) {
    return wait_until([&] { return metrics_of(port).find(line) != std::string::npos; }, timeout, 100ms);
}

std::string counter_envelope(const std::string& id, int n) {
    gatehouse::kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(id + "-" + std::to_string(n));
    envelope.set_event_type("gatehouse.testing.v1.CounterIncremented");
    envelope.set_aggregate_id(id);
    return envelope.SerializeAsString();
}

}  // namespace

TEST_CASE("a service process replays, serves health and metrics, and stops cleanly on SIGTERM", "[runtime][kafka]") {
    KafkaTestCluster kafka;
    const std::string in = unique_topic("fixture-in");
    const std::string out = unique_topic("fixture-out");
    kafka.create_topic(in, 3);
    kafka.create_topic(out, 3);
    kafka.create_topic("gatehouse.fixture.dead-letters.v1", 1);
    TempDir dir;
    const std::vector<std::string> command = {"/usr/bin/env",
                                              "GATEHOUSE_DATA_DIR=" + dir.path().string(),
                                              "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
                                              "GATEHOUSE_FIXTURE_INPUT_TOPIC=" + in,
                                              "GATEHOUSE_FIXTURE_OUTPUT_TOPIC=" + out,
                                              "GATEHOUSE_LOG_LEVEL=warn",
                                              "GATEHOUSE_KAFKA_PROPERTIES=session.timeout.ms=6000",
                                              GATEHOUSE_SERVICE_FIXTURE};
    {
        ChildProcess service(command);
        const Ports ports = wait_ready(service);
        for (int n = 0; n < 10; ++n) {
            kafka.produce(in, "c1", counter_envelope("c1", n));
        }
        CHECK(kafka.read_all(out, 10, 30s).size() == 10);
        CHECK(metrics_show(ports.metrics, "gatehouse_inbox_applied 10\n", 30s));
        CHECK(metrics_show(ports.metrics, "gatehouse_relay_lag_events 0\n", 30s));
        CHECK(metrics_show(ports.metrics, "gatehouse_command_seconds_count 10\n", 5s));

        auto channel =
            grpc::CreateChannel("127.0.0.1:" + std::to_string(ports.grpc), grpc::InsecureChannelCredentials());
        auto health = grpc::health::v1::Health::NewStub(channel);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 10s);
        grpc::health::v1::HealthCheckResponse response;
        REQUIRE(health->Check(&context, {}, &response).ok());
        CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);

        httplib::Client http("127.0.0.1", ports.metrics);
        auto ready = http.Get("/readyz");
        REQUIRE(ready);
        CHECK(ready->status == 200);

        service.kill(SIGTERM);
        CHECK(service.wait() == 0);
    }
    {
        // Restarted: the state comes back from the log, nothing is relayed or applied twice.
        ChildProcess service(command);
        const Ports ports = wait_ready(service);
        CHECK(metrics_show(ports.metrics, "gatehouse_log_head_position 10\n", 10s));
        kafka.produce(in, "c1", counter_envelope("c1", 0));  // a redelivered input event
        kafka.produce(in, "c1", counter_envelope("c1", 10));
        CHECK(metrics_show(ports.metrics, "gatehouse_inbox_duplicates 1\n", 30s));
        CHECK(metrics_show(ports.metrics, "gatehouse_log_head_position 11\n", 30s));
        CHECK(kafka.read_all(out, 11, 30s).size() == 11);
        service.kill(SIGTERM);
        CHECK(service.wait() == 0);
    }
}

TEST_CASE("with its broker unreachable a service stays up, says degraded, and publishes once the broker is back",
          "[runtime][kafka]") {
    KafkaTestCluster kafka;
    const std::string in = unique_topic("fixture-in");
    const std::string out = unique_topic("fixture-out");
    kafka.create_topic(in, 3);
    kafka.create_topic("gatehouse.fixture.dead-letters.v1", 1);
    if (!kafka.is_real()) {
        kafka.create_topic(out, 3);
        kafka.set_broker_down(true);  // the mock cluster would create the topic on demand
    }                                 // the real broker does not: its output topic is missing until later
    TempDir dir;
    ChildProcess service({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(),
                          "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
                          "GATEHOUSE_FIXTURE_INPUT_TOPIC=" + in, "GATEHOUSE_FIXTURE_OUTPUT_TOPIC=" + out,
                          "GATEHOUSE_LOG_LEVEL=warn", "GATEHOUSE_KAFKA_PROPERTIES=session.timeout.ms=6000",
                          "GATEHOUSE_KAFKA_TOPIC_WAIT=300ms", GATEHOUSE_SERVICE_FIXTURE});
    const Ports ports = wait_ready(service);
    httplib::Client http("127.0.0.1", ports.metrics);
    const auto readiness = [&] {
        auto response = http.Get("/readyz");
        return response ? std::to_string(response->status) + " " + response->body : std::string("no answer");
    };
    CHECK(wait_until([&] { return readiness().rfind("200 degraded: topic " + out, 0) == 0; }, 30s, 100ms));
    CHECK(metrics_show(ports.metrics, "gatehouse_relay_waiting 1\n", 30s));
    // Many times kafka.topic_wait: the service is still there, still degraded, not gone.
    CHECK_FALSE(wait_until([&] { return readiness().rfind("200 degraded", 0) != 0; }, 2s, 100ms));
    CHECK(readiness().rfind("200 degraded", 0) == 0);

    if (kafka.is_real()) {
        kafka.create_topic(out, 3);
    } else {
        kafka.set_broker_down(false);
    }
    for (int n = 0; n < 3; ++n) {
        kafka.produce(in, "c1", counter_envelope("c1", n));
    }
    CHECK(kafka.read_all(out, 3, 60s).size() == 3);
    CHECK(wait_until([&] { return readiness() == "200 ready\n"; }, 30s, 100ms));
    CHECK(metrics_show(ports.metrics, "gatehouse_relay_waiting 0\n", 30s));
    service.kill(SIGTERM);
    CHECK(service.wait() == 0);
}

TEST_CASE("a bad setting stops start-up with a message naming it", "[runtime]") {
    TempDir dir;
    ChildProcess service({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(), "GATEHOUSE_STORE_DURABLE=maybe",
                          GATEHOUSE_SERVICE_FIXTURE},
                         true);
    std::string output;
    while (auto line = service.read_line(10s)) {
        output += *line + "\n";
    }
    CHECK(service.wait() == 2);
    CHECK_THAT(output, Catch::Contains("store.durable") && Catch::Contains("GATEHOUSE_STORE_DURABLE") &&
                           Catch::Contains("maybe"));
}
