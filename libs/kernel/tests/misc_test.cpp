#include <librdkafka/rdkafka.h>
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "counter_domain.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/kernel/partitioner.h"
#include "gatehouse/kernel/proto_codec.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using gatehouse::testing::TempDir;

TEST_CASE("number formats", "[sequence]") {
    CHECK(NumberFormat("PR-######").format(123) == "PR-000123");
    CHECK(NumberFormat("H#####/B2B").format(7) == "H00007/B2B");
    CHECK(NumberFormat("N##").format(12345) == "N12345");
    CHECK_THROWS_AS(NumberFormat("PR-"), ConfigError);
    CHECK_THROWS_AS(NumberFormat("##-##"), ConfigError);
}

TEST_CASE("number sequences continue after a reopen and never repeat", "[sequence]") {
    TempDir dir;
    std::set<std::string> issued;
    {
        auto store = EventStore::open(dir.path());
        NumberSequence sequence(*store, "prospect", NumberFormat("PR-######"));
        std::vector<std::thread> threads;
        std::mutex mutex;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 25; ++i) {
                    const std::string number = sequence.next();
                    std::lock_guard lock(mutex);
                    CHECK(issued.insert(number).second);
                }
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
    }
    CHECK(issued.size() == 100);
    CHECK(*issued.rbegin() == "PR-000100");
    auto store = EventStore::open(dir.path());
    NumberSequence sequence(*store, "prospect", NumberFormat("PR-######"));
    CHECK(sequence.next() == "PR-000101");
    NumberSequence other(*store, "hierarchy", NumberFormat("H-####"));
    CHECK(other.next() == "H-0001");
}

TEST_CASE("number formats find their numbers in text", "[sequence]") {
    const NumberFormat format("CH-######");
    CHECK(format.parse("CH-000042") == 42U);
    CHECK_FALSE(format.parse("CH-00004x").has_value());
    CHECK_FALSE(format.parse("XX-000042").has_value());
    CHECK(format.highest_in("hierarchy CH-000042 of CU-000900, then CH-000107; CH-12 is too short") == 107U);
    CHECK(format.highest_in("nothing here") == 0U);
    CHECK(NumberFormat("H#####/B2B").highest_in("H00007/B2B H00009/B2C") == 7U);
}

TEST_CASE("a sequence without stored state resumes after the highest number in the log (restored log)", "[sequence]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    Commit commit;
    StreamAppend& append = commit.appends.emplace_back();
    append.stream = StreamId{"customer", "CU-000007"};
    auto& envelope = append.events.emplace_back();
    envelope.set_event_id(new_uuid_v7());
    envelope.set_event_type("test.HierarchyCreated");
    envelope.set_payload(std::string("\x0a\x09") + "CH-000042" + "\x12\x09" + "CU-000007");
    REQUIRE(store->commit(std::move(commit)).outcome == CommitOutcome::committed);
    NumberSequence hierarchies(*store, "hierarchy", NumberFormat("CH-######"));
    CHECK(hierarchies.next() == "CH-000043");
    NumberSequence customers(*store, "customer", NumberFormat("CU-######"));
    CHECK(customers.next() == "CU-000008");
    // Once it has stored state, that state wins (no scan).
    NumberSequence again(*store, "hierarchy", NumberFormat("CH-######"));
    CHECK(again.next() == "CH-000044");
}

TEST_CASE("one-time tokens are URL-safe, distinct, and never start with '-' (an option on a command line)", "[auth]") {
    std::set<std::string> seen;
    for (int i = 0; i < 3000; ++i) {
        const std::string token = random_token(16);
        CHECK(token.size() == 22);
        CHECK(token.front() != '-');
        CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        seen.insert(token);
    }
    CHECK(seen.size() == 3000);
}

TEST_CASE("the partitioner agrees with librdkafka's murmur2 (Kafka's Java default)", "[partitioner]") {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[256];
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    REQUIRE(producer != nullptr);
    rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, "t", nullptr);
    for (const std::string key :
         {"", "a", "ab", "abc", "21", "foobar", "prospect-PR-000123", "a-little-bit-longer-string-with-odd-length"}) {
        for (const std::int32_t partitions : {1, 3, 12, 64}) {
            const std::int32_t expected =
                rd_kafka_msg_partitioner_murmur2(topic, key.data(), key.size(), partitions, nullptr, nullptr);
            CHECK(partition_for(key, partitions) == expected);
        }
    }
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(producer);
    CHECK_THROWS_AS(partition_for("x", 0), std::invalid_argument);
}

TEST_CASE("event ids are UUIDv7 and unique", "[ids]") {
    std::set<std::string> ids;
    for (int i = 0; i < 10000; ++i) {
        const std::string id = new_uuid_v7();
        REQUIRE(id.size() == 36);
        CHECK(id[14] == '7');
        ids.insert(id);
    }
    CHECK(ids.size() == 10000);
}

TEST_CASE("the oneof codec round-trips event unions", "[codec]") {
    gatehouse::testing::v1::CounterEvent event;
    event.mutable_incremented()->set_amount(42);
    CHECK(oneof_event_type(event) == "gatehouse.testing.v1.CounterIncremented");
    const std::string payload = oneof_event_payload(event);
    gatehouse::testing::v1::CounterEvent decoded;
    REQUIRE(decode_oneof_event("gatehouse.testing.v1.CounterIncremented", payload, decoded));
    CHECK(decoded.incremented().amount() == 42);
    CHECK_FALSE(decode_oneof_event("gatehouse.testing.v1.Unknown", payload, decoded));
    CHECK_FALSE(decode_oneof_event("gatehouse.testing.v1.CounterCreated", "\xff\xff", decoded));
    CHECK(oneof_event_type(gatehouse::testing::v1::CounterEvent()).empty());
}
