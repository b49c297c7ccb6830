#include "domain/webhook_payload.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace gatehouse::notifier {

std::string webhook_body(const kernel::v1::EventEnvelope& envelope) {
    std::string envelope_json;
    if (!google::protobuf::util::MessageToJsonString(envelope, &envelope_json).ok()) {
        throw std::runtime_error("the envelope of event " + envelope.event_id() + " has no JSON mapping");
    }
    auto body = nlohmann::json::parse(envelope_json);
    google::protobuf::Any payload;
    payload.set_type_url("type.googleapis.com/" + envelope.event_type());
    payload.set_value(envelope.payload());
    if (std::string payload_json; google::protobuf::util::MessageToJsonString(payload, &payload_json).ok()) {
        body["payload"] = nlohmann::json::parse(payload_json);
    }
    return body.dump();
}

}  // namespace gatehouse::notifier
