// Reads one value from a test process's /metrics (Prometheus text, the kernel's metrics server).
#pragma once

#include <string>

namespace gatehouse::testing {

// The value of the sample named `name` (a gauge or counter without labels) at
// http://127.0.0.1:<port>/metrics; -1 when the server does not answer or has no such sample.
double read_metric(int port, const std::string& name);

}  // namespace gatehouse::testing
