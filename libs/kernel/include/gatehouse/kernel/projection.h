// State derived from the log. Every projection (an aggregate runtime's cache, a read model) can be
// rebuilt from the log at any time; `rebuild_from_log` does it for several in one scan.
#pragma once

#include <span>
#include <string_view>

#include "gatehouse/kernel/envelope_view.h"
#include "gatehouse/kernel/event_store.h"

namespace gatehouse::kernel {

class Projection {
  public:
    virtual ~Projection() = default;
    // Forget everything (before a rebuild).
    virtual void reset() = 0;
    // Apply one event from the log, in log order. Events of other aggregate types are passed too.
    // The view's bytes are only valid during the call.
    virtual void apply(const EnvelopeView& event) = 0;
};

struct RebuildSummary final {
    std::uint64_t events = 0;
    LogPosition last{};
};

// Resets each projection and replays the whole log into all of them in one scan.
RebuildSummary rebuild_from_log(const EventStore& store, std::span<Projection* const> projections);

}  // namespace gatehouse::kernel
