// What every service binary's main() does besides wiring its own parts, once:
//
//   gatehouse-<service> [CONFIG.yaml]                        run (config file or GATEHOUSE_CONFIG)
//   gatehouse-<service> --help                               usage and the settings table
//   gatehouse-<service> restore-from-topic [CONFIG] [--log-id ID]   see log_restore.h
//   gatehouse-<service> verify [CONFIG]
//
// Errors end the process with a line naming the binary: a ConfigError (bad setting, bad
// template, ...) exits 2 as "configuration error: ...", anything else exits 1.
#pragma once

#include <functional>
#include <string>

#include "gatehouse/kernel/config.h"

namespace gatehouse::kernel {

struct ServiceMain final {
    std::string service;    // e.g. "sales-bridge": the binary is gatehouse-<service>
    std::string own_topic;  // e.g. "gatehouse.sales.events.v1" (without the deployment's prefix)
    ConfigSchema schema;    // kernel options included (add_kernel_options)
};

// Runs `run` with the loaded configuration and returns its exit code (or the command's).
int service_main(int argc, char** argv, const ServiceMain& spec, const std::function<int(const Config&)>& run);

}  // namespace gatehouse::kernel
