#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using gatehouse::testing::Counter;
using gatehouse::testing::counter_read_model;
using gatehouse::testing::TempDir;

namespace {

void require_accepted(const CommandResult<Counter::Event>& result) {
    if (const auto* rejection = std::get_if<Rejection>(&result)) {
        FAIL("rejected: " << rejection->message);
    }
}

std::vector<std::string> ids_of(const std::vector<IndexHit>& hits) {
    std::vector<std::string> ids;
    for (const IndexHit& hit : hits) {
        ids.push_back(hit.aggregate_id);
    }
    return ids;
}

}  // namespace

TEST_CASE("index keys keep the intended order", "[read_model]") {
    CHECK(IndexKey().text("ab").bytes() < IndexKey().text("abc").bytes());
    CHECK(IndexKey().text("ab").text("z").bytes() < IndexKey().text("abc").text("a").bytes());
    CHECK(IndexKey().text(std::string("a\0b", 3)).bytes() > IndexKey().text("a").bytes());
    CHECK(IndexKey().i64(-5).bytes() < IndexKey().i64(3).bytes());
    CHECK(IndexKey().i64(3).bytes() < IndexKey().i64(1'000'000'000'000).bytes());
    CHECK(IndexKey().i64_descending(10).bytes() < IndexKey().i64_descending(-10).bytes());
    CHECK(IndexKey().u64(255).bytes() < IndexKey().u64(256).bytes());
    CHECK(IndexKey().text_descending("b").bytes() < IndexKey().text_descending("ab").bytes());
    CHECK(IndexKey().text_descending("LEAD-10").bytes() < IndexKey().text_descending("LEAD-1").bytes());
    CHECK(IndexKey().text_descending("LEAD-1").text("z").bytes() <
          IndexKey().text_descending("LEAD-0").text("a").bytes());
    const std::string cursor = IndexKey().text("x").u64(7).bytes();
    CHECK(index_layout::token_to_cursor(index_layout::cursor_to_token(cursor)) == cursor);
    CHECK_FALSE(index_layout::token_to_cursor("zz"));
    CHECK_FALSE(index_layout::token_to_cursor("abc"));
}

TEST_CASE("given commands when looking up then the index follows every change", "[read_model]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"}, counter_read_model());
    require_accepted(counters.execute("c1", Counter::Create{"alpha"}));
    require_accepted(counters.execute("c2", Counter::Create{"beta"}));
    require_accepted(counters.execute("c3", Counter::Create{"alpha"}));
    CHECK(ids_of(counters.lookup("by_name", IndexKey().text("alpha"))) == std::vector<std::string>{"c1", "c3"});
    CHECK(counters.lookup("by_name", IndexKey().text("alph")).empty());  // a text segment matches whole
    CHECK(counters.count("open") == 3);

    require_accepted(counters.execute("c2", Counter::Increment{5, ""}));
    require_accepted(counters.execute("c3", Counter::Increment{2, ""}));
    CHECK(ids_of(counters.lookup("by_value", {})) == std::vector<std::string>{"c2", "c3", "c1"});
    const auto beta = counters.lookup("by_name", IndexKey().text("beta"));
    REQUIRE(beta.size() == 1);
    CHECK(beta[0].value == "5");
    CHECK(beta[0].cursor == index_layout::cursor_of(IndexKey().text("beta"), "c2"));

    require_accepted(counters.execute("c1", Counter::Close{"done"}));
    CHECK(counters.count("open") == 2);
    CHECK(counters.count("closed") == 1);
    CHECK(ids_of(counters.lookup("open_by_increments", {})) == std::vector<std::string>{"c2", "c3"});
    // A rejected command changes nothing.
    CHECK(std::holds_alternative<Rejection>(counters.execute("c1", Counter::Increment{1, ""})));
    CHECK(counters.count("closed") == 1);
    CHECK(counters.differences_from_log().empty());
}

TEST_CASE("pages continue after the previous page's cursor and see no entry twice", "[read_model]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"}, counter_read_model());
    for (int c = 0; c < 25; ++c) {
        require_accepted(counters.execute("c" + std::to_string(100 + c), Counter::Create{"same"}));
    }
    std::vector<std::string> seen;
    std::string after;
    int pages = 0;
    do {
        const IndexPage page = counters.page("by_name", IndexKey().text("same"), after, 10);
        for (const auto& hit : page.hits) {
            seen.push_back(hit.aggregate_id);
        }
        after = page.next_cursor;
        ++pages;
        // Changes between pages do not repeat or skip untouched entries.
        if (pages == 1) {
            require_accepted(counters.execute("c100", Counter::Increment{1, ""}));
        }
    } while (!after.empty());
    CHECK(pages == 3);
    REQUIRE(seen.size() == 25);
    for (int c = 0; c < 25; ++c) {
        CHECK(seen[c] == "c" + std::to_string(100 + c));
    }
    // A filter skips hits but still fills the page.
    const IndexPage odd = counters.page("by_name", IndexKey().text("same"), {}, 5,
                                        [](const IndexHit& hit) { return (hit.aggregate_id.back() - '0') % 2 == 1; });
    CHECK(ids_of(odd.hits) == std::vector<std::string>{"c101", "c103", "c105", "c107", "c109"});
    // A range bound: open counters with fewer than one increment.
    const IndexKey until = IndexKey().u64(1);
    std::vector<std::string> untouched;
    counters.visit_index(
        "open_by_increments", {}, {},
        [&](const IndexHit& hit) {
            untouched.push_back(hit.aggregate_id);
            return true;
        },
        &until);
    CHECK(untouched.size() == 24);
}

TEST_CASE("a read model is rebuilt from the log when its definition version changes", "[read_model]") {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path());
        AggregateRuntime<Counter> counters(*store, {"tests"}, counter_read_model(1));
        CHECK(counters.bring_up_to_date() == 0);  // an empty log
        for (int c = 0; c < 30; ++c) {
            require_accepted(counters.execute("c" + std::to_string(c), Counter::Create{"n" + std::to_string(c % 3)}));
        }
        require_accepted(counters.execute("c7", Counter::Close{""}));
    }
    auto store = EventStore::open(dir.path());
    {
        AggregateRuntime<Counter> same(*store, {"tests"}, counter_read_model(1));
        CHECK(same.bring_up_to_date() == 0);  // already current: nothing to do
    }
    AggregateRuntime<Counter> counters(*store, {"tests"}, counter_read_model(2));
    CHECK(counters.differences_from_log().size() == 30);  // the new index is missing everywhere
    CHECK(counters.bring_up_to_date() == 30);
    CHECK(counters.differences_from_log().empty());
    CHECK(counters.lookup("by_name_v2", IndexKey().text("n1")).size() == 10);
    CHECK(counters.count("open") == 29);
    CHECK(counters.count("closed") == 1);
    CHECK(counters.bring_up_to_date() == 0);
}

TEST_CASE("a log without a read model (restored, or older) gets one at start-up", "[read_model]") {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path());
        AggregateRuntime<Counter> plain(*store, {"tests"});  // writes events only
        for (int c = 0; c < 12; ++c) {
            require_accepted(plain.execute("c" + std::to_string(c), Counter::Create{"x"}));
        }
    }
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"}, counter_read_model());
    CHECK_FALSE(counters.differences_from_log().empty());
    CHECK(counters.bring_up_to_date() == 12);
    CHECK(counters.differences_from_log().empty());
    CHECK(counters.count("open") == 12);
}

TEST_CASE("concurrent commands on many aggregates leave the index equal to a fold of the log", "[read_model]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {.producer = "tests", .cache_capacity = 8}, counter_read_model());
    constexpr int kThreads = 4;
    constexpr int kAggregates = 40;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string id = "c" + std::to_string((i * 7 + t) % kAggregates);
                if (counters.find(id)) {
                    (void)counters.execute(id, i % 50 == 49 ? Counter::Command{Counter::Close{""}}
                                                            : Counter::Command{Counter::Increment{t + 1, ""}});
                } else {
                    (void)counters.execute(id, Counter::Create{"n" + std::to_string(t)});
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(counters.differences_from_log().empty());
    CHECK(counters.count("open") + counters.count("closed") == kAggregates);
}
