// The service runtime as operators meet it: a real process, configured by environment, ready only
// after its replay, with /metrics and gRPC health, stopping cleanly on SIGTERM.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"
#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/temp_dir.h"
#include "gatehouse/testing/test_certificates.h"
#include "gatehouse/testing/wait_until.h"
#include "grpc/health/v1/health.grpc.pb.h"

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
                                              "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(),
                                              GATEHOUSE_SERVICE_FIXTURE};
    {
        ChildProcess service(command);
        const Ports ports = wait_ready(service);
        CHECK(service.read_line(10s) == "second on_ready after the first: 1");
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
                          "GATEHOUSE_LOG_LEVEL=warn", "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(),
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

TEST_CASE("auth.tokens_file rotates credentials without a restart, and a version that does not check is not used",
          "[runtime][kafka]") {
    KafkaTestCluster kafka;
    const std::string in = unique_topic("fixture-in");
    const std::string out = unique_topic("fixture-out");
    kafka.create_topic(in, 3);
    kafka.create_topic(out, 3);
    kafka.create_topic("gatehouse.fixture.dead-letters.v1", 1);
    TempDir dir;
    const auto tokens = dir.path() / "tokens";
    const std::string first = "operator-first-token-0123456789";
    const std::string second = "operator-second-token-9876543210";
    const auto write_tokens = [&](const std::string& text) {
        const auto staged = dir.path() / "tokens.new";
        std::ofstream(staged) << text;
        std::filesystem::rename(staged, tokens);  // as an operator (or a secret mount) replaces it
    };
    write_tokens("# operators\n" + first + "=operator:otto:otto@ops.example\n");
    ChildProcess service({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + (dir.path() / "data").string(),
                          "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
                          "GATEHOUSE_FIXTURE_INPUT_TOPIC=" + in, "GATEHOUSE_FIXTURE_OUTPUT_TOPIC=" + out,
                          "GATEHOUSE_LOG_LEVEL=info", "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(),
                          "GATEHOUSE_AUTH_TOKENS_FILE=" + tokens.string(), GATEHOUSE_SERVICE_FIXTURE},
                         true);
    const Ports ports = wait_ready(service);
    auto operators = gatehouse::kernel::v1::OperatorService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(ports.grpc), grpc::InsecureChannelCredentials()));
    const auto status_with = [&](const std::string& token) {
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer " + token);
        context.set_deadline(std::chrono::system_clock::now() + 10s);
        gatehouse::kernel::v1::ListParkedRecordsResponse response;
        return operators->ListParkedRecords(&context, {}, &response).error_code();
    };
    CHECK(status_with(first) == grpc::StatusCode::OK);
    CHECK(status_with(second) == grpc::StatusCode::UNAUTHENTICATED);

    // Rotation: the new token works and the old one stops, with no restart.
    write_tokens(second + "=operator:otto:otto@ops.example\n");
    CHECK(wait_until(
        [&] {
            return status_with(second) == grpc::StatusCode::OK &&
                   status_with(first) == grpc::StatusCode::UNAUTHENTICATED;
        },
        20s, 100ms));

    // A version with a weak token is refused as at start-up: the credentials in use stay.
    write_tokens("short=operator:otto:otto@ops.example\n");
    bool refused = false;
    while (auto line = service.read_line(20s)) {
        if (line->find("auth.tokens_file") != std::string::npos && line->find("not used") != std::string::npos) {
            refused = true;
            CHECK(line->find("short=") == std::string::npos);  // the log never shows a token
            break;
        }
    }
    CHECK(refused);
    CHECK(status_with(second) == grpc::StatusCode::OK);
    CHECK(status_with("short") == grpc::StatusCode::UNAUTHENTICATED);
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

namespace {

// One health check over `credentials`; the status (the handshake's failure, if any) and the answer.
std::pair<grpc::Status, grpc::health::v1::HealthCheckResponse> health_over(
    int port, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    // The server certificate names 127.0.0.1 and localhost; gRPC checks the address against it.
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), credentials);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(&context, {}, &response);
    return {status, response};
}

std::shared_ptr<grpc::ChannelCredentials> tls_client(const TestCertificates& certificates, const std::string& cert,
                                                     const std::string& key) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = TestCertificates::read(certificates.ca());
    if (!cert.empty()) {
        options.pem_cert_chain = TestCertificates::read(cert);
        options.pem_private_key = TestCertificates::read(key);
    }
    return grpc::SslCredentials(options);
}

// The fixture, without a reachable broker (it becomes ready all the same: gRPC needs none); its
// log only at critical, which keeps the broker's connection errors out of the output.
std::vector<std::string> fixture_command(const TempDir& dir, const std::vector<std::string>& settings) {
    std::vector<std::string> command = {"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + (dir.path() / "log").string(),
                                        "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9",
                                        "GATEHOUSE_LOG_LEVEL=critical"};
    command.insert(command.end(), settings.begin(), settings.end());
    command.emplace_back(GATEHOUSE_SERVICE_FIXTURE);
    return command;
}

}  // namespace

TEST_CASE("with grpc.tls_client_ca only clients with a certificate from that CA reach the API", "[runtime][tls]") {
    TempDir dir;
    const TestCertificates certificates(dir.path() / "pki");
    ChildProcess service(fixture_command(dir, {"GATEHOUSE_GRPC_TLS_CERT=" + certificates.server_cert(),
                                               "GATEHOUSE_GRPC_TLS_KEY=" + certificates.server_key(),
                                               "GATEHOUSE_GRPC_TLS_CLIENT_CA=" + certificates.ca()}));
    const Ports ports = wait_ready(service);

    const auto plaintext = health_over(ports.grpc, grpc::InsecureChannelCredentials());
    CHECK(plaintext.first.error_code() == grpc::StatusCode::UNAVAILABLE);
    const auto without_certificate = health_over(ports.grpc, tls_client(certificates, "", ""));
    INFO("without a client certificate: " << without_certificate.first.error_message());
    CHECK(without_certificate.first.error_code() == grpc::StatusCode::UNAVAILABLE);
    const auto other_ca =
        health_over(ports.grpc, tls_client(certificates, certificates.stranger_cert(), certificates.stranger_key()));
    CHECK(other_ca.first.error_code() == grpc::StatusCode::UNAVAILABLE);

    const auto mutual =
        health_over(ports.grpc, tls_client(certificates, certificates.client_cert(), certificates.client_key()));
    INFO("with the client certificate: " << mutual.first.error_message());
    REQUIRE(mutual.first.ok());
    CHECK(mutual.second.status() == grpc::health::v1::HealthCheckResponse::SERVING);

    // /healthz stays plaintext on metrics.listen: what a probe uses when gRPC asks for certificates.
    httplib::Client http("127.0.0.1", ports.metrics);
    auto healthz = http.Get("/healthz");
    REQUIRE(healthz);
    CHECK(healthz->status == 200);

    service.kill(SIGTERM);
    CHECK(service.wait() == 0);
}

TEST_CASE("without grpc.tls_client_ca a TLS service asks no client certificate", "[runtime][tls]") {
    TempDir dir;
    const TestCertificates certificates(dir.path() / "pki");
    ChildProcess service(fixture_command(dir, {"GATEHOUSE_GRPC_TLS_CERT=" + certificates.server_cert(),
                                               "GATEHOUSE_GRPC_TLS_KEY=" + certificates.server_key()}));
    const Ports ports = wait_ready(service);
    CHECK(health_over(ports.grpc, grpc::InsecureChannelCredentials()).first.error_code() ==
          grpc::StatusCode::UNAVAILABLE);
    const auto server_only = health_over(ports.grpc, tls_client(certificates, "", ""));
    INFO(server_only.first.error_message());
    CHECK(server_only.first.ok());
    service.kill(SIGTERM);
    CHECK(service.wait() == 0);
}

TEST_CASE("grpc.tls_client_ca without a server certificate, or unreadable, stops start-up naming the setting",
          "[runtime][tls]") {
    TempDir dir;
    const TestCertificates certificates(dir.path() / "pki");
    const auto start_up_output = [&](const std::vector<std::string>& settings) {
        ChildProcess service(fixture_command(dir, settings), true);
        std::string output;
        while (auto line = service.read_line(30s)) {
            output += *line + "\n";
        }
        return std::make_pair(service.wait(), output);
    };
    {
        const auto [status, output] = start_up_output({"GATEHOUSE_GRPC_TLS_CLIENT_CA=" + certificates.ca()});
        CHECK(status == 2);
        CHECK_THAT(output, Catch::Contains("grpc.tls_client_ca") && Catch::Contains("grpc.tls_cert"));
    }
    {
        const std::string missing = (dir.path() / "no-such-ca.pem").string();
        const auto [status, output] = start_up_output({"GATEHOUSE_GRPC_TLS_CERT=" + certificates.server_cert(),
                                                       "GATEHOUSE_GRPC_TLS_KEY=" + certificates.server_key(),
                                                       "GATEHOUSE_GRPC_TLS_CLIENT_CA=" + missing});
        CHECK(status == 2);
        CHECK_THAT(output, Catch::Contains("grpc.tls_client_ca") && Catch::Contains(missing));
        // The key is a secret: no line of it in any message.
        const std::string key = TestCertificates::read(certificates.server_key());
        const std::string key_line = key.substr(key.find('\n') + 1, 40);
        CHECK_THAT(output, !Catch::Contains(key_line));
    }
}

TEST_CASE("the k8s probes need no gRPC client, so they keep working with gRPC TLS and client certificates",
          "[runtime][tls]") {
    // A grpc: probe speaks plaintext without a client certificate: with grpc.tls_cert it fails and
    // the kubelet restarts a healthy service. Every probe must be an httpGet on the metrics port
    // (/healthz, /readyz: plaintext on metrics.listen, served whatever gRPC does, see above).
    for (const std::string service : {"onboarding", "customers", "sales-bridge", "notifier"}) {
        std::ifstream in(std::string(GATEHOUSE_SOURCE_DIR) + "/deploy/k8s/" + service + ".yaml");
        REQUIRE(in);
        int probes = 0;
        bool in_probe = false;
        for (std::string line; std::getline(in, line);) {
            const auto text = line.find_first_not_of(' ');
            if (text == std::string::npos || line[text] == '#') {
                continue;
            }
            line = line.substr(text);
            if (in_probe) {
                INFO(service << ": " << line);
                CHECK((line == "httpGet: {path: /healthz, port: metrics}" ||
                       line == "httpGet: {path: /readyz, port: metrics}"));
                in_probe = false;
            }
            if (line == "livenessProbe:" || line == "readinessProbe:" || line == "startupProbe:") {
                ++probes;
                in_probe = true;
            }
        }
        CHECK(probes == 3);
    }
}
