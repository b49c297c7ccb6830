// The lead RPCs of SalesApi (api/sales_api.h): list, get, assign, qualify, disqualify.
#include "api/sales_api.h"

namespace gatehouse::sales {
namespace {

using rpc::answer;
using rpc::check_id;

v1::LeadStatus to_api(LeadStatus status) {
    switch (status) {
        case LeadStatus::open:
            return v1::LEAD_STATUS_OPEN;
        case LeadStatus::qualified:
            return v1::LEAD_STATUS_QUALIFIED;
        case LeadStatus::disqualified:
            return v1::LEAD_STATUS_DISQUALIFIED;
        case LeadStatus::none:
            break;
    }
    return v1::LEAD_STATUS_UNSPECIFIED;
}

std::optional<LeadStatus> from_api(v1::LeadStatus status) {
    switch (status) {
        case v1::LEAD_STATUS_OPEN:
            return LeadStatus::open;
        case v1::LEAD_STATUS_QUALIFIED:
            return LeadStatus::qualified;
        case v1::LEAD_STATUS_DISQUALIFIED:
            return LeadStatus::disqualified;
        default:
            break;
    }
    return std::nullopt;
}

v1::LeadSummary summary_of(const LeadState& state) {
    v1::LeadSummary summary;
    const auto& lead = state.lead;
    summary.set_lead_id(lead.lead_id());
    summary.set_status(to_api(state.status));
    summary.set_topic(lead.topic());
    summary.set_company_name(lead.company_name());
    summary.set_contact_name(lead.contact().first_name() + " " + lead.contact().last_name());
    summary.set_contact_email(lead.contact().email());
    summary.set_origin(lead.origin());
    summary.set_owner_user_id(state.owner_user_id);
    summary.set_prospect_request_number(lead.prospect_request_number());
    *summary.mutable_created_at() = lead.created_at();
    summary.set_opportunity_id(state.opportunity_id);
    return summary;
}

// The first problem of a ListLeads request: view, page, text, owner, then the view's filters.
Problem check_list(const v1::ListLeadsRequest& request, const std::variant<platform::PageRequest, std::string>& page) {
    if (request.view() != v1::LEAD_VIEW_ALL_COMMERCE_B2B && request.view() != v1::LEAD_VIEW_MY_OPEN) {
        return "view: must be LEAD_VIEW_ALL_COMMERCE_B2B or LEAD_VIEW_MY_OPEN";
    }
    if (auto problem = rpc::page_problem(page)) {
        return problem;
    }
    if (auto problem = platform::check_text("text", request.text(), 0, 200)) {
        return problem;
    }
    if (!request.owner_user_id().empty() && request.owner_user_id() != "-") {
        if (auto problem = check_id("owner_user_id", request.owner_user_id())) {
            return problem;
        }
    }
    if (request.view() == v1::LEAD_VIEW_MY_OPEN &&
        (!request.owner_user_id().empty() ||
         (request.status() != v1::LEAD_STATUS_UNSPECIFIED && request.status() != v1::LEAD_STATUS_OPEN))) {
        return "view: LEAD_VIEW_MY_OPEN is the caller's open leads; owner_user_id and status do not apply";
    }
    return std::nullopt;
}

}  // namespace

grpc::Status SalesApi::ListLeads(grpc::ServerContext* context, const v1::ListLeadsRequest* request,
                                 v1::ListLeadsResponse* response) {
    const auto page = platform::read_page_request(request->page_size(), request->page_token());
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_list(*request, page)}); !refused.ok()) {
        return refused;
    }
    LeadQuery query;
    query.mine = request->view() == v1::LEAD_VIEW_MY_OPEN;
    query.text = request->text();
    query.page = std::get<platform::PageRequest>(page);
    if (!query.mine) {
        if (request->status() != v1::LEAD_STATUS_UNSPECIFIED) {
            query.status = from_api(request->status());
            if (!query.status) {
                return grpc::Status::OK;  // a status no lead has: nothing matches
            }
        }
        if (!request->owner_user_id().empty()) {
            query.owner_user_id = request->owner_user_id() == "-" ? "" : request->owner_user_id();
        }
    }
    const Page<LeadState> listed = app_.list_leads(principal, query);
    response->set_total(static_cast<int>(listed.total));
    for (const LeadState& lead : listed.rows) {
        *response->add_leads() = summary_of(lead);
    }
    if (!listed.next_cursor.empty()) {
        response->set_next_page_token(platform::next_page_token(listed.next_cursor));
    }
    return grpc::Status::OK;
}

grpc::Status SalesApi::GetLead(grpc::ServerContext* context, const v1::GetLeadRequest* request,
                               v1::GetLeadResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("lead_id", request->lead_id())}); !refused.ok()) {
        return refused;
    }
    return answer(app_.lead(request->lead_id()), [&](const WithHistory<LeadState>& found) {
        const LeadState& state = found.state;
        *response->mutable_summary() = summary_of(state);
        *response->mutable_lead() = state.lead;
        response->set_owner_email(state.owner_email);
        response->set_account_id(state.account_id);
        response->set_contact_id(state.contact_id);
        response->set_decided_by(state.decided_by);
        response->set_decided_by_hq(state.decided_by_hq);
        response->set_decision_reason(state.decision_reason);
        rpc::add_timeline(found.history, *response->mutable_timeline());
    });
}

grpc::Status SalesApi::AssignLead(grpc::ServerContext* context, const v1::AssignLeadRequest* request,
                                  v1::AssignLeadResponse* response) {
    kernel::Principal principal;
    if (auto refused =
            admit(context, principal,
                  {check_id("lead_id", request->lead_id()), check_id("owner_user_id", request->owner_user_id())});
        !refused.ok()) {
        return refused;
    }
    return answer(app_.assign_lead(principal, request->lead_id(), request->owner_user_id()),
                  [&](const LeadState& lead) { *response->mutable_summary() = summary_of(lead); });
}

grpc::Status SalesApi::QualifyLead(grpc::ServerContext* context, const v1::QualifyLeadRequest* request,
                                   v1::QualifyLeadResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("lead_id", request->lead_id())}); !refused.ok()) {
        return refused;
    }
    return answer(
        app_.qualify_lead(principal, request->lead_id(), request->estimated_value(), request->estimated_close_date()),
        [&](const QualifiedLead& qualified) {
            response->set_opportunity_id(qualified.opportunity_id);
            response->set_account_id(qualified.account_id);
            response->set_contact_id(qualified.contact_id);
        });
}

grpc::Status SalesApi::DisqualifyLead(grpc::ServerContext* context, const v1::DisqualifyLeadRequest* request,
                                      v1::DisqualifyLeadResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("lead_id", request->lead_id())}); !refused.ok()) {
        return refused;
    }
    return answer(app_.disqualify_lead(principal, request->lead_id(), request->reason()),
                  [&] { response->set_status(v1::LEAD_STATUS_DISQUALIFIED); });
}

}  // namespace gatehouse::sales
