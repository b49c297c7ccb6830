// chaos_run: the chaos run of issue 15 (docs/operations.md, "The chaos run"). The four service
// processes on a Kafka broker of the run's own and a real SMTP server; N onboardings across both
// approval modes driven by clients (chaos_clients.h) while each service is killed with SIGKILL at
// random moments and restarted, the broker is stopped for a while (twice by default), the SMTP
// server is down for ten minutes and one service's data volume runs out of space. Afterwards an
// independent checker (chaos_checker.h) compares what the clients were told with the topics, the
// APIs and the emails; the run prints its figures and exits 1 on any violation.
//
// Both approval modes: onboarding's approval mode alternates with each of its (re)starts (direct,
// crm, direct, ...), as an operator changing the setting would; a request keeps the mode it was
// submitted in (GetProspect tells the clients which).
//
// Settings (environment; durations as 90s, 10m, 500ms):
//   GATEHOUSE_CHAOS=1                      run at all (otherwise: skipped, exit 77, as ctest wants)
//   GATEHOUSE_CHAOS_ONBOARDINGS=1000       onboardings
//   GATEHOUSE_CHAOS_KILLS=10               SIGKILLs per service, at random moments of the window
//   GATEHOUSE_CHAOS_BROKER_OUTAGES=2       broker stops (kafka.sh stop), each for
//   GATEHOUSE_CHAOS_BROKER_OUTAGE=60s
//   GATEHOUSE_CHAOS_SMTP_OUTAGE=10m        the SMTP server down (0: no outage)
//   GATEHOUSE_CHAOS_DISK_FULL=2m           the data volume full (0: no disk fault)
//   GATEHOUSE_CHAOS_DISK_SERVICE=onboarding  whose data directory is on the volume
//   GATEHOUSE_CHAOS_VOLUME_SIZE=32m        the tmpfs's size (below RocksDB's 35 MiB WAL preallocation)
//   GATEHOUSE_CHAOS_WINDOW=22m             how long faults are injected (submissions: its first 85 %)
//   GATEHOUSE_CHAOS_WORKERS=16             client threads
//   GATEHOUSE_CHAOS_SEED=<time>            the random schedule (printed; give it to repeat a run)
//   GATEHOUSE_CHAOS_DIR=<mktemp>           work directory (logs of every process); kept on failure
//   GATEHOUSE_CHAOS_KEEP=1                 keep the work directory after a passing run too
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chaos_checker.h"
#include "chaos_clients.h"
#include "chaos_world.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/wait_until.h"

namespace {

using namespace gatehouse::chaos;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr int kSkipped = 77;
constexpr int kNotifierParallelism = 4;

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// "90" (seconds), "90s", "10m", "1h", "500ms".
milliseconds duration_of(const char* name, const std::string& fallback) {
    const std::string text = env_or(name, fallback);
    std::size_t end = 0;
    double number = 0;
    try {
        number = std::stod(text, &end);
    } catch (const std::exception&) {
        throw std::runtime_error(std::string(name) + ": expected a duration such as 90s, 10m or 500ms, got \"" + text +
                                 "\"");
    }
    const std::string unit = text.substr(end);
    double factor = 0;
    if (unit.empty() || unit == "s") {
        factor = 1000;
    } else if (unit == "ms") {
        factor = 1;
    } else if (unit == "m") {
        factor = 60'000;
    } else if (unit == "h") {
        factor = 3'600'000;
    } else {
        throw std::runtime_error(std::string(name) + ": unknown unit \"" + unit + "\" (ms, s, m, h)");
    }
    if (number < 0) {
        throw std::runtime_error(std::string(name) + ": must not be negative");
    }
    return milliseconds(static_cast<std::int64_t>(number * factor));
}

int number_of(const char* name, int fallback) {
    const std::string text = env_or(name, std::to_string(fallback));
    try {
        const int value = std::stoi(text);
        if (value >= 0) {
            return value;
        }
    } catch (const std::exception&) {
    }
    throw std::runtime_error(std::string(name) + ": expected a whole number >= 0, got \"" + text + "\"");
}

std::string seconds(milliseconds duration) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << static_cast<double>(duration.count()) / 1000.0 << " s";
    return text.str();
}

struct Options final {
    int onboardings = 0;
    int kills = 0;
    int broker_outages = 0;
    milliseconds broker_outage{};
    milliseconds smtp_outage{};
    milliseconds disk_full{};
    std::string disk_service;
    std::string volume_size;
    milliseconds window{};
    int workers = 0;
    std::uint64_t seed = 0;
    std::filesystem::path dir;
    bool keep = false;

    static Options from_environment() {
        Options options;
        options.onboardings = number_of("GATEHOUSE_CHAOS_ONBOARDINGS", 1000);
        options.kills = number_of("GATEHOUSE_CHAOS_KILLS", 10);
        options.broker_outages = number_of("GATEHOUSE_CHAOS_BROKER_OUTAGES", 2);
        options.broker_outage = duration_of("GATEHOUSE_CHAOS_BROKER_OUTAGE", "60s");
        options.smtp_outage = duration_of("GATEHOUSE_CHAOS_SMTP_OUTAGE", "10m");
        options.disk_full = duration_of("GATEHOUSE_CHAOS_DISK_FULL", "2m");
        options.disk_service = env_or("GATEHOUSE_CHAOS_DISK_SERVICE", "onboarding");
        options.volume_size = env_or("GATEHOUSE_CHAOS_VOLUME_SIZE", "32m");
        options.window = duration_of("GATEHOUSE_CHAOS_WINDOW", "22m");
        options.workers = std::max(1, number_of("GATEHOUSE_CHAOS_WORKERS", 16));
        options.seed = std::stoull(
            env_or("GATEHOUSE_CHAOS_SEED",
                   std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'000)));
        options.keep = env_or("GATEHOUSE_CHAOS_KEEP", "0") == "1";
        const std::string dir = env_or("GATEHOUSE_CHAOS_DIR", "");
        if (dir.empty()) {
            std::string pattern = (std::filesystem::temp_directory_path() / "gatehouse-chaos-XXXXXX").string();
            if (::mkdtemp(pattern.data()) == nullptr) {
                throw std::runtime_error("cannot create a work directory under " +
                                         std::filesystem::temp_directory_path().string());
            }
            options.dir = pattern;
        } else {
            options.dir = dir;
            std::filesystem::create_directories(options.dir);
        }
        for (const char* service : {"onboarding", "customers", "sales-bridge", "notifier"}) {
            if (options.disk_service == service) {
                return options.validated();
            }
        }
        throw std::runtime_error(
            "GATEHOUSE_CHAOS_DISK_SERVICE: onboarding, customers, sales-bridge or notifier, got \"" +
            options.disk_service + "\"");
    }

    // The faults must fit in the window (see the schedule in main()).
    Options validated() const {
        if (smtp_outage > window * 87 / 100) {
            throw std::runtime_error("GATEHOUSE_CHAOS_WINDOW (" + seconds(window) +
                                     ") is too short for GATEHOUSE_CHAOS_SMTP_OUTAGE (" + seconds(smtp_outage) +
                                     "): the outage starts at 8 % of the window and must end before 95 %");
        }
        if (disk_full > window * 35 / 100) {
            throw std::runtime_error("GATEHOUSE_CHAOS_DISK_FULL must be at most 35 % of GATEHOUSE_CHAOS_WINDOW");
        }
        return *this;
    }
};

// The notifier's key pair (as gatehouse-keygen prints it: base64url without padding).
struct KeyPair final {
    std::string public_text;
    std::string secret_text;
};
KeyPair new_key_pair() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    unsigned char public_key[crypto_box_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(public_key, secret_key);
    auto text = [](const unsigned char* bytes, std::size_t size) {
        std::string encoded(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
        sodium_bin2base64(encoded.data(), encoded.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        encoded.resize(encoded.find('\0'));
        return encoded;
    };
    KeyPair pair{text(public_key, sizeof public_key), text(secret_key, sizeof secret_key)};
    sodium_memzero(secret_key, sizeof secret_key);
    return pair;
}

// One fault of the schedule: returns false when it cannot happen now (tried again 2 s later).
struct Action final {
    std::string label;
    std::function<bool()> run;
};

// What happened, for the figures.
struct Outage final {
    std::string what;
    milliseconds length{};
};

std::string format_elapsed(Clock::time_point start) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
    std::ostringstream text;
    text << "[" << std::setw(2) << std::setfill('0') << elapsed / 60 << ":" << std::setw(2) << elapsed % 60 << "]";
    return text.str();
}

int run() {
    if (env_or("GATEHOUSE_CHAOS", "0") != "1") {
        std::cout << "chaos_run: skipped (opt-in: GATEHOUSE_CHAOS=1; see docs/operations.md, \"The chaos run\")\n";
        return kSkipped;
    }
    const Options options = Options::from_environment();
    const auto run_started = Clock::now();
    auto log = [&](const std::string& line) { std::cout << format_elapsed(run_started) << " " << line << std::endl; };
    log("chaos run: seed " + std::to_string(options.seed) + ", " + std::to_string(options.onboardings) +
        " onboardings, " + std::to_string(options.kills) + " kills per service, " +
        std::to_string(options.broker_outages) + " broker outages of " + seconds(options.broker_outage) +
        ", SMTP down " + seconds(options.smtp_outage) + ", " + options.disk_service + "'s volume full " +
        seconds(options.disk_full) + ", fault window " + seconds(options.window) + "; work directory " +
        options.dir.string());

    // ---------------------------------------------------------------- the world
    std::filesystem::create_directories(options.dir / "logs");
    ChaosBroker broker(options.dir / "kafka");
    broker.start();
    log("broker serving on " + broker.bootstrap());
    ::setenv("GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE", broker.bootstrap_file().c_str(), 1);
    gatehouse::testing::KafkaTestCluster kafka;  // the run's broker, with its admin credentials
    const std::string prefix = "chaos-" + std::to_string(options.seed) + ".";
    for (const char* service : {"onboarding", "customers", "sales", "notifier"}) {
        kafka.create_topic(prefix + "gatehouse." + service + ".events.v1", 3);
    }
    for (const char* service : {"onboarding", "customers", "sales-bridge", "notifier"}) {
        kafka.create_topic(prefix + "gatehouse." + service + ".dead-letters.v1", 1);
    }

    // The services inherit this process's environment: the run's own settings are not theirs.
    std::vector<std::string> own_settings = {"GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE"};
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string assignment = *entry;
        if (assignment.rfind("GATEHOUSE_CHAOS", 0) == 0) {
            own_settings.push_back(assignment.substr(0, assignment.find('=')));
        }
    }
    for (const auto& name : own_settings) {
        ::unsetenv(name.c_str());
    }

    ChaosSmtp smtp(options.dir / "smtp");
    smtp.start();
    std::optional<DataVolume> volume;
    if (options.disk_full.count() > 0) {
        volume.emplace(options.dir / "volume", options.volume_size);
        if (!volume->mounted()) {
            std::cout << "\n*** DISK FAULT SKIPPED: cannot mount the data volume (" << volume->why_not()
                      << "). Run as root (or with CAP_SYS_ADMIN) to include it. ***\n\n";
        }
    }
    const KeyPair keys = new_key_pair();
    const std::map<std::string, std::string> common = {
        {"GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap()},
        {"GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix},
        {"GATEHOUSE_KAFKA_PROPERTIES", kafka.client_properties()},
        {"GATEHOUSE_LOG_LEVEL", "warn"},
        {"GATEHOUSE_NOTIFIER_PUBLIC_KEY", keys.public_text},
        {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "10000"},
        {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "10000"},
    };
    auto with = [&](std::map<std::string, std::string> own) {
        own.insert(common.begin(), common.end());
        return own;
    };
    const std::string hq = std::string(kHqToken) + "=hq:hilda:hilda@hq.example";
    const std::string operator_token = std::string(kOperatorToken) + "=operator:otto:otto@ops.example";
    const std::map<std::string, std::map<std::string, std::string>> settings = {
        {"onboarding", with({{"GATEHOUSE_RATE_LIMIT_SUBMITS_PER_SECOND", "0"},
                             {"GATEHOUSE_AUTH_TOKENS", hq + "," + operator_token}})},
        {"customers", with({{"GATEHOUSE_AUTH_TOKENS", hq + "," + operator_token}})},
        {"sales-bridge", with({{"GATEHOUSE_AUTH_TOKENS", std::string(kSalesToken) + "=sales:sam:sam@sales.example," +
                                                             kSalesManagerToken +
                                                             "=sales-manager:mia:mia@sales.example," + operator_token},
                               {"GATEHOUSE_SALES_USERS", std::string(kSalesUser) + "=sam@sales.example"}})},
        {"notifier", with({{"GATEHOUSE_NOTIFIER_SECRET_KEY", keys.secret_text},
                           {"GATEHOUSE_EMAIL_TRANSPORT", "smtp"},
                           {"GATEHOUSE_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp.port())},
                           {"GATEHOUSE_SMTP_TLS", "none"},
                           {"GATEHOUSE_SMTP_TIMEOUT", "10s"},
                           {"GATEHOUSE_LINKS_BASE_URL", "https://shop.example"},
                           // Must outlast the SMTP outage (it does: 24 h, the default, stated here).
                           {"GATEHOUSE_DELIVERY_RETRY_FOR", "24h"},
                           {"GATEHOUSE_DELIVERY_PARALLELISM", std::to_string(kNotifierParallelism)},
                           {"GATEHOUSE_DELIVERY_BACKOFF_MAX", "15s"},
                           {"GATEHOUSE_AUTH_TOKENS", operator_token}})},
    };
    const std::map<std::string, std::string> binaries = {{"onboarding", GATEHOUSE_ONBOARDING_BINARY},
                                                         {"customers", GATEHOUSE_CUSTOMERS_BINARY},
                                                         {"sales-bridge", GATEHOUSE_SALES_BINARY},
                                                         {"notifier", GATEHOUSE_NOTIFIER_BINARY}};
    std::vector<std::unique_ptr<SupervisedService>> services;
    for (const char* name : {"onboarding", "customers", "sales-bridge", "notifier"}) {
        const bool on_volume = volume && volume->mounted() && options.disk_service == name;
        std::function<std::map<std::string, std::string>(int)> per_start;
        if (std::string(name) == "onboarding") {
            per_start = [](int start) {
                return std::map<std::string, std::string>{
                    {"GATEHOUSE_ONBOARDING_APPROVAL_MODE", start % 2 == 0 ? "direct" : "crm"}};
            };
        }
        services.push_back(
            std::make_unique<SupervisedService>(name, binaries.at(name), settings.at(name),
                                                on_volume ? volume->path() / "data" : options.dir / "data" / name,
                                                options.dir / "logs" / (std::string(name) + ".log"), per_start));
    }
    auto service = [&](const std::string& name) -> SupervisedService& {
        for (auto& candidate : services) {
            if (candidate->name() == name) {
                return *candidate;
            }
        }
        throw std::logic_error("no service " + name);
    };
    for (auto& each : services) {
        each->start();
    }
    for (auto& each : services) {
        if (!each->wait_ready(90s)) {
            throw std::runtime_error(each->name() + " did not become ready within 90 s; its log: " +
                                     (options.dir / "logs" / (each->name() + ".log")).string());
        }
    }
    auto supervise = [&] {
        for (auto& each : services) {
            each->supervise();
        }
    };
    log("services ready: onboarding :" + std::to_string(service("onboarding").grpc_port()) +
        ", customers :" + std::to_string(service("customers").grpc_port()) +
        ", sales-bridge :" + std::to_string(service("sales-bridge").grpc_port()) +
        ", notifier :" + std::to_string(service("notifier").grpc_port()) + "; SMTP :" + std::to_string(smtp.port()));

    // ---------------------------------------------------------------- the clients
    const ServiceChannels channels{service("onboarding").channel(), service("customers").channel(),
                                   service("sales-bridge").channel(), service("notifier").channel()};
    DriverSettings driver_settings;
    driver_settings.onboardings = options.onboardings;
    driver_settings.submit_window = options.window * 85 / 100;
    driver_settings.workers = options.workers;
    driver_settings.seed = options.seed;
    driver_settings.stall_timeout = options.smtp_outage + 10min;
    Driver driver(driver_settings, channels, smtp.dir());

    // ---------------------------------------------------------------- the schedule
    const auto start = Clock::now();
    const auto at = [&](double share) {
        return start + std::chrono::duration_cast<Clock::duration>(options.window * share);
    };
    std::multimap<Clock::time_point, Action> schedule;
    std::vector<Outage> outages;
    std::mt19937_64 random(options.seed ^ 0x5eedULL);
    std::uniform_real_distribution<double> moment(0.03, 0.97);
    for (auto& each : services) {
        SupervisedService* target = each.get();
        for (int k = 0; k < options.kills; ++k) {
            schedule.emplace(at(moment(random)),
                             Action{"SIGKILL " + target->name(), [target] { return target->kill9(); }});
        }
    }
    if (options.smtp_outage.count() > 0) {
        auto smtp_down_since = std::make_shared<Clock::time_point>();
        schedule.emplace(at(0.08), Action{"SMTP server stopped", [&, smtp_down_since] {
                                              smtp.stop();
                                              *smtp_down_since = Clock::now();
                                              return true;
                                          }});
        schedule.emplace(at(0.08) + options.smtp_outage,
                         Action{"SMTP server started", [&, smtp_down_since] {
                                    smtp.start();
                                    outages.push_back({"SMTP server down", std::chrono::duration_cast<milliseconds>(
                                                                               Clock::now() - *smtp_down_since)});
                                    return true;
                                }});
    }
    for (int k = 0; k < options.broker_outages; ++k) {
        const double share = options.broker_outages == 1 ? 0.25 : 0.25 + 0.55 * k / (options.broker_outages - 1);
        auto down_since = std::make_shared<Clock::time_point>();
        schedule.emplace(at(share), Action{"broker stopped (kafka.sh stop)", [&, down_since] {
                                               *down_since = Clock::now();
                                               broker.stop();
                                               return true;
                                           }});
        schedule.emplace(at(share) + options.broker_outage,
                         Action{"broker started (kafka.sh start)", [&, down_since] {
                                    broker.start();
                                    outages.push_back({"broker away", std::chrono::duration_cast<milliseconds>(
                                                                          Clock::now() - *down_since)});
                                    return true;
                                }});
    }
    std::uintmax_t volume_peak = 0;
    bool volume_full = false;  // while true the volume is topped up every second: a restarted service
                               // frees space (its recovery drops the old write-ahead log)
    if (volume && volume->mounted()) {
        auto full_since = std::make_shared<Clock::time_point>();
        schedule.emplace(at(0.60), Action{options.disk_service + "'s data volume filled", [&, full_since] {
                                              const auto written = volume->fill();
                                              volume_full = true;
                                              *full_since = Clock::now();
                                              log("  (" + std::to_string(written >> 20) + " MiB of filler; " +
                                                  std::to_string(volume->usage().first >> 10) + " KiB in use of " +
                                                  std::to_string(volume->usage().second >> 10) + " KiB)");
                                              return true;
                                          }});
        schedule.emplace(
            at(0.60) + options.disk_full,
            Action{options.disk_service + "'s data volume freed", [&, full_since] {
                       volume_full = false;
                       volume->free();
                       outages.push_back({options.disk_service + "'s data volume full",
                                          std::chrono::duration_cast<milliseconds>(Clock::now() - *full_since)});
                       return true;
                   }});
    }

    // ---------------------------------------------------------------- the run
    driver.start();
    const auto window_end = start + options.window;
    auto last_fill = Clock::now();
    std::uintmax_t volume_refilled = 0;
    auto last_report = Clock::now();
    auto report_progress = [&] {
        std::string states;
        for (auto& each : services) {
            states += " " + each->name() +
                      (each->ready()     ? " up"
                       : each->running() ? " starting"
                                         : " down") +
                      "(" + std::to_string(each->starts()) + ")";
        }
        log("submitted " + std::to_string(driver.submitted()) + "/" + std::to_string(options.onboardings) +
            ", verified " + std::to_string(driver.verified()) + ", decided " + std::to_string(driver.decided()) +
            ", given up " + std::to_string(driver.given_up()) + " |" + states + " | smtp " +
            (smtp.running() ? "up" : "DOWN") + ", broker " + (broker.running() ? "up" : "DOWN"));
        last_report = Clock::now();
    };
    // Every 100 ms: supervise the services, keep the volume full, run the faults that are due.
    (void)gatehouse::testing::wait_until(
        [&] {
            if (schedule.empty() && Clock::now() >= window_end) {
                return true;
            }
            supervise();
            if (volume && volume->mounted() && Clock::now() < at(0.60)) {
                volume_peak = std::max(volume_peak, volume->usage().first);
            }
            if (volume_full && Clock::now() - last_fill > 1s) {
                volume_refilled += volume->fill();
                last_fill = Clock::now();
            }
            while (!schedule.empty() && schedule.begin()->first <= Clock::now()) {
                auto action = schedule.begin()->second;
                schedule.erase(schedule.begin());
                if (action.run()) {
                    log(action.label);
                } else {
                    schedule.emplace(Clock::now() + 2s, std::move(action));  // not running now: a moment later
                }
            }
            if (Clock::now() - last_report > 30s) {
                report_progress();
            }
            return false;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(options.window + 24h),
        100ms);  // ends with the window and its schedule; the bound is only a backstop
    log("fault window over; waiting for the clients to finish");
    (void)gatehouse::testing::wait_until(
        [&] {
            if (driver.all_finished()) {
                return true;
            }
            supervise();
            if (Clock::now() - last_report > 30s) {
                report_progress();
            }
            return false;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(driver_settings.stall_timeout + 5min), 100ms);
    driver.stop();
    report_progress();

    // ---------------------------------------------------------------- the checker
    int notifier_kills = service("notifier").kills();
    for (const auto& [status, count] : service("notifier").unexpected_exits()) {
        notifier_kills += count;  // a crash of the notifier opens the same window as a kill
    }
    CheckerInputs inputs;
    inputs.onboardings = &driver.onboardings();
    inputs.channels = channels;
    inputs.mailbox_dir = smtp.dir();
    inputs.bootstrap = broker.bootstrap();
    inputs.kafka_properties = kafka.sasl_properties();
    inputs.topic_prefix = prefix;
    inputs.notifier_kills = notifier_kills;
    inputs.notifier_parallelism = kNotifierParallelism;
    const auto settled = wait_until_settled(inputs, 10min, supervise);
    log("settled after " + seconds(settled) + "; checking");
    const CheckReport report = check(inputs);
    const auto total = std::chrono::duration_cast<milliseconds>(Clock::now() - run_started);

    // ---------------------------------------------------------------- the figures
    std::cout << "\n== chaos run figures (seed " << options.seed << ") ==\n";
    for (const auto& line : report.lines) {
        std::cout << "  " << line << "\n";
    }
    for (auto& each : services) {
        std::cout << "  " << each->name() << ": " << each->kills() << " SIGKILLs (target " << options.kills << "), "
                  << each->starts() << " starts, slowest start " << seconds(each->slowest_start());
        for (const auto& [status, count] : each->unexpected_exits()) {
            std::cout << ", exited by itself with status " << status << " x" << count;
        }
        std::cout << "\n";
    }
    for (const auto& outage : outages) {
        std::cout << "  " << outage.what << ": " << seconds(outage.length) << "\n";
    }
    if (volume && !volume->mounted()) {
        std::cout << "  disk fault: SKIPPED (" << volume->why_not() << ")\n";
    } else if (volume) {
        std::cout << "  " << options.disk_service << "'s data volume: tmpfs of " << options.volume_size
                  << ", peak use before the fault " << (volume_peak >> 10) << " KiB; space the service freed "
                  << "during the fault (taken again by the filler) " << (volume_refilled >> 10) << " KiB\n";
    }
    std::cout << "  client answers:";
    for (const auto& [rpc, codes] : driver.answers()) {
        std::cout << " " << rpc << "{";
        bool first = true;
        for (const auto& [code, count] : codes) {
            std::cout << (first ? "" : " ") << code << ":" << count;
            first = false;
        }
        std::cout << "}";
    }
    std::cout << " (status codes: 0 OK, 2 UNKNOWN, 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 9 FAILED_PRECONDITION, "
                 "10 ABORTED, 14 UNAVAILABLE)\n";
    std::cout << "  settle time after the clients finished: " << seconds(settled) << "; total time " << seconds(total)
              << "\n";

    // ---------------------------------------------------------------- the end
    for (auto it = services.rbegin(); it != services.rend(); ++it) {
        const int status = (*it)->stop();
        if (status != 0 && status != -1) {
            std::cout << "  note: " << (*it)->name() << " exited with status " << status << " on SIGTERM\n";
        }
    }
    smtp.stop();
    broker.stop();
    volume.reset();
    if (!report.passed()) {
        std::cout << "\nCHAOS RUN FAILED: " << report.violations.size() << " violation(s):\n";
        for (const auto& violation : report.violations) {
            std::cout << "  - " << violation << "\n";
        }
        std::cout << "work directory kept: " << options.dir.string() << " (logs/*.log, smtp/, kafka/)\n";
        return 1;
    }
    std::cout << "\nCHAOS RUN PASSED\n";
    if (options.keep) {
        std::cout << "work directory kept: " << options.dir.string() << "\n";
    } else {
        std::filesystem::remove_all(options.dir);
    }
    return 0;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& error) {
        std::cerr << "chaos_run: " << error.what() << std::endl;
        return 1;
    }
}
