#include "gatehouse/kernel/projection.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace gatehouse::kernel {
namespace {

// A batch of raw records copied out of RocksDB by the reader thread.
struct RecordBatch {
    std::string bytes;
    struct Record {
        LogPosition position;
        std::size_t offset;
        std::size_t size;
    };
    std::vector<Record> records;
};

// A small bounded queue between the reader thread and the applying thread.
class BatchQueue final {
  public:
    // Returns false if the consumer has given up (so the reader stops).
    bool push(std::unique_ptr<RecordBatch> batch) {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return batches_.size() < kCapacity || abandoned_; });
        if (abandoned_) {
            return false;
        }
        batches_.push_back(std::move(batch));
        ready_.notify_one();
        return true;
    }
    void close(std::exception_ptr error) {
        std::lock_guard lock(mutex_);
        closed_ = true;
        error_ = error;
        ready_.notify_one();
    }
    // nullptr at the end; rethrows the reader's error.
    std::unique_ptr<RecordBatch> pop() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !batches_.empty() || closed_; });
        if (!batches_.empty()) {
            auto batch = std::move(batches_.front());
            batches_.pop_front();
            space_.notify_one();
            return batch;
        }
        if (error_) {
            std::rethrow_exception(error_);
        }
        return nullptr;
    }
    void abandon() {
        std::lock_guard lock(mutex_);
        abandoned_ = true;
        space_.notify_all();
    }

  private:
    static constexpr std::size_t kCapacity = 4;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable space_;
    std::deque<std::unique_ptr<RecordBatch>> batches_;
    bool closed_ = false;
    bool abandoned_ = false;
    std::exception_ptr error_;
};

}  // namespace

RebuildSummary rebuild_from_log(const EventStore& store, std::span<Projection* const> projections) {
    for (Projection* projection : projections) {
        projection->reset();
    }
    // Two stages on two threads: a reader iterates RocksDB and verifies checksums; this thread
    // decodes and applies, in log order. Each stage is about half of the work per event.
    constexpr std::size_t kBatchEvents = 1024;
    BatchQueue queue;
    std::thread reader([&] {
        try {
            auto batch = std::make_unique<RecordBatch>();
            bool open = true;
            store.scan_raw(LogPosition{1}, [&](LogPosition position, std::string_view bytes) {
                batch->records.push_back({position, batch->bytes.size(), bytes.size()});
                batch->bytes.append(bytes);
                if (batch->records.size() == kBatchEvents) {
                    open = queue.push(std::move(batch));
                    batch = std::make_unique<RecordBatch>();
                }
                return open;
            });
            if (open && !batch->records.empty()) {
                (void)queue.push(std::move(batch));
            }
            queue.close(nullptr);
        } catch (...) {
            queue.close(std::current_exception());
        }
    });
    RebuildSummary summary;
    try {
        while (auto batch = queue.pop()) {
            const std::string_view bytes = batch->bytes;
            for (const RecordBatch::Record& record : batch->records) {
                const EnvelopeView event =
                    EnvelopeView::parse(record.position, bytes.substr(record.offset, record.size));
                for (Projection* projection : projections) {
                    projection->apply(event);
                }
                ++summary.events;
                summary.last = record.position;
            }
        }
    } catch (...) {
        queue.abandon();
        reader.join();
        throw;
    }
    reader.join();
    return summary;
}

}  // namespace gatehouse::kernel
