// The replication rule shared by Account and Contact (docs/replication.md): per replicated field
// the stamp (changed_at, side) of the change that set it; an incoming change to a field wins only
// with a greater stamp, and on equal changed_at the customers side (HQ, the system of record for
// billing data) beats sales. Both services order the same changes the same way, so they converge
// whatever the delivery order. Pure functions over the events' field names (by reflection, so
// the Created / Updated messages of accounts and contacts share one implementation).
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "gatehouse/common/v1/common.pb.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/platform/replication.h"

namespace gatehouse::sales {

// The replication rule's stamp and sides (libs/platform replication.h): the same type customers
// uses, so that both order changes alike by construction.
using platform::replication::Side;
using ChangeStamp = platform::replication::Stamp;

using FieldStamps = std::map<std::string, ChangeStamp, std::less<>>;

// The outcome of deciding a change: the fields that win (copied into `out` with their names in
// out.changed_fields, changed_at and origin set), or a rejection for a bad local change.
// `record` holds the current values, `stamps` their stamps. For a local change (side sales),
// fields whose value does not change are left out, and the stamp is moved past the stored ones
// (a user who overwrites what they see overwrites it, even if the other side's clock runs ahead).
// Incoming changes (side customers) name only fields this record replicates; others are skipped.
std::optional<kernel::Rejection> decide_change(const google::protobuf::Message& record, const FieldStamps& stamps,
                                               const google::protobuf::Message& change, Side side,
                                               std::span<const std::string_view> replicated_fields,
                                               google::protobuf::Message& out);

// Copies the fields listed in `event`'s changed_fields into `record` and records their stamps.
void apply_change(const google::protobuf::Message& event, google::protobuf::Message& record, FieldStamps& stamps);

// The replicated fields of `record` that have a value (what a Created event lists as changed).
std::vector<std::string> fields_with_values(const google::protobuf::Message& record,
                                            std::span<const std::string_view> replicated_fields);

}  // namespace gatehouse::sales
