// Structured logging: one named spdlog logger per module, plain text or one JSON object per line.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace gatehouse::kernel {

struct LogSettings final {
    std::string level = "info";  // trace, debug, info, warn, error, critical, off
    bool json = false;           // one JSON object per line, for log shippers
};

// Applies the settings to every logger, existing and future. Throws ConfigError on a bad level.
void configure_logging(const LogSettings& settings);
// The logger of one module (created on first use), e.g. logger("relay").
std::shared_ptr<spdlog::logger> logger(const std::string& module);

}  // namespace gatehouse::kernel
