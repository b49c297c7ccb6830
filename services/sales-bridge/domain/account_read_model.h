// The accounts' and contacts' read models (gatehouse/kernel/read_model.h): one counter each, of
// the records that exist. Nothing looks accounts or contacts up by anything but their id (the
// customers service names them by CRM id, an opportunity by account id), so they need no index;
// the counters let the qualification check see in O(1) that no qualified lead lacks its account
// or contact (app/qualification.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "domain/account.h"
#include "gatehouse/kernel/read_model.h"

namespace gatehouse::sales {

// Bump when account_read_model() / contact_read_model() change what they write: the model is
// rebuilt from the log at start-up.
inline constexpr std::uint32_t kAccountReadModelVersion = 1;
inline constexpr std::uint32_t kContactReadModelVersion = 1;

kernel::ReadModel<AccountState> account_read_model();
kernel::ReadModel<ContactState> contact_read_model();

// Every account / every contact.
inline constexpr std::string_view kAccountsCounter = "accounts";
inline constexpr std::string_view kContactsCounter = "contacts";

}  // namespace gatehouse::sales
