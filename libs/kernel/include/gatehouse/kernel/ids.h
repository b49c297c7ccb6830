// Unique ids for events, correlations and commands.
#pragma once

#include <string>

namespace gatehouse::kernel {

// A random UUID version 7 (RFC 9562) as 36 lowercase characters: time-ordered and unique across
// processes and restarts (74 random bits from libsodium per millisecond).
std::string new_uuid_v7();

}  // namespace gatehouse::kernel
