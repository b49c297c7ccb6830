// Service configuration: a YAML file plus environment overrides, checked against a schema in
// which every option has a type, a default and a description. Any problem stops start-up with a
// ConfigError naming the setting (and where its value came from).
//
// Option names are dotted ("kafka.bootstrap_servers"); in YAML they are nested maps
// (kafka: {bootstrap_servers: ...}); the environment variable is the prefix plus the name in upper
// case with dots as underscores (GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS), and wins over the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::kernel {

enum class OptionType { string, integer, boolean, duration, map };

struct OptionSpec final {
    std::string name;
    OptionType type = OptionType::string;
    std::string default_value;  // in the environment-variable syntax of its type
    std::string description;
    bool secret = false;  // never printed (e.g. a password); describe() shows "<secret>"
    // A string: the only values accepted (empty: any). Listed in the settings' docs.
    std::vector<std::string> allowed{};
    // An integer, or a duration in milliseconds: the smallest / largest value accepted. Listed in
    // the settings' docs; a value outside stops start-up (never silently clamped).
    std::optional<std::int64_t> minimum{};
    std::optional<std::int64_t> maximum{};
};

class ConfigSchema final {
  public:
    ConfigSchema& add(OptionSpec spec);
    // Restrict the option added last: `.add({...}).one_of({"direct", "crm"})`, `.at_least(1)`,
    // `.between(1, 64)` (durations in milliseconds).
    ConfigSchema& one_of(std::vector<std::string> allowed);
    ConfigSchema& at_least(std::int64_t minimum);
    ConfigSchema& between(std::int64_t minimum, std::int64_t maximum);
    [[nodiscard]] const std::vector<OptionSpec>& options() const { return options_; }
    [[nodiscard]] const OptionSpec* find(const std::string& name) const;
    // A Markdown table of every option (name, environment variable, default, description).
    [[nodiscard]] std::string describe_markdown(const std::string& env_prefix) const;

  private:
    std::vector<OptionSpec> options_;
};

// The options every Gatehouse service has (data directory, Kafka, gRPC, metrics, logging).
ConfigSchema& add_kernel_options(ConfigSchema& schema, const std::string& service_name);

class Config final {
  public:
    // Reads `file` (if given) and the environment (variables starting with `env_prefix`).
    // Throws ConfigError on an unknown key, a value of the wrong type, or an unreadable file.
    static Config load(const ConfigSchema& schema, const std::optional<std::filesystem::path>& file,
                       const std::string& env_prefix = "GATEHOUSE_");

    [[nodiscard]] std::string string(const std::string& name) const;
    [[nodiscard]] std::int64_t integer(const std::string& name) const;
    [[nodiscard]] bool boolean(const std::string& name) const;
    [[nodiscard]] std::chrono::milliseconds duration(const std::string& name) const;
    [[nodiscard]] std::map<std::string, std::string> map(const std::string& name) const;
    // Where the value of `name` came from: "default", the file path, or the environment variable.
    [[nodiscard]] std::string source(const std::string& name) const;

    // Things worth a warning in the log (e.g. a GATEHOUSE_ variable that names no setting).
    [[nodiscard]] const std::vector<std::string>& warnings() const { return warnings_; }

    // Parses "250ms", "30s", "5m", "72h", "2d". Throws std::invalid_argument.
    static std::chrono::milliseconds parse_duration(const std::string& text);

  private:
    struct Value {
        std::string text;
        std::map<std::string, std::string> entries;  // for maps
        std::string source;
    };
    const Value& value(const std::string& name, OptionType type) const;
    std::map<std::string, Value> values_;
    std::map<std::string, OptionType> types_;
    std::vector<std::string> warnings_;
};

}  // namespace gatehouse::kernel
