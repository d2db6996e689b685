// The bus's order events: sequences and replay per account, the order-event log that carries
// them (and "what clients were told") across restarts, one send per trade id, order lookups.
#include "adapters/api/reason.h"
#include "gateway/fanout/bus.h"
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

std::string PublishedKey(const std::string& account, const std::string& cid) {
  return account + '\x1f' + cid;
}

// One fill of an account: venues number trades per market (Aster, Backpack), and a self-trade
// gives a buy and a sell fill one trade id, so the trade id alone is not the fill's identity.
std::string TradeKey(const std::string& symbol, bool buy, const std::string& trade_id) {
  std::string k;
  k.reserve(symbol.size() + trade_id.size() + 3);
  k.append(symbol).push_back('\x1f');
  k.push_back(buy ? 'B' : 'S');
  k.push_back('\x1f');
  k.append(trade_id);
  return k;
}

constexpr size_t kTradeIdsKept = 200000;  // per account
constexpr uint64_t kOrderLogMinCompactBytes = 64ull << 20;
constexpr int64_t kPublishedRetentionNs = 24LL * 3600 * 1000000000;  // final orders' view

}  // namespace

bool Bus::RememberTrade(AccountState& a, const std::string& trade_id) {
  if (!a.trade_ids.insert(trade_id).second) return false;
  a.trade_order.push_back(trade_id);
  if (a.trade_order.size() > kTradeIdsKept) {
    a.trade_ids.erase(a.trade_order.front());
    a.trade_order.pop_front();
  }
  return true;
}

void Bus::NotePublished(const v1::OrderEvent& m, UnixNanos at) {
  const auto& o = m.order();
  if (o.client_order_id().empty()) return;
  auto status = FromProto(o.status());
  auto filled = Decimal::Parse(o.filled_size().empty() ? "0" : o.filled_size());
  if (!status || !filled.ok()) return;
  Published& p = published_[PublishedKey(m.account(), o.client_order_id())];
  p.status = *status;
  p.filled = std::max(p.filled, *filled);
  if (m.sequence() == 0) {
    // A compaction summary: its fill, if any, is the total of the fills published. Summaries
    // written before fills were counted have none: their filled size stood for both.
    auto fills = m.has_fill() ? Decimal::Parse(m.fill().size()) : absl::StatusOr<Decimal>(*filled);
    if (fills.ok()) p.fills = std::max(p.fills, *fills);
  } else if (m.has_fill()) {
    auto size = Decimal::Parse(m.fill().size());
    if (size.ok()) {
      auto sum = Decimal::Add(p.fills, *size);
      if (sum.ok()) p.fills = *sum;
    }
  }
  p.at = at;
}

absl::Status Bus::OpenOrderLog(const std::string& path, bool fsync) {
  runtime::RecordLog::Replay replay;
  auto log = runtime::RecordLog::Open({path, fsync}, &replay);
  if (!log.ok()) return log.status();
  order_log_ = std::move(*log);
  for (const auto& rec : replay.records) {
    v1::OrderEvent m;
    if (!m.ParseFromString(rec)) continue;  // checksummed: only a foreign file gets here
    if (m.account().empty()) {  // marker: the log has covered every order event since then
      if (order_log_since_ == 0) order_log_since_ = m.exchange_time_ns();
      continue;
    }
    AccountState& a = accounts_[m.account()];
    if (m.sequence() > 0) {  // 0: a compaction summary (feeds the published view only)
      a.seq = std::max(a.seq, m.sequence());
      if (limits_.replay_buffer > 0) {
        a.replay.emplace_back(m.sequence(), Serialize(m));
        while (a.replay.size() > limits_.replay_buffer) a.replay.pop_front();
      }
      if (m.has_fill() && !m.fill().trade_id().empty()) {
        const auto& f = m.fill();
        const std::string& sym =
            f.market().symbol().empty() ? m.order().market().symbol() : f.market().symbol();
        RememberTrade(a, TradeKey(sym, f.side() == v1::SIDE_BUY, f.trade_id()));
      }
    }
    NotePublished(m, m.receive_time_ns());
  }
  if (order_log_since_ == 0) {
    // A new (or unreadable-from-the-start) log covers orders from now on only.
    order_log_since_ = clock_.Now();
    v1::OrderEvent marker;
    marker.set_exchange_time_ns(order_log_since_);
    if (auto st = order_log_->Append(marker.SerializeAsString()); !st.ok()) return st;
  }
  published_at_start_ = published_;
  order_log_compact_at_ = std::max(kOrderLogMinCompactBytes, order_log_->bytes() * 2);
  return absl::OkStatus();
}

PublishedOrder Bus::PublishedBeforeStart(const std::string& account,
                                         const std::string& client_order_id,
                                         UnixNanos updated) const {
  PublishedOrder out;
  if (!order_log_ || updated < order_log_since_) return out;
  out.covered = true;
  auto it = published_at_start_.find(PublishedKey(account, client_order_id));
  if (it == published_at_start_.end()) return out;
  out.found = true;
  out.status = it->second.status;
  // What clients were told of its fills: the fill messages, not the order's filled size (an
  // IOC's ack says FILLED before its fill message; a kill -9 between the two lost the fill).
  out.filled_size = it->second.fills;
  return out;
}

void Bus::LogOrderEvent(const std::string& bytes) {
  if (auto st = order_log_->Append(bytes); !st.ok()) {
    // The event still goes out live; only its survival across a restart is lost. Loud.
    spdlog::error("order-event log: {} (events are not persisted until this clears)",
                  std::string(st.message()));
    return;
  }
  if (order_log_->bytes() >= order_log_compact_at_) CompactOrderLog();
}

void Bus::CompactOrderLog() {
  // Keep: the coverage marker, a summary of every order a restart may still ask about (open
  // ones, and final ones for a day), then every account's replay buffer in sequence order.
  std::vector<std::string> keep;
  v1::OrderEvent marker;
  marker.set_exchange_time_ns(order_log_since_);
  keep.push_back(marker.SerializeAsString());
  const UnixNanos now = clock_.Now();
  for (const auto& [key, p] : published_) {
    if (IsTerminal(p.status) && now - p.at > kPublishedRetentionNs) continue;
    const size_t sep = key.find('\x1f');
    v1::OrderEvent sum;
    sum.set_account(key.substr(0, sep));
    sum.mutable_order()->set_client_order_id(key.substr(sep + 1));
    sum.mutable_order()->set_status(ToProto(p.status));
    sum.mutable_order()->set_filled_size(p.filled.ToNormalizedString());
    sum.mutable_fill()->set_size(p.fills.ToNormalizedString());  // always set: see NotePublished
    sum.set_receive_time_ns(p.at);
    keep.push_back(sum.SerializeAsString());
  }
  for (const auto& [account, a] : accounts_) {
    for (const auto& [seq, bb] : a.replay) {
      grpc::Slice slice;
      if (!bb.DumpToSingleSlice(&slice).ok()) continue;
      keep.emplace_back(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  std::vector<std::string_view> views(keep.begin(), keep.end());
  if (auto st = order_log_->Rewrite(views); !st.ok()) {
    spdlog::error("order-event log compaction: {}", std::string(st.message()));
  }
  order_log_compact_at_ = std::max(kOrderLogMinCompactBytes, order_log_->bytes() * 2);
}

void Bus::OnOrder(const OrderEvent& o) {
  AccountState& a = accounts_[o.order.account];
  const std::string id = o.order.order_id.empty() ? o.order.client_order_id : o.order.order_id;
  if (!o.order.order_id.empty() && !o.order.client_order_id.empty()) {
    a.orders.erase(o.order.client_order_id);  // provisional entry keyed by client id
  }
  a.orders[id] = o.order;
  v1::OrderEvent m;
  m.set_account(o.order.account);
  Fill(o.order, m.mutable_order());
  m.set_reject_reason(m.order().reason());
  bool fill = o.fill.has_value();
  if (fill && !o.fill->trade_id.empty() &&
      !RememberTrade(a, TradeKey(o.fill->symbol.empty() ? o.order.symbol : o.fill->symbol,
                                 o.fill->side == Side::kBuy, o.fill->trade_id))) {
    // Sent before (a reconcile and the venue's stream both reported it): the fill is not
    // repeated; the order state goes out only if it is news.
    fill = false;
    auto it = published_.find(PublishedKey(o.order.account, o.order.client_order_id));
    if (it != published_.end() && it->second.status == o.order.status &&
        it->second.filled >= o.order.filled_size) {
      return;
    }
  }
  m.set_sequence(++a.seq);
  if (fill) Fill(*o.fill, m.mutable_fill());
  m.set_exchange_time_ns(o.exchange_time);
  m.set_receive_time_ns(o.receive_time);
  m.set_epoch(epoch_);
  NotePublished(m, clock_.Now());
  if (order_log_) LogOrderEvent(m.SerializeAsString());
  grpc::ByteBuffer msg = Serialize(m);
  if (limits_.replay_buffer > 0) {
    a.replay.emplace_back(a.seq, msg);
    while (a.replay.size() > limits_.replay_buffer) a.replay.pop_front();
  }
  Prune(a.order_subs);
  for (auto& s : a.order_subs) {
    if (!s->PushLossless(msg)) {
      stats_.slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
      s->Finish(GrpcStatus(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          "order-event consumer too slow; reconnect with from_sequence=" + std::to_string(a.seq),
          reason::kSlowConsumer));
    }
  }
  Prune(a.order_subs);
}

void Bus::SubscribeOrders(SubscriberPtr sub, std::string account, uint64_t from_sequence,
                          uint64_t epoch) {
  PostSubscribe(sub, [this, sub, account = std::move(account), from_sequence, epoch] {
    AccountState& a = accounts_[account];
    // Where the client stands: live events continue from perpgw-sequence + 1 (a replay runs up
    // to it), in this epoch. A client may resume from it after a disconnect.
    sub->SetHeader("perpgw-sequence", std::to_string(a.seq));
    sub->SetHeader("perpgw-epoch", std::to_string(epoch_));
    if (epoch != 0 && epoch != epoch_ && from_sequence > 0 && !order_log_) {
      sub->Finish(GrpcStatus(
          grpc::StatusCode::FAILED_PRECONDITION,
          "the gateway restarted (epoch " + std::to_string(epoch) + " -> " +
              std::to_string(epoch_) +
              ") without an order-event log (orders.journal_dir): sequences restarted; "
              "reconcile with ListOpenOrders/ListFills, then stream with from_sequence 0",
          reason::kReplayUnavailable));
      return;
    }
    if (from_sequence > 0 && from_sequence <= a.seq) {
      if (a.replay.empty() || a.replay.front().first > from_sequence) {
        sub->Finish(grpc::Status(
            grpc::StatusCode::OUT_OF_RANGE,
            "from_sequence " + std::to_string(from_sequence) +
                " is no longer in the replay buffer; reconcile with ListOpenOrders/GetOrder"));
        return;
      }
      for (const auto& [seq, msg] : a.replay) {
        if (seq >= from_sequence && !sub->PushLossless(msg)) {
          sub->Finish(GrpcStatus(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "replay larger than the mailbox bound", reason::kSlowConsumer));
          return;
        }
      }
    } else if (from_sequence > a.seq + 1) {
      sub->Finish(grpc::Status(
          grpc::StatusCode::OUT_OF_RANGE,
          "from_sequence is ahead of the account's last sequence " + std::to_string(a.seq)));
      return;
    }
    all_subs_.push_back(sub);
    a.order_subs.push_back(sub);
  });
}

void Bus::GetOrder(std::string account, std::string order_id, std::string client_order_id,
                   std::function<void(std::optional<Order>)> done) {
  Post([this, account = std::move(account), order_id = std::move(order_id),
        client_order_id = std::move(client_order_id), done = std::move(done)] {
    auto a = accounts_.find(account);
    if (a == accounts_.end()) return done(std::nullopt);
    for (const auto& [id, o] : a->second.orders) {
      if ((!order_id.empty() && o.order_id == order_id) ||
          (!client_order_id.empty() && o.client_order_id == client_order_id)) {
        return done(o);
      }
    }
    done(std::nullopt);
  });
}

void Bus::ListOrders(std::string account, std::string symbol, bool open_only,
                     std::function<void(std::vector<Order>)> done) {
  Post([this, account = std::move(account), symbol = std::move(symbol), open_only,
        done = std::move(done)] {
    std::vector<Order> out;
    auto a = accounts_.find(account);
    if (a != accounts_.end()) {
      for (const auto& [id, o] : a->second.orders) {
        if (!symbol.empty() && o.symbol != symbol) continue;
        if (open_only && IsTerminal(o.status)) continue;
        out.push_back(o);
      }
    }
    done(std::move(out));
  });
}

}  // namespace perpgw::gateway
