#include "gatehouse/kernel/service_main.h"

#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/log_restore.h"

namespace gatehouse::kernel {
namespace {

// glibc's allocator, left to its defaults, keeps what a long-running service frees: its mmap
// threshold rises to the size of the largest block freed (RocksDB's 1 MiB memtable arena blocks
// then come from the heap and stay there after each flush), and every thread that allocates may
// get an arena of its own. Measured with 1M events and 500 requests/s (docs/benchmarks.md): RSS
// climbed 205 -> 315 MiB while the bytes in use stayed between 50 and 110 MiB. A fixed threshold
// gives large blocks back on free, a bounded number of arenas limits the free space spread over
// them, and ServiceRuntime trims the rest periodically.
void configure_allocator() {
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    mallopt(M_ARENA_MAX, 4);
}

}  // namespace

int service_main(int argc, char** argv, const ServiceMain& spec, const std::function<int(const Config&)>& run) {
    const std::string binary = "gatehouse-" + spec.service;
    configure_allocator();
    try {
        if (const auto code = run_log_command(argc, argv, spec.service, spec.schema, spec.own_topic)) {
            return *code;
        }
        const char* file = argc > 1 ? argv[1] : std::getenv("GATEHOUSE_CONFIG");
        if (file != nullptr && (std::string(file) == "--help" || std::string(file) == "-h")) {
            std::cout << "usage: " << binary << " [CONFIG.yaml]                           run the service\n"
                      << "       " << binary << " restore-from-topic [CONFIG.yaml] [--log-id ID]"
                      << "   rebuild a lost log from the service's topic\n"
                      << "       " << binary << " verify [CONFIG.yaml]"
                      << "                    compare the log with the topic\n"
                      << "Settings (file or GATEHOUSE_* environment):\n\n"
                      << spec.schema.describe_markdown("GATEHOUSE_");
            return 0;
        }
        const Config config =
            Config::load(spec.schema, file != nullptr ? std::optional<std::filesystem::path>(file) : std::nullopt);
        return run(config);
    } catch (const ConfigError& error) {
        std::cerr << binary << ": configuration error: " << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << binary << ": " << error.what() << "\n";
        return 1;
    }
}

}  // namespace gatehouse::kernel
