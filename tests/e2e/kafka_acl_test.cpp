// The broker as a trust boundary: on the CI broker (kafka.sh start --sasl: SASL and ACLs, nothing
// allowed without an ACL) with each service's ACLs granted by `kafka.sh acls`, a client without
// credentials and a service writing another's topic are refused, and a real service running as
// its own principal does all it needs. Real broker only (the mock cluster has no ACLs).
#include <librdkafka/rdkafkacpp.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/platform/topics.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/child_process.h"
#include "onboarding_process.h"  // valid_request()

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;

namespace {

// A principal's password from the broker's credentials file (kafka.sh keeps them there).
std::string password_of(const KafkaTestCluster& kafka, const std::string& user) {
    std::ifstream in(std::filesystem::path(kafka.broker_dir()) / "credentials");
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(user + "=")) {
            return line.substr(user.size() + 1);
        }
    }
    FAIL("no credentials for " << user << " in " << kafka.broker_dir());
    return {};
}

std::map<std::string, std::string> as_principal(const KafkaTestCluster& kafka, const std::string& user) {
    auto properties = kafka.sasl_properties();
    properties["sasl.username"] = user;
    properties["sasl.password"] = password_of(kafka, user);
    return properties;
}

struct DeliveryReport final : RdKafka::DeliveryReportCb {
    RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
    bool reported = false;
    void dr_cb(RdKafka::Message& message) override {
        error = message.err();
        reported = true;
    }
};

// Produces one record with `properties` (no credentials when they name none) and returns the
// delivery's outcome, within a few seconds.
RdKafka::ErrorCode produce_as(const KafkaTestCluster& kafka, const std::map<std::string, std::string>& properties,
                              const std::string& topic) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    DeliveryReport report;
    REQUIRE(conf->set("bootstrap.servers", kafka.bootstrap(), error) == RdKafka::Conf::CONF_OK);
    REQUIRE(conf->set("message.timeout.ms", "8000", error) == RdKafka::Conf::CONF_OK);
    REQUIRE(conf->set("dr_cb", &report, error) == RdKafka::Conf::CONF_OK);
    for (const auto& [name, value] : properties) {
        REQUIRE(conf->set(name, value, error) == RdKafka::Conf::CONF_OK);
    }
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    REQUIRE(producer);
    const std::string value = "forged";
    REQUIRE(producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                              const_cast<char*>(value.data()), value.size(), nullptr, 0, 0,
                              nullptr) == RdKafka::ERR_NO_ERROR);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!report.reported && std::chrono::steady_clock::now() < deadline) {
        producer->poll(100);
    }
    REQUIRE(report.reported);
    return report.error;
}

}  // namespace

TEST_CASE(
    "on the broker with ACLs each service writes only its own topics, and a client without credentials "
    "nothing",
    "[acl]") {
    KafkaTestCluster kafka;
    REQUIRE(kafka.is_real());
    REQUIRE_FALSE(kafka.sasl_properties().empty());  // the CI broker runs with SASL
    const std::string prefix = unique_topic("acl") + ".";
    for (const auto& topic :
         {platform::kOnboardingEvents, platform::kCustomersEvents, platform::kSalesEvents, platform::kNotifierEvents}) {
        kafka.create_topic(prefix + topic.name, 3);
        kafka.create_topic(prefix + "gatehouse." + topic.producer + ".dead-letters.v1", 1);
    }
    ChildProcess grant(
        {GATEHOUSE_SOURCE_DIR "/deploy/kafka/kafka.sh", "acls", "--data", kafka.broker_dir(), "--topic-prefix", prefix},
        true);
    std::string grant_output;
    while (auto line = grant.read_line(120s)) {
        grant_output += *line + "\n";
    }
    INFO(grant_output);
    REQUIRE(grant.wait() == 0);

    const std::string onboarding_topic = prefix + platform::kOnboardingEvents.name;
    // No credentials: the SASL listener does not let the client in at all.
    CHECK(produce_as(kafka, {}, onboarding_topic) != RdKafka::ERR_NO_ERROR);
    // A wrong password is no better.
    auto wrong = as_principal(kafka, "customers");
    wrong["sasl.password"] = "not-the-password";
    CHECK(produce_as(kafka, wrong, onboarding_topic) != RdKafka::ERR_NO_ERROR);
    // customers may write its own topic, not onboarding's (a forged ProspectApproved).
    CHECK(produce_as(kafka, as_principal(kafka, "customers"), prefix + platform::kCustomersEvents.name) ==
          RdKafka::ERR_NO_ERROR);
    CHECK(produce_as(kafka, as_principal(kafka, "customers"), onboarding_topic) ==
          RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
    // sales-bridge may not write onboarding's topic either, nor anyone the sales topic but it.
    CHECK(produce_as(kafka, as_principal(kafka, "sales-bridge"), onboarding_topic) ==
          RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
    CHECK(produce_as(kafka, as_principal(kafka, "notifier"), prefix + platform::kSalesEvents.name) ==
          RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);

    // onboarding as its own principal, with only the ACLs kafka.sh granted: it publishes its
    // events, consumes the sales topic in its group, and dead-letters there.
    std::string properties = "session.timeout.ms=6000";
    for (const auto& [name, value] : as_principal(kafka, "onboarding")) {
        properties += "," + name + "=" + value;
    }
    OnboardingProcess onboarding(
        kafka, {{"GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix}, {"GATEHOUSE_KAFKA_PROPERTIES", properties}});
    onboarding::v1::SubmitRequestResponse submitted;
    REQUIRE(onboarding.api().SubmitRequest(call_as().get(), valid_request("ada@acme.example"), &submitted).ok());
    const auto published = kafka.read_all(onboarding_topic, 1, 60s);
    REQUIRE(published.size() == 1);
    kernel::v1::EventEnvelope envelope;
    REQUIRE(envelope.ParseFromString(published[0].value));
    CHECK(envelope.aggregate_id() == submitted.request_number());

    // A decision for a request that does not exist, from the sales topic's owner: read in
    // onboarding's group and dead-lettered to its own dead-letter topic.
    sales::v1::OpportunityWon won;
    won.set_opportunity_id("OPP-1");
    won.set_prospect_request_number("PR-999999");
    won.set_won_by("sam");
    won.set_won_by_email("sam@sales.example");
    kernel::v1::EventEnvelope decision;
    decision.set_event_id("acl-won-1");
    decision.set_event_type(sales::v1::OpportunityWon::descriptor()->full_name());
    decision.set_aggregate_type("opportunity");
    decision.set_aggregate_id("OPP-1");
    decision.set_aggregate_version(1);
    decision.set_producer(platform::kSalesEvents.producer);
    decision.set_payload(won.SerializeAsString());
    kafka.produce(prefix + platform::kSalesEvents.name, "OPP-1", decision.SerializeAsString());
    const auto dead = kafka.read_all(prefix + "gatehouse.onboarding.dead-letters.v1", 1, 60s);
    REQUIRE(dead.size() == 1);
    CHECK_THAT(dead[0].headers.at("gatehouse.dlq.reason"), Catch::Contains("PR-999999"));
    CHECK(onboarding.stop() == 0);
}
