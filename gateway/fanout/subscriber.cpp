// Subscriber: one write in flight, Finish at most once, the slow-consumer policies per push.
#include "gateway/fanout/subscriber.h"

#include <vector>

namespace perpgw::gateway {

const char* ToString(StreamKind k) {
  switch (k) {
    case StreamKind::kBook: return "book";
    case StreamKind::kBbo: return "bbo";
    case StreamKind::kTrades: return "trades";
    case StreamKind::kFunding: return "funding";
    case StreamKind::kOrders: return "orders";
    case StreamKind::kPositions: return "positions";
    case StreamKind::kLiquidations: return "liquidations";
  }
  return "?";
}

// ---------------------------------------------------------------- Subscriber

Subscriber::Subscriber(StreamKind kind, size_t bound, BusStats* stats)
    : kind_(kind), bound_(bound), stats_(stats) {
  stats_->subscribers[static_cast<int>(kind_)].fetch_add(1);
}

Subscriber::~Subscriber() {
  stats_->subscribers[static_cast<int>(kind_)].fetch_sub(1);
}

void Subscriber::Bind(StartWriteFn start_write, FinishFn finish, SendHeadersFn send_headers) {
  std::unique_lock lock(mu_);
  start_write_ = std::move(start_write);
  finish_ = std::move(finish);
  send_headers_ = std::move(send_headers);
  MaybeStart(lock);
}

void Subscriber::SetHeader(std::string key, std::string value) {
  std::lock_guard lock(mu_);
  if (!headers_sent_) headers_.emplace_back(std::move(key), std::move(value));
}

void Subscriber::Live() {
  std::unique_lock lock(mu_);
  // A write under way (or done) carried the headers; a finished stream sends them with its
  // status.
  if (headers_sent_ || writing_ || finished_ || !start_write_ || dead()) return;
  headers_sent_ = true;
  if (!send_headers_) return;
  // The headers take the write slot until OnWriteDone, like a message, so they never race a
  // StartWrite (gRPC sends initial metadata once, with whichever op goes first).
  writing_ = true;
  StartUnlocked(lock, [this] { send_headers_(headers_, true); });
}

template <typename Start>
void Subscriber::StartUnlocked(std::unique_lock<std::recursive_mutex>& lock, Start&& start) {
  ++starting_;
  lock.unlock();
  start();
  lock.lock();
  if (--starting_ == 0 && finish_deferred_) {
    finish_deferred_ = false;
    if (finish_) finish_(deferred_status_);
  }
}

void Subscriber::MaybeStart(std::unique_lock<std::recursive_mutex>& lock) {
  if (writing_ || finished_ || !start_write_ || dead()) return;
  if (!queue_.empty() && batch_ > 0) {
    if (!TakeBatchLocked(&current_)) {
      // Never seen: only a buffer that cannot be read (compressed, which the bus never makes)
      // gets here. Ended loudly, never a batch with a message missing from it.
      FinishLocked(grpc::Status(grpc::StatusCode::INTERNAL, "could not frame a batch"));
      return;
    }
  } else if (!queue_.empty()) {
    current_ = std::move(queue_.front().msg);
    queue_.pop_front();
  } else if (!dirty_.empty()) {
    auto it = latest_.find(dirty_.front());
    dirty_.pop_front();
    if (it == latest_.end()) return;
    current_ = std::move(it->second);
    latest_.erase(it);
  } else {
    return;
  }
  writing_ = true;
  stats_->messages_out.fetch_add(1, std::memory_order_relaxed);
  const bool more = !queue_.empty() || !dirty_.empty();
  // StartWrite outside the lock: it may send inline (a syscall and a wake-up of gRPC's threads),
  // and the fan-out pushing the next message must not wait for that. Safe: current_ and
  // start_write_ stay put while writing_ (only OnDone clears start_write_, and OnDone cannot
  // come before our Finish, which waits while a start is under way: FinishLocked).
  const bool attach_headers = !headers_sent_ && send_headers_;
  headers_sent_ = true;
  StartUnlocked(lock, [&] {
    if (attach_headers) send_headers_(headers_, false);  // headers_ is fixed once sent
    start_write_(&current_, more);
  });
}

void Subscriber::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  latest_.clear();
  dirty_.clear();
  if (starting_ > 0) {
    finish_deferred_ = true;
    deferred_status_ = status;
    return;
  }
  if (finish_) finish_(status);
}

bool Subscriber::TakeBatchLocked(grpc::ByteBuffer* out) {
  std::vector<grpc::Slice> slices;
  std::vector<grpc::Slice> parts;
  size_t count = 0, bytes = 0;
  while (!queue_.empty() && count < batch_) {
    grpc::ByteBuffer& m = queue_.front().msg;
    const size_t len = m.Length();
    if (count > 0 && bytes + len > kMaxBatchBytes) break;
    parts.clear();
    if (len > 0 && !m.Dump(&parts).ok()) return false;
    // The entry's key (field 1, length-delimited) and its length as a varint, then its bytes.
    uint8_t head[1 + 10];
    size_t n = 0;
    head[n++] = 0x0A;
    for (uint64_t v = len;; v >>= 7) {
      head[n++] = static_cast<uint8_t>((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
      if (v < 0x80) break;
    }
    slices.emplace_back(head, n);
    for (grpc::Slice& part : parts) slices.push_back(std::move(part));
    bytes += n + len;
    ++count;
    queue_.pop_front();
  }
  *out = grpc::ByteBuffer(slices.data(), slices.size());
  return true;
}

bool Subscriber::PushLossless(const grpc::ByteBuffer& msg) {
  std::unique_lock lock(mu_);
  if (finished_ || dead()) return true;
  if (queue_.size() >= bound_) return false;
  queue_.push_back({msg, 0});
  MaybeStart(lock);
  return true;
}

bool Subscriber::PushBook(const grpc::ByteBuffer& msg, int64_t now) {
  std::unique_lock lock(mu_);
  if (finished_ || dead()) return true;
  const bool lagging = max_lag_ns_ > 0 && !queue_.empty() && now - queue_.front().at > max_lag_ns_;
  if (queue_.size() >= bound_ || lagging) {
    queue_.clear();
    return false;
  }
  queue_.push_back({msg, now});
  MaybeStart(lock);
  return true;
}

void Subscriber::PushConflated(const std::string& key, const grpc::ByteBuffer& msg) {
  std::unique_lock lock(mu_);
  if (finished_ || dead()) return;
  auto [it, inserted] = latest_.try_emplace(key, msg);
  if (inserted) {
    dirty_.push_back(key);
  } else {
    it->second = msg;
    stats_->conflated_drops.fetch_add(1, std::memory_order_relaxed);
  }
  MaybeStart(lock);
}

void Subscriber::Finish(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  if (dead()) return;
  FinishLocked(status);
}

void Subscriber::OnWriteDone(bool ok) {
  std::unique_lock lock(mu_);
  writing_ = false;
  if (!ok) {
    // The client went away mid-write. gRPC still needs Finish (even for a broken or cancelled
    // call) before OnDone runs; without it Server::Shutdown waits for this call forever.
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed: client gone"));
    return;
  }
  MaybeStart(lock);
}

void Subscriber::OnDone() {
  std::lock_guard lock(mu_);
  // Dead first, then counted: a sweep that sees the count also sees the death (Bus::SweepEnded).
  const bool was_dead = dead_.exchange(true, std::memory_order_acq_rel);
  if (!was_dead) stats_->ended.fetch_add(1, std::memory_order_release);
  start_write_ = nullptr;
  finish_ = nullptr;
  send_headers_ = nullptr;
  queue_.clear();
  latest_.clear();
}

size_t Subscriber::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size() + dirty_.size();
}

// ---------------------------------------------------------------- Bus

}  // namespace perpgw::gateway
