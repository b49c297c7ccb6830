#include "gatehouse/kernel/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {
namespace {

std::mutex g_mutex;

// Built on first use, not at static initialization, where a throwing constructor could not be
// caught (cert-err58-cpp). Guarded by g_mutex.
LogSettings& current_settings() {
    static LogSettings settings;
    return settings;
}

// spdlog's %v is not escaped, so JSON lines use the flag %* below, which escapes the message.
constexpr const char* kJsonPattern =
    R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","module":"%n","thread":%t,"message":"%*"})";

class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/, spdlog::memory_buf_t& dest) override {
        static constexpr char kHex[] = "0123456789abcdef";
        for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
            switch (c) {
                case '"':
                    dest.append(std::string_view("\\\""));
                    break;
                case '\\':
                    dest.append(std::string_view("\\\\"));
                    break;
                case '\n':
                    dest.append(std::string_view("\\n"));
                    break;
                case '\r':
                    dest.append(std::string_view("\\r"));
                    break;
                case '\t':
                    dest.append(std::string_view("\\t"));
                    break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        const char escaped[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xF], kHex[c & 0xF]};
                        dest.append(escaped, escaped + sizeof escaped);
                    } else {
                        dest.push_back(c);
                    }
            }
        }
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonEscapedMessage>();
    }
};
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%fZ %^%-5l%$ [%n] %v";

void apply(spdlog::logger& logger) {
    logger.set_level(spdlog::level::from_str(current_settings().level));
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(current_settings().json ? kJsonPattern : kTextPattern);
    logger.set_formatter(std::move(formatter));
}

}  // namespace

void configure_logging(const LogSettings& settings) {
    const auto level = spdlog::level::from_str(settings.level);
    if (level == spdlog::level::off && settings.level != "off") {
        throw ConfigError("log.level: \"" + settings.level +
                          "\" is not one of trace, debug, info, warn, error, critical, off");
    }
    std::lock_guard lock(g_mutex);
    current_settings() = settings;
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { apply(*logger); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
    std::lock_guard lock(g_mutex);
    if (auto existing = spdlog::get(module)) {
        return existing;
    }
    // stderr, so that a CLI's stdout stays clean for its output.
    auto created = std::make_shared<spdlog::logger>(module, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    apply(*created);
    spdlog::register_logger(created);
    return created;
}

}  // namespace gatehouse::kernel
