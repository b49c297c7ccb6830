// Error values and exceptions of the kernel.
//
// Domain outcomes (a command rejected, a version conflict) are values. Exceptions are for broken
// invariants and infrastructure failures, and say whether a retry may help (`is_retryable`).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::kernel {

// Why a command was refused. The codes map one-to-one onto gRPC status codes at the API edge.
enum class RejectionCode {
    invalid_argument,     // the caller's input is malformed; the message names the field and rule
    not_found,            // the aggregate or referenced object does not exist
    failed_precondition,  // the aggregate is in the wrong state; the message says which state
    already_exists,       // the aggregate exists and the command would create it
    permission_denied,    // the caller may not do this
    conflict,             // a concurrent change won; retrying the command may succeed
    resource_exhausted,   // a rate limit or quota was reached; retry later
    unavailable,          // a transient infrastructure problem; retrying may succeed
};

std::string_view to_string(RejectionCode code);

struct Rejection final {
    RejectionCode code = RejectionCode::failed_precondition;
    std::string message;
};

// Base of every exception thrown by the kernel.
class KernelError : public std::runtime_error {
  public:
    KernelError(const std::string& message, bool retryable) : std::runtime_error(message), retryable_(retryable) {}
    [[nodiscard]] bool is_retryable() const { return retryable_; }

  private:
    bool retryable_;
};

// RocksDB reported an error (I/O, out of space, ...). Not retryable in place: the store is unusable.
class StoreError final : public KernelError {
  public:
    explicit StoreError(const std::string& message) : KernelError(message, false) {}
};

// A write to the store failed for a reason outside it (disk full, an I/O error): nothing of the
// commit was written, and writes fail until EventStore::try_resume() succeeds. Retryable: commands
// answer UNAVAILABLE, reactions wait and retry.
class StorageUnavailable final : public KernelError {
  public:
    explicit StorageUnavailable(const std::string& message) : KernelError(message, true) {}
};

// A record in the log failed its checksum or does not decode: the log must not be replayed past it.
class CorruptRecordError final : public KernelError {
  public:
    explicit CorruptRecordError(const std::string& message) : KernelError(message, false) {}
};

// Invalid configuration: start-up stops with this message, which names the setting.
class ConfigError final : public KernelError {
  public:
    explicit ConfigError(const std::string& message) : KernelError(message, false) {}
};

// A failure that may go away (broker down, timeout). Inbox handlers throw it to ask for a retry.
class TransientError final : public KernelError {
  public:
    explicit TransientError(const std::string& message) : KernelError(message, true) {}
};

}  // namespace gatehouse::kernel
