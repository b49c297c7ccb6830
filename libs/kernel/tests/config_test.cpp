#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "gatehouse/kernel/config.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using gatehouse::testing::TempDir;

namespace {

ConfigSchema schema() {
    ConfigSchema schema;
    add_kernel_options(schema, "demo");
    schema.add({"verification.token_ttl", OptionType::duration, "72h", "How long a verification link is valid."});
    schema.add({"numbers.width", OptionType::integer, "6", "Digits in a request number."});
    return schema;
}

std::filesystem::path write(const TempDir& dir, const std::string& yaml) {
    const auto path = dir.path() / "config.yaml";
    std::ofstream(path) << yaml;
    return path;
}

}  // namespace

TEST_CASE("defaults apply when nothing is configured", "[config]") {
    const Config config = Config::load(schema(), std::nullopt, "GHTEST1_");
    CHECK(config.string("kafka.bootstrap_servers") == "127.0.0.1:9092");
    CHECK(config.boolean("store.durable"));
    CHECK(config.duration("verification.token_ttl") == std::chrono::hours(72));
    CHECK(config.integer("numbers.width") == 6);
    CHECK(config.source("numbers.width") == "default");
}

TEST_CASE("the file sets values and the environment overrides them", "[config]") {
    TempDir dir;
    const auto file = write(dir,
                            "kafka:\n  bootstrap_servers: 127.0.0.1:1111\n  properties:\n    linger.ms: 7\n"
                            "numbers:\n  width: 8\n");
    setenv("GHTEST2_NUMBERS_WIDTH", "9", 1);
    const Config config = Config::load(schema(), file, "GHTEST2_");
    unsetenv("GHTEST2_NUMBERS_WIDTH");
    CHECK(config.string("kafka.bootstrap_servers") == "127.0.0.1:1111");
    CHECK(config.map("kafka.properties").at("linger.ms") == "7");
    CHECK(config.integer("numbers.width") == 9);
    CHECK(config.source("numbers.width") == "environment variable GHTEST2_NUMBERS_WIDTH");
    CHECK(config.source("kafka.bootstrap_servers") == file.string());
}

TEST_CASE("bad configuration names the setting", "[config]") {
    TempDir dir;
    const auto unknown = write(dir, "kafka:\n  bootstrap_server: typo\n");
    CHECK_THROWS_WITH(Config::load(schema(), unknown, "GHTEST3_"), Catch::Contains("kafka.bootstrap_server"));

    setenv("GHTEST4_STORE_DURABLE", "maybe", 1);
    CHECK_THROWS_WITH(Config::load(schema(), std::nullopt, "GHTEST4_"),
                      Catch::Contains("store.durable") && Catch::Contains("GHTEST4_STORE_DURABLE"));
    unsetenv("GHTEST4_STORE_DURABLE");

    setenv("GHTEST5_VERIFICATION_TOKEN_TTL", "3 days", 1);
    CHECK_THROWS_AS(Config::load(schema(), std::nullopt, "GHTEST5_"), ConfigError);
    unsetenv("GHTEST5_VERIFICATION_TOKEN_TTL");

    CHECK_THROWS_WITH(Config::load(schema(), dir.path() / "missing.yaml", "GHTEST6_"), Catch::Contains("missing.yaml"));
}

TEST_CASE("allowed values and bounds are checked at start-up, named in the error and in the docs", "[config]") {
    ConfigSchema bounded = schema();
    bounded.add({.name = "approval.mode",
                 .type = OptionType::string,
                 .default_value = "direct",
                 .description = "How requests are approved.",
                 .allowed = {"direct", "crm"}});
    bounded.add({.name = "delivery.parallelism",
                 .type = OptionType::integer,
                 .default_value = "4",
                 .description = "Sends at once.",
                 .minimum = 1,
                 .maximum = 64});
    bounded.add({.name = "delivery.retry_for",
                 .type = OptionType::duration,
                 .default_value = "24h",
                 .description = "How long to retry.",
                 .minimum = 1'000});
    const auto load_with = [&](const char* variable, const char* value) -> std::string {
        setenv(variable, value, 1);
        std::string message;
        try {
            (void)Config::load(bounded, std::nullopt, "GHTEST9_");
        } catch (const ConfigError& error) {
            message = error.what();
        }
        unsetenv(variable);
        return message;
    };
    CHECK(load_with("GHTEST9_APPROVAL_MODE", "crm").empty());
    CHECK(load_with("GHTEST9_APPROVAL_MODE", "CRM") ==
          "setting approval.mode (from environment variable GHTEST9_APPROVAL_MODE): must be one of `direct`, `crm`, "
          "got \"CRM\"");
    CHECK(load_with("GHTEST9_DELIVERY_PARALLELISM", "64").empty());
    CHECK_THAT(load_with("GHTEST9_DELIVERY_PARALLELISM", "0"),
               Catch::Contains("delivery.parallelism") && Catch::Contains("must be from 1 to 64, got \"0\""));
    CHECK_THAT(load_with("GHTEST9_DELIVERY_PARALLELISM", "65"), Catch::Contains("must be from 1 to 64"));
    CHECK(load_with("GHTEST9_DELIVERY_RETRY_FOR", "1s").empty());
    CHECK_THAT(load_with("GHTEST9_DELIVERY_RETRY_FOR", "500ms"), Catch::Contains("must be at least 1s, got \"500ms\""));
    CHECK_THAT(load_with("GHTEST9_LOG_LEVEL", "verbose"), Catch::Contains("log.level") && Catch::Contains("`warn`"));
    CHECK_THAT(load_with("GHTEST9_STORE_AGGREGATE_CACHE_SIZE", "0"), Catch::Contains("must be at least 1"));

    const std::string table = bounded.describe_markdown("GATEHOUSE_");
    CHECK_THAT(table, Catch::Contains("How requests are approved. Accepted: one of `direct`, `crm`. |"));
    CHECK_THAT(table, Catch::Contains("Sends at once. Accepted: from 1 to 64. |"));
    CHECK_THAT(table, Catch::Contains("How long to retry. Accepted: at least 1s. |"));
}

TEST_CASE("a malformed kafka.properties is reported without its text: it holds the SASL password", "[config]") {
    // A password with a comma is cut there; the rest must not reach a log.
    setenv("GHTEST8_KAFKA_PROPERTIES", "sasl.username=onboarding,sasl.password=s3cret,tail-of-s3cret", 1);
    std::string message;
    try {
        (void)Config::load(schema(), std::nullopt, "GHTEST8_");
    } catch (const ConfigError& error) {
        message = error.what();
    }
    unsetenv("GHTEST8_KAFKA_PROPERTIES");
    CHECK_THAT(message, Catch::Contains("kafka.properties") && Catch::Contains("entry 3 is not key=value"));
    CHECK_THAT(message, !Catch::Contains("s3cret"));
}

TEST_CASE("an environment variable naming no setting is reported", "[config]") {
    setenv("GHTEST7_KAFKA_BOOTSTRAP", "x", 1);
    const Config config = Config::load(schema(), std::nullopt, "GHTEST7_");
    unsetenv("GHTEST7_KAFKA_BOOTSTRAP");
    REQUIRE(config.warnings().size() == 1);
    CHECK_THAT(config.warnings()[0], Catch::Contains("GHTEST7_KAFKA_BOOTSTRAP"));
}

TEST_CASE("the schema documents itself", "[config]") {
    const std::string table = schema().describe_markdown("GATEHOUSE_");
    CHECK_THAT(table, Catch::Contains("| `grpc.listen` | `GATEHOUSE_GRPC_LISTEN` | `127.0.0.1:0` |"));
    CHECK_THAT(table, Catch::Contains("`<secret>`"));
}

TEST_CASE("metrics render in the Prometheus text format", "[metrics]") {
    MetricsRegistry registry;
    registry.counter("gatehouse_emails_sent_total", "Emails sent", R"(template="approved")").increment(3);
    registry.gauge("gatehouse_queue_depth", "Queued").set(4);
    auto& latency = registry.histogram("gatehouse_command_seconds", "Command latency");
    latency.observe(0.0007);
    latency.observe(3);
    int refreshed = 0;
    registry.on_collect([&] { ++refreshed; });
    const std::string text = registry.render();
    CHECK(refreshed == 1);
    CHECK_THAT(text, Catch::Contains("# TYPE gatehouse_emails_sent_total counter\n"));
    CHECK_THAT(text, Catch::Contains("gatehouse_emails_sent_total{template=\"approved\"} 3\n"));
    CHECK_THAT(text, Catch::Contains("gatehouse_queue_depth 4\n"));
    CHECK_THAT(text, Catch::Contains("gatehouse_command_seconds_bucket{le=\"0.0005\"} 0\n"));
    CHECK_THAT(text, Catch::Contains("gatehouse_command_seconds_bucket{le=\"0.001\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("gatehouse_command_seconds_bucket{le=\"+Inf\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("gatehouse_command_seconds_count 2\n"));
}

TEST_CASE("docs/configuration.md lists every kernel setting as the schema describes it", "[config]") {
    ConfigSchema kernel;
    add_kernel_options(kernel, "<service>");
    std::ifstream in(GATEHOUSE_SOURCE_DIR "/docs/configuration.md");
    REQUIRE(in.good());
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string table = kernel.describe_markdown("GATEHOUSE_");
    INFO("expected table (regenerate the doc's kernel section from this):\n" << table);
    CHECK_THAT(doc, Catch::Contains(table));
}
