// The sales read models against a real event store: every list range and counter follows the
// leads and opportunities (and equals a fold of the log), rows are newest first with ties to the
// larger id, pages resume after any position, the text filter's matcher never spans two fields,
// and the qualification check finds an interrupted qualification behind completed ones.
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include "app/qualification.h"
#include "gatehouse/testing/temp_dir.h"
#include "sales_store.h"

using namespace gatehouse;
using namespace gatehouse::sales;
using google::protobuf::util::TimeUtil;

namespace {

using Store = gatehouse::sales::testing::SalesStore;

const Actor kMaria{"maria", "maria@sales.example", true};

template <class Result>
void require_accepted(const Result& result) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        FAIL("rejected: " << rejection->message);
    }
}

void create_lead(Store& s, const std::string& number, std::int64_t created_seconds, const std::string& owner = "",
                 const std::string& origin = std::string(kCommerceOrigin), const std::string& company = "Acme GmbH") {
    CreateLead create;
    auto& lead = create.lead;
    lead.set_lead_id(lead_id_for(number));
    lead.set_prospect_request_number(number);
    lead.set_company_name(company);
    lead.mutable_contact()->set_email("jane@" + number + ".example");
    lead.set_origin(origin);
    lead.set_owner_user_id(owner);
    *lead.mutable_created_at() = TimeUtil::SecondsToTimestamp(created_seconds);
    require_accepted(s.leads.execute(lead.lead_id(), create));
}

void qualify(Store& s, const std::string& lead_id) {
    QualifyLead command{kMaria, {}, "2026-12-31", Clock::now()};
    command.estimated_value.set_currency_code("EUR");
    require_accepted(s.leads.execute(lead_id, command));
}

template <class Runtime>
std::vector<std::string> ids_in(const Runtime& runtime, const Listing& listing) {
    std::vector<std::string> ids;
    for (const auto& hit : runtime.lookup(listing.index, listing.prefix)) {
        ids.push_back(hit.aggregate_id);
    }
    CHECK(runtime.count(listing.counter) == static_cast<std::int64_t>(ids.size()));
    return ids;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("lead lists: each filter's range and counter follow the leads, newest first", "[read_model]") {
    Store s;
    create_lead(s, "PR-1", 100);
    create_lead(s, "PR-2", 200, "bob");
    create_lead(s, "PR-3", 300, "bob", "Partner portal");  // not a commerce lead
    create_lead(s, "PR-4", 400, "carol");
    CHECK(s.leads.count(kLeadsCounter) == 4);
    CHECK(ids_in(s.leads, commerce_leads(std::nullopt, std::nullopt)) == Ids{"LEAD-PR-4", "LEAD-PR-2", "LEAD-PR-1"});
    CHECK(ids_in(s.leads, commerce_leads(std::nullopt, "")) == Ids{"LEAD-PR-1"});
    CHECK(ids_in(s.leads, commerce_leads(std::nullopt, "bob")) == Ids{"LEAD-PR-2"});
    CHECK(ids_in(s.leads, commerce_leads(LeadStatus::open, "carol")) == Ids{"LEAD-PR-4"});
    CHECK(ids_in(s.leads, my_open_leads("bob")) == Ids{"LEAD-PR-3", "LEAD-PR-2"});  // any origin

    AssignLead take{Actor{"bob", "bob@sales.example", false}, "bob", "bob@sales.example", Clock::now()};
    require_accepted(s.leads.execute("LEAD-PR-1", take));
    qualify(s, "LEAD-PR-2");
    require_accepted(s.leads.execute("LEAD-PR-4", DisqualifyLead{kMaria, "no reseller", Clock::now()}));
    CHECK(ids_in(s.leads, commerce_leads(std::nullopt, "")).empty());
    CHECK(ids_in(s.leads, my_open_leads("bob")) == Ids{"LEAD-PR-3", "LEAD-PR-1"});
    CHECK(ids_in(s.leads, my_open_leads("carol")).empty());
    CHECK(ids_in(s.leads, commerce_leads(LeadStatus::open, std::nullopt)) == Ids{"LEAD-PR-1"});
    CHECK(ids_in(s.leads, commerce_leads(LeadStatus::qualified, "bob")) == Ids{"LEAD-PR-2"});
    CHECK(ids_in(s.leads, commerce_leads(LeadStatus::disqualified, std::nullopt)) == Ids{"LEAD-PR-4"});
    CHECK(s.leads.count(kQualifiedLeadsCounter) == 1);
    CHECK(s.leads.count(kLeadsCounter) == 4);
    CHECK(s.leads.differences_from_log().empty());
}

TEST_CASE("lead lists: equal creation times put the larger id first, pages resume after any position", "[read_model]") {
    Store s;
    for (const char* number : {"PR-1", "PR-10", "PR-2", "PR-11"}) {
        create_lead(s, number, 500);
    }
    create_lead(s, "PR-0", 400);
    const Listing all = commerce_leads(std::nullopt, std::nullopt);
    // As the lists have always sorted: by created_at descending, then id descending.
    CHECK(ids_in(s.leads, all) == Ids{"LEAD-PR-2", "LEAD-PR-11", "LEAD-PR-10", "LEAD-PR-1", "LEAD-PR-0"});
    const std::int64_t at = 500'000'000'000;
    const auto after = [&](std::int64_t nanos, const std::string& id) {
        Ids ids;
        for (const auto& hit : s.leads.page(all.index, all.prefix, resume_cursor(all, nanos, id), 2).hits) {
            ids.push_back(hit.aggregate_id);
        }
        return ids;
    };
    CHECK(after(at, "LEAD-PR-11") == Ids{"LEAD-PR-10", "LEAD-PR-1"});
    CHECK(after(at, "LEAD-PR-1") == Ids{"LEAD-PR-0"});
    CHECK(after(at, "LEAD-PR-105") == Ids{"LEAD-PR-10", "LEAD-PR-1"});  // not a row: what sorts after it
    CHECK(after(at + 1, "") == Ids{"LEAD-PR-2", "LEAD-PR-11"});
    CHECK(after(0, "x").empty());
}

TEST_CASE("opportunity lists: by owner and status, newest first, with counters", "[read_model]") {
    Store s;
    create_lead(s, "PR-1", 100, "bob");
    create_lead(s, "PR-2", 200, "carol");
    create_lead(s, "PR-3", 300);
    for (const char* lead : {"LEAD-PR-1", "LEAD-PR-2", "LEAD-PR-3"}) {
        qualify(s, lead);
        REQUIRE_FALSE(complete_qualification(s.all, s.leads.find(lead)->state, ""));
    }
    require_accepted(s.opportunities.execute("OPP-PR-2", LoseOpportunity{kMaria, "budget", Clock::now()}));
    CHECK(ids_in(s.opportunities, opportunities_listing(std::nullopt, std::nullopt)).size() == 3);
    CHECK(ids_in(s.opportunities, opportunities_listing("bob", std::nullopt)) == Ids{"OPP-PR-1"});
    CHECK(ids_in(s.opportunities, opportunities_listing("maria", OpportunityStatus::open)) == Ids{"OPP-PR-3"});
    CHECK(ids_in(s.opportunities, opportunities_listing("carol", OpportunityStatus::open)).empty());
    CHECK(ids_in(s.opportunities, opportunities_listing(std::nullopt, OpportunityStatus::lost)) == Ids{"OPP-PR-2"});
    CHECK(s.accounts.count(kAccountsCounter) == 3);
    CHECK(s.contacts.count(kContactsCounter) == 3);
    CHECK(s.opportunities.differences_from_log().empty());
    CHECK(s.accounts.differences_from_log().empty());
    CHECK(s.contacts.differences_from_log().empty());
}

TEST_CASE("the text filter's search text: case-insensitive, per field, never across fields", "[read_model]") {
    const std::string stored = search_text("Globex AG", "Jane@Globex.example");
    CHECK(search_text_contains(stored, "globex ag"));
    CHECK(search_text_contains(stored, "jane@"));
    CHECK_FALSE(search_text_contains(stored, "agjane"));  // the end of one field and the start of the next
    CHECK_FALSE(search_text_contains(stored, "9:"));      // nor the length prefix
    CHECK(search_text_contains(search_text("", "a@b"), "a@b"));
    CHECK_FALSE(search_text_contains("garbage", "garbage"));
}

TEST_CASE("the qualification check finds an interrupted qualification behind completed ones", "[read_model]") {
    Store s;
    for (int i = 1; i <= 4; ++i) {
        create_lead(s, "PR-" + std::to_string(i), 100 * i);
    }
    qualify(s, "LEAD-PR-1");  // interrupted: nothing else made
    for (const char* lead : {"LEAD-PR-2", "LEAD-PR-3"}) {
        qualify(s, lead);
        REQUIRE_FALSE(complete_qualification(s.all, s.leads.find(lead)->state, ""));
    }
    CHECK(complete_pending_qualifications(s.all) == 1);
    CHECK(s.opportunities.find("OPP-PR-1"));
    CHECK(s.accounts.find("ACC-PR-1"));
    CHECK(s.contacts.find("CON-PR-1"));
    CHECK(complete_pending_qualifications(s.all) == 0);
    CHECK(s.opportunities.count(kOpportunitiesCounter) == 3);
}
