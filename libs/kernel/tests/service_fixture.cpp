// kernel_service_fixture: a minimal service on the kernel's ServiceRuntime, for the runtime tests.
// It mirrors counter events from its input topic into its own log, relays them to its own topic,
// and prints "ready GRPC_PORT METRICS_PORT" on stdout once ready.
#include <iostream>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/service_runtime.h"

using namespace gatehouse::kernel;
using gatehouse::testing::Counter;

int main() {
    try {
        ConfigSchema schema;
        add_kernel_options(schema, "fixture");
        schema.add({"fixture.input_topic", OptionType::string, "fixture.in", "Topic to mirror."});
        schema.add({"fixture.output_topic", OptionType::string, "fixture.out", "Topic to relay to."});
        const char* file = std::getenv("GATEHOUSE_CONFIG");
        Config config = Config::load(schema, file ? std::optional<std::filesystem::path>(file) : std::nullopt);
        ServiceRuntime runtime("fixture", config);
        AggregateRuntime<Counter> counters(runtime.store(), runtime.aggregate_options(),
                                           gatehouse::testing::counter_read_model());
        runtime.add_read_model(counters);
        runtime.relay_to(config.string("fixture.output_topic"));
        runtime.consume({config.string("fixture.input_topic")}, "", [&](const InboundEvent& event) {
            const std::string& id = event.envelope.aggregate_id();
            if (!counters.find(id)) {
                (void)counters.execute(id, Counter::Create{id}, {.inbox_key = event.inbox_key});
                return HandlerVerdict::applied();
            }
            auto result = counters.execute(id, Counter::Increment{1, ""}, {.inbox_key = event.inbox_key});
            return std::holds_alternative<Rejection>(result) ? HandlerVerdict::ignored() : HandlerVerdict::applied();
        });
        bool first_ran = false;
        runtime.on_ready([&] {
            first_ran = true;
            std::cout << "ready " << runtime.grpc_port() << " " << runtime.metrics_port() << std::endl;
        });
        // A second callback runs too, after the first (the notifier adds one per part).
        runtime.on_ready([&] { std::cout << "second on_ready after the first: " << first_ran << std::endl; });
        return runtime.run();
    } catch (const ConfigError& error) {
        std::cerr << "configuration error: " << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "fatal: " << error.what() << "\n";
        return 1;
    }
}
