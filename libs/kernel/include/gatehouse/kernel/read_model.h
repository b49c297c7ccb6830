// Indexed read models: secondary indexes over an aggregate type's state, kept in the event store's
// `index` column family and written in the same RocksDB WriteBatch as the events that change them.
//
// A read model is a pure function of one aggregate's state: `index(id, state, entries)` says which
// index entries (and which counters) the aggregate has in that state. When a command appends
// events, the runtime computes the entries before and after, and the commit carries the
// difference (puts, deletes, counter deltas) — so an index is exactly as current as the log, a
// duplicate or uniqueness check sees every committed event, and a crash never leaves an index
// ahead of or behind its log (both are in one atomic write).
//
// Each read model has a definition version. The store remembers the version its entries were
// built with; at start-up a model whose version differs (or that has never been built, as after
// `restore-from-topic` into a new directory) is rebuilt from the log, one aggregate stream at a
// time (memory bounded by the largest stream).
//
// Keys are composed with IndexKey, whose encodings keep RocksDB's byte order equal to the
// intended order (text, unsigned, signed, newest-first). The runtime appends the aggregate id to
// every key, so several aggregates may share a key; lookups and pages are prefix scans, and a page
// continues after an opaque cursor (keyset pagination: O(log n + page), no offsets).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::kernel {

// An order-preserving composite key. Segments compare in the order they were appended.
class IndexKey final {
  public:
    IndexKey() = default;
    // A string segment: escaped so that no segment is a prefix of a longer one ("ab" < "abc" and
    // "ab"+x never collides with "abc"+y). A text segment matches exactly when used as a prefix.
    IndexKey& text(std::string_view value);
    // A UTF-8 string segment in descending order ("b" before "ab" before "a"; a longer string
    // before one it begins with), e.g. an id breaking ties newest-first. Itself a text segment.
    IndexKey& text_descending(std::string_view utf8);
    // Unsigned, ascending.
    IndexKey& u64(std::uint64_t value);
    // Signed, ascending (e.g. nanoseconds since the epoch).
    IndexKey& i64(std::int64_t value);
    // Signed, descending: newest first when the value is a time.
    IndexKey& i64_descending(std::int64_t value);
    // The smallest key after every key that starts with this one (an exclusive upper bound).
    [[nodiscard]] IndexKey prefix_end() const;
    [[nodiscard]] const std::string& bytes() const { return bytes_; }
    [[nodiscard]] bool empty() const { return bytes_.empty(); }

  private:
    std::string bytes_;
};

// The entries and counters one aggregate has in one state. Filled in by a read model's function.
class IndexEntries final {
  public:
    // The aggregate appears in `index` under `key`, with an optional value (e.g. a summary that a
    // list can show without loading the aggregate). Index names must not contain NUL.
    void add(std::string_view index, const IndexKey& key, std::string value = {});
    // The aggregate counts 1 towards `counter` (e.g. "status:pending"). Counting the same counter
    // twice in one state counts 2.
    void count(std::string_view counter);

    // Stored key (without the aggregate type prefix) -> stored value (index_layout::encode_value).
    [[nodiscard]] const std::map<std::string, std::string>& entries() const { return entries_; }
    [[nodiscard]] const std::map<std::string, std::int64_t>& counters() const { return counters_; }
    // Internal: the runtime sets the aggregate id before calling the model.
    void set_aggregate_id(std::string_view id) { aggregate_id_ = id; }

  private:
    std::string aggregate_id_;
    std::map<std::string, std::string> entries_;
    std::map<std::string, std::int64_t> counters_;
};

template <class State>
struct ReadModel final {
    // Bump when `index` changes what it writes: the model is rebuilt from the log at start-up.
    std::uint32_t version = 0;
    std::function<void(const std::string& aggregate_id, const State& state, IndexEntries& entries)> index;
};

// One index entry as found by a lookup or a page.
struct IndexHit final {
    std::string aggregate_id;
    std::string value;
    // Where the next page starts (pass as `after` to continue after this hit).
    std::string cursor;
};

struct IndexPage final {
    std::vector<IndexHit> hits;
    // Non-empty when more entries may follow: the cursor of the last hit.
    std::string next_cursor;
};

// What a commit changes in the indexes (computed by the runtime; stored keys are complete).
struct IndexChanges final {
    std::vector<std::pair<std::string, std::string>> puts;
    std::vector<std::string> deletes;
    std::vector<std::pair<std::string, std::int64_t>> counter_deltas;
    [[nodiscard]] bool empty() const { return puts.empty() && deletes.empty() && counter_deltas.empty(); }
};

namespace index_layout {
// "<aggregate type>\0<index>\0" — every key of one index starts with this.
std::string index_prefix(std::string_view aggregate_type, std::string_view index);
// "<aggregate type>\0" — every key (and counter) of one aggregate type's read model.
std::string model_prefix(std::string_view aggregate_type);
// The cursor of aggregate `aggregate_id`'s entry under `key` (what its IndexHit::cursor is): for
// an API that resumes a page from a row it names, e.g. by time and id.
std::string cursor_of(const IndexKey& key, std::string_view aggregate_id);
// The stored value: aggregate id, NUL, the entry's value.
std::string encode_value(std::string_view aggregate_id, std::string_view value);
// Splits a stored value; returns false if it is malformed.
bool decode_value(std::string_view stored, std::string& aggregate_id, std::string& value);
// The difference between two states' entries, as stored keys under `aggregate_type`.
IndexChanges diff(std::string_view aggregate_type, const IndexEntries* before, const IndexEntries* after);
// Page tokens for APIs: a cursor as printable text, and back (nullopt if not one of ours).
std::string cursor_to_token(std::string_view cursor);
std::optional<std::string> token_to_cursor(std::string_view token);
}  // namespace index_layout

}  // namespace gatehouse::kernel

namespace gatehouse::kernel {

// A read model the service runtime keeps current: brought up to date at start-up (before the
// service is ready), and checkable against a fold of the log.
class MaintainedReadModel {
  public:
    virtual ~MaintainedReadModel() = default;
    [[nodiscard]] virtual std::string_view aggregate_type() const = 0;
    // Rebuilds the read model from the log if the version it was built with is not the current
    // definition's (or it was never built). Returns how many aggregates were indexed (0: it was
    // current). Throws StoreError / CorruptRecordError.
    virtual std::uint64_t bring_up_to_date() = 0;
    // Compares the stored entries with a fold of the log; one line per difference (empty: equal).
    [[nodiscard]] virtual std::vector<std::string> differences_from_log() const = 0;
};

}  // namespace gatehouse::kernel
