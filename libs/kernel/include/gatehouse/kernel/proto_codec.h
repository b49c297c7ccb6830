// Maps an aggregate's event union (a Protobuf message with one `oneof`, each case one event
// message) to and from the envelope's (event_type, payload) pair by reflection, so that each
// domain only declares its events once, in its .proto file.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace gatehouse::kernel {

// Fully qualified name of the message set in `event_union`'s oneof; empty if none is set.
std::string oneof_event_type(const google::protobuf::Message& event_union);
// Serialized bytes of the message set in the oneof.
std::string oneof_event_payload(const google::protobuf::Message& event_union);
// Sets the oneof case whose message type is `event_type` from `payload`. False if the union has no
// such case or the bytes do not parse.
bool decode_oneof_event(std::string_view event_type, std::string_view payload, google::protobuf::Message& event_union);

}  // namespace gatehouse::kernel
