// Fan-out thread, book mirrors and the slow-consumer policies (resync, conflate, bounded).
#include "gateway/fanout/bus.h"
#include "adapters/api/reason.h"
#include "gateway/grpc_status.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <random>

#include "gateway/convert.h"
#include "gateway/metrics.h"
#include "perpgw/v1/account.pb.h"
#include "perpgw/v1/funding.pb.h"
#include "perpgw/v1/trading.pb.h"

namespace perpgw::gateway {

namespace {
std::string Key(const std::string& venue, const std::string& symbol) {
  return venue + '\x1f' + symbol;
}

uint64_t NewEpoch() {
  std::random_device rd;
  uint64_t e = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
               static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  return e == 0 ? 1 : e;
}

}  // namespace

Bus::Bus(const LimitsConfig& limits, std::map<std::string, int64_t> stale_after_ms,
         const Clock& clock)
    : limits_(limits),
      stale_after_ms_(std::move(stale_after_ms)),
      clock_(clock),
      epoch_(NewEpoch()) {}

Bus::~Bus() {
  Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down"));
}

void Bus::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Bus::Stop(const grpc::Status& status) {
  if (!thread_.joinable()) return;
  std::promise<void> finished;
  auto fut = finished.get_future();
  Post([this, status, &finished] {
    for (auto& s : all_subs_) s->Finish(status);
    all_subs_.clear();
    finished.set_value();
  });
  fut.wait();
  {
    perpgw::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.Signal();
  thread_.join();
}

namespace {
// What a publishing thread may fan out itself (Bus::DrainInline): market data only. Order
// events (the order log, fsync), tasks (queries, subscriptions, Stop) stay on the bus thread.
template <typename Item>
bool Inline(const Item& item) {
  return !item.task && item.event && IsMarketData(*item.event);
}
}  // namespace

void Bus::Publish(EventPtr event) {
  std::vector<EventPtr> one;
  one.push_back(std::move(event));
  PublishBatch(one);
}

void Bus::PublishBatch(std::vector<EventPtr>& events) {
  if (events.empty()) return;
  if (tap_) {
    for (const auto& e : events) tap_(*e);
  }
  bool drain_here = false;
  {
    perpgw::MutexLock lock(&mu_);
    const auto at = std::chrono::steady_clock::now();
    for (auto& e : events) queue_.push_back(Item{std::move(e), nullptr, at});
    // Nobody is fanning out and the queue starts with market data: this thread does it, no
    // hand-off to the bus thread (one wake-up and two context switches less per burst).
    if (!busy_ && !stopping_ && Inline(queue_.front())) {
      busy_ = true;
      drain_here = true;
    }
  }
  events.clear();
  if (drain_here) {
    DrainInline();
  } else {
    cv_.Signal();
  }
}

void Bus::DrainInline() {
  // busy_ is ours: the fan-out state is this thread's until we clear it under mu_.
  std::deque<Item>& batch = inline_batch_;
  bool hand_off = false;
  for (int round = 0;; ++round) {
    {
      perpgw::MutexLock lock(&mu_);
      // The leading run of market data; anything else (or a feed that never lets the queue
      // empty) goes to the bus thread, in order behind what was done here.
      if (round == kMaxInlineRounds || queue_.empty() || !Inline(queue_.front())) {
        busy_ = false;
        hand_off = !queue_.empty() || stopping_;
        break;
      }
      while (!queue_.empty() && Inline(queue_.front())) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ProcessBatch(batch);
  }
  if (hand_off) cv_.Signal();
}

void Bus::ProcessBatch(std::deque<Item>& batch) {
  if (!batch.empty()) {
    stats_.fanout_lag_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now() - batch.front().at)
                                   .count(),
                               std::memory_order_relaxed);
  }
  // Posting order is kept: a subscription posted after an event sees its effect in the
  // snapshot, and every later event as a delta.
  for (auto& item : batch) {
    if (item.task) {
      FlushBooks();  // queries and subscriptions see every change as sent
      item.task();
    } else {
      stats_.events_in.fetch_add(1, std::memory_order_relaxed);
      Handle(*item.event);
    }
  }
  batch.clear();
  FlushBooks();
}

void Bus::Post(std::function<void()> fn) {
  {
    perpgw::MutexLock lock(&mu_);
    queue_.push_back(Item{nullptr, std::move(fn)});
  }
  cv_.Signal();
}

void Bus::Run() {
  std::deque<Item> batch;
  auto next_stale_check = std::chrono::steady_clock::now();
  for (;;) {
    {
      perpgw::MutexLock lock(&mu_);
      for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (!busy_ && (!queue_.empty() || now >= next_stale_check)) break;
        if (stopping_ && !busy_ && queue_.empty()) return;
        // A publishing thread that fans out (busy_) hands what is left over with a signal; the
        // stale check, once due, looks again every 1 ms until the bus is free.
        auto wait = next_stale_check - now;
        if (wait <= std::chrono::steady_clock::duration::zero())
          wait = std::chrono::milliseconds(1);
        cv_.WaitWithTimeout(&mu_, wait);
      }
      if (stopping_ && queue_.empty()) return;
      busy_ = true;
      batch.swap(queue_);
    }
    ProcessBatch(batch);
    auto now = std::chrono::steady_clock::now();
    if (now >= next_stale_check) {
      CheckStale();
      SweepEnded();
      next_stale_check = now + std::chrono::milliseconds(200);
    }
    perpgw::MutexLock lock(&mu_);
    busy_ = false;
  }
}

void Bus::SweepEnded() {
  // Streams that ended since the last sweep are released now, not when the next event for
  // their key arrives (which for liquidations or a quiet account may be never): one pass over
  // every list, at most every 200 ms, only when something ended. Two rules keep a stream from
  // slipping past: a subscriber is marked dead before its end is counted (acquire here pairs
  // with the release in Subscriber::OnDone, so a counted end is a visible death), and a
  // subscribe task drops a subscriber that is already dead (its end may have been counted by
  // a sweep that ran before the task).
  const uint64_t ended = stats_.ended.load(std::memory_order_acquire);
  if (ended == swept_) return;
  swept_ = ended;
  for (auto& [key, p] : pairs_) {
    Prune(p.book_subs);
    Prune(p.bbo_subs);
    Prune(p.trade_subs);
    Prune(p.funding_subs);
  }
  for (auto& [id, a] : accounts_) {
    Prune(a.order_subs);
    Prune(a.position_subs);
    Prune(a.liquidation_subs);
  }
  Prune(funding_all_subs_);
  Prune(all_subs_);
}

void Bus::Prune(std::vector<BookSub>& v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](const BookSub& b) { return b.sub->dead(); }),
          v.end());
}

void Bus::Prune(std::vector<SubscriberPtr>& v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](const SubscriberPtr& s) { return s->dead(); }),
          v.end());
}

Bus::PairState& Bus::Pair(const std::string& venue, const std::string& symbol) {
  if (last_pair_ && last_pair_->symbol == symbol && last_pair_->venue == venue) {
    return *last_pair_;
  }
  auto [it, inserted] = pairs_.try_emplace(Key(venue, symbol));
  last_pair_ = &it->second;
  if (inserted) {
    it->second.venue = venue;
    it->second.symbol = symbol;
    auto s = stale_after_ms_.find(venue);
    if (s != stale_after_ms_.end()) it->second.stale_after_ms = s->second;
    it->second.derived_bbo = derived_bbo_venues_.count(venue) > 0;
  }
  return it->second;
}

void Bus::Handle(const Event& e) {
  std::visit(
      [this](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, BookUpdate>)
          OnBook(ev);
        else if constexpr (std::is_same_v<T, Bbo>)
          OnBbo(ev);
        else if constexpr (std::is_same_v<T, Trade>)
          OnTrade(ev);
        else if constexpr (std::is_same_v<T, Funding>)
          OnFunding(ev);
        else if constexpr (std::is_same_v<T, OrderEvent>)
          OnOrder(ev);
        else if constexpr (std::is_same_v<T, Position>)
          OnPosition(ev);
        else if constexpr (std::is_same_v<T, Liquidation>)
          OnLiquidation(ev);
      },
      e);
}

template <typename Msg>
void Bus::SetStatus(const PairState& p, Msg* m) const {
  // Data the venue sent longer ago than the lag bound is late, whatever the book's own state:
  // a fan-out that fell behind (a starved thread, a burst) must not look LIVE.
  const int64_t bound = limits_.book_max_lag_ms * 1000000;
  if (p.status == BookStatus::kLive && bound > 0 && p.receive_time > 0) {
    const int64_t late = clock_.Now() - p.receive_time;
    if (late > bound) {
      m->set_status(v1::BOOK_STATUS_STALE);
      m->set_status_reason("late: sent " + std::to_string(late / 1000000) +
                           " ms after the venue's frame arrived (limits.book_max_lag_ms " +
                           std::to_string(limits_.book_max_lag_ms) + ")");
      return;
    }
  }
  m->set_status(ToProto(p.status));
  m->set_status_reason(p.reason);
}

namespace {

// Book messages are built, serialized once and dropped. On an arena whose first block is on the
// stack, building one costs no malloc per level (PriceLevel messages and their short decimal
// strings), which the heap otherwise pays for every level of every update.
class MsgArena {
 public:
  MsgArena() : arena_(Options(block_)) {}
  template <typename M>
  M* Make() {
    return google::protobuf::Arena::CreateMessage<M>(&arena_);
  }

 private:
  static constexpr size_t kBlock = 8192;
  static google::protobuf::ArenaOptions Options(char* block) {
    google::protobuf::ArenaOptions o;
    o.initial_block = block;
    o.initial_block_size = kBlock;
    return o;
  }
  alignas(16) char block_[kBlock];
  google::protobuf::Arena arena_;
};

}  // namespace

grpc::ByteBuffer Bus::SnapshotMessage(const PairState& p, int depth, bool resync) {
  MsgArena arena;
  v1::OrderBookUpdate& m = *arena.Make<v1::OrderBookUpdate>();
  m.mutable_market()->set_venue(p.venue);
  m.mutable_market()->set_symbol(p.symbol);
  m.set_is_snapshot(true);
  m.set_resync(resync);
  SetStatus(p, &m);
  m.set_sequence(p.seq);
  m.set_venue_sequence(p.venue_seq);
  m.set_exchange_time_ns(p.exchange_time);
  m.set_receive_time_ns(p.receive_time);
  m.set_send_time_ns(clock_.Now());
  if (p.have_book) {
    size_t d = depth > 0 ? static_cast<size_t>(depth) : 0;
    AddLevels(p.book.Bids(d), p.book.price_scale(), p.book.size_scale(), m.mutable_bids());
    AddLevels(p.book.Asks(d), p.book.price_scale(), p.book.size_scale(), m.mutable_asks());
  }
  return Serialize(m);
}

void Bus::SendBook(PairState& p, BookSub& s, const grpc::ByteBuffer& msg) {
  if (!s.sub->PushBook(msg, clock_.Now())) {
    // Slow consumer: its queue was dropped; one fresh snapshot per pair it follows restores it.
    stats_.slow_consumer_resyncs.fetch_add(1, std::memory_order_relaxed);
    for (auto& [k, other] : pairs_) {
      for (auto& bs : other.book_subs) {
        if (bs.sub == s.sub) {
          s.sub->PushBook(SnapshotMessage(other, bs.depth, true), clock_.Now());
        }
      }
    }
  }
}

void Bus::OnBook(const BookUpdate& u) {
  PairState& p = Pair(u.venue, u.symbol);
  const bool was_live = p.status == BookStatus::kLive;
  // A live delta on a live book is coalesced; anything else goes out at once, after whatever is
  // pending for the pair.
  const bool live_delta = !u.snapshot && was_live && u.status == BookStatus::kLive;
  if (!live_delta) FlushPair(p);
  if (u.snapshot) {
    if (p.book.price_scale() != u.price_scale || p.book.size_scale() != u.size_scale) {
      p.book = OrderBook(u.price_scale, u.size_scale);
    }
    p.book.ReplaceAll(u.bids, u.asks);
    p.have_book = true;
  } else {
    for (const Level& l : u.bids) p.book.Apply(BookSide::kBid, l);
    for (const Level& l : u.asks) p.book.Apply(BookSide::kAsk, l);
  }
  p.status = u.status;
  p.reason = u.status_reason;
  if (p.status == BookStatus::kLive && p.have_book && p.book.IsCrossed()) {
    // Defence in depth: the adapter should never hand us a crossed book as live.
    p.status = BookStatus::kResyncing;
    p.reason = "crossed book";
  }
  p.venue_seq = u.venue_seq;
  p.exchange_time = u.exchange_time;
  p.receive_time = u.receive_time;
  p.last_update_mono = clock_.Now();
  if (live_delta) {
    if (!p.book_subs.empty()) {
      p.pending_bids.insert(p.pending_bids.end(), u.bids.begin(), u.bids.end());
      p.pending_asks.insert(p.pending_asks.end(), u.asks.begin(), u.asks.end());
    }
    if (!p.dirty) {
      p.dirty = true;
      dirty_pairs_.push_back(&p);
    } else {
      stats_.book_deltas_merged.fetch_add(1, std::memory_order_relaxed);
    }
    if (p.status != BookStatus::kLive) FlushPair(p);  // the crossed check just fired
    MaybeBookBbo(p);
    return;
  }
  UpdateBookStatus(p);
  FanOutBook(p, u.snapshot || !was_live, u.bids, u.asks);
  MaybeBookBbo(p);
}

void Bus::UpdateBookStatus(PairState& p) {
  perpgw::MutexLock lock(&funding_mu_);
  if (p.status_row == nullptr) {
    p.status_row = &book_status_[Key(p.venue, p.symbol)];
    p.status_row->venue = p.venue;
    p.status_row->symbol = p.symbol;
  }
  p.status_row->status = p.status;
  p.status_row->last_update = p.last_update_mono;
}

namespace {
// Pending changes of one side with each price once, its last size winning (sizes are absolute).
void LastPerPrice(std::vector<Level>& v) {
  if (v.size() < 2) return;
  std::stable_sort(v.begin(), v.end(),
                   [](const Level& a, const Level& b) { return a.price < b.price; });
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i + 1 < v.size() && v[i + 1].price == v[i].price) continue;
    v[out++] = v[i];
  }
  v.resize(out);
}
}  // namespace

void Bus::FlushPair(PairState& p) {
  if (!p.dirty) return;
  p.dirty = false;
  LastPerPrice(p.pending_bids);
  LastPerPrice(p.pending_asks);
  UpdateBookStatus(p);
  FanOutBook(p, false, p.pending_bids, p.pending_asks);
  p.pending_bids.clear();
  p.pending_asks.clear();
}

void Bus::FlushBooks() {
  for (PairState* p : dirty_pairs_) FlushPair(*p);
  dirty_pairs_.clear();
}

void Bus::FanOutBook(PairState& p, bool snapshot, const std::vector<Level>& bids,
                     const std::vector<Level>& asks) {
  ++p.seq;
  Prune(p.bbo_subs);
  Prune(p.book_subs);
  if (p.book_subs.empty()) return;
  // Serialize once per distinct shape: the full-book delta (depth 0) and each top-N depth.
  std::optional<grpc::ByteBuffer> full;
  std::vector<std::pair<int, grpc::ByteBuffer>> by_depth;
  for (auto& s : p.book_subs) {
    if (s.depth == 0) {
      if (!full) {
        if (snapshot) {
          full = SnapshotMessage(p, 0, false);
        } else {
          MsgArena arena;
          v1::OrderBookUpdate& m = *arena.Make<v1::OrderBookUpdate>();
          m.mutable_market()->set_venue(p.venue);
          m.mutable_market()->set_symbol(p.symbol);
          m.set_is_snapshot(false);
          SetStatus(p, &m);
          m.set_sequence(p.seq);
          m.set_venue_sequence(p.venue_seq);
          m.set_exchange_time_ns(p.exchange_time);
          m.set_receive_time_ns(p.receive_time);
          m.set_send_time_ns(clock_.Now());
          AddLevels(bids, p.book.price_scale(), p.book.size_scale(), m.mutable_bids());
          AddLevels(asks, p.book.price_scale(), p.book.size_scale(), m.mutable_asks());
          full = Serialize(m);
        }
      }
      SendBook(p, s, *full);
    } else {
      auto it = std::find_if(by_depth.begin(), by_depth.end(),
                             [&](const auto& d) { return d.first == s.depth; });
      if (it == by_depth.end()) {
        by_depth.emplace_back(s.depth, SnapshotMessage(p, s.depth, false));
        it = by_depth.end() - 1;
      }
      SendBook(p, s, it->second);
    }
  }
}

void Bus::CheckStale() {
  const UnixNanos now = clock_.Now();
  for (auto& [k, p] : pairs_) {
    if (p.status != BookStatus::kLive || !p.have_book) continue;
    if (now - p.last_update_mono < p.stale_after_ms * 1000000) continue;
    p.status = BookStatus::kStale;
    p.reason = "no update for " + std::to_string(p.stale_after_ms) + " ms";
    {
      perpgw::MutexLock lock(&funding_mu_);
      book_status_[k].status = BookStatus::kStale;
    }
    Count(p.venue, VenueCounter::kResyncStale, 1);
    ++p.seq;
    v1::OrderBookUpdate m;
    m.mutable_market()->set_venue(p.venue);
    m.mutable_market()->set_symbol(p.symbol);
    m.set_status(v1::BOOK_STATUS_STALE);
    m.set_status_reason(p.reason);
    m.set_sequence(p.seq);
    m.set_venue_sequence(p.venue_seq);
    m.set_send_time_ns(now);
    grpc::ByteBuffer msg = Serialize(m);
    for (auto& s : p.book_subs) {
      if (!s.sub->dead()) SendBook(p, s, msg);
    }
    MaybeBookBbo(p);
  }
}

void Bus::OnBbo(const Bbo& b) {
  PairState& p = Pair(b.venue, b.symbol);
  if (p.derived_bbo) return;  // this venue's BBO comes from the book (none expected here)
  SendBbo(p, b);
}

void Bus::SendBbo(PairState& p, const Bbo& b) {
  Prune(p.bbo_subs);
  if (p.bbo_subs.empty()) return;
  v1::BboUpdate m;
  Fill(b, &m);
  grpc::ByteBuffer msg = Serialize(m);
  const std::string key = Key(b.venue, b.symbol);
  for (auto& s : p.bbo_subs) s->PushConflated(key, msg);
}

Bbo Bus::BookBbo(const PairState& p) const {
  Bbo b;
  b.venue = p.venue;
  b.symbol = p.symbol;
  if (p.bbo_bid) {
    b.bid_price = Decimal::FromUnits(p.bbo_bid->price, p.book.price_scale());
    b.bid_size = Decimal::FromUnits(p.bbo_bid->size, p.book.size_scale());
  }
  if (p.bbo_ask) {
    b.ask_price = Decimal::FromUnits(p.bbo_ask->price, p.book.price_scale());
    b.ask_size = Decimal::FromUnits(p.bbo_ask->size, p.book.size_scale());
  }
  b.status = p.bbo_status;
  b.venue_seq = p.venue_seq;
  b.exchange_time = p.exchange_time;
  b.receive_time = p.receive_time;
  return b;
}

void Bus::MaybeBookBbo(PairState& p) {
  if (!p.derived_bbo || !p.have_book) return;
  const std::optional<Level> bid = p.book.BestBid(), ask = p.book.BestAsk();
  auto same = [](const std::optional<Level>& a, const std::optional<Level>& b) {
    return a.has_value() == b.has_value() && (!a || (a->price == b->price && a->size == b->size));
  };
  if (p.bbo_sent && p.bbo_status == p.status && same(p.bbo_bid, bid) && same(p.bbo_ask, ask)) {
    return;
  }
  p.bbo_sent = true;
  p.bbo_bid = bid;
  p.bbo_ask = ask;
  p.bbo_status = p.status;
  SendBbo(p, BookBbo(p));
}

void Bus::OnTrade(const Trade& t) {
  PairState& p = Pair(t.venue, t.symbol);
  Prune(p.trade_subs);
  if (p.trade_subs.empty()) return;
  v1::TradeUpdate m;
  Fill(t, &m);
  grpc::ByteBuffer msg = Serialize(m);
  for (auto& s : p.trade_subs) {
    // Public trades are informational: a slow consumer loses the oldest, never blocks.
    if (!s->PushLossless(msg)) stats_.conflated_drops.fetch_add(1, std::memory_order_relaxed);
  }
}

void Bus::OnFunding(const Funding& f) {
  {
    perpgw::MutexLock lock(&funding_mu_);
    funding_cache_[Key(f.venue, f.symbol)] = f;
  }
  PairState& p = Pair(f.venue, f.symbol);
  Prune(p.funding_subs);
  Prune(funding_all_subs_);
  if (p.funding_subs.empty() && funding_all_subs_.empty()) return;
  v1::FundingRate m;
  Fill(f, &m);
  grpc::ByteBuffer msg = Serialize(m);
  const std::string key = Key(f.venue, f.symbol);
  for (auto& s : p.funding_subs) s->PushConflated(key, msg);
  for (auto& s : funding_all_subs_) s->PushConflated(key, msg);
}

void Bus::OnPosition(const Position& pos) {
  AccountState& a = accounts_[pos.account];
  a.position_seq_of[pos.symbol] = ++a.position_seq;
  Prune(a.position_subs);
  if (a.position_subs.empty()) return;
  v1::Position m;
  Fill(pos, &m);
  grpc::ByteBuffer msg = Serialize(m);
  for (auto& s : a.position_subs) {
    if (!s->PushLossless(msg)) {
      stats_.slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
      s->Finish(GrpcStatus(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "position consumer too slow; reconnect and ListPositions",
                           reason::kSlowConsumer));
    }
  }
}

void Bus::OnLiquidation(const Liquidation& l) {
  AccountState& a = accounts_[l.account];
  Prune(a.liquidation_subs);
  v1::Liquidation m;
  Fill(l, &m);
  grpc::ByteBuffer msg = Serialize(m);
  for (auto& s : a.liquidation_subs) {
    if (!s->PushLossless(msg)) {
      stats_.slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
      s->Finish(GrpcStatus(grpc::StatusCode::RESOURCE_EXHAUSTED, "liquidation consumer too slow",
                           reason::kSlowConsumer));
    }
  }
}

void Bus::PostSubscribe(SubscriberPtr sub, std::function<void()> task) {
  // A subscriber that is already dead is never kept: its end may have been counted by a sweep
  // that ran before this task (SweepEnded only runs when that count changes).
  // Then the stream is live: its headers tell the client so (Subscriber::Live).
  Post([sub = std::move(sub), task = std::move(task)] {
    if (sub->dead()) return;
    task();
    sub->Live();
  });
}

void Bus::SubscribeBooks(SubscriberPtr sub, std::vector<MarketKey> markets, int depth) {
  PostSubscribe(sub, [this, sub, markets = std::move(markets), depth] {
    all_subs_.push_back(sub);  // ended ones are swept (SweepEnded)
    for (const auto& mk : markets) {
      PairState& p = Pair(mk.venue, mk.symbol);
      p.book_subs.push_back({sub, depth});
      sub->PushBook(SnapshotMessage(p, depth, false), clock_.Now());
    }
  });
}

void Bus::SubscribeBbo(SubscriberPtr sub, std::vector<MarketKey> markets) {
  PostSubscribe(sub, [this, sub, markets = std::move(markets)] {
    all_subs_.push_back(sub);
    for (const auto& mk : markets) {
      PairState& p = Pair(mk.venue, mk.symbol);
      p.bbo_subs.push_back(sub);
      // A BBO derived from the book starts with the book's current top.
      if (p.derived_bbo && p.bbo_sent) {
        v1::BboUpdate m;
        Fill(BookBbo(p), &m);
        sub->PushConflated(Key(p.venue, p.symbol), Serialize(m));
      }
    }
  });
}

void Bus::SubscribeTrades(SubscriberPtr sub, std::vector<MarketKey> markets) {
  PostSubscribe(sub, [this, sub, markets = std::move(markets)] {
    all_subs_.push_back(sub);
    for (const auto& mk : markets) Pair(mk.venue, mk.symbol).trade_subs.push_back(sub);
  });
}

void Bus::SubscribeFunding(SubscriberPtr sub, std::vector<MarketKey> markets) {
  PostSubscribe(sub, [this, sub, markets = std::move(markets)] {
    all_subs_.push_back(sub);
    std::vector<Funding> current;
    {
      perpgw::MutexLock lock(&funding_mu_);
      for (const auto& [k, f] : funding_cache_) {
        bool want = markets.empty();
        for (const auto& mk : markets) want |= mk.venue == f.venue && mk.symbol == f.symbol;
        if (want) current.push_back(f);
      }
    }
    if (markets.empty()) {
      funding_all_subs_.push_back(sub);
    } else {
      for (const auto& mk : markets) Pair(mk.venue, mk.symbol).funding_subs.push_back(sub);
    }
    for (const auto& f : current) {
      v1::FundingRate m;
      Fill(f, &m);
      sub->PushConflated(Key(f.venue, f.symbol), Serialize(m));
    }
  });
}

void Bus::SubscribePositions(SubscriberPtr sub, std::string account) {
  PostSubscribe(sub, [this, sub, account = std::move(account)] {
    all_subs_.push_back(sub);
    AccountState& a = accounts_[account];
    a.position_subs.push_back(sub);
    a.position_sub_at[sub.get()] = a.position_seq;
  });
}

void Bus::SeedPositions(SubscriberPtr sub, std::string account, std::vector<Position> positions) {
  Post([this, sub, account = std::move(account), positions = std::move(positions)] {
    AccountState& a = accounts_[account];
    auto at = a.position_sub_at.find(sub.get());
    if (at == a.position_sub_at.end()) return;  // not subscribed (or already seeded)
    const uint64_t since = at->second;
    a.position_sub_at.erase(at);
    if (sub->dead()) return;
    for (const auto& p : positions) {
      if (auto it = a.position_seq_of.find(p.symbol);
          it != a.position_seq_of.end() && it->second > since) {
        continue;  // the stream already had a live update for it
      }
      v1::Position m;
      Fill(p, &m);
      if (!sub->PushLossless(Serialize(m))) {
        stats_.slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
        sub->Finish(GrpcStatus(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "position consumer too slow; reconnect and ListPositions",
                               reason::kSlowConsumer));
        return;
      }
    }
  });
}

void Bus::SubscribeLiquidations(SubscriberPtr sub, std::string account) {
  PostSubscribe(sub, [this, sub, account = std::move(account)] {
    all_subs_.push_back(sub);
    accounts_[account].liquidation_subs.push_back(sub);
  });
}

void Bus::GetBook(MarketKey key, int depth,
                  std::function<void(std::optional<v1::OrderBook>)> done) {
  Post([this, key = std::move(key), depth, done = std::move(done)] {
    auto it = pairs_.find(Key(key.venue, key.symbol));
    if (it == pairs_.end()) {
      done(std::nullopt);
      return;
    }
    const PairState& p = it->second;
    v1::OrderBook ob;
    ob.mutable_market()->set_venue(p.venue);
    ob.mutable_market()->set_symbol(p.symbol);
    SetStatus(p, &ob);
    ob.set_sequence(p.seq);
    ob.set_venue_sequence(p.venue_seq);
    ob.set_exchange_time_ns(p.exchange_time);
    ob.set_receive_time_ns(p.receive_time);
    if (p.have_book) {
      AddLevels(p.book.Bids(depth), p.book.price_scale(), p.book.size_scale(), ob.mutable_bids());
      AddLevels(p.book.Asks(depth), p.book.price_scale(), p.book.size_scale(), ob.mutable_asks());
    }
    done(std::move(ob));
  });
}

void Bus::GetBestPrices(
    MarketKey key,
    std::function<void(std::optional<Level>, std::optional<Level>, int, BookStatus)> done) {
  Post([this, key = std::move(key), done = std::move(done)] {
    auto it = pairs_.find(Key(key.venue, key.symbol));
    if (it == pairs_.end() || !it->second.have_book) {
      done(std::nullopt, std::nullopt, 0, BookStatus::kResyncing);
      return;
    }
    const PairState& p = it->second;
    done(p.book.BestBid(), p.book.BestAsk(), p.book.price_scale(), p.status);
  });
}

std::vector<Funding> Bus::FundingSnapshot() const {
  perpgw::MutexLock lock(&funding_mu_);
  std::vector<Funding> out;
  out.reserve(funding_cache_.size());
  for (const auto& [k, f] : funding_cache_) out.push_back(f);
  return out;
}

}  // namespace perpgw::gateway

namespace perpgw::gateway {

std::vector<Bus::BookStatusRow> Bus::BookStatuses() const {
  perpgw::MutexLock lock(&funding_mu_);
  std::vector<BookStatusRow> out;
  for (const auto& [k, r] : book_status_) out.push_back(r);
  return out;
}

void Bus::Count(const std::string& venue, VenueCounter c, uint64_t n) {
  if (metrics_) metrics_->Count(venue, c, n);
}

void Bus::Observe(const std::string& venue, VenueLatency l, int64_t nanos) {
  if (metrics_) metrics_->Observe(venue, l, nanos);
}

}  // namespace perpgw::gateway
