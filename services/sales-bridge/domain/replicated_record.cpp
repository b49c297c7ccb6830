#include "domain/replicated_record.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <set>

namespace gatehouse::sales {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const FieldDescriptor& field(const Message& message, std::string_view name) {
    const FieldDescriptor* found = message.GetDescriptor()->FindFieldByName(std::string(name));
    if (found == nullptr) {
        throw std::logic_error(message.GetTypeName() + " has no field " + std::string(name));
    }
    return *found;
}

bool equal_field(const Message& a, const Message& b, std::string_view name) {
    const FieldDescriptor& fa = field(a, name);
    const FieldDescriptor& fb = field(b, name);
    if (fa.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        return google::protobuf::util::MessageDifferencer::Equals(a.GetReflection()->GetMessage(a, &fa),
                                                                  b.GetReflection()->GetMessage(b, &fb));
    }
    return a.GetReflection()->GetString(a, &fa) == b.GetReflection()->GetString(b, &fb);
}

void copy_field(const Message& from, Message& to, std::string_view name) {
    const FieldDescriptor& source = field(from, name);
    const FieldDescriptor& target = field(to, name);
    if (source.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        to.GetReflection()->MutableMessage(&to, &target)->CopyFrom(from.GetReflection()->GetMessage(from, &source));
    } else {
        to.GetReflection()->SetString(&to, &target, from.GetReflection()->GetString(from, &source));
    }
}

std::vector<std::string> changed_fields(const Message& message) {
    const FieldDescriptor& names = field(message, "changed_fields");
    std::vector<std::string> result;
    for (int i = 0; i < message.GetReflection()->FieldSize(message, &names); ++i) {
        result.push_back(message.GetReflection()->GetRepeatedString(message, &names, i));
    }
    return result;
}

const google::protobuf::Timestamp& changed_at(const Message& message) {
    return static_cast<const google::protobuf::Timestamp&>(
        message.GetReflection()->GetMessage(message, &field(message, "changed_at")));
}

common::v1::ChangeOrigin origin(const Message& message) {
    return static_cast<common::v1::ChangeOrigin>(
        message.GetReflection()->GetEnumValue(message, &field(message, "origin")));
}

}  // namespace

std::optional<kernel::Rejection> decide_change(const Message& record, const FieldStamps& stamps, const Message& change,
                                               Side side, std::span<const std::string_view> replicated_fields,
                                               Message& out) {
    out.Clear();
    const std::vector<std::string> names = changed_fields(change);
    if (names.empty()) {
        return kernel::Rejection{kernel::RejectionCode::invalid_argument, "changed_fields: name at least one field"};
    }
    const google::protobuf::Timestamp& at = changed_at(change);
    if (auto missing = platform::replication::check_changed_at(at)) {
        return kernel::Rejection{kernel::RejectionCode::invalid_argument, *missing};
    }
    ChangeStamp incoming = platform::replication::stamp_of(at, side);
    std::vector<ChangeStamp> stored_of_edited;  // rule 4: a local edit moves past these
    std::set<std::string_view> seen;
    std::vector<std::string_view> winners;
    for (const std::string& name : names) {
        const bool replicated =
            std::find(replicated_fields.begin(), replicated_fields.end(), name) != replicated_fields.end();
        if (!replicated || !seen.insert(name).second) {
            if (side == Side::sales) {
                return kernel::Rejection{kernel::RejectionCode::invalid_argument,
                                         "changed_fields: " + name + " is not a field that can be changed here" +
                                             (replicated ? " twice" : "")};
            }
            continue;  // the other side replicates fields this record does not have
        }
        const auto stored = stamps.find(name);
        if (side == Side::sales) {
            if (equal_field(change, record, name)) {
                continue;  // the user changed nothing in this field
            }
            if (stored != stamps.end()) {
                stored_of_edited.push_back(stored->second);
            }
        } else if (!platform::replication::wins(
                       incoming, stored == stamps.end() ? std::nullopt : std::optional<ChangeStamp>(stored->second))) {
            continue;  // the stored value is the later write
        }
        winners.push_back(name);
    }
    if (winners.empty()) {
        return std::nullopt;
    }
    if (side == Side::sales) {
        incoming = platform::replication::local_edit_stamp(incoming, stored_of_edited);
    }
    auto* reflection = out.GetReflection();
    for (const std::string_view name : winners) {
        copy_field(change, out, name);
        reflection->AddString(&out, &field(out, "changed_fields"), std::string(name));
    }
    reflection->MutableMessage(&out, &field(out, "changed_at"))
        ->CopyFrom(platform::replication::changed_at_of(incoming));
    reflection->SetEnumValue(&out, &field(out, "origin"), platform::replication::origin_of(side, Side::sales));
    return std::nullopt;
}

void apply_change(const Message& event, Message& record, FieldStamps& stamps) {
    const ChangeStamp stamp =
        platform::replication::stamp_of(changed_at(event), platform::replication::side_of(origin(event), Side::sales));
    for (const std::string& name : changed_fields(event)) {
        if (record.GetDescriptor()->FindFieldByName(name) == nullptr) {
            continue;
        }
        copy_field(event, record, name);
        stamps.insert_or_assign(name, stamp);
    }
}

std::vector<std::string> fields_with_values(const Message& record,
                                            std::span<const std::string_view> replicated_fields) {
    std::vector<std::string> names;
    for (const std::string_view name : replicated_fields) {
        const FieldDescriptor& descriptor = field(record, name);
        const bool has_value = descriptor.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
                                   ? record.GetReflection()->HasField(record, &descriptor)
                                   : !record.GetReflection()->GetString(record, &descriptor).empty();
        if (has_value) {
            names.emplace_back(name);
        }
    }
    return names;
}

}  // namespace gatehouse::sales
