// Accounts and contacts: creation, local edits, changes replicated from customers with the
// per-field last-writer-wins rule, no echo, and convergence whatever the delivery order.
#include <algorithm>
#include <map>
#include <random>

#include "domain/account.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse::sales;
using namespace gatehouse::testing;
using gatehouse::common::v1::CHANGE_ORIGIN_LOCAL;
using gatehouse::common::v1::CHANGE_ORIGIN_REPLICATED;
using gatehouse::kernel::RejectionCode;
using namespace std::chrono_literals;

namespace {

v1::AccountCreated account() {
    v1::AccountCreated created;
    created.set_account_id("ACC-PR-000001");
    created.set_prospect_request_number("PR-000001");
    created.set_name("Acme GmbH");
    created.mutable_address()->set_city("Berlin");
    created.mutable_address()->set_country_code("DE");
    created.set_phone("+49 30 1234567");
    created.set_tax_id("DE136695976");
    return created;
}

v1::AccountEvent created_event() { return then_events<Account>({}, CreateAccount{account(), stamp(kNow)}).at(0); }

v1::AccountUpdated change(const std::map<std::string, std::string>& values, std::chrono::system_clock::time_point at) {
    v1::AccountUpdated update;
    for (const auto& [name, value] : values) {
        update.add_changed_fields(name);
        if (name == "name") {
            update.set_name(value);
        } else if (name == "phone") {
            update.set_phone(value);
        } else if (name == "website") {
            update.set_website(value);
        } else if (name == "tax_id") {
            update.set_tax_id(value);
        } else if (name == "address") {
            update.mutable_address()->set_city(value);
        } else {
            update.set_website(value);  // a field accounts do not have is named, not set
        }
    }
    *update.mutable_changed_at() = stamp(at);
    return update;
}

// The sales side: the Account decider with its state, and what it published.
struct SalesSide {
    AccountState state = given<Account>({created_event()});
    std::vector<v1::AccountUpdated> published;

    void run(const ChangeAccount& command) {
        const auto decision = Account::decide(command, state);
        REQUIRE(std::holds_alternative<std::vector<v1::AccountEvent>>(decision));
        for (const auto& event : std::get<std::vector<v1::AccountEvent>>(decision)) {
            state = Account::evolve(std::move(state), event);
            published.push_back(event.account_updated());
        }
    }
    // The reaction's filter: only the other side's LOCAL changes are applied.
    void receive(const v1::AccountUpdated& from_customers) {
        if (from_customers.origin() == CHANGE_ORIGIN_LOCAL) {
            v1::AccountUpdated incoming = from_customers;
            incoming.clear_origin();
            run(ChangeAccount{incoming, Side::customers});
        }
    }
};

// The customers side as docs/replication.md specifies it (an independent model of the contract):
// per field the value and its stamp; applies only sales' LOCAL changes; publishes what it applies
// as REPLICATED and its own edits as LOCAL.
struct CustomersModel {
    std::map<std::string, std::pair<std::string, ChangeStamp>> fields;
    std::vector<v1::AccountUpdated> published;

    static std::string value_of(const v1::AccountUpdated& event, const std::string& name) {
        return name == "name" ? event.name() : name == "phone" ? event.phone() : event.website();
    }
    void edit(const std::string& name, const std::string& value, std::chrono::system_clock::time_point at) {
        fields[name] = {value, gatehouse::platform::replication::stamp_of(stamp(at), Side::customers)};
        auto event = change({{name, value}}, at);
        event.set_origin(CHANGE_ORIGIN_LOCAL);
        published.push_back(event);
    }
    void receive(const v1::AccountUpdated& from_sales) {
        if (from_sales.origin() != CHANGE_ORIGIN_LOCAL) {
            return;  // no echo
        }
        const auto incoming = gatehouse::platform::replication::stamp_of(from_sales.changed_at(), Side::sales);
        v1::AccountUpdated applied;
        for (const auto& name : from_sales.changed_fields()) {
            auto it = fields.find(name);
            if (it == fields.end() || it->second.second < incoming) {
                fields[name] = {value_of(from_sales, name), incoming};
                applied.add_changed_fields(name);
            }
        }
        if (applied.changed_fields_size() > 0) {
            applied.set_origin(CHANGE_ORIGIN_REPLICATED);
            published.push_back(applied);
        }
    }
};

}  // namespace

TEST_CASE("create account: every field with a value is listed, origin LOCAL, again, nothing", "[account]") {
    const auto events = then_events<Account>({}, CreateAccount{account(), stamp(kNow)});
    REQUIRE(events.size() == 1);
    const auto& created = events[0].account_created();
    CHECK(std::vector<std::string>(created.changed_fields().begin(), created.changed_fields().end()) ==
          std::vector<std::string>{"name", "address", "phone", "tax_id"});
    CHECK(created.origin() == CHANGE_ORIGIN_LOCAL);
    CHECK(created.changed_at().seconds() == stamp(kNow).seconds());
    CHECK(then_events<Account>({events[0]}, CreateAccount{account(), stamp(kNow + 1h)}).empty());
    auto no_id = account();
    no_id.clear_account_id();
    CHECK(then_rejected<Account>({}, CreateAccount{no_id, stamp(kNow)}).code == RejectionCode::invalid_argument);
}

TEST_CASE("local edit: only fields that change, published LOCAL with the edit's time", "[account]") {
    const auto events = then_events<Account>(
        {created_event()},
        ChangeAccount{change({{"phone", "+49 30 999"}, {"name", "Acme GmbH"}}, kNow + 1h), Side::sales});
    REQUIRE(events.size() == 1);
    const auto& updated = events[0].account_updated();
    CHECK(updated.account_id() == "ACC-PR-000001");
    CHECK(updated.prospect_request_number() == "PR-000001");
    CHECK(std::vector<std::string>(updated.changed_fields().begin(), updated.changed_fields().end()) ==
          std::vector<std::string>{"phone"});
    CHECK(updated.phone() == "+49 30 999");
    CHECK(updated.origin() == CHANGE_ORIGIN_LOCAL);
    CHECK(given<Account>({created_event(), events[0]}).record.phone() == "+49 30 999");
    // Nothing different: no event.
    CHECK(
        then_events<Account>({created_event()}, ChangeAccount{change({{"name", "Acme GmbH"}}, kNow + 1h), Side::sales})
            .empty());
}

TEST_CASE("local edit: bad field names are refused, an unknown account is not found", "[account]") {
    CHECK(then_rejected<Account>({created_event()}, ChangeAccount{change({{"email", "x"}}, kNow + 1h), Side::sales})
              .message == "changed_fields: email is not a field that can be changed here");
    CHECK(then_rejected<Account>({created_event()}, ChangeAccount{change({}, kNow + 1h), Side::sales}).message ==
          "changed_fields: name at least one field");
    CHECK(then_rejected<Account>({}, ChangeAccount{change({{"phone", "1"}}, kNow), Side::sales}).code ==
          RejectionCode::not_found);
}

TEST_CASE("replicated from customers: later stamps win per field, older ones are dropped", "[account]") {
    const auto local =
        then_events<Account>({created_event()}, ChangeAccount{change({{"phone", "+49 1"}}, kNow + 2h), Side::sales});
    REQUIRE(local.size() == 1);
    // customers changed phone earlier (loses) and website later (wins): one REPLICATED event, website only.
    const auto applied = then_events<Account>(
        {created_event(), local[0]},
        ChangeAccount{change({{"phone", "+49 2"}, {"website", "https://acme.example"}}, kNow + 1h), Side::customers});
    REQUIRE(applied.size() == 1);
    const auto& updated = applied[0].account_updated();
    CHECK(std::vector<std::string>(updated.changed_fields().begin(), updated.changed_fields().end()) ==
          std::vector<std::string>{"website"});
    CHECK(updated.origin() == CHANGE_ORIGIN_REPLICATED);
    CHECK(updated.changed_at().seconds() == stamp(kNow + 1h).seconds());  // kept as it was made
    const auto state = given<Account>({created_event(), local[0], applied[0]});
    CHECK(state.record.phone() == "+49 1");
    CHECK(state.record.website() == "https://acme.example");

    // Everything loses: nothing at all is published.
    CHECK(then_events<Account>({created_event(), local[0]},
                               ChangeAccount{change({{"phone", "+49 3"}}, kNow + 1h), Side::customers})
              .empty());
    // The same change delivered twice: the second time nothing wins.
    CHECK(then_events<Account>({created_event(), local[0], applied[0]},
                               ChangeAccount{change({{"website", "https://acme.example"}}, kNow + 1h), Side::customers})
              .empty());
    // Fields accounts do not replicate (a Person's email) are skipped, not refused.
    CHECK(then_events<Account>({created_event()}, ChangeAccount{change({{"email", "x"}}, kNow + 1h), Side::customers})
              .empty());
}

TEST_CASE("equal changed_at: customers (HQ) beats sales, on both sides", "[account][replication]") {
    SalesSide sales;
    CustomersModel customers;
    customers.fields["phone"] = {"+49 30 1234567",
                                 gatehouse::platform::replication::stamp_of(stamp(kNow), Side::sales)};
    sales.run(ChangeAccount{change({{"phone", "sales-phone"}}, kNow + 1h), Side::sales});
    customers.edit("phone", "hq-phone", kNow + 1h);
    for (const auto& event : customers.published) {
        sales.receive(event);
    }
    for (const auto& event : sales.published) {
        customers.receive(event);
    }
    CHECK(sales.state.record.phone() == "hq-phone");
    CHECK(customers.fields["phone"].first == "hq-phone");
}

TEST_CASE("a local edit overwrites what the user sees even if the other side's clock runs ahead", "[account]") {
    const auto from_hq = then_events<Account>({created_event()},
                                              ChangeAccount{change({{"phone", "+49 hq"}}, kNow + 5h), Side::customers});
    REQUIRE(from_hq.size() == 1);
    const auto edit = then_events<Account>({created_event(), from_hq[0]},
                                           ChangeAccount{change({{"phone", "+49 sales"}}, kNow + 1h), Side::sales});
    REQUIRE(edit.size() == 1);
    CHECK(edit[0].account_updated().phone() == "+49 sales");
    CHECK(gatehouse::platform::replication::stamp_of(edit[0].account_updated().changed_at(), Side::sales) >
          gatehouse::platform::replication::stamp_of(stamp(kNow + 5h), Side::customers));
}

TEST_CASE("no echo: what sales applied from customers goes back as REPLICATED and is ignored there",
          "[account][replication]") {
    SalesSide sales;
    CustomersModel customers;
    customers.edit("name", "Acme Holding GmbH", kNow + 1h);
    sales.receive(customers.published.at(0));
    REQUIRE(sales.published.size() == 1);
    CHECK(sales.published[0].origin() == CHANGE_ORIGIN_REPLICATED);
    customers.receive(sales.published[0]);
    CHECK(customers.published.size() == 1);  // nothing new: the change crossed once
    // And sales ignores customers' REPLICATED events the same way.
    v1::AccountUpdated echo = change({{"name", "Echo"}}, kNow + 3h);
    echo.set_origin(CHANGE_ORIGIN_REPLICATED);
    sales.receive(echo);
    CHECK(sales.state.record.name() == "Acme Holding GmbH");
}

TEST_CASE("convergence: concurrent edits on both sides, delivered in any order, end equal", "[account][replication]") {
    std::mt19937 random(20261124);
    for (int round = 0; round < 200; ++round) {
        SalesSide sales;
        CustomersModel customers;
        for (const std::string name : {"name", "phone", "website"}) {
            customers.fields[name] = {name == "name"    ? "Acme GmbH"
                                      : name == "phone" ? "+49 30 1234567"
                                                        : "",
                                      gatehouse::platform::replication::stamp_of(stamp(kNow), Side::sales)};
        }
        // Each side makes a few edits (each side's clock moves forward), at times that overlap the
        // other side's, some equal.
        const char* names[] = {"name", "phone", "website"};
        for (int i = 0; i < 4; ++i) {
            const std::string name = names[random() % 3];
            const auto at = kNow + std::chrono::minutes(1 + 3 * i + random() % 3);
            sales.run(ChangeAccount{change({{name, "sales-" + std::to_string(round) + "-" + std::to_string(i)}}, at),
                                    Side::sales});
            const std::string other = names[random() % 3];
            customers.edit(other, "hq-" + std::to_string(round) + "-" + std::to_string(i),
                           kNow + std::chrono::minutes(1 + 3 * i + random() % 3));
        }
        // Deliver everything each side published so far, in a random order, plus duplicates.
        auto to_sales = customers.published;
        auto to_customers = sales.published;
        to_sales.push_back(to_sales.front());
        std::shuffle(to_sales.begin(), to_sales.end(), random);
        std::shuffle(to_customers.begin(), to_customers.end(), random);
        for (const auto& event : to_sales) {
            sales.receive(event);
        }
        for (const auto& event : to_customers) {
            customers.receive(event);
        }
        INFO("round " << round);
        CHECK(sales.state.record.name() == customers.fields["name"].first);
        CHECK(sales.state.record.phone() == customers.fields["phone"].first);
        CHECK(sales.state.record.website() == customers.fields["website"].first);
    }
}

TEST_CASE("contact: create lists the person's fields, edits and replication follow the same rule", "[contact]") {
    v1::ContactCreated contact;
    contact.set_contact_id("CON-PR-000001");
    contact.set_account_id("ACC-PR-000001");
    contact.set_prospect_request_number("PR-000001");
    contact.set_first_name("Jane");
    contact.set_last_name("Doe");
    contact.set_email("jane@acme.example");
    const auto created = then_events<Contact>({}, CreateContact{contact, stamp(kNow)});
    REQUIRE(created.size() == 1);
    CHECK(created[0].contact_created().changed_fields_size() == 3);
    CHECK(created[0].contact_created().origin() == CHANGE_ORIGIN_LOCAL);
    CHECK(then_events<Contact>({created[0]}, CreateContact{contact, stamp(kNow)}).empty());
    auto no_account = contact;
    no_account.clear_account_id();
    CHECK(then_rejected<Contact>({}, CreateContact{no_account, stamp(kNow)}).code == RejectionCode::invalid_argument);

    v1::ContactUpdated update;
    update.add_changed_fields("job_title");
    update.set_job_title("Head of purchasing");
    update.add_changed_fields("name");  // an Organization field: skipped when replicated
    *update.mutable_changed_at() = stamp(kNow + 1h);
    const auto replicated = then_events<Contact>({created[0]}, ChangeContact{update, Side::customers});
    REQUIRE(replicated.size() == 1);
    CHECK(replicated[0].contact_updated().contact_id() == "CON-PR-000001");
    CHECK(replicated[0].contact_updated().account_id() == "ACC-PR-000001");
    CHECK(replicated[0].contact_updated().changed_fields_size() == 1);
    CHECK(replicated[0].contact_updated().origin() == CHANGE_ORIGIN_REPLICATED);
    CHECK(given<Contact>({created[0], replicated[0]}).record.job_title() == "Head of purchasing");
    // As a local edit, naming a field contacts do not have is refused.
    CHECK(then_rejected<Contact>({created[0]}, ChangeContact{update, Side::sales}).code ==
          RejectionCode::invalid_argument);
    v1::ContactUpdated older;
    older.add_changed_fields("email");
    older.set_email("old@acme.example");
    *older.mutable_changed_at() = stamp(kNow - 1h);
    CHECK(then_events<Contact>({created[0]}, ChangeContact{older, Side::customers}).empty());
}
