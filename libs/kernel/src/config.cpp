#include "gatehouse/kernel/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "gatehouse/kernel/errors.h"

extern char** environ;

namespace gatehouse::kernel {
namespace {

std::string env_name(const std::string& prefix, const std::string& option) {
    std::string name = prefix;
    for (const char c : option) {
        name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    return name;
}

std::string type_name(OptionType type) {
    switch (type) {
        case OptionType::string:
            return "text";
        case OptionType::integer:
            return "an integer";
        case OptionType::boolean:
            return "true or false";
        case OptionType::duration:
            return "a duration such as 500ms, 30s, 5m, 72h";
        case OptionType::map:
            return "a map of key=value pairs";
    }
    return "?";
}

// "k=v,k2=v2" -> map. Values may not contain commas in this syntax (use the YAML file for those).
std::map<std::string, std::string> parse_pairs(const std::string& text) {
    std::map<std::string, std::string> entries;
    std::stringstream in(text);
    std::string pair;
    while (std::getline(in, pair, ',')) {
        if (pair.empty()) {
            continue;
        }
        const auto equals = pair.find('=');
        if (equals == std::string::npos || equals == 0) {
            // Never quoted: the entry may be part of a password (a value cut at a comma).
            throw std::invalid_argument("entry " + std::to_string(entries.size() + 1) +
                                        " is not key=value (entries are separated by commas)");
        }
        entries[pair.substr(0, equals)] = pair.substr(equals + 1);
    }
    return entries;
}

void check_type(const OptionSpec& spec, const std::string& text) {
    switch (spec.type) {
        case OptionType::integer: {
            std::size_t used = 0;
            (void)std::stoll(text, &used);
            if (used != text.size()) {
                throw std::invalid_argument("trailing characters");
            }
            break;
        }
        case OptionType::boolean:
            if (text != "true" && text != "false") {
                throw std::invalid_argument("not a boolean");
            }
            break;
        case OptionType::duration:
            (void)Config::parse_duration(text);
            break;
        case OptionType::map:
            (void)parse_pairs(text);
            break;
        case OptionType::string:
            break;
    }
}

// Flattens a YAML document into dotted names; maps under an option of type map stay maps.
void flatten(const ConfigSchema& schema, const YAML::Node& node, const std::string& prefix,
             std::map<std::string, YAML::Node>& out, const std::string& file) {
    for (const auto& entry : node) {
        const std::string name = (prefix.empty() ? "" : prefix + ".") + entry.first.as<std::string>();
        const OptionSpec* spec = schema.find(name);
        if (entry.second.IsMap() && (spec == nullptr || spec->type != OptionType::map)) {
            flatten(schema, entry.second, name, out, file);
        } else if (spec == nullptr) {
            throw ConfigError(file + ": unknown setting \"" + name + "\" (see docs/configuration.md)");
        } else {
            out[name] = entry.second;
        }
    }
}

}  // namespace

ConfigSchema& ConfigSchema::add(OptionSpec spec) {
    if (find(spec.name) != nullptr) {
        throw std::logic_error("option " + spec.name + " is declared twice");
    }
    options_.push_back(std::move(spec));
    return *this;
}

ConfigSchema& ConfigSchema::one_of(std::vector<std::string> allowed) {
    if (options_.empty() || options_.back().type != OptionType::string) {
        throw std::logic_error("one_of applies to a string option, added last");
    }
    options_.back().allowed = std::move(allowed);
    return *this;
}

ConfigSchema& ConfigSchema::at_least(std::int64_t minimum) {
    if (options_.empty() ||
        (options_.back().type != OptionType::integer && options_.back().type != OptionType::duration)) {
        throw std::logic_error("at_least applies to an integer or duration option, added last");
    }
    options_.back().minimum = minimum;
    return *this;
}

ConfigSchema& ConfigSchema::between(std::int64_t minimum, std::int64_t maximum) {
    at_least(minimum);
    options_.back().maximum = maximum;
    return *this;
}

const OptionSpec* ConfigSchema::find(const std::string& name) const {
    const auto it = std::find_if(options_.begin(), options_.end(), [&](const OptionSpec& o) { return o.name == name; });
    return it == options_.end() ? nullptr : &*it;
}

namespace {

// A bound as the docs and the errors show it: a number, or a duration in its largest whole unit.
std::string bound_text(const OptionSpec& spec, std::int64_t value) {
    if (spec.type != OptionType::duration) {
        return std::to_string(value);
    }
    for (const auto& [unit, millis] : std::initializer_list<std::pair<const char*, std::int64_t>>{
             {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}}) {
        if (value != 0 && value % millis == 0) {
            return std::to_string(value / millis) + unit;
        }
    }
    return std::to_string(value) + "ms";
}

// What the spec accepts beyond its type ("one of `a`, `b`", "from 1 to 64"), or nothing.
std::string accepted_values(const OptionSpec& spec) {
    if (!spec.allowed.empty()) {
        std::string text = "one of ";
        for (std::size_t i = 0; i < spec.allowed.size(); ++i) {
            text += (i == 0 ? "`" : ", `") + spec.allowed[i] + "`";
        }
        return text;
    }
    if (spec.minimum && spec.maximum) {
        return "from " + bound_text(spec, *spec.minimum) + " to " + bound_text(spec, *spec.maximum);
    }
    if (spec.minimum) {
        return "at least " + bound_text(spec, *spec.minimum);
    }
    if (spec.maximum) {
        return "at most " + bound_text(spec, *spec.maximum);
    }
    return {};
}

// Throws ConfigError when a value of the right type is not one the spec accepts.
void check_accepted(const OptionSpec& spec, const std::string& text, const std::string& source) {
    bool accepted = true;
    if (!spec.allowed.empty()) {
        accepted = std::find(spec.allowed.begin(), spec.allowed.end(), text) != spec.allowed.end();
    } else if (spec.minimum || spec.maximum) {
        const std::int64_t value = spec.type == OptionType::duration  ? Config::parse_duration(text).count()
                                   : spec.type == OptionType::integer ? std::stoll(text)
                                                                      : 0;
        accepted = (!spec.minimum || value >= *spec.minimum) && (!spec.maximum || value <= *spec.maximum);
    }
    if (!accepted) {
        throw ConfigError("setting " + spec.name + " (from " + source + "): must be " + accepted_values(spec) +
                          ", got \"" + (spec.secret ? std::string("<secret>") : text) + "\"");
    }
}

}  // namespace

std::string ConfigSchema::describe_markdown(const std::string& env_prefix) const {
    std::string out = "| setting | environment | default | description |\n|---|---|---|---|\n";
    for (const OptionSpec& spec : options_) {
        const std::string shown = spec.secret                  ? "<secret>"
                                  : spec.default_value.empty() ? "(empty)"
                                                               : spec.default_value;
        const std::string accepted = accepted_values(spec);
        out += "| `" + spec.name + "` | `" + env_name(env_prefix, spec.name) + "` | `" + shown + "` | " +
               spec.description + (accepted.empty() ? "" : " Accepted: " + accepted + ".") + " |\n";
    }
    return out;
}

ConfigSchema& add_kernel_options(ConfigSchema& schema, const std::string& service_name) {
    return schema
        .add({"data_dir", OptionType::string, "./data/" + service_name,
              "Directory of the service's RocksDB event log (keep it on a persistent volume)."})
        .add(
            {"store.durable", OptionType::boolean, "true",
             "fsync every commit before acknowledging it; false trades the last commits on a machine crash for speed."})
        .add({.name = "store.aggregate_cache_size",
              .type = OptionType::integer,
              .default_value = "10000",
              .description = "Most aggregate states kept in memory per aggregate type (least recently used ones are "
                             "dropped and loaded from the log again when needed); bounds memory whatever the "
                             "history's size.",
              .minimum = 1})
        .add({.name = "inbox.retry_attempts",
              .type = OptionType::integer,
              .default_value = "10",
              .description = "Attempts of an input event whose handler keeps failing with a retryable error before "
                             "the event is parked (kept aside in the store; later events of the same aggregate wait "
                             "behind it, others go on).",
              .minimum = 1})
        .add({.name = "inbox.retry_budget",
              .type = OptionType::duration,
              .default_value = "5m",
              .description = "The longest an input event is retried before it is parked, whatever its attempts.",
              .minimum = 1})
        .add({.name = "inbox.parked_retry_interval",
              .type = OptionType::duration,
              .default_value = "1m",
              .description = "How often parked input events are retried (also on demand: gatehouse dlq "
                             "retry-parked).",
              .minimum = 1'000})
        .add({"kafka.bootstrap_servers", OptionType::string, "127.0.0.1:9092",
              "Kafka bootstrap servers (host:port,...)."})
        .add({"kafka.client_id", OptionType::string, "gatehouse-" + service_name, "Kafka client id."})
        .add({"kafka.properties", OptionType::map, "",
              "Extra librdkafka properties, e.g. security.protocol=SASL_SSL,sasl.mechanisms=PLAIN,sasl.username=...,"
              "sasl.password=... (TLS / SASL). A secret: never printed.",
              true})
        .add({"kafka.consumer_group_prefix", OptionType::string, "",
              "Prefix of the input consumer groups' names. Change it to re-read every input topic from the "
              "beginning: harmless, events already processed are skipped."})
        .add({"kafka.topic_prefix", OptionType::string, "",
              "Prefix of every topic name the service uses (own, input and dead-letter topics), for shared clusters."})
        .add({"kafka.topic_wait", OptionType::duration, "60s",
              "How long the relay waits for the service's topic before it logs an error; it never gives up (events "
              "stay in the log, the API keeps serving, /readyz says degraded)."})
        .add({"grpc.listen", OptionType::string, "127.0.0.1:0", "gRPC listen address (port 0: any free port, logged)."})
        .add({"grpc.tls_cert", OptionType::string, "", "PEM certificate chain for gRPC TLS; empty: plaintext."})
        .add({"grpc.tls_key", OptionType::string, "", "PEM private key for gRPC TLS.", true})
        .add({"grpc.tls_client_ca", OptionType::string, "",
              "PEM CA certificate(s) for client certificates: when set (with grpc.tls_cert), every client must "
              "present a certificate signed by it (mutual TLS); empty: no client certificate asked."})
        .add({"grpc.trusted_proxies", OptionType::string, "",
              "Comma-separated IP addresses / CIDRs of reverse proxies whose x-forwarded-for header names the "
              "client for per-client limits; empty: the TCP peer is the client."})
        .add({"auth.tokens_file", OptionType::string, "",
              "A file of bearer credentials, one token=role:user_id:email per line (# comments), used beside "
              "auth.tokens and re-read within 5 s when it changes: tokens rotate without a restart. It holds "
              "secrets: owner-only (0600). A version that does not check is logged and not used."})
        .add({"metrics.listen", OptionType::string, "127.0.0.1:0",
              "HTTP address of /metrics (Prometheus text), /healthz and /readyz; empty: disabled."})
        .add({.name = "log.level",
              .type = OptionType::string,
              .default_value = "info",
              .description = "The least severe messages logged.",
              .allowed = {"trace", "debug", "info", "warn", "error", "critical", "off"}})
        .add({"log.json", OptionType::boolean, "false", "Log one JSON object per line."})
        .add({.name = "shutdown.grace",
              .type = OptionType::duration,
              .default_value = "10s",
              .description = "On SIGTERM: time to drain in-flight RPCs and deliveries.",
              .maximum = 600'000});
}

Config Config::load(const ConfigSchema& schema, const std::optional<std::filesystem::path>& file,
                    const std::string& env_prefix) {
    Config config;
    for (const OptionSpec& spec : schema.options()) {
        config.types_[spec.name] = spec.type;
        Value value{spec.default_value, {}, "default"};
        if (spec.type == OptionType::map) {
            value.entries = parse_pairs(spec.default_value);
        }
        config.values_[spec.name] = value;
    }
    if (file) {
        YAML::Node root;
        try {
            root = YAML::LoadFile(file->string());
        } catch (const YAML::Exception& error) {
            throw ConfigError("configuration file " + file->string() + ": " + error.what());
        }
        std::map<std::string, YAML::Node> flat;
        if (root.IsMap()) {
            flatten(schema, root, "", flat, file->string());
        } else if (!root.IsNull()) {
            throw ConfigError("configuration file " + file->string() + ": the top level must be a map");
        }
        for (const auto& [name, node] : flat) {
            const OptionSpec& spec = *schema.find(name);
            Value& value = config.values_[name];
            value.source = file->string();
            if (spec.type == OptionType::map) {
                if (!node.IsMap()) {
                    throw ConfigError("setting " + name + " in " + file->string() + ": expected a map");
                }
                value.entries.clear();
                for (const auto& entry : node) {
                    value.entries[entry.first.as<std::string>()] = entry.second.as<std::string>();
                }
                continue;
            }
            if (!node.IsScalar()) {
                throw ConfigError("setting " + name + " in " + file->string() + ": expected " + type_name(spec.type));
            }
            value.text = node.as<std::string>();
        }
    }
    for (const OptionSpec& spec : schema.options()) {
        const std::string variable = env_name(env_prefix, spec.name);
        if (const char* text = std::getenv(variable.c_str())) {
            Value& value = config.values_[spec.name];
            value.text = text;
            value.source = "environment variable " + variable;
            if (spec.type == OptionType::map) {
                try {
                    value.entries = parse_pairs(text);
                } catch (const std::invalid_argument& error) {
                    throw ConfigError("setting " + spec.name + " (from " + value.source + "): " + error.what());
                }
            }
        }
    }
    // An environment variable with the prefix that names no setting is most likely a typo: warn.
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const char* equals = std::strchr(*entry, '=');
        const std::string variable(*entry, equals ? static_cast<std::size_t>(equals - *entry) : 0);
        // <prefix>CONFIG names the configuration file itself (read by main, see service_main.h).
        if (variable.rfind(env_prefix, 0) != 0 || variable == env_prefix + "CONFIG") {
            continue;
        }
        const bool known = std::any_of(schema.options().begin(), schema.options().end(),
                                       [&](const OptionSpec& o) { return env_name(env_prefix, o.name) == variable; });
        if (!known) {
            config.warnings_.push_back("environment variable " + variable + " names no setting of this service");
        }
    }
    for (const OptionSpec& spec : schema.options()) {
        const Value& value = config.values_[spec.name];
        if (spec.type == OptionType::map) {
            continue;
        }
        try {
            check_type(spec, value.text);
        } catch (const std::exception&) {
            throw ConfigError("setting " + spec.name + " (from " + value.source + "): expected " +
                              type_name(spec.type) + ", got \"" + (spec.secret ? std::string("<secret>") : value.text) +
                              "\"");
        }
        check_accepted(spec, value.text, value.source);
    }
    return config;
}

const Config::Value& Config::value(const std::string& name, OptionType type) const {
    const auto it = values_.find(name);
    if (it == values_.end() || types_.at(name) != type) {
        throw std::logic_error("setting " + name + " is not declared as " + type_name(type));
    }
    return it->second;
}

std::string Config::string(const std::string& name) const { return value(name, OptionType::string).text; }
std::int64_t Config::integer(const std::string& name) const {
    return std::stoll(value(name, OptionType::integer).text);
}
bool Config::boolean(const std::string& name) const { return value(name, OptionType::boolean).text == "true"; }
std::chrono::milliseconds Config::duration(const std::string& name) const {
    return parse_duration(value(name, OptionType::duration).text);
}
std::map<std::string, std::string> Config::map(const std::string& name) const {
    return value(name, OptionType::map).entries;
}
std::string Config::source(const std::string& name) const { return values_.at(name).source; }

std::chrono::milliseconds Config::parse_duration(const std::string& text) {
    std::size_t used = 0;
    long long amount = 0;
    try {
        amount = std::stoll(text, &used);
    } catch (const std::exception&) {
        throw std::invalid_argument("not a duration: " + text);
    }
    const std::string unit = text.substr(used);
    if (amount < 0) {
        throw std::invalid_argument("negative duration: " + text);
    }
    using namespace std::chrono;
    if (unit == "ms") return milliseconds(amount);
    if (unit == "s") return seconds(amount);
    if (unit == "m") return minutes(amount);
    if (unit == "h") return hours(amount);
    if (unit == "d") return hours(24 * amount);
    throw std::invalid_argument("not a duration (use ms, s, m, h or d): " + text);
}

}  // namespace gatehouse::kernel
