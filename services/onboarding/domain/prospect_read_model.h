// The prospects' read model: what duplicate detection, HQ's lists and the verification sweeper
// look prospects up by, kept by the kernel in the same write as the prospect's events (see
// gatehouse/kernel/read_model.h). Each lookup costs O(log n + matches), whatever the history.
//
//   by_email        lower-cased contact email           value: status and decision time
//   by_tax_id       normalised tax id (when given)      value: status and decision time
//   by_name_domain  normalised name + "@" + email domain value: status and decision time
//   listing         newest first by submitted_at        value: "status\nname\nemail" (lower-cased, for filters)
//   listing_status  status, then newest first           value: as listing
//   awaiting_expiry awaiting verification, by link expiry (the sweeper's "due before now")
//   unverified_by_recipient  mailbox_key(email), then submitted_at: requests never confirmed
//                            (awaiting verification or expired), for the cap on mail per recipient
//   unverified_by_domain     email domain, then submitted_at: the same, for the cap per domain
//   counters        "status:<status>" per status
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/prospect.h"
#include "gatehouse/kernel/read_model.h"

namespace gatehouse::onboarding {

// Bump when prospect_read_model() changes what it writes: the model is rebuilt at start-up.
inline constexpr std::uint32_t kProspectReadModelVersion = 2;

kernel::ReadModel<ProspectState> prospect_read_model();

// The lowercased domain of an email ("" without '@').
std::string email_domain(std::string_view email);
// The key of the "company name and email domain" duplicate rule.
std::string name_domain_key(std::string_view company_name, std::string_view email);

// What a duplicate-rule entry's value holds.
struct ProspectMatch final {
    ProspectStatus status = ProspectStatus::none;
    std::int64_t decided_at_nanos = 0;
};
std::optional<ProspectMatch> decode_match(std::string_view value);

// Keys of the listing indexes.
kernel::IndexKey listing_status_prefix(ProspectStatus status);
std::string status_counter(ProspectStatus status);

}  // namespace gatehouse::onboarding
