// customers_bench: sign-in and the replication lookups of the customers service as history grows
// (bench/customers.sh runs it against the real gatehouse-customers process).
//
//   customers_bench seed DIR PARTNERS
//       writes PARTNERS partners into the customers log in DIR, each as a CRM-mode approval makes
//       it, through the service's own code (the service's reactions on the customers runtime with
//       its read model and number sequences): the CRM account replicated (an Organization), its
//       contact replicated (a Person), the ProspectApproved that onboards them (hierarchy, admin
//       partner user, invitation), then the admin's password set (the credential in the store's
//       metadata and PasswordSet, as SetPassword writes them; one argon2id hash of kPassword is
//       computed once and used for every user). Non-durably, then one fsync. Two customers and ten
//       events per partner. Prints "seeded N partners (2N customers) in S s (log head H)".
//   customers_bench lookups DIR PARTNERS [--samples K]
//       opens the seeded store (the service stopped) and times, in process, K lookups of random
//       seeded keys of each kind the service makes (sign-in's by email, the replication's by CRM
//       account / contact and by request, the uniqueness check by email, and an unknown email):
//       the index entry alone; through CustomerLookups with a cold aggregate cache (the customer's
//       state read from its stream, as for a customer outside the LRU); and the same call again
//       with the state cached. Prints one line per kind, in µs: "lookup=NAME index_p50=..
//       index_p99=.. cold_p50=.. cold_p99=.. warm_p50=.. warm_p99=.. (us)".
//   customers_bench sign-in --target HOST:PORT --partners N --requests R [--concurrency C]
//       R SignIn calls (C threads, closed loop) with the emails of random seeded admins and the
//       right password. Prints "sign-in calls=R ok=K rate=X/s p50=A ms p99=B ms max=C ms".
//   customers_bench argon2 --requests R [--concurrency C]
//       the baseline: R bare argon2id verifications of a seeded user's hash (the service's
//       interactive limits: 64 MiB, 2 passes) on C threads, in this process. Prints
//       "argon2id calls=R rate=X/s p50=A ms p99=B ms max=C ms".
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/app_context.h"
#include "app/crm_replication.h"
#include "app/customer_lookups.h"
#include "app/invitations.h"
#include "app/master_data.h"
#include "app/partner_onboarding.h"
#include "app/partner_users.h"
#include "bench_support.h"
#include "domain/customer.h"
#include "domain/customer_read_model.h"
#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "reactions/onboarding_reactions.h"
#include "reactions/sales_reactions.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace cu = gatehouse::customers;
namespace kernel = gatehouse::kernel;

// The password of every seeded user (passes the service's password policy).
constexpr const char* kPassword = "bench-Password-2026";

std::string request_number(std::uint64_t n) { return kernel::NumberFormat("PR-#######").format(n + 1); }
std::string account_id(std::uint64_t n) { return kernel::NumberFormat("ACC-#######").format(n + 1); }
std::string contact_id(std::uint64_t n) { return kernel::NumberFormat("CON-#######").format(n + 1); }
std::string email(std::uint64_t n) {
    return "buyer" + std::to_string(n) + "@partner-" + std::to_string(n) + ".example";
}

// A fresh notifier key (the seeded invitations are sealed to it and never opened).
std::string notifier_public_key() {
    unsigned char public_key[crypto_box_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(public_key, secret_key);
    std::string text(sodium_base64_ENCODED_LEN(sizeof public_key, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(text.data(), text.size(), public_key, sizeof public_key,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text.resize(text.find('\0'));
    return text;
}

// The store and number sequences of the customers service, wired as main.cpp wires them.
struct Service {
    std::unique_ptr<kernel::EventStore> store;
    kernel::NumberSequence customer_numbers;
    kernel::NumberSequence hierarchy_numbers;
    kernel::NumberSequence user_numbers;
    cu::InvitationSettings settings;

    Service(const std::string& dir, bool durable)
        : store(kernel::EventStore::open(dir, {.durable = durable})),
          customer_numbers(*store, "customer-number", kernel::NumberFormat("CU-######")),
          hierarchy_numbers(*store, "hierarchy-number", kernel::NumberFormat("CH-######")),
          user_numbers(*store, "user-number", kernel::NumberFormat("U-######")) {
        settings.notifier_public_key = notifier_public_key();
    }
};

// The Customer runtime (with its read model and its aggregate cache of the service's default
// size, store.aggregate_cache_size) and the use cases over it.
struct App {
    cu::CustomerRuntime customers;
    cu::AppContext context;
    cu::CustomerLookups lookups;
    cu::Invitations invitations;
    cu::PartnerUsers users;
    cu::MasterData master_data;
    cu::PartnerOnboarding onboarding;
    cu::CrmReplication replication;

    explicit App(Service& service)
        : customers(*service.store, {.producer = "customers", .cache_capacity = 10'000}, cu::customer_read_model()),
          context(customers, *service.store),
          lookups(context),
          invitations(context, service.settings),
          users(context, lookups, invitations, service.customer_numbers, service.user_numbers),
          master_data(context, lookups, users, service.customer_numbers),
          onboarding(context, lookups, invitations, service.customer_numbers, service.hierarchy_numbers,
                     service.user_numbers),
          replication(context, lookups, master_data, service.customer_numbers) {}
};

// Delivers one event of the stream (aggregate type, id) to the service's reaction as its inbox
// consumer would.
void deliver(App& app, const google::protobuf::Message& message, bool sales, std::uint64_t n,
             const std::string& aggregate_type, const std::string& aggregate_id) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(kernel::new_uuid_v7());
    envelope.set_aggregate_type(aggregate_type);
    envelope.set_aggregate_id(aggregate_id);
    envelope.set_event_type(message.GetDescriptor()->full_name());
    envelope.set_correlation_id("seed-" + std::to_string(n));
    envelope.set_payload(message.SerializeAsString());
    const kernel::InboundEvent event{envelope, sales ? "gatehouse.sales.events.v1" : "gatehouse.onboarding.events.v1",
                                     0, static_cast<std::int64_t>(n),
                                     kernel::InboxConsumer::inbox_key("customers", envelope.event_id())};
    const auto verdict =
        sales ? cu::react_to_sales_event(event, app.replication) : cu::react_to_onboarding_event(event, app.onboarding);
    if (verdict.kind != kernel::HandlerVerdict::Kind::applied) {
        throw std::runtime_error("seed: " + envelope.event_type() + " of partner " + std::to_string(n) +
                                 " not applied: " + verdict.reason);
    }
}

void seed_partner(Service& service, App& parts, std::uint64_t n, const std::string& password_hash) {
    const auto now = kernel::to_timestamp(std::chrono::system_clock::now());
    gatehouse::common::v1::PostalAddress address;
    address.set_street("Hauptstrasse 1");
    address.set_city("Berlin");
    address.set_postal_code("10115");
    address.set_country_code("DE");

    gatehouse::sales::v1::AccountCreated account;
    account.set_account_id(account_id(n));
    account.set_prospect_request_number(request_number(n));
    account.set_name("Partner " + std::to_string(n) + " GmbH");
    *account.mutable_address() = address;
    account.set_phone("+49 30 1234567");
    *account.mutable_changed_at() = now;
    account.set_origin(gatehouse::common::v1::CHANGE_ORIGIN_LOCAL);
    account.set_primary_contact_id(contact_id(n));
    deliver(parts, account, true, n, "account", account.account_id());

    gatehouse::sales::v1::ContactCreated contact;
    contact.set_contact_id(contact_id(n));
    contact.set_account_id(account_id(n));
    contact.set_prospect_request_number(request_number(n));
    contact.set_first_name("Jane");
    contact.set_last_name("Buyer " + std::to_string(n));
    contact.set_email(email(n));
    contact.set_phone("+49 30 7654321");
    contact.set_job_title("Purchasing manager");
    *contact.mutable_changed_at() = now;
    contact.set_origin(gatehouse::common::v1::CHANGE_ORIGIN_LOCAL);
    deliver(parts, contact, true, n, "contact", contact.contact_id());

    gatehouse::onboarding::v1::ProspectApproved approved;
    approved.set_approved_by("crm");
    approved.set_path(gatehouse::onboarding::v1::DECISION_PATH_CRM);
    approved.set_crm_reference("OPP-" + std::to_string(n));
    *approved.mutable_approved_at() = now;
    auto& prospect = *approved.mutable_prospect();
    prospect.set_request_number(request_number(n));
    prospect.set_approval_mode(gatehouse::onboarding::v1::APPROVAL_MODE_CRM);
    prospect.mutable_company()->set_name(account.name());
    *prospect.mutable_company()->mutable_address() = address;
    prospect.mutable_company()->set_phone(account.phone());
    prospect.mutable_contact()->set_first_name(contact.first_name());
    prospect.mutable_contact()->set_last_name(contact.last_name());
    prospect.mutable_contact()->set_email(contact.email());
    prospect.mutable_contact()->set_phone(contact.phone());
    prospect.mutable_contact()->set_job_title(contact.job_title());
    deliver(parts, approved, false, n, "prospect", prospect.request_number());

    // The admin sets their password, as Credentials::set_password writes it (the hash under a
    // fresh credential id in the store's metadata, then PasswordSet naming the id), without
    // computing argon2id again.
    const auto organization = parts.lookups.organization_by_crm_account(account_id(n));
    if (!organization || organization->admin_user_id.empty()) {
        throw std::runtime_error("seed: partner " + std::to_string(n) + " has no administrator");
    }
    const std::string& user_id = organization->admin_user_id;
    const cu::PartnerUserState* admin = organization->user(user_id);
    const std::string credential_id = kernel::new_uuid_v7();
    kernel::Commit commit;
    commit.metadata.emplace_back("credential/" + user_id + "/" + credential_id, password_hash);
    (void)service.store->commit(std::move(commit));
    const auto result = parts.customers.execute(
        organization->created.customer_id(),
        cu::SetPassword{user_id, admin->invitation_id, credential_id, std::chrono::system_clock::now()},
        {.correlation_id = kernel::new_uuid_v7(), .actor = user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        throw std::runtime_error("seed: SetPassword of partner " + std::to_string(n) + ": " + rejection->message);
    }
}

// The argon2id hash of kPassword, as Credentials::set_password computes it.
std::string password_hash() {
    std::string hash(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str(hash.data(), kPassword, std::strlen(kPassword), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        throw std::runtime_error("argon2id failed (out of memory?)");
    }
    hash.resize(std::strlen(hash.c_str()));
    return hash;
}

int seed(const std::string& dir, std::uint64_t partners) {
    const auto started = Clock::now();
    const std::string hash = password_hash();
    Service service(dir, false);
    App parts(service);
    (void)parts.customers.bring_up_to_date();
    constexpr unsigned kThreads = 4;
    std::atomic<std::uint64_t> next{0};
    std::mutex failure_mutex;
    std::string failure;
    std::vector<std::thread> writers;
    for (unsigned t = 0; t < kThreads; ++t) {
        writers.emplace_back([&] {
            try {
                for (std::uint64_t n = next++; n < partners; n = next++) {
                    seed_partner(service, parts, n, hash);
                }
            } catch (const std::exception& error) {
                const std::lock_guard lock(failure_mutex);
                failure = error.what();
                next = partners;
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    if (!failure.empty()) {
        throw std::runtime_error(failure);
    }
    service.store->sync();
    std::printf("seeded %llu partners (%lld customers) in %.1f s (log head %llu)\n",
                static_cast<unsigned long long>(partners), static_cast<long long>(parts.customers.count("all")),
                std::chrono::duration<double>(Clock::now() - started).count(),
                static_cast<unsigned long long>(service.store->head().value));
    return 0;
}

// One kind of lookup: through the use case (index entry, then the customer's state), and the
// index entry alone. Each returns whether it found what the seed wrote for partner n.
struct LookupKind {
    const char* name;
    std::function<bool(const cu::CustomerLookups&, std::uint64_t)> through_app;
    std::function<bool(const cu::CustomerRuntime&, std::uint64_t)> index_only;
};

bool index_hit(const cu::CustomerRuntime& customers, std::string_view index, const kernel::IndexKey& key) {
    return !customers.lookup(index, key, 1).empty();
}

std::vector<LookupKind> lookup_kinds() {
    using cu::customer_index::kCrmAccount;
    using cu::customer_index::kCrmContact;
    using cu::customer_index::kPersonEmail;
    using cu::customer_index::kRequest;
    using cu::customer_index::kUserEmail;
    const auto nobody = [](std::uint64_t n) { return "nobody" + std::to_string(n) + "@unknown.example"; };
    return {
        {"active_user_by_email",  // sign-in
         [](const cu::CustomerLookups& app, std::uint64_t n) { return app.active_user_by_email(email(n)).has_value(); },
         [](const cu::CustomerRuntime& customers, std::uint64_t n) {
             return index_hit(customers, kUserEmail, kernel::IndexKey().text(email(n)));
         }},
        {"unknown_email",  // sign-in with an email no user has: a miss (no state to load)
         [nobody](const cu::CustomerLookups& app, std::uint64_t n) { return !app.active_user_by_email(nobody(n)); },
         [nobody](const cu::CustomerRuntime& customers, std::uint64_t n) {
             return !index_hit(customers, kUserEmail, kernel::IndexKey().text(nobody(n)));
         }},
        {"person_email_taken",  // HQ create, partner-user add (the index entry only, by design)
         [](const cu::CustomerLookups& app, std::uint64_t n) { return app.person_email_taken(email(n)); },
         [](const cu::CustomerRuntime& customers, std::uint64_t n) {
             return index_hit(customers, kPersonEmail, kernel::IndexKey().text(email(n)));
         }},
        {"organization_by_crm_account",  // replication of an account; a contact's organisation
         [](const cu::CustomerLookups& app, std::uint64_t n) {
             return app.organization_by_crm_account(account_id(n)).has_value();
         },
         [](const cu::CustomerRuntime& customers, std::uint64_t n) {
             return index_hit(customers, kCrmAccount, kernel::IndexKey().text(account_id(n)));
         }},
        {"customer_by_crm_contact",  // replication of a contact
         [](const cu::CustomerLookups& app, std::uint64_t n) {
             return app.customer_by_crm_contact(contact_id(n)).has_value();
         },
         [](const cu::CustomerRuntime& customers, std::uint64_t n) {
             return index_hit(customers, kCrmContact, kernel::IndexKey().text(contact_id(n)));
         }},
        {"customer_of_request",  // a CRM-mode approval; a CRM record of a request approved here first
         [](const cu::CustomerLookups& app, std::uint64_t n) {
             return app.customer_of_request(request_number(n), cu::v1::CUSTOMER_TYPE_ORGANIZATION, true).has_value();
         },
         [](const cu::CustomerRuntime& customers, std::uint64_t n) {
             return index_hit(customers, kRequest,
                              cu::request_key(request_number(n), cu::v1::CUSTOMER_TYPE_ORGANIZATION, true));
         }},
    };
}

// Microseconds of one call; throws when it did not find what it should.
template <class Call>
double micros_of(std::uint64_t n, const Call& call) {
    const auto started = Clock::now();
    const bool found = call();
    const double micros = std::chrono::duration<double, std::micro>(Clock::now() - started).count();
    if (!found) {
        throw std::runtime_error("lookups: the lookup for partner " + std::to_string(n) + " found the wrong answer");
    }
    return micros;
}

int lookups(const std::string& dir, std::uint64_t partners, std::size_t samples) {
    Service service(dir, true);
    App shared(service);
    (void)shared.customers.bring_up_to_date();
    if (shared.customers.count("all") != static_cast<std::int64_t>(2 * partners)) {
        std::cerr << "lookups: the store has " << shared.customers.count("all") << " customers, not " << 2 * partners
                  << "\n";
        return 1;
    }
    std::mt19937_64 random(20261130);
    std::uniform_int_distribution<std::uint64_t> pick(0, partners - 1);
    for (const LookupKind& kind : lookup_kinds()) {
        std::vector<double> index;
        std::vector<double> cold;
        std::vector<double> warm;
        for (std::size_t i = 0; i < samples; ++i) {
            const std::uint64_t n = pick(random);
            index.push_back(micros_of(n, [&] { return kind.index_only(shared.customers, n); }));
            // A fresh aggregate cache (not timed): the first call reads the customer's stream, as a
            // lookup of a customer outside the LRU does; the second finds the state cached.
            App fresh(service);
            cold.push_back(micros_of(n, [&] { return kind.through_app(fresh.lookups, n); }));
            warm.push_back(micros_of(n, [&] { return kind.through_app(fresh.lookups, n); }));
        }
        const gatehouse::bench::Samples i(std::move(index));
        const gatehouse::bench::Samples c(std::move(cold));
        const gatehouse::bench::Samples w(std::move(warm));
        std::printf(
            "lookup=%s index_p50=%.1f index_p99=%.1f cold_p50=%.1f cold_p99=%.1f warm_p50=%.1f warm_p99=%.1f "
            "(us)\n",
            kind.name, i.quantile(0.5), i.quantile(0.99), c.quantile(0.5), c.quantile(0.99), w.quantile(0.5),
            w.quantile(0.99));
    }
    return 0;
}

struct SignInOptions {
    std::string target;
    std::uint64_t partners = 1;
    std::uint64_t requests = 200;
    unsigned concurrency = 2;
};

// `requests` calls of `call` on `concurrency` threads, each starting its next call when its last
// one is answered. `call` returns an empty string, or what went wrong. Prints one line.
int closed_loop(const char* tag, const SignInOptions& options,
                const std::function<std::string(std::mt19937_64&)>& call) {
    std::atomic<std::uint64_t> next{0};
    std::atomic<std::uint64_t> ok{0};
    std::mutex mutex;
    std::vector<double> latencies_ms;
    std::string first_error;
    const auto started = Clock::now();
    std::vector<std::thread> callers;
    for (unsigned t = 0; t < options.concurrency; ++t) {
        callers.emplace_back([&, t] {
            std::mt19937_64 random(t + 1);
            std::vector<double> own;
            for (std::uint64_t i = next++; i < options.requests; i = next++) {
                const auto call_started = Clock::now();
                const std::string error = call(random);
                own.push_back(std::chrono::duration<double, std::milli>(Clock::now() - call_started).count());
                if (error.empty()) {
                    ++ok;
                } else {
                    const std::lock_guard lock(mutex);
                    if (first_error.empty()) {
                        first_error = error;
                    }
                }
            }
            const std::lock_guard lock(mutex);
            latencies_ms.insert(latencies_ms.end(), own.begin(), own.end());
        });
    }
    for (auto& caller : callers) {
        caller.join();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return gatehouse::bench::report_load(tag, latencies_ms, options.requests, ok.load(), seconds, first_error);
}

int sign_in(const SignInOptions& options) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), arguments);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
        std::cerr << "sign-in: cannot connect to " << options.target << "\n";
        return 1;
    }
    auto stub = cu::v1::CustomersService::NewStub(channel);
    std::uniform_int_distribution<std::uint64_t> pick(0, options.partners - 1);
    return closed_loop("sign-in", options, [&](std::mt19937_64& random) -> std::string {
        cu::v1::SignInRequest request;
        request.set_email(email(pick(random)));
        request.set_password(kPassword);
        cu::v1::SignInResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        const grpc::Status status = stub->SignIn(&context, request, &response);
        if (status.ok() && !response.session_token().empty()) {
            return {};
        }
        return std::to_string(status.error_code()) + ":" + status.error_message();
    });
}

int argon2(const SignInOptions& options) {
    const std::string hash = password_hash();
    return closed_loop("argon2id", options, [&](std::mt19937_64&) -> std::string {
        return crypto_pwhash_str_verify(hash.c_str(), kPassword, std::strlen(kPassword)) == 0 ? "" : "no match";
    });
}

int usage() {
    std::cerr << "usage: customers_bench seed DIR PARTNERS\n"
                 "       customers_bench lookups DIR PARTNERS [--samples K]\n"
                 "       customers_bench sign-in --target HOST:PORT --partners N --requests R [--concurrency C]\n"
                 "       customers_bench argon2 --requests R [--concurrency C]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (sodium_init() < 0) {
        std::cerr << "customers_bench: libsodium failed to initialise\n";
        return 1;
    }
    try {
        if (args.size() == 3 && args[0] == "seed") {
            return seed(args[1], std::stoull(args[2]));
        }
        if ((args.size() == 3 || args.size() == 5) && args[0] == "lookups") {
            std::size_t samples = 20'000;
            if (args.size() == 5) {
                if (args[3] != "--samples") {
                    return usage();
                }
                samples = std::stoull(args[4]);
            }
            const auto partners = std::stoull(args[2]);
            return partners == 0 || samples == 0 ? usage() : lookups(args[1], partners, samples);
        }
        if (!args.empty() && (args[0] == "sign-in" || args[0] == "argon2")) {
            SignInOptions options;
            gatehouse::bench::OptionReader()
                .value("--target", [&](const std::string& v) { options.target = v; })
                .value("--partners", [&](const std::string& v) { options.partners = std::stoull(v); })
                .value("--requests", [&](const std::string& v) { options.requests = std::stoull(v); })
                .value("--concurrency",
                       [&](const std::string& v) { options.concurrency = static_cast<unsigned>(std::stoul(v)); })
                .read(args, 1);
            if (options.concurrency == 0 || options.partners == 0 || options.requests == 0) {
                return usage();
            }
            if (args[0] == "argon2") {
                return argon2(options);
            }
            return options.target.empty() ? usage() : sign_in(options);
        }
    } catch (const std::exception& error) {
        std::cerr << "customers_bench: " << error.what() << "\n";
        return 1;
    }
    return usage();
}
