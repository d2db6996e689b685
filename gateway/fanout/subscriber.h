// One server stream's mailbox and the fan-out's counters: what the bus pushes into and the
// gRPC reactors pull from (gateway/fanout/).
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace perpgw::gateway {

enum class StreamKind : uint8_t {
  kBook,
  kBbo,
  kTrades,
  kFunding,
  kOrders,
  kPositions,
  kLiquidations
};
const char* ToString(StreamKind k);

// Counters the metrics endpoint and tests read.
struct BusStats {
  std::atomic<uint64_t> events_in{0};
  std::atomic<uint64_t> messages_out{0};
  std::atomic<uint64_t> slow_consumer_resyncs{0};
  std::atomic<uint64_t> slow_consumer_disconnects{0};
  std::atomic<uint64_t> conflated_drops{0};
  // Live book deltas merged into a later message because the fan-out was behind.
  std::atomic<uint64_t> book_deltas_merged{0};
  std::atomic<uint64_t> subscribers[7] = {};
  std::atomic<uint64_t> ended{0};  // streams whose call has ended (OnDone)
  // How long the oldest item of the last fan-out batch waited in the queue (ns): above ~1 s
  // every stream's data is late, whatever its status says.
  std::atomic<int64_t> fanout_lag_ns{0};
};

// One server stream's mailbox. The fan-out thread pushes; the gRPC reactor pulls on OnWriteDone.
// Exactly one write in flight; Finish at most once.
class Subscriber {
 public:
  // `more`: further messages are queued behind this one, so the transport may hold it and send
  // it with the next (gRPC's buffer hint): fewer syscalls and client wake-ups under load. The
  // next write always follows from OnWriteDone, and the last one of a burst goes unhinted.
  using StartWriteFn = std::function<void(const grpc::ByteBuffer*, bool more)>;
  using FinishFn = std::function<void(const grpc::Status&)>;
  // The response headers (gRPC initial metadata). `alone`: send them now, without a message
  // (the reactor's StartSendInitialMetadata; its OnSendInitialMetadataDone must call
  // OnWriteDone, as the headers hold the one write slot). Otherwise only attach them: the
  // StartWrite that follows carries them.
  using Headers = std::vector<std::pair<std::string, std::string>>;
  using SendHeadersFn = std::function<void(const Headers&, bool alone)>;

  Subscriber(StreamKind kind, size_t bound, BusStats* stats);
  ~Subscriber();
  StreamKind kind() const { return kind_; }

  // `send_headers` may be empty (no headers, e.g. a test transport): then Live only marks.
  void Bind(StartWriteFn start_write, FinishFn finish, SendHeadersFn send_headers = nullptr);

  // The stream is registered with the fan-out: every event published from now on reaches it.
  // Its response headers go out now (alone) unless a message already carried them, so a client
  // that waits for the headers (WaitForInitialMetadata, grpcurl's "Response headers") knows
  // that nothing it causes afterwards can be missed. Called by the bus after the subscribe
  // task; once. SetHeader adds a header before that (ignored once they went out).
  void SetHeader(std::string key, std::string value);
  void Live();

  // Lossless: false when the bound is exceeded (the caller finishes the stream).
  bool PushLossless(const grpc::ByteBuffer& msg);
  // Book: false when the bound is exceeded, or when the oldest queued message has waited longer
  // than the lag bound (a consumer slower than the feed would otherwise fall behind for good);
  // nothing was queued and the queue was cleared, so the caller must follow with fresh snapshots
  // (flagged resync). `now` is the bus clock (ns).
  bool PushBook(const grpc::ByteBuffer& msg, int64_t now);
  // Lag bound for PushBook in ns; 0 = count bound only.
  void set_max_lag(int64_t ns) { max_lag_ns_ = ns; }
  // Batched stream (StreamOrderBookBatches): each write carries the queued messages, oldest
  // first, as the `updates` entries (field 1) of one OrderBookBatch, at most `max_messages` and
  // about kMaxBatchBytes (always at least one). The bound, the lag bound and the resync rules
  // stay per message. Built from the queued messages' own bytes: nothing is serialized again.
  void set_batch(size_t max_messages) { batch_ = max_messages; }
  static constexpr size_t kMaxBatchBytes = 1 << 20;  // well under a client's 4 MiB default
  // Conflated: keeps only the latest message per key.
  void PushConflated(const std::string& key, const grpc::ByteBuffer& msg);
  void Finish(const grpc::Status& status);

  // Reactor side.
  void OnWriteDone(bool ok);
  void OnDone();
  bool dead() const { return dead_.load(std::memory_order_acquire); }
  size_t queued() const;

 private:
  // Takes the next message and starts its write (lock held on entry and on return; released
  // around StartWrite).
  void MaybeStart(std::unique_lock<std::recursive_mutex>& lock);
  // Runs `start` (a StartWrite or the headers' send) without the lock, counted in starting_;
  // back under the lock, runs a Finish that was deferred meanwhile (FinishLocked).
  template <typename Start>
  void StartUnlocked(std::unique_lock<std::recursive_mutex>& lock, Start&& start);
  // Finish once; while a StartWrite is under way on another thread it is deferred to that
  // thread (after its StartWrite returns), so OnDone can never overtake a starting write.
  void FinishLocked(const grpc::Status& status);
  bool TakeBatchLocked(grpc::ByteBuffer* out);  // false: a queued message could not be read

  const StreamKind kind_;
  const size_t bound_;
  int64_t max_lag_ns_ = 0;
  size_t batch_ = 0;  // 0: one message per write
  BusStats* stats_;
  StartWriteFn start_write_;
  FinishFn finish_;
  SendHeadersFn send_headers_;
  Headers headers_;
  bool headers_sent_ = false;  // sent alone, or attached to the first write
  // Recursive: Finish is called with the lock held so it never races OnDone (gRPC may run
  // OnDone inline). StartWrite is called without it (MaybeStart).
  mutable std::recursive_mutex mu_;
  struct Queued {
    grpc::ByteBuffer msg;
    int64_t at;  // bus clock when queued (book lag bound)
  };
  std::deque<Queued> queue_;
  std::unordered_map<std::string, grpc::ByteBuffer> latest_;
  std::deque<std::string> dirty_;
  grpc::ByteBuffer current_;
  bool writing_ = false;
  bool finished_ = false;
  int starting_ = 0;  // StartWrite calls under way outside the lock
  bool finish_deferred_ = false;
  grpc::Status deferred_status_;
  std::atomic<bool> dead_{false};
};

using SubscriberPtr = std::shared_ptr<Subscriber>;

}  // namespace perpgw::gateway
