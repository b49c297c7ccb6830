// The operator tools against real processes: `gatehouse tail` (the CLI binary) reading a topic, and
// the dead letters of the real gatehouse-onboarding process listed and re-driven through the kernel's
// OperatorService (and `gatehouse dlq`).
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/test_certificates.h"
#include "gatehouse/testing/wait_until.h"
#include "onboarding_process.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

std::string sales_envelope(const google::protobuf::Message& event, const std::string& id, const std::string& key) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(id);
    envelope.set_event_type(event.GetDescriptor()->full_name());
    envelope.set_aggregate_type("opportunity");
    envelope.set_aggregate_id(key);
    envelope.set_aggregate_version(1);
    envelope.set_producer("sales-bridge");
    envelope.set_payload(event.SerializeAsString());
    return envelope.SerializeAsString();
}

sales::v1::OpportunityWon won(const std::string& opportunity, const std::string& request_number) {
    sales::v1::OpportunityWon event;
    event.set_opportunity_id(opportunity);
    event.set_prospect_request_number(request_number);
    event.set_won_by("bob");
    event.set_won_by_email("bob@sales.example");  // onboarding refuses a win it cannot check for self-approval
    return event;
}

// The CLI's Kafka credentials on the test broker (GATEHOUSE_KAFKA_PROPERTIES, as the services'
// kafka.properties: "name=value,...").
std::string cli_kafka_properties() {
    std::string properties;
    for (const auto& [name, value] : test_broker_client_properties()) {
        properties += (properties.empty() ? "" : ",") + name + "=" + value;
    }
    return "GATEHOUSE_KAFKA_PROPERTIES=" + properties;
}

// Runs the real `gatehouse` CLI, with `environment` (NAME=value) on top of the test's; its exit
// code and stdout lines (stderr merged when asked).
std::pair<int, std::vector<std::string>> run_cli(const std::vector<std::string>& arguments, bool merge_stderr = false,
                                                 const std::vector<std::string>& environment = {}) {
    std::vector<std::string> command = {"/usr/bin/env", "GATEHOUSE_KAFKA_TOPIC_PREFIX=", cli_kafka_properties()};
    command.insert(command.end(), environment.begin(), environment.end());
    command.emplace_back(GATEHOUSE_CLI_BINARY);
    command.insert(command.end(), arguments.begin(), arguments.end());
    ChildProcess cli(command, merge_stderr);
    std::vector<std::string> lines;
    while (auto line = cli.read_line(120s)) {
        lines.push_back(*line);
    }
    return {cli.wait(), lines};
}

google::protobuf::Struct parse_json(const std::string& line) {
    google::protobuf::Struct object;
    INFO(line);
    REQUIRE(google::protobuf::util::JsonStringToMessage(line, &object).ok());
    return object;
}

std::string field(const google::protobuf::Struct& object, const std::string& path) {
    const google::protobuf::Struct* current = &object;
    std::string rest = path;
    for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
        const auto it = current->fields().find(rest.substr(0, dot));
        if (it == current->fields().end() || !it->second.has_struct_value()) {
            return "<missing>";
        }
        current = &it->second.struct_value();
        rest = rest.substr(dot + 1);
    }
    const auto it = current->fields().find(rest);
    if (it == current->fields().end()) {
        return "<missing>";
    }
    if (it->second.has_number_value()) {
        return std::to_string(static_cast<std::int64_t>(it->second.number_value()));
    }
    if (it->second.has_bool_value()) {
        return it->second.bool_value() ? "true" : "false";
    }
    return it->second.has_null_value() ? "null" : it->second.string_value();
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    ::close(fd);
    return ntohs(address.sin_port);
}

// Produces one record with headers (what a dead letter written by an earlier version looks like).
void produce_with_headers(const std::string& bootstrap, const std::string& topic, const std::string& key,
                          const std::string& value, const std::vector<std::pair<std::string, std::string>>& headers) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    REQUIRE(conf->set("bootstrap.servers", bootstrap, error) == RdKafka::Conf::CONF_OK);
    for (const auto& [name, setting] : test_broker_client_properties()) {
        REQUIRE(conf->set(name, setting, error) == RdKafka::Conf::CONF_OK);
    }
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    REQUIRE(producer);
    RdKafka::Headers* kafka_headers = RdKafka::Headers::create();
    for (const auto& [name, text] : headers) {
        kafka_headers->add(name, text);
    }
    REQUIRE(producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(),
                              key.data(), key.size(), 0, kafka_headers, nullptr) == RdKafka::ERR_NO_ERROR);
    REQUIRE(producer->flush(30000) == RdKafka::ERR_NO_ERROR);
}

// Submits a request and confirms its email with the token sealed for the notifier: a Pending prospect.
std::string submit_and_verify(OnboardingProcess& service, KafkaTestCluster& kafka) {
    onboarding::v1::SubmitRequestResponse submitted;
    REQUIRE(service.api().SubmitRequest(as().get(), valid_request(), &submitted).ok());
    std::string token;
    REQUIRE(wait_until(
        [&] {
            for (const auto& record : kafka.read_all(service.onboarding_topic(), 1, 10s)) {
                kernel::v1::EventEnvelope envelope;
                onboarding::v1::RequestSubmitted event;
                if (envelope.ParseFromString(record.value) &&
                    envelope.event_type() == "gatehouse.onboarding.v1.RequestSubmitted" &&
                    event.ParseFromString(envelope.payload()) && event.request_number() == submitted.request_number()) {
                    token = service.unseal(event.verification().token_sealed_for_notifier());
                }
            }
            return !token.empty();
        },
        60s));
    onboarding::v1::VerifyEmailRequest verify;
    verify.set_request_number(submitted.request_number());
    verify.set_token(token);
    onboarding::v1::VerifyEmailResponse verified;
    REQUIRE(service.api().VerifyEmail(as().get(), verify, &verified).ok());
    REQUIRE(verified.status() == onboarding::v1::REQUEST_STATUS_PENDING);
    return submitted.request_number();
}

std::unique_ptr<grpc::ClientContext> operator_call(const char* token = kOperatorToken) { return as(token); }

}  // namespace

TEST_CASE("gatehouse tail prints each record as one JSON line, payload decoded, filtered by type and aggregate",
          "[kafka]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("operator.tail") + ".events.v1";
    kafka.create_topic(topic, 1);
    kafka.produce(topic, "OPP-1", sales_envelope(won("OPP-1", "PR-000001"), "event-1", "OPP-1"));
    sales::v1::LeadCreated lead;
    lead.set_lead_id("LEAD-7");
    lead.set_company_name("Acme GmbH");
    kafka.produce(topic, "LEAD-7", sales_envelope(lead, "event-2", "LEAD-7"));
    kafka.produce(topic, "OPP-2", sales_envelope(won("OPP-2", "PR-000002"), "event-3", "OPP-2"));
    kernel::v1::EventEnvelope unknown;
    unknown.set_event_id("event-4");
    unknown.set_event_type("gatehouse.future.v1.SomethingNew");
    unknown.set_aggregate_id("X-1");
    unknown.set_payload("\x01\x02\x03");
    kafka.produce(topic, "X-1", unknown.SerializeAsString());
    kafka.produce(topic, "junk", "not an envelope");
    const std::vector<std::string> common = {"tail", topic, "--bootstrap", kafka.bootstrap(), "--timeout", "60"};
    const auto tail = [&](std::vector<std::string> extra) {
        std::vector<std::string> arguments = common;
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        return run_cli(arguments);
    };

    SECTION("everything from the beginning") {
        const auto [code, lines] = tail({"--from-beginning", "--max", "5"});
        CHECK(code == 0);
        REQUIRE(lines.size() == 5);
        const auto first = parse_json(lines[0]);
        CHECK(field(first, "topic") == topic);
        CHECK(field(first, "partition") == "0");
        CHECK(field(first, "offset") == "0");
        CHECK(field(first, "key") == "OPP-1");
        CHECK(field(first, "event_id") == "event-1");
        CHECK(field(first, "event_type") == "gatehouse.sales.v1.OpportunityWon");
        CHECK(field(first, "aggregate_id") == "OPP-1");
        CHECK(field(first, "producer") == "sales-bridge");
        CHECK(field(first, "payload.prospect_request_number") == "PR-000001");
        CHECK(field(first, "payload.won_by") == "bob");
        CHECK(field(parse_json(lines[1]), "payload.company_name") == "Acme GmbH");
        const auto future = parse_json(lines[3]);
        CHECK(field(future, "event_type") == "gatehouse.future.v1.SomethingNew");
        CHECK(field(future, "payload") == "null");
        CHECK(field(future, "payload_base64") == "AQID");
        const auto junk = parse_json(lines[4]);
        CHECK(field(junk, "undecodable") == "true");
        CHECK(field(junk, "value_base64") == "bm90IGFuIGVudmVsb3Bl");
        CHECK(field(junk, "offset") == "4");
    }
    SECTION("--type by the last part of the name, --aggregate") {
        auto [code, lines] = tail({"--from-beginning", "--max", "2", "--type", "OpportunityWon"});
        CHECK(code == 0);
        REQUIRE(lines.size() == 2);
        CHECK(field(parse_json(lines[0]), "payload.opportunity_id") == "OPP-1");
        CHECK(field(parse_json(lines[1]), "payload.opportunity_id") == "OPP-2");

        std::tie(code, lines) = tail({"--from-beginning", "--max", "1", "--aggregate", "OPP-2"});
        REQUIRE(lines.size() == 1);
        CHECK(field(parse_json(lines[0]), "event_id") == "event-3");

        // The full name works too; "Won" alone is no type name's last part.
        std::tie(code, lines) = tail({"--from-beginning", "--type", "gatehouse.sales.v1.LeadCreated", "--max", "1"});
        REQUIRE(lines.size() == 1);
        CHECK(field(parse_json(lines[0]), "event_id") == "event-2");
        std::tie(code, lines) = run_cli(
            {"tail", topic, "--bootstrap", kafka.bootstrap(), "--from-beginning", "--type", "Won", "--timeout", "3"});
        CHECK(code == 0);
        CHECK(lines.empty());
    }
    SECTION("by default only records produced after it started") {
        std::vector<std::string> command = {"/usr/bin/env",
                                            cli_kafka_properties(),
                                            GATEHOUSE_CLI_BINARY,
                                            "tail",
                                            topic,
                                            "--bootstrap",
                                            kafka.bootstrap(),
                                            "--max",
                                            "1",
                                            "--timeout",
                                            "60"};
        ChildProcess follower(command);
        // It cannot say when it is listening: produce until a record shows up, then check it is a new one.
        std::optional<std::string> line;
        for (int attempt = 0; attempt < 100 && !line; ++attempt) {
            kafka.produce(topic, "OPP-9",
                          sales_envelope(won("OPP-9", "PR-000009"), "new-" + std::to_string(attempt), "OPP-9"));
            line = follower.read_line(500ms);
        }
        REQUIRE(line);
        const auto record = parse_json(*line);
        CHECK(field(record, "aggregate_id") == "OPP-9");
        CHECK(std::stoi(field(record, "offset")) >= 5);
        CHECK(follower.wait() == 0);
    }
    SECTION("a topic that does not exist: exit code 3 (the mock cluster creates every topic asked for)") {
        if (!kafka.is_real()) {
            return;
        }
        const auto [code, lines] = run_cli(
            {"tail", unique_topic("operator.missing") + ".x", "--bootstrap", kafka.bootstrap(), "--timeout", "5"});
        CHECK(code == 3);
        CHECK(lines.empty());
    }
}

TEST_CASE("onboarding's dead letters: listed with their reasons, re-driven by an operator through its inbox",
          "[kafka]") {
    KafkaTestCluster kafka;
    const int port = free_port();
    OnboardingProcess service(
        kafka, {{"GATEHOUSE_ONBOARDING_APPROVAL_MODE", "crm"},
                {"GATEHOUSE_GRPC_LISTEN", "127.0.0.1:" + std::to_string(port)},
                {"GATEHOUSE_AUTH_TOKENS", std::string(kHqToken) + "=hq:alice:alice@hq.example," + kOperatorToken +
                                              "=operator:olga:olga@hq.example"}});
    auto operators = kernel::v1::OperatorService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    const std::string dead_letter_topic =
        service.sales_topic().substr(0, service.sales_topic().find("gatehouse.sales")) +
        "gatehouse.onboarding.dead-letters.v1";

    // Two poison records on onboarding's input topic.
    kafka.produce(service.sales_topic(), "junk", "not an envelope");
    kafka.produce(service.sales_topic(), "OPP-1", sales_envelope(won("OPP-1", ""), "sales-event-1", "OPP-1"));
    kernel::v1::ListDeadLettersResponse listed;
    REQUIRE(wait_until(
        [&] {
            listed.Clear();
            return operators->ListDeadLetters(operator_call().get(), {}, &listed).ok() &&
                   listed.dead_letters_size() >= 2;
        },
        60s));
    REQUIRE(listed.dead_letters_size() == 2);
    CHECK(listed.topic() == dead_letter_topic);
    std::map<std::string, kernel::v1::DeadLetter> by_key;
    for (const auto& letter : listed.dead_letters()) {
        by_key[letter.key()] = letter;
        CHECK(letter.origin_topic() == service.sales_topic());
        CHECK(letter.consumer() == "onboarding");
        CHECK(letter.dead_lettered_at().seconds() > 0);
    }
    CHECK(by_key["junk"].reason() == "undecodable: the value is not a gatehouse.kernel.v1.EventEnvelope");
    CHECK(by_key["junk"].event_id().empty());
    CHECK(by_key["OPP-1"].reason() == "prospect_request_number is empty");
    CHECK(by_key["OPP-1"].event_type() == "gatehouse.sales.v1.OpportunityWon");
    CHECK(by_key["OPP-1"].event_id() == "sales-event-1");

    // Only operators.
    kernel::v1::ListDeadLettersResponse ignored_list;
    CHECK(operators->ListDeadLetters(operator_call(nullptr).get(), {}, &ignored_list).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(operators->ListDeadLetters(operator_call(kHqToken).get(), {}, &ignored_list).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    kernel::v1::RedriveDeadLettersRequest redrive;
    redrive.set_all(true);
    redrive.set_reason("test");
    kernel::v1::RedriveDeadLettersResponse redriven;
    CHECK(operators->RedriveDeadLetters(operator_call(kHqToken).get(), redrive, &redriven).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    redrive.set_reason("");
    CHECK(operators->RedriveDeadLetters(operator_call().get(), redrive, &redriven).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);

    // Still poison: dead-lettered again, with its reason.
    redrive.set_all(false);
    redrive.set_partition(by_key["OPP-1"].partition());
    redrive.set_offset(by_key["OPP-1"].offset());
    redrive.set_reason("checking the request number");
    REQUIRE(operators->RedriveDeadLetters(operator_call().get(), redrive, &redriven).ok());
    CHECK(redriven.dead_lettered_again() == 1);
    CHECK(redriven.applied() == 0);
    REQUIRE(redriven.results_size() == 1);
    CHECK(redriven.results(0).outcome() == "dead-lettered");
    CHECK(redriven.results(0).event_id() == "sales-event-1");
    redrive.set_offset(999);
    CHECK(operators->RedriveDeadLetters(operator_call().get(), redrive, &redriven).error_code() ==
          grpc::StatusCode::NOT_FOUND);

    // A valid decision for a real request, dead-lettered (by an earlier version that could not
    // handle it): the re-drive applies it through the inbox; once.
    const std::string number = submit_and_verify(service, kafka);
    produce_with_headers(kafka.bootstrap(), dead_letter_topic, "OPP-2",
                         sales_envelope(won("OPP-2", number), "sales-event-2", "OPP-2"),
                         {{"gatehouse.event-type", "gatehouse.sales.v1.OpportunityWon"},
                          {"gatehouse.dlq.reason", "handler failed: unknown event type"},
                          {"gatehouse.dlq.origin-topic", service.sales_topic()},
                          {"gatehouse.dlq.origin-partition", "0"},
                          {"gatehouse.dlq.origin-offset", "7"},
                          {"gatehouse.dlq.time", "2026-11-24T07:00:00Z"},
                          {"gatehouse.dlq.consumer", "onboarding"}});

    // The CLI: list, then re-drive all.
    const std::vector<std::string> cli = {"--onboarding", "127.0.0.1:" + std::to_string(port), "--token",
                                          kOperatorToken};
    auto with = [&](std::vector<std::string> arguments) {
        arguments.insert(arguments.begin(), cli.begin(), cli.end());
        return run_cli(arguments);
    };
    auto [code, lines] = with({"dlq", "list", "--service", "onboarding"});
    CHECK(code == 0);
    REQUIRE(lines.size() == 6);  // header, 4 dead letters, summary
    CHECK(lines.back() == "4 dead letter(s) on " + dead_letter_topic);
    CHECK_THAT(lines[4], Catch::Contains("handler failed: unknown event type"));

    std::tie(code, lines) =
        with({"--json", "dlq", "redrive", "--service", "onboarding", "--all", "--reason", "onboarding 1.1 handles it"});
    CHECK(code == 0);
    std::string json;
    for (const auto& line : lines) {
        json += line;
    }
    kernel::v1::RedriveDeadLettersResponse all;
    REQUIRE(google::protobuf::util::JsonStringToMessage(json, &all).ok());
    CHECK(all.applied() == 1);
    CHECK(all.dead_lettered_again() == 3);  // the undecodable record and the one without a request number (twice)
    CHECK(all.duplicates() == 0);
    onboarding::v1::GetProspectRequest get;
    get.set_request_number(number);
    onboarding::v1::GetProspectResponse prospect;
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    CHECK(prospect.summary().status() == onboarding::v1::REQUEST_STATUS_APPROVED);
    const int timeline = prospect.timeline_size();

    // Repeating the re-drive applies nothing twice.
    std::tie(code, lines) = with({"dlq", "redrive", "--service", "onboarding", "3", "--reason", "again"});
    CHECK(code == 0);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back() == "0 applied, 0 ignored, 1 already applied, 0 dead-lettered again, 0 skipped, 0 parked");
    REQUIRE(service.api().GetProspect(as(kHqToken).get(), get, &prospect).ok());
    CHECK(prospect.timeline_size() == timeline);

    // Usage errors and refusals keep the CLI's exit codes.
    CHECK(with({"dlq", "redrive", "--service", "onboarding", "--reason", "x"}).first == 2);
    CHECK(run_cli({"--onboarding", "127.0.0.1:" + std::to_string(port), "--token", kHqToken, "dlq", "list", "--service",
                   "onboarding"})
              .first == 1);
}

TEST_CASE("a service without auth.tokens serves the operator API too, and answers UNAUTHENTICATED", "[kafka]") {
    KafkaTestCluster kafka;
    const std::string prefix = unique_topic("operator.fixture") + ".";
    kafka.create_topic(prefix + "fixture.in", 1);
    kafka.create_topic(prefix + "fixture.out", 1);
    TempDir directory;
    ChildProcess fixture({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + directory.path().string(),
                          "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka.bootstrap(),
                          "GATEHOUSE_KAFKA_PROPERTIES=" + kafka.client_properties(),
                          "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix, "GATEHOUSE_LOG_LEVEL=warn",
                          GATEHOUSE_SERVICE_FIXTURE});
    int port = 0;
    while (auto line = fixture.read_line(60s)) {
        if (line->rfind("ready ", 0) == 0) {
            port = std::stoi(line->substr(6));
            break;
        }
    }
    REQUIRE(port > 0);
    auto operators = kernel::v1::OperatorService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    kernel::v1::ListDeadLettersResponse listed;
    const grpc::Status status = operators->ListDeadLetters(operator_call().get(), {}, &listed);
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK_THAT(status.error_message(), Catch::Contains("auth.tokens"));
    fixture.kill(SIGTERM);
    CHECK(fixture.wait() == 0);
}

TEST_CASE(
    "gatehouse --tls --ca --cert --key calls a service that asks for client certificates, and says what is "
    "missing without them",
    "[kafka]") {
    KafkaTestCluster kafka;
    TempDir directory;
    const TestCertificates certificates(directory.path());
    const int port = free_port();
    OnboardingProcess service(kafka, {{"GATEHOUSE_GRPC_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                      {"GATEHOUSE_GRPC_TLS_CERT", certificates.server_cert()},
                                      {"GATEHOUSE_GRPC_TLS_KEY", certificates.server_key()},
                                      {"GATEHOUSE_GRPC_TLS_CLIENT_CA", certificates.ca()}});
    const std::vector<std::string> list = {
        "--onboarding", "127.0.0.1:" + std::to_string(port), "--token", kHqToken, "prospects", "list"};
    const auto with = [&](std::vector<std::string> options) {
        options.insert(options.end(), list.begin(), list.end());
        return run_cli(options, true);
    };
    const auto text = [](const std::vector<std::string>& lines) {
        std::string all;
        for (const auto& line : lines) {
            all += line + "\n";
        }
        return all;
    };

    {
        const auto [code, lines] = with({"--tls", "--ca", certificates.ca(), "--cert", certificates.client_cert(),
                                         "--key", certificates.client_key()});
        INFO(text(lines));
        CHECK(code == 0);
        REQUIRE_FALSE(lines.empty());
        CHECK(lines.back() == "0 of 0 shown");
    }
    {
        // The same from the environment.
        const auto [code, lines] = run_cli(
            list, true,
            {"GATEHOUSE_TLS=1", "GATEHOUSE_TLS_CA=" + certificates.ca(),
             "GATEHOUSE_TLS_CERT=" + certificates.client_cert(), "GATEHOUSE_TLS_KEY=" + certificates.client_key()});
        INFO(text(lines));
        CHECK(code == 0);
        REQUIRE_FALSE(lines.empty());
        CHECK(lines.back() == "0 of 0 shown");
    }
    {
        // Plaintext against a TLS service: unreachable (3), and the hint names the fix.
        const auto [code, lines] = with({});
        CHECK(code == 3);
        CHECK_THAT(text(lines), Catch::Contains("UNAVAILABLE") && Catch::Contains("--tls"));
    }
    {
        // TLS without the client certificate the service asks for.
        const auto [code, lines] = with({"--tls", "--ca", certificates.ca()});
        CHECK(code == 3);
        CHECK_THAT(text(lines), Catch::Contains("--cert") && Catch::Contains("--key"));
    }
    {
        // A client certificate from another CA.
        const auto [code, lines] = with({"--tls", "--ca", certificates.ca(), "--cert", certificates.stranger_cert(),
                                         "--key", certificates.stranger_key()});
        CHECK(code == 3);
    }
    {
        // Usage errors name the option and the file, never a key's content.
        const std::string missing = (directory.path() / "missing.key").string();
        auto [code, lines] =
            with({"--tls", "--ca", certificates.ca(), "--cert", certificates.client_cert(), "--key", missing});
        CHECK(code == 2);
        CHECK_THAT(text(lines), Catch::Contains("error: --key " + missing + ": cannot read it"));
        std::tie(code, lines) = with({"--tls", "--ca", certificates.client_key()});
        CHECK(code == 2);
        CHECK_THAT(text(lines),
                   Catch::Contains("error: --ca " + certificates.client_key() + ": not a PEM certificate"));
        const std::string key = TestCertificates::read(certificates.client_key());
        CHECK_THAT(text(lines), !Catch::Contains(key.substr(key.find('\n') + 1, 40)));
        std::tie(code, lines) = with({"--ca", certificates.ca()});
        CHECK(code == 2);
        CHECK_THAT(text(lines), Catch::Contains("need --tls"));
        std::tie(code, lines) = with({"--tls", "--cert", certificates.client_cert()});
        CHECK(code == 2);
        CHECK_THAT(text(lines), Catch::Contains("go together"));
    }
}

TEST_CASE(
    "gatehouse replay: refused while the service runs, then its input is read again from the chosen point, "
    "nothing applied twice",
    "[replay]") {
    KafkaTestCluster kafka;
    const std::string metrics = "127.0.0.1:" + std::to_string(free_port());
    OnboardingProcess service(kafka, {{"GATEHOUSE_METRICS_LISTEN", metrics}});
    for (int i = 1; i <= 4; ++i) {
        sales::v1::LeadCreated lead;  // not onboarding's concern: processed and ignored
        lead.set_lead_id("LEAD-" + std::to_string(i));
        kafka.produce(service.sales_topic(), lead.lead_id(),
                      sales_envelope(lead, "lead-event-" + std::to_string(i), lead.lead_id()));
    }
    REQUIRE(wait_until([&] { return service.metric("gatehouse_inbox_ignored") == 4; }, 60s));
    // Only this test's group: the shared broker holds other tests' onboarding groups too.
    const std::vector<std::string> replay = {"replay",          "onboarding", "--bootstrap",
                                             kafka.bootstrap(), "--topic",    service.sales_topic()};
    const auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> arguments = replay;
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        auto [code, lines] = run_cli(arguments, true);
        std::string output;
        for (const auto& line : lines) {
            output += line + "\n";
        }
        return std::make_pair(code, output);
    };

    auto [code, output] = run({"--from-beginning"});
    INFO(output);
    CHECK(code == 1);
    CHECK_THAT(output, Catch::Contains("gatehouse onboarding is running") && Catch::Contains("stop it first"));

    REQUIRE(service.stop() == 0);  // leaves its group
    std::tie(code, output) = run({"--from-beginning", "--dry-run"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("onboarding." + service.sales_topic()));
    CHECK_THAT(output, Catch::Contains("4 records will be read again") && Catch::Contains("dry run: nothing changed"));
    std::tie(code, output) = run({"--from-time", "2999-01-01T00:00:00Z", "--dry-run"});
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("0 records will be read again"));
    std::tie(code, output) = run({"--from-time", "2020-01-01T00:00:00+01:00", "--dry-run"});
    CHECK_THAT(output, Catch::Contains("4 records will be read again"));
    std::tie(code, output) = run({"--from-time", "yesterday", "--dry-run"});
    CHECK(code == 2);
    CHECK_THAT(output, Catch::Contains("RFC 3339"));
    std::tie(code, output) = run({"--dry-run"});
    CHECK(code == 2);
    CHECK_THAT(output, Catch::Contains("say where to replay from"));

    // The real thing, followed while the service catches up.
    std::vector<std::string> command = {"/usr/bin/env", cli_kafka_properties(), GATEHOUSE_CLI_BINARY};
    command.insert(command.end(), replay.begin(), replay.end());
    command.insert(command.end(), {"--from-beginning", "--follow", "--metrics", metrics, "--timeout", "120"});
    ChildProcess follower(command, true);
    std::string followed;
    while (auto line = follower.read_line(60s)) {
        followed += *line + "\n";
        if (line->find("start gatehouse onboarding now") != std::string::npos) {
            service.start();
        }
    }
    INFO(followed);
    CHECK(follower.wait() == 0);
    CHECK_THAT(followed, Catch::Contains("offsets moved for 1 group"));
    CHECK_THAT(followed, Catch::Contains("caught up: 4 records read again"));
    CHECK_THAT(followed, Catch::Contains("the service since its start: 0 applied, 0 ignored (not its concern), "
                                         "4 skipped as already applied, 0 dead-lettered"));
}
