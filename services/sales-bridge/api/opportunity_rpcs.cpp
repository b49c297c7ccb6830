// The opportunity RPCs of SalesApi (api/sales_api.h): list, get, win, lose, update.
#include "api/sales_api.h"

namespace gatehouse::sales {
namespace {

using rpc::answer;
using rpc::check_id;

v1::OpportunityStatus to_api(OpportunityStatus status) {
    switch (status) {
        case OpportunityStatus::open:
            return v1::OPPORTUNITY_STATUS_OPEN;
        case OpportunityStatus::won:
            return v1::OPPORTUNITY_STATUS_WON;
        case OpportunityStatus::lost:
            return v1::OPPORTUNITY_STATUS_LOST;
        case OpportunityStatus::none:
            break;
    }
    return v1::OPPORTUNITY_STATUS_UNSPECIFIED;
}

std::optional<OpportunityStatus> from_api(v1::OpportunityStatus status) {
    switch (status) {
        case v1::OPPORTUNITY_STATUS_OPEN:
            return OpportunityStatus::open;
        case v1::OPPORTUNITY_STATUS_WON:
            return OpportunityStatus::won;
        case v1::OPPORTUNITY_STATUS_LOST:
            return OpportunityStatus::lost;
        default:
            break;
    }
    return std::nullopt;
}

v1::OpportunitySummary summary_of(const OpportunityState& state) {
    v1::OpportunitySummary summary;
    const auto& opportunity = state.opportunity;
    summary.set_opportunity_id(opportunity.opportunity_id());
    summary.set_status(to_api(state.status));
    summary.set_topic(opportunity.topic());
    summary.set_company_name(opportunity.company_name());
    summary.set_lead_id(opportunity.lead_id());
    summary.set_prospect_request_number(opportunity.prospect_request_number());
    summary.set_account_id(opportunity.account_id());
    summary.set_contact_id(opportunity.contact_id());
    *summary.mutable_estimated_value() = opportunity.estimated_value();
    summary.set_estimated_close_date(opportunity.estimated_close_date());
    summary.set_owner_user_id(opportunity.owner_user_id());
    *summary.mutable_created_at() = opportunity.created_at();
    summary.set_stage(opportunity.stage());
    return summary;
}

Problem check_update(const v1::UpdateOpportunityRequest& request) {
    if (request.stage() != v1::OPPORTUNITY_STAGE_UNSPECIFIED && !v1::OpportunityStage_IsValid(request.stage())) {
        return "stage: must be one of QUALIFY, DEVELOP, PROPOSE, CLOSE";
    }
    if (request.stage() == v1::OPPORTUNITY_STAGE_UNSPECIFIED && !request.has_estimated_value()) {
        return "stage: name a stage or an estimated_value to change";
    }
    return std::nullopt;
}

}  // namespace

grpc::Status SalesApi::ListOpportunities(grpc::ServerContext* context, const v1::ListOpportunitiesRequest* request,
                                         v1::ListOpportunitiesResponse* response) {
    const auto page = platform::read_page_request(request->page_size(), request->page_token());
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {rpc::page_problem(page)}); !refused.ok()) {
        return refused;
    }
    OpportunityQuery query;
    query.mine = request->mine();
    query.page = std::get<platform::PageRequest>(page);
    if (request->status() != v1::OPPORTUNITY_STATUS_UNSPECIFIED) {
        query.status = from_api(request->status());
        if (!query.status) {
            return grpc::Status::OK;  // a status no opportunity has: nothing matches
        }
    }
    const Page<OpportunityState> listed = app_.list_opportunities(principal, query);
    response->set_total(static_cast<int>(listed.total));
    for (const OpportunityState& opportunity : listed.rows) {
        *response->add_opportunities() = summary_of(opportunity);
    }
    if (!listed.next_cursor.empty()) {
        response->set_next_page_token(platform::next_page_token(listed.next_cursor));
    }
    return grpc::Status::OK;
}

grpc::Status SalesApi::GetOpportunity(grpc::ServerContext* context, const v1::GetOpportunityRequest* request,
                                      v1::GetOpportunityResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("opportunity_id", request->opportunity_id())});
        !refused.ok()) {
        return refused;
    }
    return answer(app_.opportunity(request->opportunity_id()), [&](const WithHistory<OpportunityState>& found) {
        *response->mutable_summary() = summary_of(found.state);
        response->set_closed_by(found.state.closed_by);
        response->set_close_reason(found.state.close_reason);
        response->set_decided_by_hq(found.state.decided_by_hq);
        rpc::add_timeline(found.history, *response->mutable_timeline());
    });
}

grpc::Status SalesApi::WinOpportunity(grpc::ServerContext* context, const v1::WinOpportunityRequest* request,
                                      v1::WinOpportunityResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("opportunity_id", request->opportunity_id())});
        !refused.ok()) {
        return refused;
    }
    return answer(app_.win_opportunity(principal, request->opportunity_id()),
                  [&] { response->set_status(v1::OPPORTUNITY_STATUS_WON); });
}

grpc::Status SalesApi::LoseOpportunity(grpc::ServerContext* context, const v1::LoseOpportunityRequest* request,
                                       v1::LoseOpportunityResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("opportunity_id", request->opportunity_id())});
        !refused.ok()) {
        return refused;
    }
    return answer(app_.lose_opportunity(principal, request->opportunity_id(), request->reason()),
                  [&] { response->set_status(v1::OPPORTUNITY_STATUS_LOST); });
}

grpc::Status SalesApi::UpdateOpportunity(grpc::ServerContext* context, const v1::UpdateOpportunityRequest* request,
                                         v1::UpdateOpportunityResponse* response) {
    kernel::Principal principal;
    if (auto refused =
            admit(context, principal, {check_id("opportunity_id", request->opportunity_id()), check_update(*request)});
        !refused.ok()) {
        return refused;
    }
    std::optional<v1::OpportunityStage> stage;
    if (request->stage() != v1::OPPORTUNITY_STAGE_UNSPECIFIED) {
        stage = request->stage();
    }
    std::optional<common::v1::Money> estimated_value;
    if (request->has_estimated_value()) {
        estimated_value = request->estimated_value();
    }
    return answer(
        app_.update_opportunity(principal, request->opportunity_id(), stage, std::move(estimated_value)),
        [&](const RecordUpdate<OpportunityState>& update) {
            *response->mutable_changed_fields() = {update.changed_fields.begin(), update.changed_fields.end()};
            *response->mutable_summary() = summary_of(update.record);
        });
}

}  // namespace gatehouse::sales
