#include "gatehouse/kernel/service_main.h"

#include <cstdlib>
#include <iostream>
#include <optional>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/log_restore.h"

namespace gatehouse::kernel {

int service_main(int argc, char** argv, const ServiceMain& spec, const std::function<int(const Config&)>& run) {
    const std::string binary = "gatehouse-" + spec.service;
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
