// libFuzzer target: the zero-copy envelope reader (EnvelopeView::parse) takes bytes from topics and
// from disk. It must never crash, and whenever both it and protobuf accept the bytes, it must read
// the same fields as protobuf does (a differential check).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gatehouse/kernel/envelope_view.h"
#include "gatehouse/kernel/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    gatehouse::kernel::EnvelopeView view;
    try {
        view = gatehouse::kernel::EnvelopeView::parse(gatehouse::kernel::LogPosition{1}, bytes);
    } catch (const gatehouse::kernel::CorruptRecordError&) {
        return 0;
    }
    gatehouse::kernel::v1::EventEnvelope envelope;
    if (!envelope.ParseFromArray(data, static_cast<int>(size))) {
        return 0;
    }
    if (view.event_type != envelope.event_type() || view.aggregate_type != envelope.aggregate_type() ||
        view.aggregate_id != envelope.aggregate_id() || view.aggregate_version != envelope.aggregate_version() ||
        view.payload != envelope.payload()) {
        __builtin_trap();
    }
    return 0;
}
