#include "domain/prospect_read_model.h"

#include <charconv>

#include "domain/validation.h"

namespace gatehouse::onboarding {
namespace {

std::int64_t nanos(Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

std::int64_t submitted_nanos(const ProspectState& state) {
    const auto& at = state.request.submitted_at();
    return at.seconds() * 1'000'000'000 + at.nanos();
}

std::string encode_match(const ProspectState& state) {
    return std::to_string(static_cast<int>(state.status)) + ":" + std::to_string(nanos(state.decided_at));
}

}  // namespace

std::string email_domain(std::string_view email) {
    const auto at = email.rfind('@');
    return at == std::string_view::npos ? std::string() : platform::to_lower(email.substr(at + 1));
}

std::string name_domain_key(std::string_view company_name, std::string_view email) {
    return normalize_company_name(company_name) + "@" + email_domain(email);
}

std::optional<ProspectMatch> decode_match(std::string_view value) {
    const auto colon = value.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    int status = 0;
    ProspectMatch match;
    const char* end = value.data() + value.size();
    if (std::from_chars(value.data(), value.data() + colon, status).ec != std::errc{} ||
        std::from_chars(value.data() + colon + 1, end, match.decided_at_nanos).ec != std::errc{}) {
        return std::nullopt;
    }
    match.status = static_cast<ProspectStatus>(status);
    return match;
}

kernel::IndexKey listing_status_prefix(ProspectStatus status) { return kernel::IndexKey().text(to_string(status)); }

std::string status_counter(ProspectStatus status) { return "status:" + std::string(to_string(status)); }

kernel::ReadModel<ProspectState> prospect_read_model() {
    return {kProspectReadModelVersion,
            [](const std::string&, const ProspectState& state, kernel::IndexEntries& entries) {
                if (state.status == ProspectStatus::none) {
                    return;
                }
                const auto& company = state.request.company();
                const auto& contact = state.request.contact();
                const std::string match = encode_match(state);
                entries.add("by_email", kernel::IndexKey().text(platform::to_lower(contact.email())), match);
                if (!company.tax_id().empty()) {
                    entries.add("by_tax_id", kernel::IndexKey().text(company.tax_id()), match);
                }
                entries.add("by_name_domain", kernel::IndexKey().text(name_domain_key(company.name(), contact.email())),
                            match);
                const std::string searchable = std::string(to_string(state.status)) + "\n" +
                                               platform::to_lower(company.name()) + "\n" +
                                               platform::to_lower(contact.email());
                entries.add("listing", kernel::IndexKey().i64_descending(submitted_nanos(state)), searchable);
                entries.add("listing_status",
                            listing_status_prefix(state.status).i64_descending(submitted_nanos(state)), searchable);
                if (state.status == ProspectStatus::awaiting_verification) {
                    entries.add("awaiting_expiry", kernel::IndexKey().i64(nanos(state.verification_expires_at)));
                }
                // Expired requests stay counted: a short verification.ttl must not reopen the cap.
                if (state.status == ProspectStatus::awaiting_verification || state.status == ProspectStatus::closed) {
                    entries.add("unverified_by_recipient",
                                kernel::IndexKey().text(mailbox_key(contact.email())).i64(submitted_nanos(state)));
                    entries.add("unverified_by_domain",
                                kernel::IndexKey().text(email_domain(contact.email())).i64(submitted_nanos(state)));
                }
                entries.count(status_counter(state.status));
            }};
}

}  // namespace gatehouse::onboarding
