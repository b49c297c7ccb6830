// A zero-copy view of a stored EventEnvelope: the few fields that replay needs, read straight
// from the wire format without allocating. Projections that need everything (actor, timestamps,
// correlation) call decode_full().
#pragma once

#include <cstdint>
#include <string_view>

#include "gatehouse/kernel/types.h"
#include "gatehouse/kernel/v1/envelope.pb.h"

namespace gatehouse::kernel {

struct EnvelopeView final {
    LogPosition position{};
    std::string_view event_type;
    std::string_view aggregate_type;
    std::string_view aggregate_id;
    std::uint64_t aggregate_version = 0;
    std::string_view payload;
    std::string_view bytes;  // the whole serialized envelope

    // Reads `bytes`; throws CorruptRecordError if they are not a well-formed envelope.
    static EnvelopeView parse(LogPosition position, std::string_view bytes);
    [[nodiscard]] v1::EventEnvelope decode_full() const;
};

}  // namespace gatehouse::kernel
