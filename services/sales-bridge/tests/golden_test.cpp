// Golden fixtures of gatehouse.sales.events.v1 (tests/golden/ next to this file): for each event,
// the text form (<full message name>.txtpb), the wire bytes (.bin, made once with protoc --encode)
// and the canonical JSON (.json). A .proto change that renumbers, retypes or renames a field
// breaks integrators and fails here; every case of every sales event union needs a fixture.
// Never regenerate a fixture to make this pass: add a new one for a new field.
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gatehouse/sales/v1/events.pb.h"

namespace {

namespace fs = std::filesystem;
using google::protobuf::Message;

const fs::path kGolden = fs::path(GATEHOUSE_SOURCE_DIR) / "services" / "sales-bridge" / "tests" / "golden";

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

std::unique_ptr<Message> new_message(const std::string& full_name) {
    const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
    REQUIRE(descriptor != nullptr);
    return std::unique_ptr<Message>(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
}

}  // namespace

TEST_CASE("every sales golden fixture decodes from bytes, text and JSON to the same message", "[golden]") {
    (void)gatehouse::sales::v1::LeadEvent::descriptor();  // link the generated descriptors
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(kGolden)) {
        if (entry.path().extension() != ".txtpb") {
            continue;
        }
        const std::string name = entry.path().stem().string();
        INFO("fixture " << entry.path());
        auto from_text = new_message(name);
        REQUIRE(google::protobuf::TextFormat::ParseFromString(read(entry.path()), from_text.get()));
        auto from_bytes = new_message(name);
        const std::string bytes = read(fs::path(entry.path()).replace_extension(".bin"));
        REQUIRE(from_bytes->ParseFromString(bytes));
        CHECK(google::protobuf::util::MessageDifferencer::Equals(*from_text, *from_bytes));
        CHECK(from_bytes->SerializeAsString() == bytes);  // same field numbers and wire types
        CHECK(from_bytes->GetReflection()->GetUnknownFields(*from_bytes).empty());
        auto from_json = new_message(name);
        REQUIRE(google::protobuf::util::JsonStringToMessage(read(fs::path(entry.path()).replace_extension(".json")),
                                                            from_json.get())
                    .ok());
        CHECK(google::protobuf::util::MessageDifferencer::Equals(*from_text, *from_json));  // same JSON names
        ++checked;
    }
    CHECK(checked == 16);
}

TEST_CASE("every event of every sales event union has a golden fixture", "[golden]") {
    for (const auto* event_union :
         {gatehouse::sales::v1::LeadEvent::descriptor(), gatehouse::sales::v1::OpportunityEvent::descriptor(),
          gatehouse::sales::v1::AccountEvent::descriptor(), gatehouse::sales::v1::ContactEvent::descriptor()}) {
        const auto* oneof = event_union->oneof_decl(0);
        for (int i = 0; i < oneof->field_count(); ++i) {
            const std::string name = oneof->field(i)->message_type()->full_name();
            INFO(event_union->full_name() << ": " << name);
            CHECK(fs::exists(kGolden / (name + ".txtpb")));
        }
    }
}
