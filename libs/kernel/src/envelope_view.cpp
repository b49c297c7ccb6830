#include "gatehouse/kernel/envelope_view.h"

#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {
namespace {

// Field numbers of gatehouse.kernel.v1.EventEnvelope (see proto/gatehouse/kernel/v1/envelope.proto).
constexpr std::uint32_t kEventType = 2;
constexpr std::uint32_t kAggregateType = 3;
constexpr std::uint32_t kAggregateId = 4;
constexpr std::uint32_t kAggregateVersion = 5;
constexpr std::uint32_t kPayload = 11;

constexpr std::uint32_t kWireVarint = 0;
constexpr std::uint32_t kWireFixed64 = 1;
constexpr std::uint32_t kWireLengthDelimited = 2;
constexpr std::uint32_t kWireFixed32 = 5;

class WireReader final {
  public:
    WireReader(LogPosition position, std::string_view bytes) : position_(position), bytes_(bytes) {}
    [[nodiscard]] bool done() const { return offset_ >= bytes_.size(); }

    std::uint64_t varint() {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (offset_ >= bytes_.size()) {
                fail("truncated varint");
            }
            const auto byte = static_cast<unsigned char>(bytes_[offset_++]);
            value |= static_cast<std::uint64_t>(byte & 0x7FU) << shift;
            if ((byte & 0x80U) == 0) {
                return value;
            }
        }
        fail("varint too long");
    }

    std::string_view take(std::uint64_t length) {
        if (length > bytes_.size() - offset_) {
            fail("field runs past the end");
        }
        const std::string_view field = bytes_.substr(offset_, length);
        offset_ += length;
        return field;
    }

    [[noreturn]] void fail(const char* what) const {
        throw CorruptRecordError("event at log position " + std::to_string(position_.value) +
                                 " is not a valid envelope: " + what);
    }

  private:
    LogPosition position_;
    std::string_view bytes_;
    std::size_t offset_ = 0;
};

}  // namespace

EnvelopeView EnvelopeView::parse(LogPosition position, std::string_view bytes) {
    EnvelopeView view;
    view.position = position;
    view.bytes = bytes;
    WireReader reader(position, bytes);
    while (!reader.done()) {
        const std::uint64_t tag = reader.varint();
        const auto field = static_cast<std::uint32_t>(tag >> 3);
        switch (static_cast<std::uint32_t>(tag & 7U)) {
            case kWireVarint: {
                const std::uint64_t value = reader.varint();
                if (field == kAggregateVersion) {
                    view.aggregate_version = value;
                }
                break;
            }
            case kWireLengthDelimited: {
                const std::string_view value = reader.take(reader.varint());
                switch (field) {
                    case kEventType:
                        view.event_type = value;
                        break;
                    case kAggregateType:
                        view.aggregate_type = value;
                        break;
                    case kAggregateId:
                        view.aggregate_id = value;
                        break;
                    case kPayload:
                        view.payload = value;
                        break;
                    default:
                        break;
                }
                break;
            }
            case kWireFixed64:
                (void)reader.take(8);
                break;
            case kWireFixed32:
                (void)reader.take(4);
                break;
            default:
                reader.fail("unsupported wire type");
        }
    }
    return view;
}

v1::EventEnvelope EnvelopeView::decode_full() const {
    v1::EventEnvelope envelope;
    if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw CorruptRecordError("event at log position " + std::to_string(position.value) + " does not decode");
    }
    return envelope;
}

}  // namespace gatehouse::kernel
