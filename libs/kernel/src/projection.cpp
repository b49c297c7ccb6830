#include "gatehouse/kernel/projection.h"

namespace gatehouse::kernel {

RebuildSummary rebuild_from_log(const EventStore& store, std::span<Projection* const> projections) {
    for (Projection* projection : projections) {
        projection->reset();
    }
    RebuildSummary summary;
    store.scan(LogPosition{1}, [&](const RecordedEvent& event) {
        for (Projection* projection : projections) {
            projection->apply(event);
        }
        ++summary.events;
        summary.last = event.position;
        return true;
    });
    return summary;
}

}  // namespace gatehouse::kernel
