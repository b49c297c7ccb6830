// The timeline RPCs of SalesApi (api/sales_api.h), on a lead or an opportunity: schedule,
// reschedule and cancel appointments, add notes.
#include <algorithm>
#include <cctype>

#include "api/sales_api.h"

namespace gatehouse::sales {
namespace {

using rpc::answer;
using rpc::check_id;

Problem check_idempotency_key(std::string_view key) {
    if (key.size() > 128 || !std::all_of(key.begin(), key.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        })) {
        return "idempotency_key: at most 128 letters, digits, - and _";
    }
    return std::nullopt;
}

// Exactly one of lead_id / opportunity_id names where a timeline entry goes.
Problem check_regarding(const std::string& lead_id, const std::string& opportunity_id) {
    if (lead_id.empty() == opportunity_id.empty()) {
        return "lead_id: name exactly one of lead_id and opportunity_id";
    }
    return lead_id.empty() ? check_id("opportunity_id", opportunity_id) : check_id("lead_id", lead_id);
}

template <class Request>
Regarding regarding_of(const Request& request) {
    return {request.lead_id(), request.opportunity_id()};
}

// A new entry (ScheduleAppointment, AddNote): where it goes, and its idempotency key.
template <class Request>
Problem check_new_entry(const Request& request) {
    if (auto problem = check_regarding(request.lead_id(), request.opportunity_id())) {
        return problem;
    }
    return check_idempotency_key(request.idempotency_key());
}

// A change of an appointment (RescheduleAppointment, CancelAppointment): where, and which one.
template <class Request>
Problem check_appointment_named(const Request& request) {
    if (auto problem = check_regarding(request.lead_id(), request.opportunity_id())) {
        return problem;
    }
    return check_id("appointment_id", request.appointment_id());
}

// The answer of a reschedule / cancellation.
template <class Response>
void fill(Response& response, const AppointmentRevision& revision) {
    response.set_changed(revision.changed);
    response.set_sequence(revision.sequence);
}

}  // namespace

grpc::Status SalesApi::ScheduleAppointment(grpc::ServerContext* context, const v1::ScheduleAppointmentRequest* request,
                                           v1::ScheduleAppointmentResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_new_entry(*request)}); !refused.ok()) {
        return refused;
    }
    v1::AppointmentScheduled appointment;
    appointment.set_subject(request->subject());
    *appointment.mutable_starts_at() = request->starts_at();
    *appointment.mutable_ends_at() = request->ends_at();
    *appointment.mutable_attendees() = request->attendees();
    appointment.set_online_meeting_url(request->online_meeting_url());
    appointment.set_language(request->language());
    return answer(app_.schedule_appointment(principal, regarding_of(*request), std::move(appointment),
                                            request->idempotency_key()),
                  [&](const std::string& appointment_id) { response->set_appointment_id(appointment_id); });
}

grpc::Status SalesApi::RescheduleAppointment(grpc::ServerContext* context,
                                             const v1::RescheduleAppointmentRequest* request,
                                             v1::RescheduleAppointmentResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_appointment_named(*request)}); !refused.ok()) {
        return refused;
    }
    return answer(app_.reschedule_appointment(principal, regarding_of(*request), request->appointment_id(),
                                              request->starts_at(), request->ends_at()),
                  [&](const AppointmentRevision& revision) { fill(*response, revision); });
}

grpc::Status SalesApi::CancelAppointment(grpc::ServerContext* context, const v1::CancelAppointmentRequest* request,
                                         v1::CancelAppointmentResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_appointment_named(*request)}); !refused.ok()) {
        return refused;
    }
    return answer(
        app_.cancel_appointment(principal, regarding_of(*request), request->appointment_id(), request->reason()),
        [&](const AppointmentRevision& revision) { fill(*response, revision); });
}

grpc::Status SalesApi::AddNote(grpc::ServerContext* context, const v1::AddNoteRequest* request,
                               v1::AddNoteResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_new_entry(*request)}); !refused.ok()) {
        return refused;
    }
    return answer(app_.add_note(principal, regarding_of(*request), request->text(), request->idempotency_key()),
                  [&](const std::string& note_id) { response->set_note_id(note_id); });
}

}  // namespace gatehouse::sales
