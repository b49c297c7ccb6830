// Maps an aggregate's event union (a Protobuf message with one `oneof`, each case one event
// message) to and from the envelope's (event_type, payload) pair by reflection, so that each
// domain only declares its events once, in its .proto file.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::kernel {

// Fully qualified name of the message set in `event_union`'s oneof; empty if none is set.
std::string oneof_event_type(const google::protobuf::Message& event_union);
// Serialized bytes of the message set in the oneof.
std::string oneof_event_payload(const google::protobuf::Message& event_union);
// Sets the oneof case whose message type is `event_type` from `payload`. False if the union has no
// such case or the bytes do not parse.
bool decode_oneof_event(std::string_view event_type, std::string_view payload, google::protobuf::Message& event_union);

// The decoder for one event union type, with its event-type table built once: no lock and no
// allocation per lookup (the replay path). Thread safety: decode() may be called concurrently.
class EventUnionCodec final {
  public:
    explicit EventUnionCodec(const google::protobuf::Descriptor& event_union);
    [[nodiscard]] bool decode(std::string_view event_type, std::string_view payload,
                              google::protobuf::Message& event_union) const;

  private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    std::unordered_map<std::string, const google::protobuf::FieldDescriptor*, Hash, std::equal_to<>> fields_;
};

}  // namespace gatehouse::kernel
