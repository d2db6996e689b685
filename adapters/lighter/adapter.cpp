// Lighter adapter: markets from orderBookDetails, books kept live on the begin_nonce chain from
// order_book/{m} (a snapshot starts every subscription; a resync re-subscribes), BBO from
// ticker/{m}, trades and liquidations from trade/{m}, funding from funding-rates (lighter rows)
// + market_stats/all (mark, index, OI, volume, next settlement). Trading: Schnorr-signed
// transactions through one TxQueue per API key (nonces, batching, re-sync), placed through the
// order desk (journal, idempotency, reconcile); sendTx acceptance is not execution, so acks say
// PENDING_NEW and the order's fate comes from account_all_orders / account_all_trades (and the
// tx status query when a tx never shows). Private reads carry an auth token.
#include "adapters/lighter/adapter.h"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "absl/strings/numbers.h"

#include "adapters/api/order_book.h"
#include "adapters/common/adapter_base.h"
#include "adapters/common/client_ids.h"
#include "adapters/common/refresh_gate.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/codec_funding.h"
#include "adapters/lighter/errors.h"
#include "adapters/lighter/feed.h"
#include "adapters/lighter/rest.h"
#include "adapters/lighter/symbols.h"
#include "adapters/lighter/tx_queue.h"
#include "adapters/lighter/ws.h"

namespace perpgw::adapters::lighter {
namespace {

namespace asio = boost::asio;

constexpr auto kFundingRefresh = std::chrono::seconds(30);
constexpr auto kInstrumentRefresh = std::chrono::minutes(10);
constexpr auto kBalancePoll = std::chrono::seconds(30);  // user_stats streams it; a slow poll
constexpr auto kBalanceRefreshGap = std::chrono::milliseconds(500);
constexpr auto kTxWatch = std::chrono::milliseconds(500);
constexpr int kRestBookDepth = 100;  // orderBookOrders rows per side (individual orders)
constexpr int kHistoryPage = 100;
constexpr int kHistoryPages = 5;
constexpr size_t kTerminalKept = 1000;
// ListFills reads at most 5 pages of /trades (100 rows each, weight 600 each) per answer; the
// gateway narrows its window when a full 500 come back.
constexpr int kFillPageSize = 500;
// Txs per sendTxBatch: the key's queue's batch (the notes' safe 15), also PlaceOrders' and
// CancelOrders' batch size.
constexpr size_t kMaxTxBatch = 15;
constexpr size_t kSeenTradesKept = 20000;
// A tx must land within kTxExpiryMs of signing (ExpiredAt); a queued tx is signed only if it
// waited less than kMaxQueueWait. The desk's window for an unknown outcome covers both.
constexpr int64_t kTxExpiryMs = 30'000;
constexpr int64_t kMaxQueueWaitNs = 5'000'000'000;
// An accepted create whose order has not shown on the account stream after this long is looked
// up by its tx hash (a tx the sequencer refused after accepting it never shows).
constexpr int64_t kTxShowNs = 1'500'000'000;
constexpr int64_t kTxWatchGiveUpNs = 120'000'000'000;
constexpr int64_t kAckWaitMs = 1000;
// A modify's sendTx answer is acceptance, not execution: its answer waits this long for the
// account stream to show the order at its new price and size, then asks the tx status and the
// order itself; never a success the venue did not show.
constexpr int64_t kAmendWaitMs = 3000;

absl::Status FromVenue(const VenueError& e) {
  return ToStatus(e);
}

std::string Unknown(const std::string& what) {
  return what + " on lighter";
}

class LighterAdapter final : public common::AdapterBase {
 public:
  LighterAdapter(const VenueConfig& cfg, const Clock& clock)
      : AdapterBase(cfg, clock, "lighter"),
        rest_(ioc_, cfg_, clock),
        books_(cfg_.name, feed_.seq_rule(),
               BookHooks([this](const Instrument& in) { RequestSnapshot(in); })),
        chain_id_(ChainIdOf(cfg_)) {
    books_.set_can_request([this] { return public_ && public_->AnyOpen(); });
    auto it = cfg_.options.find("funding_rate_hours");
    rate_is_8h_ = it != cfg_.options.end() && it->second == "8";
  }
  ~LighterAdapter() override { Stop(); }

  Capabilities capabilities() const override {
    Capabilities c;
    c.trading = !cfg_.accounts.empty();
    c.set_leverage = true;        // UpdateLeverage (tx type 20)
    c.liquidation_stream = true;  // trade/{m} liquidation_trades
    c.fill_history = true;
    // ListFills walks /trades' next_cursor (100 rows a page) oldest first up to this many rows.
    c.fill_page_size = kFillPageSize;
    c.funding_history = true;  // ListFundingHistory
    c.market_orders = false;  // sent as bounded IOC limits (exact price protection)
    c.post_only = true;
    c.reduce_only = true;
    c.balance_stream = true;  // user_stats
    c.native_amend = c.trading;  // ModifyOrder (tx type 17): same order and client indexes
    // PlaceOrders / CancelOrders: the batch's txs leave together in one sendTxBatch.
    c.native_batch = static_cast<int>(kMaxTxBatch);
    c.native_cancel_batch = static_cast<int>(kMaxTxBatch);
    return c;
  }

  void Subscribe(std::vector<MarketSubscription> subs) override {
    asio::post(ioc_, [this, subs = std::move(subs)] {
      for (const auto& s : subs) wanted_.insert(s.symbol);
      if (ready_) EnsureStreams();
    });
  }

  void FetchBook(std::string symbol, int depth, Callback<BookUpdate> done) override {
    asio::post(ioc_, [this, symbol, depth, done = std::move(done)] {
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      Instrument inst = *in;
      const int64_t market = symbols_.MarketIndexOf(inst.venue_symbol);
      const int want = depth > 0 ? std::min(depth, 250) : kRestBookDepth;
      rest_.OrderBookOrders(market, want, [this, inst, depth, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto u = codec_.ParseOrderBookOrders(r.body, inst, clock_.Now());
        if (!u.ok()) return done(u.status());
        u->venue = cfg_.name;
        if (depth > 0 && u->bids.size() > static_cast<size_t>(depth)) u->bids.resize(depth);
        if (depth > 0 && u->asks.size() > static_cast<size_t>(depth)) u->asks.resize(depth);
        done(std::move(*u));
      });
    });
  }

  void FetchFunding(std::string symbol, Callback<Funding> done) override {
    asio::post(ioc_, [this, symbol, done = std::move(done)] {
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      auto it = funding_.find(symbols_.MarketIndexOf(in->venue_symbol));
      if (it != funding_.end()) return done(it->second);
      done(absl::UnavailableError("funding for " + symbol + " not loaded yet; retry"));
    });
  }

  void ListFundingHistory(FundingHistoryQuery q, Callback<std::vector<Funding>> done) override {
    asio::post(ioc_, [this, q = std::move(q), done = std::move(done)]() mutable {
      const Instrument* in = symbols_.ByTicker(q.symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + q.symbol)));
      const int64_t market = symbols_.MarketIndexOf(in->venue_symbol);
      FundingsPage(FirstFundingsRequest(market, q, clock_.Now()), in->symbol, q.limit, {},
                   std::move(done));
    });
  }

  // ---------------------------------------------------------------- trading

  void PlaceOrder(OrderRequest req, Callback<OrderAck> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto* acc = FindAccount(req.account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + req.account)));
      const MarketInfo* m = MarketOf(req.symbol);
      if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + req.symbol)));
      if (!m->instrument.tradeable) {
        return done(absl::FailedPreconditionError("lighter market " + m->instrument.venue_symbol +
                                                  " is not active (status " + m->status + ")"));
      }
      if (auto st = DeskStatus(); !st.ok()) return done(st);
      desk_->Place(req, (kTxExpiryMs * 1000000) + kMaxQueueWaitNs, std::move(done));
    });
  }

  void CancelOrder(CancelRequest req, Callback<CancelResult> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      if (HoldCancel(req, done)) return;  // CancelOrders: leaves with the batch's other txs
      CancelNow(std::move(req), std::move(done));
    });
  }

  void CancelNow(CancelRequest req, Callback<CancelResult> done) override {
    AccountCtx* acc = nullptr;
    if (auto job = CancelJob(req, std::move(done), &acc)) {
      acc->txq->Submit(std::move(job->sign), std::move(job->done));
    }
  }

  // One key's queue per account: a batch's cancels of any market leave together.
  std::string CancelBatchKey(const CancelRequest& r) const override { return r.account; }

  // CancelOrders: the batch's CancelOrder txs are queued together (TxQueue::SubmitAll) and
  // leave in one sendTxBatch when the key has nothing in flight. Each cancel is answered as a
  // single one: the order's final state read back (a refused batch is an unknown outcome for
  // each tx: the read-back decides).
  void SendCancelBatch(std::vector<CancelRequest> reqs,
                       std::vector<Callback<CancelResult>> dones) override {
    AccountCtx* acc = nullptr;
    std::vector<TxQueue::Job> jobs;
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (auto job = CancelJob(reqs[i], std::move(dones[i]), &acc)) jobs.push_back(std::move(*job));
    }
    if (!jobs.empty()) acc->txq->SubmitAll(std::move(jobs));
  }

  // Native modify (ModifyOrder, tx type 17, through the key's tx queue): the order keeps its
  // order and client indexes; the tx needs the order's index, the new size and price, taken from
  // the desk's entry (else a lookup at the venue) when the request leaves one out. sendTx's
  // answer is acceptance, not execution: the answer waits (bounded) for the account stream to
  // show the order at its new price and size. Refusals map through the error table: no such
  // open order is NOT_FOUND; other refusals answer REJECTED with the order unchanged; a
  // timeout/5xx, or a modify accepted but never shown, is OUTCOME_UNKNOWN (never a fake
  // success).
  void AmendOrder(AmendRequest req, Callback<OrderAck> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto* acc = FindAccount(req.account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + req.account)));
      const MarketInfo* m = MarketOf(req.symbol);
      if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + req.symbol)));
      std::optional<Order> known;
      if (desk_ && !req.client_order_id.empty()) {
        known = desk_->Known(req.account, req.client_order_id);
      }
      if (known && !known->order_id.empty() &&
          (known->order_id == req.order_id || req.order_id.empty())) {
        return SendModify(acc, *m, std::move(req), *known, std::move(done));
      }
      // Not the desk's (placed elsewhere, the entry is gone, or its order index not seen yet):
      // ask the venue for its side, size and index.
      auto index = IndexOf(acc, req.order_id, req.client_order_id);
      if (!index.ok()) return done(index.status());
      Lookup(acc, m->market_index, *index, 0,
             [this, acc, market = *m, req = std::move(req),
              done](absl::StatusOr<std::optional<Order>> o) mutable {
               if (!o.ok()) return done(o.status());
               if (!*o) return done(absl::NotFoundError("order not found on lighter"));
               SendModify(acc, market, std::move(req), Own(acc, **o), std::move(done));
             });
    });
  }

  void CancelAll(std::string account, std::string symbol,
                 Callback<std::vector<Order>> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      int64_t market = -1;
      if (!symbol.empty()) {
        const MarketInfo* m = MarketOf(symbol);
        if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
        market = m->market_index;
      }
      // The orders open before the cancel: the venue's list for one market, the account
      // stream's live view for all (one request per market would not fit the rate limit).
      OpenOrdersNow(acc, market, [this, acc, market, done](absl::StatusOr<std::vector<Order>> open) {
        if (!open.ok()) return done(open.status());
        CancelAllOrdersTx tx;
        tx.time_in_force = CancelAllTimeInForce::kImmediate;
        if (market >= 0) tx.attributes.cancel_all_market_index = market;
        SubmitTx<CancelAllOrdersTx>(
            acc, [tx](int64_t) -> absl::StatusOr<decltype(tx)> { return tx; },
            [this, acc, open = *open, done](TxOutcome o) {
              if (o.kind == TxOutcome::Kind::kNotSent) return done(o.status);
              if (o.kind != TxOutcome::Kind::kAccepted) return done(FromVenue(o.answer.error));
              std::vector<Order> out;
              for (Order ord : open) {
                ord.status = OrderStatus::kCanceled;
                ord.reason = CancelReason::kUserCanceled;
                out.push_back(Annotated(std::move(ord)));
              }
              done(std::move(out));
            });
      });
    });
  }

  void GetOrder(CancelRequest ref, bool, Callback<Order> done) override {
    asio::post(ioc_, [this, ref = std::move(ref), done = std::move(done)] {
      auto* acc = FindAccount(ref.account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + ref.account)));
      const MarketInfo* m = MarketOf(ref.symbol);
      if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + ref.symbol)));
      auto index = IndexOf(acc, ref.order_id, ref.client_order_id);
      if (!index.ok()) return done(index.status());
      Lookup(acc, m->market_index, *index, 0,
             [this, acc, done](absl::StatusOr<std::optional<Order>> o) {
               if (!o.ok()) return done(o.status());
               if (!*o) return done(absl::NotFoundError("order not found on lighter"));
               done(Annotated(Own(acc, **o)));
             });
    });
  }

  void ListOpenOrders(std::string account, std::string symbol,
                      Callback<std::vector<Order>> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      int64_t market = -1;
      if (!symbol.empty()) {
        const MarketInfo* m = MarketOf(symbol);
        if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
        market = m->market_index;
      }
      OpenOrdersNow(acc, market, [this, done](absl::StatusOr<std::vector<Order>> open) {
        if (!open.ok()) return done(open.status());
        for (auto& o : *open) o = Annotated(std::move(o));
        done(std::move(*open));
      });
    });
  }

  void ListFills(FillQuery q, Callback<std::vector<Fill>> done) override {
    asio::post(ioc_, [this, q = std::move(q), done = std::move(done)] { ListFillsNow(q, done); });
  }

  void GetBalance(std::string account, Callback<Balance> done) override {
    asio::post(ioc_, [this, account, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      ReadAccount(acc, [this, acc, done](absl::StatusOr<AccountState> a) {
        if (!a.ok()) return done(a.status());
        done(ToBalance(acc, *a));
      });
    });
  }

  void GetPositions(std::string account, Callback<std::vector<Position>> done) override {
    asio::post(ioc_, [this, account, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      ReadAccount(acc, [this, acc, done](absl::StatusOr<AccountState> a) {
        if (!a.ok()) return done(a.status());
        for (auto& p : a->positions) Own(acc, &p);
        done(std::move(a->positions));
      });
    });
  }

  void GetLeverageInfo(std::string account, std::string symbol,
                       Callback<LeverageInfo> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)]() mutable {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      const MarketInfo* m = MarketOf(symbol);
      if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      LeverageNow(acc, *m, std::move(done));
    });
  }

  // UpdateLeverage (tx type 20): the initial margin fraction for the leverage asked (rounded so
  // the leverage set is never above it), the account's margin mode on that market kept. The
  // reply waits for the tx to execute (tx status), then reads the setting back.
  void SetLeverage(std::string account, std::string symbol, Decimal leverage,
                   Callback<LeverageInfo> done) override {
    asio::post(ioc_, [this, account, symbol, leverage, done = std::move(done)]() mutable {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      const MarketInfo* m = MarketOf(symbol);
      if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      // Checked before anything is read or signed; the margin mode is filled in below.
      auto encoded = EncodeUpdateLeverage(leverage, *m, MarginMode::kCross);
      if (!encoded.ok()) return done(encoded.status());
      const MarketInfo market = *m;
      ReadAccount(acc, [this, acc, market, tx = *encoded,
                        done](absl::StatusOr<AccountState> a) mutable {
        // Without the account's margin mode a cross tx could flip an isolated market: refuse.
        if (!a.ok()) {
          return done(absl::UnavailableError("lighter: cannot read the account's margin mode "
                                             "before setting leverage: " +
                                             std::string(a.status().message())));
        }
        if (auto it = a->settings.find(market.instrument.symbol); it != a->settings.end()) {
          tx.margin_mode = it->second.margin_mode == 1 ? MarginMode::kIsolated : MarginMode::kCross;
        }
        SubmitTx<UpdateLeverageTx>(
            acc, [tx](int64_t) -> absl::StatusOr<UpdateLeverageTx> { return tx; },
            [this, acc, market, done](TxOutcome o) {
              if (o.kind == TxOutcome::Kind::kNotSent) return done(o.status);
              if (o.kind == TxOutcome::Kind::kRefused) return done(FromVenue(o.answer.error));
              ConfirmLeverage(acc, market, o, 0, done);
            });
      });
    });
  }

 private:
  // An accepted create's ack waits (briefly) for its order to show on the account stream, so
  // it carries the venue's order index and state; past the wait it says PENDING_NEW.
  struct AckWaiter {
    runtime::OrderDesk::SubmitDone done;
    runtime::OrderDesk::SubmitResult res;
    bool fired = false;
    void Fire(const Order* shown) {
      if (fired) return;
      fired = true;
      if (shown) {
        res.ack.order = *shown;
        res.ack.message.clear();
      }
      done(std::move(res));
    }
  };
  struct PendingCreate {
    std::string client_order_id, symbol, tx_hash;
    UnixNanos accepted_at = 0;
    std::shared_ptr<AckWaiter> waiter;
    bool executed = false;  // the tx status said executed; the stream still owes the order
    bool querying = false;
  };
  // A modify the venue accepted (or is being sent) whose execution the account stream has not
  // shown yet: the answer waits for the order at `price` / `size`.
  struct PendingAmend {
    Decimal price, size;  // what the modify asked (size: the total, fills included)
    Order before;         // the order as known before it
    std::string tx_hash;
    Callback<OrderAck> done;
    bool fired = false;
  };
  struct AccountCtx {
    Credentials creds;
    std::unique_ptr<TxQueue> txq;
    common::ClientIdMap clients{"lighter", static_cast<uint64_t>(kMaxClientOrderIndex)};
    std::unique_ptr<common::StreamSet> stream;
    std::unique_ptr<common::RefreshGate> balance_gate;
    std::map<std::string, Order> orders;  // by venue order index: the last state seen
    std::deque<std::string> terminal;     // terminal ids still in `orders`, oldest first
    bool orders_snapshot = false;         // account_all_orders snapshot seen on this connection
    std::map<uint64_t, PendingCreate> pending;  // accepted creates by client order index
    std::map<std::string, std::shared_ptr<PendingAmend>> amends;  // by order id (order index)
    std::unordered_set<std::string> seen_trades;
    std::deque<std::string> seen_order;
  };
  using LookupDone = std::function<void(absl::StatusOr<std::optional<Order>>)>;

  AccountCtx* FindAccount(const std::string& id) {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : it->second.get();
  }
  const MarketInfo* MarketOf(const std::string& ticker) const {
    const Instrument* in = symbols_.ByTicker(ticker);
    if (!in) return nullptr;
    auto it = markets_.find(symbols_.MarketIndexOf(in->venue_symbol));
    return it == markets_.end() ? nullptr : &it->second;
  }

  // Our client ids for the venue's client order indexes (orders placed elsewhere keep the
  // decimal index).
  Order Own(const AccountCtx* acc, Order o) const {
    o.venue = cfg_.name;
    o.account = acc->creds.account;
    if (!o.client_order_id.empty()) o.client_order_id = acc->clients.ResolveText(o.client_order_id);
    return o;
  }
  void Own(const AccountCtx* acc, Position* p) const {
    p->venue = cfg_.name;
    p->account = acc->creds.account;
  }
  Order Annotated(Order o) const {
    if (desk_) desk_->Annotate(o);
    return o;
  }

  // The index a cancel or lookup names: an exchange order index (>= 2^48) or a client order
  // index (ours, mapped; or a bare decimal for orders placed elsewhere).
  absl::StatusOr<int64_t> IndexOf(AccountCtx* acc, const std::string& order_id,
                                  const std::string& client_id) const {
    if (!order_id.empty()) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(order_id, &v) || v <= 0) {
        return absl::InvalidArgumentError("lighter order ids are decimal order indexes, got '" +
                                          order_id.substr(0, 32) + "'");
      }
      return v;
    }
    if (client_id.empty()) return absl::InvalidArgumentError("order_id or client_order_id needed");
    if (auto idx = acc->clients.Find(client_id)) return static_cast<int64_t>(*idx);
    if (auto idx = acc->clients.ParseCanonical(client_id)) return static_cast<int64_t>(*idx);
    return absl::NotFoundError("client order id " + client_id.substr(0, 64) +
                               " was not placed through this gateway on lighter");
  }

  // ---------------------------------------------------------------- transactions

  // Any tx type: `build` fills the body (market, index, ...); the envelope (account, key,
  // nonce, expiry) and the signature are added here when the queue hands out a nonce.
  template <typename Tx>
  void SubmitTx(AccountCtx* acc, std::function<absl::StatusOr<Tx>(int64_t)> build,
                TxQueue::DoneFn done) {
    acc->txq->Submit(SignerOf<Tx>(acc, std::move(build)), std::move(done));
  }
  // The queue's signer for one tx: `build` fills the body when the queue hands out a nonce.
  template <typename Tx>
  TxQueue::SignFn SignerOf(AccountCtx* acc, std::function<absl::StatusOr<Tx>(int64_t)> build) {
    const UnixNanos queued = clock_.Now();
    return [this, acc, build = std::move(build),
            queued](int64_t nonce) -> absl::StatusOr<SignedTx> {
      const UnixNanos now = clock_.Now();
      if (now - queued > kMaxQueueWaitNs) {
        return absl::UnavailableError(
            "lighter: the transaction waited over 5 s behind the API key's earlier ones; "
            "not sent");
      }
      auto built = build(now / 1000000);
      if (!built.ok()) return built.status();
      Tx tx = std::move(*built);
      tx.account_index = acc->creds.account_index;
      tx.api_key_index = acc->creds.api_key_index;
      tx.nonce = nonce;
      tx.expired_at = now / 1000000 + kTxExpiryMs;
      const auto t0 = std::chrono::steady_clock::now();
      auto signed_tx = SignTx(tx, chain_id_, *acc->creds.key);
      if (sink_) {
        sink_->Observe(cfg_.name, VenueLatency::kSigning,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - t0)
                           .count());
      }
      return signed_tx;
    };
  }

  // One cancel's CancelOrder tx for the key's queue, answering `done` as a single cancel does.
  // nullopt: answered already (unknown account, symbol or order: nothing queued).
  std::optional<TxQueue::Job> CancelJob(const CancelRequest& req, Callback<CancelResult> done,
                                        AccountCtx** acc_out) {
    auto* acc = FindAccount(req.account);
    if (!acc) {
      done(absl::NotFoundError(Unknown("unknown account " + req.account)));
      return std::nullopt;
    }
    const MarketInfo* m = MarketOf(req.symbol);
    if (!m) {
      done(absl::NotFoundError(Unknown("unknown symbol " + req.symbol)));
      return std::nullopt;
    }
    auto index = IndexOf(acc, req.order_id, req.client_order_id);
    if (!index.ok()) {
      done(index.status());
      return std::nullopt;
    }
    *acc_out = acc;
    CancelOrderTx tx;
    tx.market_index = static_cast<int16_t>(m->market_index);
    tx.index = *index;
    const int64_t market = m->market_index;
    const int64_t idx = *index;
    TxQueue::Job job;
    job.sign = SignerOf<CancelOrderTx>(
        acc, [tx](int64_t) -> absl::StatusOr<decltype(tx)> { return tx; });
    job.done = [this, acc, market, idx, done](TxOutcome o) {
      if (o.kind == TxOutcome::Kind::kNotSent) return done(o.status);
      if (o.kind == TxOutcome::Kind::kRefused) return done(FromVenue(o.answer.error));
      // Accepted (or unknown): the order's final state is read back; a cancel that did not
      // apply (already final) shows the order as it is.
      LookupFinal(acc, market, idx, 0,
                  [this, acc, o, done](absl::StatusOr<std::optional<Order>> r) {
                    if (!r.ok()) return done(r.status());
                    if (!*r) {
                      if (o.kind == TxOutcome::Kind::kUnknown) {
                        return done(FromVenue(o.answer.error));
                      }
                      return done(absl::NotFoundError("order not found on lighter"));
                    }
                    done(CancelResult{Annotated(Own(acc, **r))});
                  });
    };
    return job;
  }

  // One order's CreateOrder tx for the key's queue, answering `done` as a single order's
  // submit does. nullopt: answered already (unknown account/symbol, an encoding error: nothing
  // queued). `*acc_out`: the order's account.
  std::optional<TxQueue::Job> CreateJob(const OrderRequest& wire, const runtime::JournalEntry& e,
                                        runtime::OrderDesk::SubmitDone done,
                                        AccountCtx** acc_out) {
    runtime::OrderDesk::SubmitResult res;
    auto* acc = FindAccount(wire.account);
    const MarketInfo* m = MarketOf(wire.symbol);
    if (!acc || !m || e.venue_client_id == 0) {
      res.error = absl::NotFoundError("unknown account or symbol " + wire.symbol);
      done(res);
      return std::nullopt;
    }
    *acc_out = acc;
    const MarketInfo market = *m;
    const int64_t client_index = static_cast<int64_t>(e.venue_client_id);
    // Encoding errors (grid, range) surface now, before anything is queued.
    if (auto probe = EncodeCreateOrder(wire, market, client_index, 1); !probe.ok()) {
      res.error = probe.status();
      done(res);
      return std::nullopt;
    }
    std::string cid = e.client_order_id;
    TxQueue::Job job;
    job.sign = SignerOf<CreateOrderTx>(
        acc, [wire, market, client_index](int64_t now_ms) {
          // GTT / post-only rest up to the SDKs' 28 days; IOC has no order expiry.
          return EncodeCreateOrder(wire, market, client_index, now_ms + kDefaultGttExpiryMs);
        });
    job.done = [this, acc, wire, cid, client_index, done](TxOutcome o) {
      runtime::OrderDesk::SubmitResult res;
      switch (o.kind) {
        case TxOutcome::Kind::kNotSent:
          res.error = o.status;
          return done(res);
        case TxOutcome::Kind::kAccepted: {
          res.venue_answered = true;
          res.ack.outcome = AckOutcome::kAccepted;
          Order& ord = res.ack.order;
          ord = OrderOf(wire, cfg_.name, OrderStatus::kPendingNew, clock_.Now());
          ord.client_order_id = cid;
          res.ack.message = "accepted by lighter's sequencer as tx " + o.tx_hash +
                            "; execution follows on the order stream";
          ord = Own(acc, ord);
          PendingCreate p;
          p.client_order_id = cid;
          p.symbol = wire.symbol;
          p.tx_hash = o.tx_hash;
          p.accepted_at = clock_.Now();
          // The venue may push the order on the account stream before its sendTx answer
          // arrives (the sim executes at once): then it is already known.
          if (const Order* seen = SeenOnStream(acc, cid)) {
            res.ack.order = *seen;
            res.ack.message.clear();
            return done(res);
          }
          if (!acc->stream || !acc->stream->AnyOpen()) {
            acc->pending[static_cast<uint64_t>(client_index)] = std::move(p);
            return done(res);
          }
          auto w = std::make_shared<AckWaiter>();
          w->done = done;
          w->res = std::move(res);
          p.waiter = w;
          acc->pending[static_cast<uint64_t>(client_index)] = std::move(p);
          // The venue's predicted execution time, plus a margin, at most kAckWait.
          int64_t wait_ms = kAckWaitMs;
          if (o.predicted_execution_ms > 0) {
            wait_ms = std::clamp<int64_t>(
                o.predicted_execution_ms - clock_.Now() / 1000000 + 250, 50, kAckWaitMs);
          }
          After(std::chrono::milliseconds(wait_ms), [w] { w->Fire(nullptr); });
          return;
        }
        case TxOutcome::Kind::kUnknown:
          res.venue_answered = o.answer.answered;
          res.ack.outcome = AckOutcome::kOutcomeUnknown;
          res.ack.retryable = true;
          res.ack.message = o.answer.error.message.empty()
                                ? std::string("no answer from lighter")
                                : o.answer.error.message;
          return done(res);
        case TxOutcome::Kind::kRefused: {
          res.venue_answered = true;
          auto rule = runtime::OrderDesk::SubmitResult::FromVenueError(o.answer.error);
          res.ack = rule.ack;
          res.ack.message = o.answer.error.message;
          res.refused_before_engine = rule.refused_before_engine;
          res.duplicate_client_id = rule.duplicate_client_id;
          res.ack.order.symbol = wire.symbol;
          res.ack.order.client_order_id = cid;
          res.ack.order = Own(acc, res.ack.order);
          return done(res);
        }
      }
    };
    return job;
  }

  void InstallDeskHooks() {
    if (!desk_) return;
    // Client order indexes of journaled orders map back to their ids after a restart.
    for (const auto* e : desk_->Entries()) {
      if (auto* acc = FindAccount(e->account); acc && e->venue_client_id > 0) {
        auto st = acc->clients.Restore(e->client_order_id, e->venue_client_id);
        if (!st.ok()) log_->warn("journal client index: {}", std::string(st.message()));
      }
    }
    runtime::OrderDesk::Hooks h;
    h.assign_venue_id = [this](const std::string& account,
                               const std::string& cid) -> absl::StatusOr<uint64_t> {
      auto* acc = FindAccount(account);
      if (!acc) return absl::NotFoundError("unknown lighter account " + account);
      return acc->clients.Assign(cid);
    };
    h.submit = [this](const OrderRequest& wire, const runtime::JournalEntry& e,
                      runtime::OrderDesk::SubmitDone done) {
      AccountCtx* acc = nullptr;
      if (auto job = CreateJob(wire, e, std::move(done), &acc)) {
        acc->txq->Submit(std::move(job->sign), std::move(job->done));
      }
    };
    // PlaceOrders: the batch's CreateOrder txs are queued together (TxQueue::SubmitAll) and
    // leave in one sendTxBatch when the key has nothing in flight (else they wait and leave
    // together behind it). Each order's answer is the single order's: the tx accepted is not
    // the order placed; the account stream confirms it (or shows it refused, e.g. a post-only
    // that would cross). A refused batch is an unknown outcome for each of its txs (TxQueue).
    h.max_batch = kMaxTxBatch;
    h.submit_batch = [this](std::vector<runtime::OrderDesk::BatchItem> items) {
      AccountCtx* acc = nullptr;
      std::vector<TxQueue::Job> jobs;
      for (auto& item : items) {
        if (auto job = CreateJob(item.wire, item.entry, std::move(item.done), &acc)) {
          jobs.push_back(std::move(*job));
        }
      }
      if (!jobs.empty()) acc->txq->SubmitAll(std::move(jobs));
    };
    h.query = [this](const runtime::JournalEntry& e, runtime::OrderDesk::QueryDone done) {
      auto* acc = FindAccount(e.account);
      const MarketInfo* m = MarketOf(e.symbol);
      if (!acc || !m || e.venue_client_id == 0) {
        runtime::OrderDesk::QueryResult q;
        q.error = "instruments not loaded, account unknown or no client order index";
        return done(q);
      }
      const UnixNanos since = e.sent_time - 60LL * 1000000000;
      Lookup(acc, m->market_index, static_cast<int64_t>(e.venue_client_id), since,
             [this, acc, done](absl::StatusOr<std::optional<Order>> o) {
               runtime::OrderDesk::QueryResult q;
               if (!o.ok()) {
                 q.error = std::string(o.status().message());
               } else if (*o) {
                 q.found = runtime::OrderDesk::Found::kFound;
                 q.order = Own(acc, **o);
               } else {
                 q.found = runtime::OrderDesk::Found::kNotFound;
               }
               done(q);
             });
    };
    h.fills = [this](const std::string& account, const std::string& symbol, UnixNanos since,
                     Callback<std::vector<Fill>> done) {
      FillQuery q{account, symbol, since, 0, 1000};
      ListFillsNow(q, std::move(done));
    };
    SetDeskHooks(std::move(h));
  }

  // ---------------------------------------------------------------- modify

  // Whether the stream's `o` shows the modify done: the order still live (or filled since) at
  // the new price and size.
  static bool ShowsAmend(const Order& o, const PendingAmend& p) {
    const bool alive = o.status != OrderStatus::kCanceled && o.status != OrderStatus::kRejected &&
                       o.status != OrderStatus::kExpired;
    return alive && o.price == p.price && o.size == p.size;
  }

  // One modify tx; `cur` is the order as known before it (index, side, filled, and the
  // price/size an amend leaves out).
  void SendModify(AccountCtx* acc, const MarketInfo& m, AmendRequest req, Order cur,
                  Callback<OrderAck> done) {
    if (IsTerminal(cur.status)) {
      return done(absl::NotFoundError("order is no longer open on lighter (" +
                                      std::string(ToString(cur.status)) + "): nothing to amend"));
    }
    if (auto it = acc->orders.find(cur.order_id);
        it != acc->orders.end() && it->second.filled_size > cur.filled_size) {
      cur.filled_size = it->second.filled_size;  // the stream's fills are the freshest
    }
    if (acc->amends.count(cur.order_id)) {
      return done(absl::AbortedError("a modify of order " + cur.order_id +
                                     " is in flight on lighter; retry after it is answered"));
    }
    const Decimal size = req.size ? *req.size : cur.size;
    const Decimal price = req.price ? *req.price : cur.price;
    auto left = Decimal::Sub(size, cur.filled_size);
    if (!left.ok()) return done(left.status());
    if (!left->IsPositive()) {
      return done(absl::InvalidArgumentError(
          "new size " + size.ToNormalizedString() + " is not above what already filled (" +
          cur.filled_size.ToNormalizedString() + ")"));
    }
    auto index = IndexOf(acc, cur.order_id, cur.client_order_id);
    if (!index.ok()) return done(index.status());
    // Encoding errors (grid, range) surface now, before anything is queued.
    auto tx = EncodeModifyOrder(m, *index, *left, price);
    if (!tx.ok()) return done(tx.status());
    auto p = std::make_shared<PendingAmend>();
    p->price = price;
    p->size = size;
    p->before = cur;
    p->done = std::move(done);
    acc->amends[cur.order_id] = p;
    SubmitTx<ModifyOrderTx>(
        acc, [tx = *tx](int64_t) -> absl::StatusOr<ModifyOrderTx> { return tx; },
        [this, acc, p, m](TxOutcome o) {
          if (p->fired) return;  // the stream showed it before the answer arrived
          switch (o.kind) {
            case TxOutcome::Kind::kNotSent:
              return FinishAmend(acc, p, o.status);
            case TxOutcome::Kind::kRefused:
              // Timeout/5xx: unknown outcome; "not found": NOT_FOUND; other refusals: REJECTED.
              return FinishAmend(acc, p, AmendFailure(o.answer.error, p->before));
            case TxOutcome::Kind::kUnknown: {
              OrderAck ack;
              ack.outcome = AckOutcome::kOutcomeUnknown;
              ack.retryable = true;
              ack.order = p->before;
              ack.message = "amend outcome unknown (" +
                            (o.answer.error.message.empty() ? std::string("no answer from lighter")
                                                            : o.answer.error.message) +
                            "); look the order up before amending again";
              return FinishAmend(acc, p, ack);
            }
            case TxOutcome::Kind::kAccepted: {
              p->tx_hash = o.tx_hash;
              if (auto it = acc->orders.find(p->before.order_id);
                  it != acc->orders.end() && ShowsAmend(it->second, *p)) {
                return ConfirmAmend(acc, p, it->second);
              }
              After(std::chrono::milliseconds(kAmendWaitMs), [this, acc, p, m] {
                if (!p->fired) SettleAmendAfterWait(acc, p, m);
              });
              return;
            }
          }
        });
  }

  void FinishAmend(AccountCtx* acc, const std::shared_ptr<PendingAmend>& p,
                   absl::StatusOr<OrderAck> answer) {
    if (p->fired) return;
    p->fired = true;
    auto it = acc->amends.find(p->before.order_id);
    if (it != acc->amends.end() && it->second == p) acc->amends.erase(it);
    p->done(std::move(answer));
  }

  // The venue shows the order amended: the desk takes the new price and size.
  void ConfirmAmend(AccountCtx* acc, const std::shared_ptr<PendingAmend>& p, const Order& shown) {
    OrderAck ack;
    ack.outcome = AckOutcome::kAccepted;
    ack.order = shown;
    if (desk_) {
      if (auto reported = desk_->RecordAmend(shown)) ack.order = *reported;
    }
    ack.message = "amended";
    FinishAmend(acc, p, ack);
  }

  // The stream has not shown the modify within the wait: the tx status says whether the
  // sequencer refused it (then the order as it is: gone is NOT_FOUND, else REJECTED unchanged);
  // otherwise the order itself, read at the venue, says whether it carries the new price and
  // size; anything else is OUTCOME_UNKNOWN.
  void SettleAmendAfterWait(AccountCtx* acc, std::shared_ptr<PendingAmend> p, MarketInfo m) {
    auto unknown = [this, acc, p](const std::string& why) {
      OrderAck ack;
      ack.outcome = AckOutcome::kOutcomeUnknown;
      ack.retryable = true;
      ack.order = p->before;
      ack.message = "lighter accepted the modify (tx " + p->tx_hash + ") but " + why +
                    "; look the order up before amending again";
      FinishAmend(acc, p, ack);
    };
    auto index = IndexOf(acc, p->before.order_id, p->before.client_order_id);
    if (!index.ok()) return unknown("the order's index is not known");
    rest_.Tx(p->tx_hash, [this, acc, p, m, idx = *index, unknown](RestResult r) {
      bool failed = false;
      if (r.ok()) {
        auto t = codec_.ParseTx(r.body);
        failed = t.ok() && t->status == TxStatus::kFailed;
      }
      Lookup(acc, m.market_index, idx, 0,
             [this, acc, p, failed, unknown](absl::StatusOr<std::optional<Order>> o) {
               if (p->fired) return;
               if (!o.ok()) return unknown("the order could not be read back");
               if (*o && ShowsAmend(Own(acc, **o), *p)) return ConfirmAmend(acc, p, Own(acc, **o));
               if (!failed) return unknown("the account stream has not shown it executed");
               if (!*o || IsTerminal((*o)->status)) {
                 return FinishAmend(acc, p,
                                    absl::NotFoundError("order is no longer open on lighter: the "
                                                        "sequencer refused the modify (tx " +
                                                        p->tx_hash + ")"));
               }
               OrderAck ack;
               ack.outcome = AckOutcome::kRejected;
               ack.reason = CancelReason::kRejected;
               ack.order = Annotated(Own(acc, **o));
               ack.message = "lighter's sequencer refused the modify (tx " + p->tx_hash +
                             ") after accepting it; the order is unchanged";
               FinishAmend(acc, p, ack);
             });
    });
  }

  // A stream state of an order with a modify waiting: done when it shows the new price and
  // size; an order that ended otherwise (canceled, rejected, filled at its old terms) answers
  // REJECTED with that final state.
  void SettleAmendFromStream(AccountCtx* acc, const Order& o) {
    auto it = acc->amends.find(o.order_id);
    if (it == acc->amends.end()) return;
    std::shared_ptr<PendingAmend> p = it->second;
    if (ShowsAmend(o, *p)) return ConfirmAmend(acc, p, o);
    if (IsTerminal(o.status)) {
      OrderAck ack;
      ack.outcome = AckOutcome::kRejected;
      ack.reason = o.reason == CancelReason::kNone ? CancelReason::kRejected : o.reason;
      ack.order = Annotated(o);
      ack.message = "the order ended (" + std::string(ToString(o.status)) +
                    ") before the modify showed";
      FinishAmend(acc, p, ack);
    }
  }

  // ---------------------------------------------------------------- leverage

  void LeverageNow(AccountCtx* acc, const MarketInfo& m, Callback<LeverageInfo> done) {
    LeverageInfo li = BuildLeverageInfo(m);
    li.venue = cfg_.name;
    li.account = acc->creds.account;
    li.symbol = m.instrument.symbol;
    // The account's initial margin fraction on that market (a row exists once set or traded);
    // the venue's default until then.
    ReadAccount(acc, [li, sym = m.instrument.symbol, done](absl::StatusOr<AccountState> a) mutable {
      if (!a.ok()) return done(a.status());
      if (auto it = a->settings.find(sym); it != a->settings.end() && it->second.leverage) {
        li.leverage = *it->second.leverage;
      }
      done(std::move(li));
    });
  }

  // An accepted UpdateLeverage executes later: its tx status says when (or that the sequencer
  // refused it). Bounded: ~5 s, then UNAVAILABLE saying it may still apply.
  void ConfirmLeverage(AccountCtx* acc, MarketInfo market, TxOutcome o, int attempt,
                       Callback<LeverageInfo> done) {
    auto retry = [this, acc, market, o, attempt, done] {
      if (attempt >= 12) {
        return done(absl::UnavailableError(
            "lighter: the leverage change (tx " + o.tx_hash +
            ") was accepted but has not executed yet; GetLeverageInfo shows when it applies"));
      }
      After(std::chrono::milliseconds(100 * (attempt + 1)), [this, acc, market, o, attempt, done] {
        ConfirmLeverage(acc, market, o, attempt + 1, done);
      });
    };
    if (o.tx_hash.empty()) return retry();
    rest_.Tx(o.tx_hash, [this, acc, market, o, done, retry](RestResult r) {
      if (!r.ok()) return retry();  // not known yet, or the query failed
      auto t = codec_.ParseTx(r.body);
      if (!t.ok() || t->status == TxStatus::kPending) return retry();
      if (t->status == TxStatus::kFailed) {
        return done(absl::FailedPreconditionError(
            "lighter: the sequencer refused the leverage change (tx " + o.tx_hash + ")"));
      }
      LeverageNow(acc, market, done);
    });
  }

  // ---------------------------------------------------------------- shared reads

  // Lookups of one market share their reads: a reconcile pass asks once per open order and a
  // cancel's read-back polls, and accountActiveOrders weighs 300 of the premium tier's 24 000
  // a minute (a pass over 100 orders was 30 000: over a minute of the budget, the desk closed
  // meanwhile). Every caller still gets an answer to a request sent after it asked: callers
  // that arrive while a read is out wait for the next one, which leaves when it returns.
  struct SharedRead {
    std::function<void(RestCallback)> send;
    bool in_flight = false;
    std::vector<RestCallback> current, next;
  };

  void ActiveOrdersShared(AccountCtx* acc, int64_t market, RestCallback cb) {
    ReadShared(acc->creds.account + "|active|" + std::to_string(market),
               [this, acc, market](RestCallback done) {
                 rest_.ActiveOrders(acc->creds, market, std::move(done));
               },
               std::move(cb));
  }

  void InactiveOrdersShared(AccountCtx* acc, int64_t market, const std::string& cursor,
                            RestCallback cb) {
    ReadShared(acc->creds.account + "|inactive|" + std::to_string(market) + "|" + cursor,
               [this, acc, market, cursor](RestCallback done) {
                 rest_.InactiveOrders(acc->creds, market, kHistoryPage, cursor, std::move(done));
               },
               std::move(cb));
  }

  void ReadShared(const std::string& key, std::function<void(RestCallback)> send,
                  RestCallback cb) {
    SharedRead& r = reads_[key];
    if (r.in_flight) {
      r.next.push_back(std::move(cb));
      return;
    }
    r.send = std::move(send);
    r.current.push_back(std::move(cb));
    SendShared(key);
  }

  void SendShared(const std::string& key) {
    SharedRead& r = reads_[key];
    r.in_flight = true;
    // A copy: an answer that arrives at once may erase the entry (and its function).
    const std::function<void(RestCallback)> send = r.send;
    send([this, key](RestResult res) {
      auto it = reads_.find(key);
      if (it == reads_.end()) return;
      std::vector<RestCallback> waiters = std::move(it->second.current);
      it->second.current = std::move(it->second.next);
      it->second.next.clear();
      it->second.in_flight = false;
      if (!it->second.current.empty()) {
        SendShared(key);  // those who asked meanwhile: a fresh read
      } else {
        reads_.erase(it);
      }
      for (auto& w : waiters) w(res);
    });
  }

  // ---------------------------------------------------------------- lookups

  static bool Matches(const Order& o, int64_t index) {
    const std::string text = std::to_string(index);
    return o.order_id == text || o.client_order_id == text;
  }

  // An order by exchange or client order index: the market's active orders, then its inactive
  // history (newest first) back to `since` (0: up to kHistoryPages pages). nullopt only when
  // the history was read to its end or past `since` without it.
  void Lookup(AccountCtx* acc, int64_t market, int64_t index, UnixNanos since, LookupDone done) {
    ActiveOrdersShared(acc, market, [this, acc, market, index, since, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto orders = codec_.ParseOrders(r.body, symbols_);
      if (!orders.ok()) return done(orders.status());
      for (const Order& o : *orders) {
        if (Matches(o, index)) return done(std::optional<Order>(o));
      }
      History(acc, market, index, since, "", 0, done);
    });
  }

  void History(AccountCtx* acc, int64_t market, int64_t index, UnixNanos since,
               std::string cursor, int page, LookupDone done) {
    InactiveOrdersShared(acc, market, cursor,
                         [this, acc, market, index, since, page, done](RestResult r) {
                           if (!r.ok()) return done(FromVenue(r.error));
                           std::string next;
                           auto orders = codec_.ParseOrders(r.body, symbols_, &next);
                           if (!orders.ok()) return done(orders.status());
                           UnixNanos oldest = 0;
                           for (const Order& o : *orders) {
                             if (Matches(o, index)) return done(std::optional<Order>(o));
                             const UnixNanos t = o.created_time ? o.created_time : o.updated_time;
                             if (t > 0 && (oldest == 0 || t < oldest)) oldest = t;
                           }
                           const bool end = next.empty() || orders->size() < kHistoryPage;
                           const bool past = since > 0 && oldest > 0 && oldest < since;
                           if (end || past) return done(std::optional<Order>());
                           if (page + 1 >= kHistoryPages) {
                             return done(absl::UnavailableError(
                                 "order index " + std::to_string(index) +
                                 " is not in the newest inactive-order pages on lighter"));
                           }
                           History(acc, market, index, since, next, page + 1, done);
                         });
  }

  // After a cancel: the tx executes after its acceptance, so the order may still read open for
  // a moment. Read until terminal (a few tries), then report what is known.
  void LookupFinal(AccountCtx* acc, int64_t market, int64_t index, int attempt, LookupDone done) {
    Lookup(acc, market, index, 0,
           [this, acc, market, index, attempt, done](absl::StatusOr<std::optional<Order>> o) {
             if (o.ok() && *o && !IsTerminal((*o)->status) && attempt < 10) {
               return After(std::chrono::milliseconds(50 * (attempt + 1)),
                            [this, acc, market, index, attempt, done] {
                              LookupFinal(acc, market, index, attempt + 1, done);
                            });
             }
             done(std::move(o));
           });
  }

  void OpenOrdersNow(AccountCtx* acc, int64_t market, Callback<std::vector<Order>> done) {
    if (market >= 0) {
      ActiveOrdersShared(acc, market, [this, acc, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto orders = codec_.ParseOrders(r.body, symbols_);
        if (!orders.ok()) return done(orders.status());
        std::vector<Order> out;
        for (auto& o : *orders) {
          if (!IsTerminal(o.status)) out.push_back(Own(acc, o));
        }
        done(std::move(out));
      });
      return;
    }
    if (!acc->stream || !acc->stream->AnyOpen() || !acc->orders_snapshot) {
      return done(absl::UnavailableError(
          "lighter lists open orders per market; for all markets the account stream's view is "
          "used and it is not live yet: name a symbol or retry"));
    }
    std::vector<Order> out;
    for (const auto& [id, o] : acc->orders) {
      if (!IsTerminal(o.status)) out.push_back(Own(acc, o));
    }
    done(std::move(out));
  }

  void ListFillsNow(const FillQuery& q, Callback<std::vector<Fill>> done) {
    auto* acc = FindAccount(q.account);
    if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + q.account)));
    int64_t market = -1;
    if (!q.symbol.empty()) {
      const MarketInfo* m = MarketOf(q.symbol);
      if (!m) return done(absl::NotFoundError(Unknown("unknown symbol " + q.symbol)));
      market = m->market_index;
    }
    // Oldest first from `from`, page after page (100 rows each, the venue's cap) through
    // next_cursor, until a row passes `to` or `limit` rows are in: the window's fills are
    // complete when fewer than `limit` come back (Capabilities::fill_page_size).
    auto walk = std::make_shared<std::vector<Fill>>();
    StepFills(acc, market, q, "", walk, std::move(done));
  }

  void StepFills(AccountCtx* acc, int64_t market, FillQuery q, std::string cursor,
                 std::shared_ptr<std::vector<Fill>> out, Callback<std::vector<Fill>> done) {
    const size_t limit = static_cast<size_t>(std::clamp(q.limit, 1, kFillPageSize));
    rest_.Trades(acc->creds, market, 100, q.from / 1000000, cursor, /*oldest_first=*/true,
                 [this, acc, market, q, limit, out, done](RestResult r) {
                   if (!r.ok()) return done(FromVenue(r.error));
                   std::string next;
                   auto fills =
                       codec_.ParseFills(r.body, symbols_, acc->creds.account_index, &next);
                   if (!fills.ok()) return done(fills.status());
                   auto more = TakeFillPage(std::move(*fills), next, q.from, q.to, limit, &*out);
                   if (!more.ok()) return done(more.status());
                   if (*more) return StepFills(acc, market, q, next, out, done);
                   for (auto& f : *out) OwnFill(acc, &f);
                   done(std::move(*out));
                 });
  }

  void OwnFill(const AccountCtx* acc, Fill* f) const {
    f->venue = cfg_.name;
    f->account = acc->creds.account;
    if (!f->client_order_id.empty()) {
      f->client_order_id = acc->clients.ResolveText(f->client_order_id);
    }
  }

  // ---------------------------------------------------------------- account

  void ReadAccount(AccountCtx* acc, Callback<lighter::AccountState> done) {
    rest_.Account(acc->creds.account_index, [this, acc, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      done(codec_.ParseAccount(r.body, symbols_, acc->creds.account_index));
    });
  }

  Balance ToBalance(const AccountCtx* acc, const lighter::AccountState& a) const {
    Balance b;
    b.venue = cfg_.name;
    b.account = acc->creds.account;
    b.asset = "USDC";
    b.available = a.available_balance;
    // The sum of the positions' unrealized PnL; absent when a position does not say its own.
    OptDecimal upnl = Decimal();
    for (const auto& p : a.positions) {
      if (!p.unrealized_pnl) {
        upnl.reset();
        break;
      }
      auto s = Decimal::Add(*upnl, *p.unrealized_pnl);
      if (!s.ok()) {
        upnl.reset();
        break;
      }
      upnl = *s;
    }
    b.unrealized_pnl = upnl;
    if (a.total_asset_value) {
      b.equity = *a.total_asset_value;
    } else {
      auto eq = Decimal::Add(a.collateral, upnl.value_or(Decimal()));
      b.equity = eq.ok() ? *eq : a.collateral;
    }
    auto used = Decimal::Sub(b.equity, b.available);
    if (used.ok() && !used->IsNegative()) b.margin_used = *used;
    b.update_time = clock_.Now();
    return b;
  }

  void ScheduleBalancePoll() {
    balance_timer_->expires_after(kBalancePoll);
    balance_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      for (auto& [id, a] : accounts_) a->balance_gate->Request();
      ScheduleBalancePoll();
    });
  }

  // Accepted creates that never showed on the account stream: the tx status says why. A tx the
  // sequencer refused after accepting it (status 0) is the order's rejection.
  void WatchTxs() {
    const UnixNanos now = clock_.Now();
    for (auto& [id, a] : accounts_) {
      AccountCtx* acc = a.get();
      for (auto it = acc->pending.begin(); it != acc->pending.end();) {
        PendingCreate& p = it->second;
        if (now - p.accepted_at > kTxWatchGiveUpNs) {
          it = acc->pending.erase(it);  // the desk's reconcile owns it from here
          continue;
        }
        if (now - p.accepted_at >= kTxShowNs && !p.executed && !p.querying) {
          p.querying = true;
          const uint64_t index = it->first;
          rest_.Tx(p.tx_hash, [this, acc, index](RestResult r) {
            auto pit = acc->pending.find(index);
            if (pit == acc->pending.end()) return;
            pit->second.querying = false;
            if (!r.ok()) return;  // not known yet (or the query failed): asked again later
            auto t = codec_.ParseTx(r.body);
            if (!t.ok()) return;
            if (t->status == TxStatus::kFailed) {
              PendingCreate p = std::move(pit->second);
              acc->pending.erase(pit);
              RejectFailedTx(acc, p);
            } else if (t->status >= TxStatus::kExecuted) {
              pit->second.executed = true;  // its order is on the stream's way (or reconciled)
            }
          });
        }
        ++it;
      }
    }
    tx_timer_->expires_after(kTxWatch);
    tx_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopped_) WatchTxs();
    });
  }

  void RejectFailedTx(AccountCtx* acc, const PendingCreate& p) {
    log_->warn("tx {} for order {} failed at the sequencer after acceptance", p.tx_hash,
               p.client_order_id);
    OrderEvent ev;
    ev.order.symbol = p.symbol;
    ev.order.client_order_id = p.client_order_id;
    ev.order.status = OrderStatus::kRejected;
    ev.order.reason = CancelReason::kRejected;
    ev.order.reason_text = "lighter's sequencer refused tx " + p.tx_hash + " after accepting it";
    ev.order.updated_time = ev.receive_time = clock_.Now();
    ev.order.venue = cfg_.name;
    ev.order.account = acc->creds.account;
    if (!desk_ || desk_->OnOrderEvent(ev)) Publish(std::move(ev));
  }

  // ---------------------------------------------------------------- lifecycle

  void OnStart(EventSink* sink) override { rest_.set_sink(sink); }

  void OnStop() override {
    books_.Stop();
    if (public_) public_->Stop();
    for (auto& [id, a] : accounts_) {
      if (a->stream) a->stream->Stop();
      if (a->balance_gate) a->balance_gate->Cancel();
    }
    for (auto* t : {&funding_timer_, &instrument_timer_, &balance_timer_, &tx_timer_}) {
      if (*t) (*t)->cancel();
    }
  }

  void Init() override {
    if (auto st = rest_.Init(); !st.ok()) {
      SetState(ConnState::kDisconnected, "rest: " + std::string(st.message()));
      return;
    }
    SetState(ConnState::kConnecting);
    common::StreamSet::Handlers h;
    h.on_connected = [this](int) {
      SetState(ConnState::kConnected);
      // Every (re)subscription starts with a snapshot: the books wait for it.
      books_.OnStreamOpenAll();
    };
    h.on_message = [this](std::string_view f) { OnMarketFrame(feed_, books_, f, false); };
    h.on_disconnected = [this](int, const std::string& reason) {
      reconnects_.fetch_add(1);
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kReconnects, 1);
      SetState(ConnState::kConnecting, "public ws: " + reason);
      books_.OnStreamLostAll();
    };
    public_ = std::make_unique<common::StreamSet>(
        ioc_, PublicStreamOptions(cfg_.ws_url, cfg_.tls_verify),
        [](const std::vector<std::string>& s, uint64_t) -> absl::StatusOr<std::string> {
          return EncodeSubscribe(s.front());
        },
        std::move(h));
    for (const auto& ac : cfg_.accounts) {
      auto creds = LoadCredentials(ac);
      if (!creds.ok()) {
        SetState(ConnState::kDegraded, std::string(creds.status().message()));
        log_->error("{}", std::string(creds.status().message()));
        continue;
      }
      auto a = std::make_unique<AccountCtx>();
      a->creds = std::move(*creds);
      AccountCtx* acc = a.get();
      a->txq = std::make_unique<TxQueue>(
          TxQueue::Options{},
          [this](const std::vector<SignedTx>& txs, std::function<void(TxAnswer)> answer) {
            if (txs.size() > 1) log_->debug("sendTxBatch of {} txs", txs.size());
            rest_.SendTxs(txs, [this, answer = std::move(answer)](RestResult r) {
              TxAnswer a;
              a.answered = r.http_status != 0;
              a.http_status = r.http_status;
              a.error = r.error;
              if (a.answered) {
                auto sent = codec_.ParseSendTx(r.body);
                if (sent.ok()) {
                  a.hashes = sent->tx_hashes;
                  a.predicted_execution_ms = sent->predicted_execution_time / 1000000;
                } else if (r.ok()) {
                  // A 200 that is not the answer's shape: accepted or not is not knowable.
                  a.answered = false;
                  a.error = ClassifyTransportError(
                      "sendTx answer unreadable: " + std::string(sent.status().message()),
                      RequestKind::kOrderEntry);
                }
              }
              answer(std::move(a));
            });
          },
          [this, acc](std::function<void(absl::StatusOr<int64_t>)> got) {
            rest_.NextNonce(acc->creds, [this, acc, got = std::move(got)](RestResult r) {
              if (!r.ok()) return got(FromVenue(r.error));
              auto n = codec_.ParseNextNonce(r.body);
              if (n.ok()) log_->debug("{}: next nonce {}", acc->creds.account, *n);
              got(std::move(n));
            });
          });
      a->balance_gate = std::make_unique<common::RefreshGate>(
          ioc_, kBalanceRefreshGap, [this, acc](std::function<void()> done) {
            ReadAccount(acc, [this, acc, done](absl::StatusOr<AccountState> s) {
              if (s.ok()) Publish(ToBalance(acc, *s));
              done();
            });
          });
      accounts_[ac.id] = std::move(a);
    }
    funding_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    instrument_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    balance_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    tx_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    InstallDeskHooks();
    LoadInstruments();
  }

  void LoadInstruments() {
    rest_.OrderBookDetails([this](RestResult r) {
      if (stopped_) return;
      if (!r.ok()) {
        return RetryInstruments("orderBookDetails: " + std::string(FromVenue(r.error).message()));
      }
      std::vector<MarketStats> stats;
      auto infos = codec_.ParseOrderBookDetails(r.body, &stats);
      if (!infos.ok()) {
        return RetryInstruments("orderBookDetails: " + std::string(infos.status().message()));
      }
      for (MarketStats& s : stats) stats_[s.market_index] = std::move(s);
      InstallInstruments(std::move(*infos));
    });
  }

  void RetryInstruments(const std::string& why) {
    SetState(ConnState::kConnecting, why);
    log_->warn("{} (retrying)", why);
    After(std::chrono::seconds(2), [this] { LoadInstruments(); });
  }

  void InstallInstruments(std::vector<MarketInfo> infos) {
    std::vector<Instrument> list;
    std::set<std::string> taken;
    SymbolTable table;
    for (auto& m : infos) {
      Instrument in = m.instrument;
      in.venue = cfg_.name;
      WidenBookScales(&in);
      if (!taken.insert(in.symbol).second) in.symbol += "-" + std::to_string(m.market_index);
      m.instrument = in;
      markets_[m.market_index] = m;
      table.Add(in, m.market_index);
      list.push_back(in);
    }
    symbols_ = std::move(table);
    const bool first = SetInstruments(list);
    log_->info("{} instruments loaded", list.size());
    if (first) {
      if (auto st = public_->Start(); !st.ok()) {
        SetState(ConnState::kDisconnected, "public ws: " + std::string(st.message()));
      }
      RefreshFunding();
      StartAccounts();
      if (!accounts_.empty()) {
        ScheduleBalancePoll();
        WatchTxs();
      }
      if (desk_) desk_->Reconcile();
    }
    EnsureStreams();
    instrument_timer_->expires_after(kInstrumentRefresh);
    instrument_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopped_) LoadInstruments();
    });
  }

  void StartAccounts() {
    for (auto& [id, a] : accounts_) StartPrivateStream(a.get());
  }

  void StartPrivateStream(AccountCtx* acc) {
    if (acc->stream || stopped_) return;
    common::StreamSet::Handlers h;
    h.on_connected = [this, acc](int) {
      acc->orders_snapshot = false;
      // Events may have been missed while disconnected: the desk queries its open and unknown
      // orders and publishes exactly what changed (fills included).
      if (desk_ && ready_) desk_->Reconcile();
      acc->balance_gate->Request();
    };
    h.on_message = [this, acc](std::string_view f) { OnPrivateFrame(acc, f); };
    h.on_disconnected = [this, acc](int, const std::string& reason) {
      acc->orders_snapshot = false;
      log_->warn("private stream {} down: {}", acc->creds.account, reason);
    };
    // Every subscribe carries a fresh-enough auth token (minted per reconnect as needed).
    auto builder = [this, acc](const std::vector<std::string>& s,
                               uint64_t) -> absl::StatusOr<std::string> {
      auto token = rest_.AuthToken(acc->creds);
      if (!token.ok()) return token.status();
      return EncodeSubscribe(s.front(), *token);
    };
    acc->stream = std::make_unique<common::StreamSet>(
        ioc_, PublicStreamOptions(cfg_.ws_url, cfg_.tls_verify), std::move(builder),
        std::move(h));
    const int64_t a = acc->creds.account_index;
    (void)acc->stream->Add({AccountAllOrdersChannel(a), AccountAllTradesChannel(a),
                            AccountAllPositionsChannel(a), UserStatsChannel(a)});
    if (auto st = acc->stream->Start(); !st.ok()) {
      log_->error("private stream {}: {}", acc->creds.account, std::string(st.message()));
    }
  }

  void OnPrivateFrame(AccountCtx* acc, std::string_view frame) {
    const UnixNanos now = clock_.Now();
    if (sink_) sink_->Count(cfg_.name, VenueCounter::kMessagesIn, 1);
    WsFrameInfo info;
    if (!codec_.ClassifyWsFrame(frame, &info).ok()) {
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
      return;
    }
    if (info.type == WsType::kPing) {
      acc->stream->SendAll(EncodePong());
      return;
    }
    if (info.type == WsType::kError) {
      log_->warn("private ws error {}: {}", info.error_code, info.error_message);
      return;
    }
    if (info.type != WsType::kSubscribed && info.type != WsType::kUpdate) return;
    const bool snapshot = info.type == WsType::kSubscribed;
    auto bad = [this](const absl::Status& why) {
      log_->warn("private frame dropped: {}", std::string(why.message()));
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
    };
    switch (info.channel_kind) {
      case ChannelKind::kAccountAllOrders:
      case ChannelKind::kAccountOrders: {
        auto orders = codec_.ParseOrders(frame, symbols_);
        if (!orders.ok()) return bad(orders.status());
        if (snapshot) acc->orders_snapshot = true;
        for (Order& o : *orders) OnOrder(acc, Own(acc, std::move(o)), now);
        return;
      }
      case ChannelKind::kAccountAllTrades: {
        auto fills = codec_.ParseFills(frame, symbols_, acc->creds.account_index);
        if (!fills.ok()) return bad(fills.status());
        for (Fill& f : *fills) {
          // The subscription's snapshot is history: remembered, not re-published (fills missed
          // while away reach clients through the desk's reconcile).
          if (!RememberTrade(acc, f.trade_id + (f.maker ? ":m" : ":t")) || snapshot) continue;
          OwnFill(acc, &f);
          OnFill(acc, std::move(f), now);
        }
        return;
      }
      case ChannelKind::kAccountAllPositions: {
        auto ps = codec_.ParsePositions(frame, symbols_);
        if (!ps.ok()) return bad(ps.status());
        for (Position& p : *ps) {
          Own(acc, &p);
          if (p.update_time == 0) p.update_time = now;
          Publish(std::move(p));
        }
        return;
      }
      case ChannelKind::kUserStats: {
        // Collateral, portfolio value and available balance, streamed: the balance without a
        // REST read (the standard tier's 60 requests a minute do not allow one per change).
        auto u = codec_.ParseUserStats(frame);
        if (!u.ok()) return bad(u.status());
        if (!u->available_balance || !(u->portfolio_value || u->collateral)) {
          acc->balance_gate->Request();  // a partial frame: read the account instead
          return;
        }
        Balance b;
        b.venue = cfg_.name;
        b.account = acc->creds.account;
        b.asset = "USDC";
        b.available = *u->available_balance;
        b.equity = u->portfolio_value ? *u->portfolio_value : *u->collateral;
        if (u->collateral && u->portfolio_value) {
          auto upnl = Decimal::Sub(*u->portfolio_value, *u->collateral);
          if (upnl.ok()) b.unrealized_pnl = *upnl;
        }
        auto used = Decimal::Sub(b.equity, b.available);
        if (used.ok() && !used->IsNegative()) b.margin_used = *used;
        b.update_time = now;
        Publish(std::move(b));
        return;
      }
      default:
        return;
    }
  }

  bool RememberTrade(AccountCtx* acc, const std::string& key) {
    if (!acc->seen_trades.insert(key).second) return false;
    acc->seen_order.push_back(key);
    if (acc->seen_order.size() > kSeenTradesKept) {
      acc->seen_trades.erase(acc->seen_order.front());
      acc->seen_order.pop_front();
    }
    return true;
  }

  // The order the account stream showed for a gateway client order id, if any (the stream's
  // view keeps open orders and the latest terminal ones).
  const Order* SeenOnStream(const AccountCtx* acc, const std::string& client_order_id) const {
    for (const auto& [id, o] : acc->orders) {
      if (o.client_order_id == client_order_id) return &o;
    }
    return nullptr;
  }

  void OnOrder(AccountCtx* acc, Order o, UnixNanos now) {
    std::shared_ptr<AckWaiter> waiter;
    if (!o.client_order_id.empty()) {
      if (auto idx = acc->clients.Find(o.client_order_id)) {
        auto p = acc->pending.find(*idx);
        if (p != acc->pending.end()) {
          waiter = std::move(p->second.waiter);
          acc->pending.erase(p);
        }
      }
    }
    // The event goes through the desk first (it settles the entry), then the waiting ack.
    const Order shown = o;
    struct FireAfter {
      std::shared_ptr<AckWaiter> w;
      const Order* o;
      ~FireAfter() {
        if (w) w->Fire(o);
      }
    } fire{waiter, &shown};
    auto prev = acc->orders.find(o.order_id);
    const bool same = prev != acc->orders.end() && prev->second.status == o.status &&
                      prev->second.filled_size == o.filled_size;
    const bool was_terminal = prev != acc->orders.end() && IsTerminal(prev->second.status);
    // A live order at a new price or size: a modify executed (the stream carries no marker for
    // it). The desk takes the new price/size and publishes the order; the event itself then
    // repeats it and the desk drops it below.
    const bool amended = prev != acc->orders.end() && !was_terminal && !IsTerminal(o.status) &&
                         (prev->second.price != o.price || prev->second.size != o.size);
    struct SettleAfter {
      LighterAdapter* self;
      AccountCtx* acc;
      const Order* o;
      ~SettleAfter() { self->SettleAmendFromStream(acc, *o); }
    } settle{this, acc, &shown};
    acc->orders[o.order_id] = o;
    if (desk_ && amended) (void)desk_->RecordAmend(o);
    if (IsTerminal(o.status) && !was_terminal) {
      // Kept a while: a fill may arrive after the order's terminal state (the channels are not
      // ordered with each other) and must still see the order's real size.
      acc->terminal.push_back(o.order_id);
      if (acc->terminal.size() > kTerminalKept) {
        acc->orders.erase(acc->terminal.front());
        acc->terminal.pop_front();
      }
    }
    if (same && !amended) return;  // a snapshot repeating what was seen
    OrderEvent ev;
    ev.order = o;
    ev.exchange_time = o.updated_time;
    ev.receive_time = now;
    if (!desk_ || desk_->OnOrderEvent(ev)) Publish(std::move(ev));
  }

  void OnFill(AccountCtx* acc, Fill f, UnixNanos now) {
    OrderEvent ev;
    ev.exchange_time = f.exchange_time;
    ev.receive_time = now;
    auto known = acc->orders.find(f.order_id);
    if (known != acc->orders.end()) {
      // The order's state after this fill (the orders channel follows with the same).
      Order& o = known->second;
      auto filled = Decimal::Add(o.filled_size, f.size);
      if (filled.ok() && *filled <= o.size) o.filled_size = filled->Normalized();
      o.status = o.filled_size == o.size ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
      ev.order = o;
    } else {
      // A fill of an order this session has not seen (placed elsewhere, a liquidation).
      ev.order.venue = cfg_.name;
      ev.order.account = acc->creds.account;
      ev.order.symbol = f.symbol;
      ev.order.order_id = f.order_id.empty() ? "fill-" + f.trade_id : f.order_id;
      ev.order.client_order_id = f.client_order_id;
      ev.order.side = f.side;
      ev.order.size = f.size;
      ev.order.filled_size = f.size;
      ev.order.price = f.price;
      ev.order.avg_fill_price = f.price;
      ev.order.status = OrderStatus::kFilled;
      if (f.liquidation) ev.order.reason = CancelReason::kLiquidation;
    }
    if (f.liquidation) {
      Liquidation l;
      l.venue = cfg_.name;
      l.account = acc->creds.account;
      l.symbol = f.symbol;
      l.side = f.side;
      l.price = f.price;
      l.size = f.size;
      l.order_id = f.order_id;
      l.exchange_time = f.exchange_time;
      Publish(std::move(l));
    }
    ev.fill = std::move(f);
    if (!desk_ || desk_->OnOrderEvent(ev)) Publish(std::move(ev));
  }

  void EnsureStreams() {
    std::vector<std::string> channels;
    if (!stats_subscribed_) {
      channels.emplace_back(kMarketStatsAllChannel);  // mark, index, OI, next funding
      stats_subscribed_ = true;
    }
    for (const auto& ticker : wanted_) {
      const Instrument* in = symbols_.ByTicker(ticker);
      if (!in) {
        log_->warn("subscription for unknown symbol {} ignored", ticker);
        continue;
      }
      if (!books_.Add(*in)) continue;
      const int64_t m = symbols_.MarketIndexOf(in->venue_symbol);
      for (auto c : {OrderBookChannel(m), TickerChannel(m), TradeChannel(m)}) {
        channels.push_back(std::move(c));
      }
    }
    if (!channels.empty()) {
      if (auto st = public_->Add(channels); !st.ok()) {
        SetState(ConnState::kDegraded, "public ws: " + std::string(st.message()));
      }
    }
  }

  // The book keeper's snapshot request: every subscription starts with a snapshot, and the
  // venue refuses a second subscribe to an active channel (30003): unsubscribe, then subscribe.
  void RequestSnapshot(const Instrument& in) {
    const std::string channel = OrderBookChannel(symbols_.MarketIndexOf(in.venue_symbol));
    absl::Status st = public_->Resubscribe(channel, EncodeUnsubscribe(channel));
    if (!st.ok()) {
      log_->debug("re-subscribe {}: {}", channel, std::string(st.message()));
      books_.OnSnapshot(in.venue_symbol, absl::UnavailableError(std::string(st.message())));
    }
  }

  void OnFeedMessage(const MarketMsg& m, UnixNanos) override {
    if (m.kind == FeedKind::kDepthSnapshot && m.instrument != nullptr) {
      runtime::BookSnapshot s;
      s.id = m.delta->last_id;
      s.exchange_time = m.delta->exchange_time;
      SplitSnapshotLevels(*m.delta, &s.bids, &s.asks);
      if (books_.Live(m.venue_symbol)) {
        books_.Resync(m.venue_symbol, "snapshot on a live stream", VenueCounter::kResyncGap, false);
      }
      books_.OnSnapshot(m.venue_symbol, std::move(s));
      return;
    }
    if (m.kind != FeedKind::kVenue) return;
    if (m.detail == "ping") {
      // The server's application ping: answer on the stream (the SDK does).
      public_->SendAll(EncodePong());
    } else if (m.detail == "trades") {
      for (Trade t : feed_.trades()) {
        t.venue = cfg_.name;
        Publish(std::move(t));
      }
      for (Liquidation l : feed_.liquidations()) {
        l.venue = cfg_.name;
        Publish(std::move(l));
      }
    } else if (m.detail == "market_stats") {
      for (const MarketStats& s : feed_.stats()) {
        stats_[s.market_index] = s;
        EmitFunding(s.market_index);
      }
    }
  }

  void OnMarketFrameError(const absl::Status& why) override {
    // A book frame that did not decode: that market's book is no longer known to be right. The
    // channel names the market; an unreadable frame that does not say which resyncs them all.
    if (feed_.info().channel_kind != ChannelKind::kOrderBook) return;
    log_->warn("book frame dropped ({}): resync", std::string(why.message()));
    const Instrument* in = symbols_.ByMarketIndex(feed_.info().market_index);
    if (in != nullptr) {
      books_.Resync(in->venue_symbol, "undecodable book frame", VenueCounter::kResyncBadInput,
                    true);
      return;
    }
    for (const std::string& vs : books_.VenueSymbols()) {
      books_.Resync(vs, "undecodable book frame", VenueCounter::kResyncBadInput, true);
    }
  }

  // ---------------------------------------------------------------- funding

  void RefreshFunding() {
    if (stopped_) return;
    rest_.FundingRates([this](RestResult r) {
      if (r.ok()) {
        auto rows = codec_.ParseFundingRates(r.body);
        if (rows.ok()) {
          for (auto& row : *rows) rates_[row.market_index] = row;
        } else {
          log_->warn("funding-rates: {}", std::string(rows.status().message()));
        }
      }
      for (const auto& [m, row] : rates_) EmitFunding(m);
    });
    funding_timer_->expires_after(kFundingRefresh);
    funding_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) RefreshFunding();
    });
  }

  // One GET /fundings call of a ListFundingHistory read; earlier rows are asked for only while
  // the query's limit is not covered (NextFundingsRequest). `rows` oldest first.
  void FundingsPage(FundingsRequest req, std::string ticker, int limit, std::vector<Funding> rows,
                    Callback<std::vector<Funding>> done) {
    if (stopped_) return done(absl::CancelledError("lighter adapter stopped"));
    rest_.Fundings(EncodeFundingsQuery(req), [this, req, ticker, limit, rows = std::move(rows),
                                              done = std::move(done)](RestResult r) mutable {
      if (!r.ok()) return done(FromVenue(r.error));
      auto page = ParseFundings(r.body, ticker);
      if (!page.ok()) return done(page.status());
      for (auto& f : *page) f.venue = cfg_.name;
      auto next = NextFundingsRequest(req, *page, rows.size() + page->size(), limit);
      page->insert(page->end(), std::make_move_iterator(rows.begin()),
                   std::make_move_iterator(rows.end()));
      if (next) return FundingsPage(*next, ticker, limit, std::move(*page), std::move(done));
      done(std::move(*page));
    });
  }

  void EmitFunding(int64_t market) {
    auto info = markets_.find(market);
    auto row = rates_.find(market);
    if (info == markets_.end() || row == rates_.end()) return;
    auto s = stats_.find(market);
    const MarketStats* stats = s == stats_.end() ? nullptr : &s->second;
    auto f =
        BuildFunding(row->second, stats, info->second.instrument.symbol, rate_is_8h_, clock_.Now());
    if (!f.ok()) return;
    f->venue = cfg_.name;
    funding_[market] = *f;
    Publish(std::move(*f));
  }

  LighterRest rest_;
  Codec codec_;
  SymbolTable symbols_;
  Feed feed_{&codec_, &symbols_};
  std::map<int64_t, MarketInfo> markets_;  // by market index
  std::set<std::string> wanted_;
  runtime::BookKeeper books_;  // by venue symbol
  std::map<int64_t, MarketStats> stats_;
  std::map<int64_t, FundingRateRow> rates_;
  std::map<int64_t, Funding> funding_;
  std::unique_ptr<common::StreamSet> public_;
  std::map<std::string, std::unique_ptr<AccountCtx>> accounts_;
  std::map<std::string, SharedRead> reads_;  // shared order reads by account|kind|market|cursor
  std::unique_ptr<asio::steady_timer> funding_timer_, instrument_timer_, balance_timer_, tx_timer_;
  const uint32_t chain_id_;
  bool stats_subscribed_ = false;
  // funding-rates' bare `rate`: hourly (default) or an 8-hour equivalent (option
  // funding_rate_hours: 8). The notes leave the unit unresolved (lighter.md §3).
  bool rate_is_8h_ = false;
};

}  // namespace

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock) {
  return std::make_unique<LighterAdapter>(config, clock);
}

}  // namespace perpgw::adapters::lighter
