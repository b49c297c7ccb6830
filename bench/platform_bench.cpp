// platform_bench: the onboarding service measured from outside, as a client sees it.
//
//   platform_bench seed DIR COUNT
//       writes COUNT submitted prospects into the onboarding log in DIR through the kernel (the
//       Prospect decider, its read model and the request-number sequence: exactly what the service
//       writes for a SubmitRequest), non-durably, then one fsync. Prints "seeded N in S s".
//   platform_bench load --target HOST:PORT (--submit | --echo) --requests N
//                       [--concurrency C] [--rate R] [--tag T]
//       gRPC async client: N calls of SubmitRequest (unique, valid requests) or of the same
//       server's grpc.health.v1 Health/Check (the transport's ceiling: a unary call that does no
//       work), either closed-loop with C calls in flight or open-loop at R calls/s (C caps the
//       calls in flight). Prints one line: "T calls=N ok=K rate=X/s p50=A ms p99=B ms max=C ms".
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "domain/prospect.h"
#include "domain/prospect_read_model.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace ob = gatehouse::onboarding;
namespace kernel = gatehouse::kernel;

// A valid request whose email, company name and tax id match no other (no duplicate flags).
ob::v1::SubmitRequestRequest request_for(std::uint64_t n, const std::string& tag) {
    ob::v1::SubmitRequestRequest request;
    auto& company = *request.mutable_company();
    company.set_name("Firm " + tag + " " + std::to_string(n));
    company.mutable_address()->set_street("Hauptstrasse 1");
    company.mutable_address()->set_city("Berlin");
    company.mutable_address()->set_postal_code("10115");
    company.mutable_address()->set_country_code("DE");
    company.set_phone("+49 30 1234567");
    auto& contact = *request.mutable_contact();
    contact.set_first_name("Jane");
    contact.set_last_name("Doe");
    contact.set_email("buyer" + std::to_string(n) + "@" + tag + "-" + std::to_string(n % 1000) + ".example");
    contact.set_phone("+49 30 7654321");
    contact.set_job_title("Purchasing manager");
    return request;
}

int seed(const std::string& dir, std::uint64_t count) {
    const auto started = Clock::now();
    auto store = kernel::EventStore::open(dir, {.durable = false});
    kernel::NumberSequence numbers(*store, "request-number", kernel::NumberFormat("PR-######"));
    kernel::AggregateRuntime<ob::Prospect> prospects(*store, {.producer = "onboarding", .cache_capacity = 1000},
                                                     ob::prospect_read_model());
    (void)prospects.bring_up_to_date();
    constexpr unsigned kThreads = 4;
    std::atomic<std::uint64_t> next{0};
    std::vector<std::thread> writers;
    for (unsigned t = 0; t < kThreads; ++t) {
        writers.emplace_back([&] {
            for (std::uint64_t n = next++; n < count; n = next++) {
                const auto api = request_for(n, "seed");
                ob::SubmitRequest command;
                auto& submitted = command.request;
                submitted.set_request_number(numbers.next());
                *submitted.mutable_company() = api.company();
                *submitted.mutable_contact() = api.contact();
                submitted.set_approval_mode(ob::v1::APPROVAL_MODE_DIRECT);
                const auto now = std::chrono::system_clock::now();
                auto& link = *submitted.mutable_verification();
                link.set_token_hash("seeded-" + std::to_string(n));
                *link.mutable_issued_at() = kernel::to_timestamp(now);
                *link.mutable_expires_at() = kernel::to_timestamp(now + std::chrono::hours(72));
                *submitted.mutable_submitted_at() = kernel::to_timestamp(now);
                const auto result = prospects.execute(submitted.request_number(), command, {.actor = "seed"});
                if (std::holds_alternative<kernel::Rejection>(result)) {
                    std::cerr << "seed: rejected: " << std::get<kernel::Rejection>(result).message << "\n";
                    std::exit(1);
                }
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    store->sync();
    std::printf("seeded %llu in %.1f s (log head %llu)\n", static_cast<unsigned long long>(count),
                std::chrono::duration<double>(Clock::now() - started).count(),
                static_cast<unsigned long long>(store->head().value));
    return 0;
}

struct LoadOptions {
    std::string target;
    bool echo = false;
    std::uint64_t requests = 10'000;
    unsigned concurrency = 32;
    double rate = 0;  // 0: closed loop
    std::string tag = "load";
};

// One call in flight.
struct Call {
    grpc::ClientContext context;
    grpc::Status status;
    ob::v1::SubmitRequestResponse submit_response;
    grpc::health::v1::HealthCheckResponse health_response;
    std::unique_ptr<grpc::ClientAsyncResponseReader<ob::v1::SubmitRequestResponse>> submit;
    std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::health::v1::HealthCheckResponse>> health;
    Clock::time_point started;
};

int load(const LoadOptions& options) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), arguments);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
        std::cerr << "load: cannot connect to " << options.target << "\n";
        return 1;
    }
    auto onboarding = ob::v1::OnboardingService::NewStub(channel);
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::CompletionQueue queue;
    const std::string tag =
        options.tag + std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'007);
    std::mutex mutex;
    std::condition_variable slot_free;
    unsigned in_flight = 0;
    std::uint64_t issued = 0;
    const auto issue = [&](std::uint64_t n) {
        auto* call = new Call;
        call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        call->started = Clock::now();
        if (options.echo) {
            call->health = health->AsyncCheck(&call->context, grpc::health::v1::HealthCheckRequest(), &queue);
            call->health->Finish(&call->health_response, &call->status, call);
        } else {
            call->submit = onboarding->AsyncSubmitRequest(&call->context, request_for(n, tag), &queue);
            call->submit->Finish(&call->submit_response, &call->status, call);
        }
    };
    std::vector<double> latencies_ms;
    latencies_ms.reserve(options.requests);
    std::uint64_t ok = 0;
    std::string first_error;
    const auto started = Clock::now();
    std::thread sender([&] {
        for (std::uint64_t n = 0; n < options.requests; ++n) {
            if (options.rate > 0) {
                std::this_thread::sleep_until(started + std::chrono::duration_cast<Clock::duration>(
                                                            std::chrono::duration<double>(n / options.rate)));
            }
            {
                std::unique_lock lock(mutex);
                slot_free.wait(lock, [&] { return in_flight < options.concurrency; });
                ++in_flight;
                ++issued;
            }
            issue(n);
        }
    });
    for (std::uint64_t done = 0; done < options.requests; ++done) {
        void* tag_pointer = nullptr;
        bool completed = false;
        if (!queue.Next(&tag_pointer, &completed)) {
            break;
        }
        std::unique_ptr<Call> call(static_cast<Call*>(tag_pointer));
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - call->started).count());
        if (call->status.ok()) {
            ++ok;
        } else if (first_error.empty()) {
            first_error = std::to_string(call->status.error_code()) + " " + call->status.error_message();
        }
        {
            std::lock_guard lock(mutex);
            --in_flight;
        }
        slot_free.notify_one();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    sender.join();
    queue.Shutdown();
    return gatehouse::bench::report_load(options.tag, latencies_ms, options.requests, ok, seconds, first_error);
}

int usage() {
    std::cerr << "usage: platform_bench seed DIR COUNT\n"
                 "       platform_bench load --target HOST:PORT (--submit|--echo) --requests N [--concurrency C] "
                 "[--rate R] [--tag T]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 3 && args[0] == "seed") {
            return seed(args[1], std::stoull(args[2]));
        }
        if (!args.empty() && args[0] == "load") {
            LoadOptions options;
            gatehouse::bench::OptionReader()
                .value("--target", [&](const std::string& v) { options.target = v; })
                .flag("--echo", [&] { options.echo = true; })
                .flag("--submit", [&] { options.echo = false; })
                .value("--requests", [&](const std::string& v) { options.requests = std::stoull(v); })
                .value("--concurrency",
                       [&](const std::string& v) { options.concurrency = static_cast<unsigned>(std::stoul(v)); })
                .value("--rate", [&](const std::string& v) { options.rate = std::stod(v); })
                .value("--tag", [&](const std::string& v) { options.tag = v; })
                .read(args, 1);
            if (options.target.empty() || options.concurrency == 0) {
                return usage();
            }
            return load(options);
        }
    } catch (const std::exception& error) {
        std::cerr << "platform_bench: " << error.what() << "\n";
        return 1;
    }
    return usage();
}
