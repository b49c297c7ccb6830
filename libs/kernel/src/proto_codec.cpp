#include "gatehouse/kernel/proto_codec.h"

#include <google/protobuf/descriptor.h>

#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace gatehouse::kernel {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;

const OneofDescriptor& the_oneof(const Descriptor& descriptor) {
    if (descriptor.oneof_decl_count() != 1) {
        throw std::logic_error(descriptor.full_name() + " must have exactly one oneof to be an event union");
    }
    return *descriptor.oneof_decl(0);
}

// event type name -> field of the union, per union descriptor; built once per union type.
const FieldDescriptor* field_for(const Descriptor& descriptor, std::string_view event_type) {
    static std::mutex mutex;
    static std::unordered_map<const Descriptor*, std::unordered_map<std::string, const FieldDescriptor*>> by_union;
    std::lock_guard lock(mutex);
    auto [entry, inserted] = by_union.try_emplace(&descriptor);
    if (inserted) {
        const OneofDescriptor& oneof = the_oneof(descriptor);
        for (int i = 0; i < oneof.field_count(); ++i) {
            const FieldDescriptor* field = oneof.field(i);
            if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
                entry->second.emplace(field->message_type()->full_name(), field);
            }
        }
    }
    auto found = entry->second.find(std::string(event_type));
    return found == entry->second.end() ? nullptr : found->second;
}

const FieldDescriptor* set_field(const Message& event_union) {
    return event_union.GetReflection()->GetOneofFieldDescriptor(event_union, &the_oneof(*event_union.GetDescriptor()));
}

}  // namespace

std::string oneof_event_type(const Message& event_union) {
    const FieldDescriptor* field = set_field(event_union);
    return field == nullptr ? std::string() : field->message_type()->full_name();
}

std::string oneof_event_payload(const Message& event_union) {
    const FieldDescriptor* field = set_field(event_union);
    if (field == nullptr) {
        throw std::logic_error("an event union of type " + event_union.GetDescriptor()->full_name() +
                               " has no case set");
    }
    return event_union.GetReflection()->GetMessage(event_union, field).SerializeAsString();
}

EventUnionCodec::EventUnionCodec(const Descriptor& event_union) {
    const OneofDescriptor& oneof = the_oneof(event_union);
    for (int i = 0; i < oneof.field_count(); ++i) {
        const FieldDescriptor* field = oneof.field(i);
        if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
            fields_.emplace(field->message_type()->full_name(), field);
        }
    }
}

bool EventUnionCodec::decode(std::string_view event_type, std::string_view payload, Message& event_union) const {
    const auto found = fields_.find(event_type);
    if (found == fields_.end()) {
        return false;
    }
    Message* target = event_union.GetReflection()->MutableMessage(&event_union, found->second);
    return target->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

bool decode_oneof_event(std::string_view event_type, std::string_view payload, Message& event_union) {
    const FieldDescriptor* field = field_for(*event_union.GetDescriptor(), event_type);
    if (field == nullptr) {
        return false;
    }
    Message* target = event_union.GetReflection()->MutableMessage(&event_union, field);
    return target->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

}  // namespace gatehouse::kernel
