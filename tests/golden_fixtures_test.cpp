// Every event integrators consume has a golden fixture under tests/golden/<service>/v1/: the text
// form (<full message name>.txtpb, the readable source), the wire bytes (.bin) and the canonical
// JSON (.json). A .proto change that renumbers, retypes or renames a field fails here. Every case
// of every event union must have a fixture, so a new event cannot ship without one.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gatehouse/onboarding/v1/events.pb.h"

namespace {

namespace fs = std::filesystem;
using google::protobuf::Message;

const fs::path kGolden = fs::path(GATEHOUSE_SOURCE_DIR) / "tests" / "golden";

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

void check_fixture(const fs::path& text_file) {
    const std::string name = text_file.stem().string();
    INFO("fixture " << text_file);
    auto from_text = new_message(name);
    REQUIRE(google::protobuf::TextFormat::ParseFromString(read(text_file), from_text.get()));
    auto from_bytes = new_message(name);
    const std::string bytes = read(fs::path(text_file).replace_extension(".bin"));
    REQUIRE(from_bytes->ParseFromString(bytes));
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*from_text, *from_bytes));
    CHECK(from_bytes->SerializeAsString() == bytes);  // same field numbers and wire types
    auto from_json = new_message(name);
    REQUIRE(google::protobuf::util::JsonStringToMessage(read(fs::path(text_file).replace_extension(".json")),
                                                        from_json.get())
                .ok());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(*from_text, *from_json));  // same JSON names
    // Nothing in the fixture is unknown to the current schema.
    CHECK(from_bytes->GetReflection()->GetUnknownFields(*from_bytes).empty());
}

}  // namespace

TEST_CASE("every golden fixture decodes from bytes, text and JSON to the same message", "[golden]") {
    (void)gatehouse::onboarding::v1::ProspectEvent::descriptor();  // link the generated descriptors
    int checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(kGolden)) {
        if (entry.path().extension() == ".txtpb") {
            check_fixture(entry.path());
            ++checked;
        }
    }
    CHECK(checked >= 7);
}

TEST_CASE("every event of every event union has a golden fixture", "[golden]") {
    for (const auto* event_union : {gatehouse::onboarding::v1::ProspectEvent::descriptor()}) {
        const auto* oneof = event_union->oneof_decl(0);
        const std::string service = event_union->file()->package().substr(
            std::string("gatehouse.").size(),
            event_union->file()->package().find(".v") - std::string("gatehouse.").size());
        for (int i = 0; i < oneof->field_count(); ++i) {
            const std::string name = oneof->field(i)->message_type()->full_name();
            INFO(name);
            CHECK(fs::exists(kGolden / service / "v1" / (name + ".txtpb")));
        }
    }
}
