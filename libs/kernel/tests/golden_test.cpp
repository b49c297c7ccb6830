// The event envelope is a public contract: these fixtures (tests/golden/kernel/v1) were written
// once and must keep decoding to the same values, in bytes and in JSON.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "gatehouse/kernel/envelope_view.h"
#include "gatehouse/kernel/v1/envelope.pb.h"

using gatehouse::kernel::EnvelopeView;
using gatehouse::kernel::LogPosition;
using gatehouse::kernel::v1::EventEnvelope;

namespace {

std::string read(const std::string& name) {
    std::ifstream in(std::string(GATEHOUSE_SOURCE_DIR) + "/tests/golden/kernel/v1/" + name, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

void check_fixture_values(const EventEnvelope& envelope) {
    CHECK(envelope.event_id() == "0192f0a1-7c3e-7a10-8b2d-4e5f60718293");
    CHECK(envelope.event_type() == "gatehouse.onboarding.v1.RequestSubmitted");
    CHECK(envelope.aggregate_type() == "prospect");
    CHECK(envelope.aggregate_id() == "PR-000123");
    CHECK(envelope.aggregate_version() == 1);
    CHECK(envelope.occurred_at().seconds() == 1764000000);
    CHECK(envelope.occurred_at().nanos() == 123000000);
    CHECK(envelope.correlation_id() == "0192f0a1-7c3e-7a10-8b2d-4e5f60718293");
    CHECK(envelope.causation_id() == "cmd-7f3a");
    CHECK(envelope.producer() == "onboarding");
    CHECK(envelope.actor() == "anonymous");
    CHECK(envelope.payload() == "\n\tAcme GmbH");
}

}  // namespace

TEST_CASE("the golden envelope bytes decode to the fixture values", "[golden]") {
    EventEnvelope envelope;
    REQUIRE(envelope.ParseFromString(read("EventEnvelope.bin")));
    check_fixture_values(envelope);
    // Re-encoding gives the same bytes: no field was renumbered or retyped.
    CHECK(envelope.SerializeAsString() == read("EventEnvelope.bin"));
}

TEST_CASE("the golden envelope JSON decodes to the same message", "[golden]") {
    EventEnvelope from_json;
    REQUIRE(google::protobuf::util::JsonStringToMessage(read("EventEnvelope.json"), &from_json).ok());
    check_fixture_values(from_json);
    EventEnvelope from_bytes;
    REQUIRE(from_bytes.ParseFromString(read("EventEnvelope.bin")));
    CHECK(google::protobuf::util::MessageDifferencer::Equals(from_json, from_bytes));
}

TEST_CASE("the zero-copy envelope view reads the golden bytes like protobuf does", "[golden]") {
    const std::string bytes = read("EventEnvelope.bin");
    const EnvelopeView view = EnvelopeView::parse(LogPosition{7}, bytes);
    CHECK(view.event_type == "gatehouse.onboarding.v1.RequestSubmitted");
    CHECK(view.aggregate_type == "prospect");
    CHECK(view.aggregate_id == "PR-000123");
    CHECK(view.aggregate_version == 1);
    CHECK(view.payload == "\n\tAcme GmbH");
    check_fixture_values(view.decode_full());
    CHECK_THROWS(EnvelopeView::parse(LogPosition{7}, bytes.substr(0, bytes.size() - 3)));
}
