// Conversions between the system clock and protobuf timestamps (events carry
// google.protobuf.Timestamp; deciders take std::chrono time points).
#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <chrono>

namespace gatehouse::kernel {

inline google::protobuf::Timestamp to_timestamp(std::chrono::system_clock::time_point time) {
    return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

inline std::chrono::system_clock::time_point to_time_point(const google::protobuf::Timestamp& stamp) {
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(google::protobuf::util::TimeUtil::TimestampToNanoseconds(stamp))));
}

}  // namespace gatehouse::kernel
