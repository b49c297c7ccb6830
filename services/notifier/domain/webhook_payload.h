// The body of a webhook request: the event's envelope in Protobuf's canonical JSON mapping, with
// its payload resolved through the generated descriptor pool and written as the JSON of a
// google.protobuf.Any ({"@type": "type.googleapis.com/<event type>", ...fields}). A payload whose
// type this build does not know (a newer producer) stays base64 bytes, as the envelope's own
// mapping has it, so the event is delivered rather than lost. Pure: no I/O.
#pragma once

#include <string>

#include "gatehouse/kernel/v1/envelope.pb.h"

namespace gatehouse::notifier {

std::string webhook_body(const kernel::v1::EventEnvelope& envelope);

}  // namespace gatehouse::notifier
