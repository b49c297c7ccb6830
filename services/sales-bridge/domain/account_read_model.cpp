#include "domain/account_read_model.h"

namespace gatehouse::sales {

kernel::ReadModel<AccountState> account_read_model() {
    return {kAccountReadModelVersion, [](const std::string&, const AccountState& state, kernel::IndexEntries& entries) {
                if (state.exists) {
                    entries.count(kAccountsCounter);
                }
            }};
}

kernel::ReadModel<ContactState> contact_read_model() {
    return {kContactReadModelVersion, [](const std::string&, const ContactState& state, kernel::IndexEntries& entries) {
                if (state.exists) {
                    entries.count(kContactsCounter);
                }
            }};
}

}  // namespace gatehouse::sales
