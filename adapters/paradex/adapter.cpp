// Paradex adapter: markets + continuous funding (funding_data and markets_summary), SBE books
// kept live from the deltas feed (a snapshot starts every subscription; a resync re-subscribes),
// JWT-authenticated private streams, Stark-signed REST order entry through the order desk
// (201 NEW, the outcome arrives on orders/fills), account and positions.
#include "adapters/paradex/adapter.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <set>

#include "adapters/api/order_book.h"
#include "adapters/common/adapter_base.h"
#include "adapters/common/refresh_gate.h"
#include "adapters/paradex/codec.h"
#include "adapters/paradex/errors.h"
#include "adapters/paradex/feed.h"
#include "adapters/paradex/rest.h"
#include "adapters/paradex/symbols.h"
#include "adapters/paradex/ws.h"

namespace perpgw::adapters::paradex {
namespace {

namespace asio = boost::asio;

constexpr auto kFundingRefresh = std::chrono::seconds(30);
constexpr auto kInstrumentRefresh = std::chrono::minutes(10);
constexpr auto kBalancePoll = std::chrono::seconds(10);
constexpr auto kJwtKeeper = std::chrono::seconds(5);
constexpr auto kBalanceRefreshGap = std::chrono::milliseconds(500);
constexpr int kRestBookDepth = 100;
constexpr int kHistoryPage = 100;
// A funding history read follows at most this many /funding/data pages (only a venue paging
// oldest first needs more than one page per `limit` rows; beyond this the range is too wide).
constexpr int kMaxFundingPages = 20;
constexpr size_t kTerminalKept = 1000;
// POST /orders/batch: 1..10 orders per request (paradex.md §10: the OpenAPI bound; a
// best-practices page says 50, the notes treat 10 as safe; the sim takes 10).
constexpr size_t kMaxBatchOrders = 10;
// DELETE /orders/batch: the venue documents no bound (the sim takes 100 ids); ours is
// CancelOrders' own chunk size.
constexpr size_t kMaxBatchCancels = 50;

absl::Status FromVenue(const VenueError& e) { return ToStatus(e); }

std::string Unknown(const std::string& what) { return what + " on paradex"; }

class ParadexAdapter final : public common::AdapterBase {
 public:
  ParadexAdapter(const VenueConfig& cfg, const Clock& clock)
      : AdapterBase(cfg, clock, "paradex"),
        rest_(ioc_, cfg_, clock),
        books_(cfg_.name, feed_.seq_rule(),
               BookHooks([this](const Instrument& in) { RequestSnapshot(in); })) {
    books_.set_can_request([this] { return public_ && public_->AnyOpen(); });
  }
  ~ParadexAdapter() override { Stop(); }

  Capabilities capabilities() const override {
    Capabilities c;
    c.trading = !cfg_.accounts.empty();
    c.set_leverage = true;  // POST /account/margin/{market}
    c.liquidation_stream = true;  // fills with fill_type LIQUIDATION
    c.fill_history = true;
    c.funding_history = true;  // ListFundingHistory
    c.fill_page_size = 1000;  // ListFills: from/to honoured, a short page is the whole window
    c.market_orders = false;  // sent as bounded IOC limits (exact price protection)
    c.post_only = true;
    c.reduce_only = true;
    c.balance_stream = true;  // the account channel
    c.native_amend = c.trading;  // PUT /orders/{id} (paradex.md §10 "Modify"): same ids
    c.native_batch = static_cast<int>(kMaxBatchOrders);  // POST /orders/batch
    c.native_cancel_batch = static_cast<int>(kMaxBatchCancels);  // DELETE /orders/batch
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
      const int want = depth > 0 ? std::min(depth, 500) : kRestBookDepth;
      rest_.Orderbook(inst.venue_symbol, want, [this, inst, depth, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto snap = codec_.ParseOrderbook(r.body, inst);
        if (!snap.ok()) return done(snap.status());
        BookUpdate u = MakeSnapshotUpdate(*snap, inst, clock_.Now());
        u.venue = cfg_.name;
        if (depth > 0 && u.bids.size() > static_cast<size_t>(depth)) u.bids.resize(depth);
        if (depth > 0 && u.asks.size() > static_cast<size_t>(depth)) u.asks.resize(depth);
        done(std::move(u));
      });
    });
  }

  void FetchFunding(std::string symbol, Callback<Funding> done) override {
    asio::post(ioc_, [this, symbol, done = std::move(done)] {
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      auto it = funding_.find(in->venue_symbol);
      if (it != funding_.end()) return done(it->second);
      done(absl::UnavailableError("funding for " + symbol + " not loaded yet; retry"));
    });
  }

  void ListFundingHistory(FundingHistoryQuery q, Callback<std::vector<Funding>> done) override {
    asio::post(ioc_, [this, q = std::move(q), done = std::move(done)]() mutable {
      const Instrument* in = symbols_.ByTicker(q.symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + q.symbol)));
      auto m = markets_.find(in->venue_symbol);
      const int64_t period = m == markets_.end() ? 0 : m->second.funding_period_hours;
      FundingHistoryPage(in->venue_symbol, in->symbol, period, q, "", {}, 0, std::move(done));
    });
  }

  void PlaceOrder(OrderRequest req, Callback<OrderAck> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto* acc = FindAccount(req.account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + req.account)));
      const Instrument* in = symbols_.ByTicker(req.symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + req.symbol)));
      if (!in->tradeable) {
        return done(absl::FailedPreconditionError(
            "paradex " + in->venue_symbol + " takes no on-book orders (RFQ_ONLY)"));
      }
      if (auto st = SystemAllows(req); !st.ok()) return done(st);
      if (auto st = DeskStatus(); !st.ok()) return done(st);
      desk_->Place(req, acc->creds.recv_window_ms * 1000000, std::move(done));
    });
  }

  void CancelOrder(CancelRequest req, Callback<CancelResult> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      if (HoldCancel(req, done)) return;  // CancelOrders: goes out in DELETE /orders/batch
      CancelNow(std::move(req), std::move(done));
    });
  }

  void CancelNow(CancelRequest req, Callback<CancelResult> done) override {
    auto* acc = FindAccount(req.account);
    if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + req.account)));
    const Instrument* in = symbols_.ByTicker(req.symbol);
    if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + req.symbol)));
    if (system_.status == SystemStatus::kMaintenance) {
      return done(absl::UnavailableError("paradex is in maintenance: cancels are not accepted"));
    }
    std::string vs = in->venue_symbol;
    auto after = CancelAnswer(acc, req, vs, std::move(done));
    if (!req.order_id.empty()) {
      rest_.CancelOrder(acc->creds, req.order_id, after);
    } else {
      rest_.CancelByClientId(acc->creds, req.client_order_id, vs, after);
    }
  }

  // Order ids are the account's, whatever the market: one batch per account.
  std::string CancelBatchKey(const CancelRequest& r) const override { return r.account; }

  // DELETE /orders/batch {"order_ids":[...],"client_order_ids":[...]}: each result entry is
  // answered as the single DELETE's answer would be (QUEUED_FOR_CANCELLATION as its 204,
  // ALREADY_CLOSED as ORDER_IS_CLOSED, NOT_FOUND as its 404), then the final state is read
  // back as for a single cancel. A 400 for the whole request cancelled nothing: each cancel
  // goes alone. A lost answer / 5xx / 429 is every cancel's answer, as for one.
  void SendCancelBatch(std::vector<CancelRequest> reqs,
                       std::vector<Callback<CancelResult>> dones) override {
    auto* acc = FindAccount(reqs.front().account);
    if (!acc || system_.status == SystemStatus::kMaintenance) {
      for (size_t i = 0; i < reqs.size(); ++i) CancelNow(std::move(reqs[i]), std::move(dones[i]));
      return;
    }
    // Request order of the answer: order ids first, then client ids.
    std::vector<std::string> ids, cids;
    std::vector<CancelRequest> sent;
    std::vector<Callback<CancelResult>> sent_dones;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < reqs.size(); ++i) {
        if (!dones[i]) continue;
        const bool by_id = !reqs[i].order_id.empty();
        if (by_id != (pass == 0)) continue;
        if (!symbols_.ByTicker(reqs[i].symbol) ||
            (!by_id && reqs[i].client_order_id.empty())) {
          CancelNow(std::move(reqs[i]), std::move(dones[i]));  // answered on its own
          dones[i] = nullptr;
          continue;
        }
        (by_id ? ids : cids).push_back(by_id ? reqs[i].order_id : reqs[i].client_order_id);
        sent.push_back(std::move(reqs[i]));
        sent_dones.push_back(std::move(dones[i]));
        dones[i] = nullptr;
      }
    }
    if (sent.empty()) return;
    if (sent.size() == 1) return CancelNow(std::move(sent.front()), std::move(sent_dones.front()));
    std::vector<std::function<void(RestResult)>> afters;
    for (size_t i = 0; i < sent.size(); ++i) {
      afters.push_back(CancelAnswer(acc, sent[i], symbols_.ByTicker(sent[i].symbol)->venue_symbol,
                                    std::move(sent_dones[i])));
    }
    rest_.CancelBatch(acc->creds, EncodeBatchCancelBody(ids, cids),
                      [this, sent = std::move(sent), afters = std::move(afters)](RestResult r) {
      if (!r.ok() && r.http_status == 400) {
        // The request as a whole was refused before any cancel ran: each one alone.
        for (size_t i = 0; i < sent.size(); ++i) {
          CancelRequest req = sent[i];
          auto after = afters[i];
          CancelNowThen(std::move(req), std::move(after));
        }
        return;
      }
      if (!r.ok()) {
        for (const auto& after : afters) after(r);
        return;
      }
      auto entries = ParseBatchCancelAnswer(r.body);
      const bool readable = entries.ok() && entries->size() == sent.size();
      for (size_t i = 0; i < sent.size(); ++i) {
        const CancelRequest& req = sent[i];
        const BatchCancelEntry* e = readable ? &(*entries)[i] : nullptr;
        if (e && (req.order_id.empty() ? e->client_id != req.client_order_id
                                       : e->id != req.order_id)) {
          e = nullptr;
        }
        if (!e) {
          // 200 but we cannot tell this cancel's entry: the read-back decides.
          afters[i](r);
          continue;
        }
        afters[i](BatchCancelResult(*e, !req.order_id.empty()));
      }
    });
  }

  // What the single DELETE would have answered for one batch cancel entry.
  static RestResult BatchCancelResult(const BatchCancelEntry& e, bool by_id) {
    RestResult r;
    if (e.status == "QUEUED_FOR_CANCELLATION") {
      r.http_status = 204;
      r.error.status_code = absl::StatusCode::kOk;
      return r;
    }
    if (e.status == "ALREADY_CLOSED") {
      r.http_status = 400;
      r.body = R"({"error":"ORDER_IS_CLOSED","message":"order is closed"})";
    } else if (e.status == "NOT_FOUND") {
      r.http_status = 404;
      r.body = by_id ? R"({"error":"ORDER_ID_NOT_FOUND","message":"order not found"})"
                     : R"({"error":"CLIENT_ORDER_ID_NOT_FOUND","message":"client order id not found"})";
    } else {
      r.http_status = 400;
      r.body = R"({"error":")" + e.status + R"(","message":"batch cancel"})";
    }
    r.error = ClassifyHttpError(r.http_status, r.body, RequestKind::kCancel);
    return r;
  }

  // A single cancel whose answer goes to `after` (a batch's cancel resent alone).
  void CancelNowThen(CancelRequest req, std::function<void(RestResult)> after) {
    auto* acc = FindAccount(req.account);
    const Instrument* in = symbols_.ByTicker(req.symbol);
    if (!acc || !in) {
      RestResult r;
      r.error.message = "unknown account or symbol";
      return after(r);
    }
    if (!req.order_id.empty()) {
      rest_.CancelOrder(acc->creds, req.order_id, std::move(after));
    } else {
      rest_.CancelByClientId(acc->creds, req.client_order_id, in->venue_symbol, std::move(after));
    }
  }

  // Native modify (PUT /orders/{id}, signing ModifyOrder{...order fields..., id}): the order
  // keeps its ids; the venue needs the order's id, side, size and price, taken from the desk's
  // entry (else a lookup at the venue) when the request leaves one out. Venue refusals map
  // through the error table: ORDER_ID_NOT_FOUND / ORDER_IS_CLOSED (no such open order: filled,
  // canceled or unknown) is NOT_FOUND; other refusals answer REJECTED with the order unchanged;
  // a timeout/5xx is OUTCOME_UNKNOWN (never a fake success).
  void AmendOrder(AmendRequest req, Callback<OrderAck> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto* acc = FindAccount(req.account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + req.account)));
      const Instrument* in = symbols_.ByTicker(req.symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + req.symbol)));
      if (system_.status != SystemStatus::kOk) {
        return done(absl::FailedPreconditionError("paradex system state '" + system_.text +
                                                  "': orders are not modified"));
      }
      std::optional<Order> known;
      if (desk_ && !req.client_order_id.empty()) {
        known = desk_->Known(req.account, req.client_order_id);
      }
      if (known && !known->order_id.empty() &&
          (known->order_id == req.order_id || req.order_id.empty())) {
        return SendModify(acc, *in, std::move(req), *known, /*clock_retry=*/true,
                          std::move(done));
      }
      // Not the desk's (placed elsewhere, the entry is gone, or its venue id is not known yet):
      // ask the venue for its side, size and id.
      Lookup(acc, in->venue_symbol, req.order_id, req.client_order_id,
             [this, acc, inst = *in, req = std::move(req),
              done](absl::StatusOr<std::optional<Order>> o) mutable {
               if (!o.ok()) return done(o.status());
               if (!*o) return done(absl::NotFoundError("order not found on paradex"));
               SendModify(acc, inst, std::move(req), Own(acc, **o), /*clock_retry=*/true,
                          std::move(done));
             });
    });
  }

  void CancelAll(std::string account, std::string symbol,
                 Callback<std::vector<Order>> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      std::string vs;
      if (!symbol.empty()) {
        const Instrument* in = symbols_.ByTicker(symbol);
        if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
        vs = in->venue_symbol;
      }
      // The venue answers 204 (queued): report the orders that were open, read first.
      rest_.OpenOrders(acc->creds, vs, [this, acc, vs, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto open = codec_.ParseOrders(r.body, symbols_);
        if (!open.ok()) return done(open.status());
        rest_.CancelAll(acc->creds, vs, [this, acc, open = *open, done](RestResult c) {
          if (!c.ok()) return done(FromVenue(c.error));
          std::vector<Order> out;
          for (Order o : open) {
            o = Own(acc, o);
            o.status = OrderStatus::kCanceled;
            o.reason = CancelReason::kUserCanceled;
            out.push_back(std::move(o));
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
      const Instrument* in = symbols_.ByTicker(ref.symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + ref.symbol)));
      Lookup(acc, in->venue_symbol, ref.order_id, ref.client_order_id,
             [this, acc, done](absl::StatusOr<std::optional<Order>> o) {
               if (!o.ok()) return done(o.status());
               if (!*o) return done(absl::NotFoundError("order not found on paradex"));
               done(Annotated(Own(acc, **o)));
             });
    });
  }

  void ListOpenOrders(std::string account, std::string symbol,
                      Callback<std::vector<Order>> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      std::string vs;
      if (!symbol.empty()) {
        const Instrument* in = symbols_.ByTicker(symbol);
        if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
        vs = in->venue_symbol;
      }
      rest_.OpenOrders(acc->creds, vs, [this, acc, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto orders = codec_.ParseOrders(r.body, symbols_);
        if (!orders.ok()) return done(orders.status());
        for (auto& o : *orders) o = Annotated(Own(acc, o));
        done(std::move(*orders));
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
      PollBalance(acc, std::move(done));
    });
  }

  void GetPositions(std::string account, Callback<std::vector<Position>> done) override {
    asio::post(ioc_, [this, account, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      rest_.Positions(acc->creds, [this, acc, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto ps = codec_.ParsePositions(r.body, symbols_);
        if (!ps.ok()) return done(ps.status());
        for (auto& p : *ps) Own(acc, &p);
        done(std::move(*ps));
      });
    });
  }

  void GetLeverageInfo(std::string account, std::string symbol,
                       Callback<LeverageInfo> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      LeverageInfoNow(acc, in->venue_symbol, std::move(done));
    });
  }

  void SetLeverage(std::string account, std::string symbol, Decimal leverage,
                   Callback<LeverageInfo> done) override {
    asio::post(ioc_, [this, account, symbol, leverage, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + account)));
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + symbol)));
      if (in->max_leverage && in->max_leverage->IsPositive() && leverage > *in->max_leverage) {
        return done(absl::InvalidArgumentError("leverage " + leverage.ToNormalizedString() +
                                               " above the market's max " +
                                               in->max_leverage->ToNormalizedString()));
      }
      auto body = EncodeSetLeverage(leverage, "CROSS");
      if (!body.ok()) return done(body.status());
      std::string vs = in->venue_symbol;
      rest_.SetMargin(acc->creds, vs, *body, [this, acc, vs, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        LeverageInfoNow(acc, vs, done);  // the full view, read back
      });
    });
  }

 private:
  struct AccountState {
    Credentials creds;
    std::unique_ptr<common::StreamSet> stream;
    std::unique_ptr<common::RefreshGate> balance_gate;
    std::unique_ptr<MessageHasher> hasher;  // chain id + account: cached hash prefix
    std::map<std::string, Order> orders;    // by venue order id: the last state seen (fills)
    std::deque<std::string> terminal;       // ids of terminal orders still in `orders`, oldest first
  };

  AccountState* FindAccount(const std::string& id) {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : it->second.get();
  }

  Order Own(const AccountState* acc, Order o) const {
    o.venue = cfg_.name;
    o.account = acc->creds.account;
    return o;
  }
  void Own(const AccountState* acc, Position* p) const {
    p->venue = cfg_.name;
    p->account = acc->creds.account;
  }
  Order Annotated(Order o) const {
    if (desk_) desk_->Annotate(o);
    return o;
  }

  // Maintenance refuses everything; cancel-only refuses new orders; post-only refuses the rest.
  absl::Status SystemAllows(const OrderRequest& req) const {
    switch (system_.status) {
      case SystemStatus::kOk: return absl::OkStatus();
      case SystemStatus::kPostOnly:
        if (req.type == OrderType::kLimit && req.tif == TimeInForce::kPostOnly) {
          return absl::OkStatus();
        }
        return absl::FailedPreconditionError(
            "paradex is in post-only mode (system state): only post-only limit orders");
      case SystemStatus::kCancelOnly:
        return absl::FailedPreconditionError("paradex is in cancel-only mode (system state)");
      case SystemStatus::kMaintenance:
        return absl::UnavailableError("paradex is in maintenance (system state)");
      case SystemStatus::kUnknown:
        return absl::FailedPreconditionError("paradex system state '" + system_.text +
                                             "' is not known to this gateway: not trading");
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------- order desk

  // The single cancel's answer handling (shared by the batch's entries).
  std::function<void(RestResult)> CancelAnswer(AccountState* acc, const CancelRequest& req,
                                               const std::string& vs,
                                               Callback<CancelResult> done) {
    return [this, acc, req, vs, done](RestResult r) {
      // 204: queued; the final state (and filled size) is read back. 404 / ORDER_IS_CLOSED:
      // the order is not open any more; its final state is what the caller needs too.
      if (!r.ok() && r.http_status != 404 && r.error.code != "ORDER_IS_CLOSED") {
        return done(FromVenue(r.error));
      }
      LookupFinal(acc, vs, req.order_id, req.client_order_id, 0,
                  [this, acc, err = r.error, ok = r.ok(),
                   done](absl::StatusOr<std::optional<Order>> o) {
                    if (!o.ok()) return done(o.status());
                    if (!*o) {
                      if (ok) return done(absl::UnavailableError(
                                  "paradex accepted the cancel but the order is not found"));
                      return done(FromVenue(err));
                    }
                    done(CancelResult{Own(acc, **o)});
                  });
    };
  }

  // One order's signed POST /orders body (a fresh signature timestamp), or why nothing can be
  // sent (the client id may be used again).
  absl::StatusOr<std::string> SignedOrderBody(const OrderRequest& wire, const std::string& cid) {
    auto* acc = FindAccount(wire.account);
    const Instrument* in = symbols_.ByTicker(wire.symbol);
    if (!acc || !in) return absl::NotFoundError("unknown account or symbol " + wire.symbol);
    if (rest_.chain_id().empty()) return absl::UnavailableError("paradex chain id not loaded yet");
    const uint64_t ts_ms = static_cast<uint64_t>(clock_.Now() / 1000000);
    auto enc = EncodeOrderFields(wire, *in, cid, ts_ms);
    if (!enc.ok()) return enc.status();
    auto hash = acc->hasher ? acc->hasher->Order(enc->signed_fields)
                            : OrderMessageHash(rest_.chain_id(), acc->creds.address_felt,
                                               enc->signed_fields);
    if (!hash.ok()) return hash.status();
    auto sig = acc->creds.key->Sign(*hash);
    if (!sig.ok()) {
      return absl::InternalError("order signing failed: " + std::string(sig.status().message()));
    }
    return EncodeOrderBody(wire, *in, *enc, cid, SignatureJson(*sig), acc->creds.recv_window_ms);
  }

  void SubmitOne(const OrderRequest& wire, const std::string& cid,
                 runtime::OrderDesk::SubmitDone done) {
    auto body = SignedOrderBody(wire, cid);
    if (!body.ok()) {
      runtime::OrderDesk::SubmitResult res;
      res.error = body.status();
      return done(res);
    }
    SendOne(FindAccount(wire.account), std::move(*body), std::move(done));
  }

  // No HTTP answer to an order request: nothing sent (no token: the client id may be used
  // again), else an unknown outcome.
  static runtime::OrderDesk::SubmitResult NoAnswer(const RestResult& r) {
    runtime::OrderDesk::SubmitResult res;
    if (r.error.retry == RetryClass::kRetryable && !r.error.message.empty() &&
        r.error.message.rfind("no JWT", 0) == 0) {
      res.error = absl::UnavailableError("paradex: " + r.error.message);
      return res;
    }
    res.ack.outcome = AckOutcome::kOutcomeUnknown;
    res.ack.message = r.error.message;
    return res;
  }

  // A POST /orders answer (http_status > 0) for one order: 201 accepted (or REJECTED when the
  // order object says so), 4xx refusals through the error table, 5xx / unreadable unknown.
  runtime::OrderDesk::SubmitResult OrderAnswer(AccountState* acc, int http_status,
                                               const std::string& body) {
    runtime::OrderDesk::SubmitResult res;
    res.venue_answered = true;
    res.ack = codec_.ParseOrderResponse(http_status, body, symbols_);
    if (http_status != 200 && http_status != 201) {
      res.ApplyVenueError(ClassifyHttpError(http_status, body, RequestKind::kOrderEntry));
    } else if (!res.ack.order.order_id.empty()) {
      acc->orders[res.ack.order.order_id] = res.ack.order;
    }
    res.ack.order = Own(acc, res.ack.order);
    return res;
  }

  void SendOne(AccountState* acc, std::string body, runtime::OrderDesk::SubmitDone done) {
    rest_.PlaceOrder(acc->creds, std::move(body), [this, acc, done](RestResult r) {
      if (r.http_status == 0) return done(NoAnswer(r));
      done(OrderAnswer(acc, r.http_status, r.body));
    });
  }

  // One POST /orders/batch; `dones` answer its orders in request order. 201: each order's
  // entry (matched by MatchBatchOrdersAnswer) is classified as its single POST /orders answer
  // would be. A 400 for the whole batch: the notes say a signature/basic-validation failure of
  // one order rejects the whole batch, and the sim checks every order before any reaches the
  // engine, so the reading taken is that nothing was placed; the answer does not say which
  // order failed, so each order is sent again alone (signed afresh, same client id): the one at
  // fault gets its own refusal, the others are placed (were one placed after all, its client id
  // is a duplicate the desk reconciles). Any other answer for the whole request (429, 5xx, no
  // answer) is every order's answer, classified as for one.
  void SendBatch(AccountState* acc, std::vector<OrderRequest> wires, std::vector<std::string> cids,
                 std::vector<std::string> bodies, std::vector<runtime::OrderDesk::SubmitDone> dones) {
    std::string body = EncodeBatchOrdersBody(bodies);
    rest_.PlaceBatch(acc->creds, std::move(body),
                     [this, acc, wires = std::move(wires), cids = std::move(cids),
                      dones = std::move(dones)](RestResult r) {
      if (r.http_status == 0) {
        for (const auto& done : dones) done(NoAnswer(r));
        return;
      }
      if (r.http_status == 400) {
        for (size_t i = 0; i < dones.size(); ++i) SubmitOne(wires[i], cids[i], dones[i]);
        return;
      }
      if (r.http_status != 200 && r.http_status != 201) {
        for (const auto& done : dones) done(OrderAnswer(acc, r.http_status, r.body));
        return;
      }
      auto entries = MatchBatchOrdersAnswer(r.body, cids);
      for (size_t i = 0; i < dones.size(); ++i) {
        if (!entries.ok() || (*entries)[i].http_status == 0) {
          // The venue answered but we cannot tell this order's part: it may exist.
          runtime::OrderDesk::SubmitResult res;
          res.venue_answered = true;
          res.ack.outcome = AckOutcome::kOutcomeUnknown;
          res.ack.message = entries.ok() ? "paradex batch answer has no entry for this order"
                                         : "unreadable paradex batch answer: " +
                                               std::string(entries.status().message());
          dones[i](res);
          continue;
        }
        dones[i](OrderAnswer(acc, (*entries)[i].http_status, (*entries)[i].body));
      }
    });
  }

  void InstallDeskHooks() {
    if (!desk_) return;
    runtime::OrderDesk::Hooks h;
    h.submit = [this](const OrderRequest& wire, const runtime::JournalEntry& e,
                      runtime::OrderDesk::SubmitDone done) {
      SubmitOne(wire, e.client_order_id, std::move(done));
    };
    // PlaceOrders: POST /orders/batch, 2..10 orders of one account, each signed on its own.
    h.max_batch = kMaxBatchOrders;
    h.submit_batch = [this](std::vector<runtime::OrderDesk::BatchItem> items) {
      auto* acc = FindAccount(items.front().wire.account);
      std::vector<OrderRequest> wires;
      std::vector<std::string> cids, bodies;
      std::vector<runtime::OrderDesk::SubmitDone> dones;
      for (auto& item : items) {
        // An order that cannot be signed is answered alone (nothing sent); the rest go together.
        auto body = SignedOrderBody(item.wire, item.entry.client_order_id);
        if (!body.ok()) {
          runtime::OrderDesk::SubmitResult res;
          res.error = body.status();
          item.done(res);
          continue;
        }
        wires.push_back(item.wire);
        cids.push_back(item.entry.client_order_id);
        bodies.push_back(std::move(*body));
        dones.push_back(std::move(item.done));
      }
      if (dones.empty()) return;
      if (dones.size() == 1) return SendOne(acc, std::move(bodies.front()), std::move(dones.front()));
      SendBatch(acc, std::move(wires), std::move(cids), std::move(bodies), std::move(dones));
    };
    h.query = [this](const runtime::JournalEntry& e, runtime::OrderDesk::QueryDone done) {
      auto* acc = FindAccount(e.account);
      const Instrument* in = symbols_.ByTicker(e.symbol);
      if (!acc || !in) {
        runtime::OrderDesk::QueryResult q;
        q.error = "instruments not loaded or account unknown";
        return done(q);
      }
      Lookup(acc, in->venue_symbol, "", e.client_order_id,
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

  // One modify request; `cur` is the order as known before it (id, side, and the price/size an
  // amend leaves out).
  void SendModify(AccountState* acc, const Instrument& in, AmendRequest req, const Order& cur,
                  bool clock_retry, Callback<OrderAck> done) {
    if (IsTerminal(cur.status)) {
      return done(absl::NotFoundError("order is no longer open on paradex (" +
                                      std::string(ToString(cur.status)) + "): nothing to amend"));
    }
    if (rest_.chain_id().empty()) {
      return done(absl::UnavailableError("paradex chain id not loaded yet"));
    }
    const Decimal size = req.size ? *req.size : cur.size;
    const Decimal price = req.price ? *req.price : cur.price;
    const std::string order_id = req.order_id.empty() ? cur.order_id : req.order_id;
    const uint64_t ts_ms = static_cast<uint64_t>(clock_.Now() / 1000000);
    auto fields = EncodeModifyOrderFields(in, order_id, cur.side, size, price, ts_ms);
    if (!fields.ok()) return done(fields.status());
    auto hash = acc->hasher ? acc->hasher->ModifyOrder(*fields)
                            : ModifyOrderMessageHash(rest_.chain_id(), acc->creds.address_felt,
                                                     *fields);
    if (!hash.ok()) return done(hash.status());
    auto sig = acc->creds.key->Sign(*hash);
    if (!sig.ok()) {
      return done(absl::InternalError("modify signing failed: " +
                                      std::string(sig.status().message())));
    }
    std::string body = EncodeModifyOrderBody(*fields, SignatureJson(*sig), acc->creds.recv_window_ms);
    rest_.ModifyOrder(acc->creds, order_id, std::move(body),
                      [this, acc, in, req, cur, clock_retry, done](RestResult r) mutable {
      if (r.ok()) {
        auto a = codec_.ParseModifyResponse(r.body, symbols_);
        if (!a.ok()) {
          // The venue answered 200 but we cannot read it: the amend probably happened.
          OrderAck ack;
          ack.outcome = AckOutcome::kOutcomeUnknown;
          ack.retryable = true;
          ack.order = cur;
          ack.message = "unreadable modify response: " + std::string(a.status().message()) +
                        "; look the order up before amending again";
          return done(ack);
        }
        if (!a->request_status.empty() && a->request_status != "ACCEPTED") {
          // request_info says the modify was not taken (the notes name only ACCEPTED; any
          // other status is read as a refusal, the order as it was).
          OrderAck ack;
          ack.outcome = AckOutcome::kRejected;
          ack.reason = CancelReason::kRejected;
          ack.order = cur;
          ack.message = "paradex refused the modify (" + a->request_status + "): " +
                        a->request_message;
          return done(ack);
        }
        Order o = Own(acc, a->order);
        if (auto it = acc->orders.find(o.order_id); it != acc->orders.end()) {
          // The stream's state for this id now carries the new price and size, so its own event
          // for the modify is not read as another amend.
          it->second.price = o.price;
          it->second.size = o.size;
        }
        OrderAck ack;
        ack.outcome = AckOutcome::kAccepted;
        ack.order = o;
        if (desk_) {
          if (auto reported = desk_->RecordAmend(o)) ack.order = *reported;
        }
        ack.message = "amended";
        return done(ack);
      }
      const VenueError& e = r.error;
      if (r.http_status == 0 && e.retry == RetryClass::kRetryable &&
          e.message.rfind("no JWT", 0) == 0) {
        // Nothing was sent (no token).
        return done(absl::UnavailableError("paradex: " + e.message));
      }
      if (e.action == ErrorAction::kResyncClock && clock_retry) {
        // INVALID_TIMESTAMP: refused for its signature timestamp, so it did not run: sign again
        // with a fresh one, once.
        return SendModify(acc, in, std::move(req), cur, false, std::move(done));
      }
      // Timeout/5xx: unknown outcome; ORDER_ID_NOT_FOUND / ORDER_IS_CLOSED: NOT_FOUND; other
      // refusals: REJECTED.
      done(AmendFailure(e, cur));
    });
  }

  // An order by venue id or client id: open orders first (GET /orders/{id} or by_client_id, open
  // only on the venue), then the history. nullopt only when the venue's history, filtered for it,
  // has no such order; a history that did not filter cannot prove absence (an error).
  void Lookup(AccountState* acc, const std::string& vs, const std::string& order_id,
              const std::string& client_id,
              std::function<void(absl::StatusOr<std::optional<Order>>)> done) {
    auto history = [this, acc, vs, order_id, client_id, done] {
      std::string q = "market=" + vs + "&page_size=" + std::to_string(kHistoryPage);
      if (!client_id.empty()) q += "&client_id=" + client_id;
      rest_.OrdersHistory(acc->creds, q, [this, order_id, client_id, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto orders = codec_.ParseOrders(r.body, symbols_);
        if (!orders.ok()) return done(orders.status());
        for (const Order& o : *orders) {
          if ((!order_id.empty() && o.order_id == order_id) ||
              (order_id.empty() && o.client_order_id == client_id)) {
            return done(std::optional<Order>(o));
          }
        }
        // Filtered by client id: an empty answer is the venue saying "no such order". Searched
        // by order id in the newest page: absence is not proven past that page.
        if (order_id.empty() && orders->empty()) return done(std::optional<Order>());
        if (order_id.empty()) {
          return done(absl::UnavailableError(
              "paradex orders-history did not filter by client_id: absence of " + client_id +
              " cannot be proven"));
        }
        if (orders->size() < static_cast<size_t>(kHistoryPage)) {
          return done(std::optional<Order>());  // the whole history was read
        }
        done(absl::UnavailableError("order " + order_id +
                                    " is not in the newest history page on paradex"));
      });
    };
    auto open = [this, history, done](RestResult r) {
      if (r.ok()) {
        auto o = codec_.ParseOrder(r.body, symbols_);
        if (!o.ok()) return done(o.status());
        return done(std::optional<Order>(*o));
      }
      if (r.http_status != 404) return done(FromVenue(r.error));
      history();
    };
    if (!order_id.empty()) {
      rest_.GetOrder(acc->creds, order_id, open);
    } else {
      rest_.GetOrderByClientId(acc->creds, client_id, open);
    }
  }

  // After a cancel: the venue queues it (204), so the order may still read OPEN for a moment.
  // Read until the state is terminal (a few tries), then report what is known.
  void LookupFinal(AccountState* acc, const std::string& vs, const std::string& order_id,
                   const std::string& client_id, int attempt,
                   std::function<void(absl::StatusOr<std::optional<Order>>)> done) {
    Lookup(acc, vs, order_id, client_id,
           [this, acc, vs, order_id, client_id, attempt,
            done](absl::StatusOr<std::optional<Order>> o) {
             if (o.ok() && *o && !IsTerminal((*o)->status) && attempt < 10) {
               return After(std::chrono::milliseconds(50 * (attempt + 1)),
                            [this, acc, vs, order_id, client_id, attempt, done] {
                              LookupFinal(acc, vs, order_id, client_id, attempt + 1, done);
                            });
             }
             done(std::move(o));
           });
  }

  void ListFillsNow(const FillQuery& q, Callback<std::vector<Fill>> done) {
    auto* acc = FindAccount(q.account);
    if (!acc) return done(absl::NotFoundError(Unknown("unknown account " + q.account)));
    std::string query = "page_size=" + std::to_string(std::clamp(q.limit, 1, 5000));
    if (!q.symbol.empty()) {
      const Instrument* in = symbols_.ByTicker(q.symbol);
      if (!in) return done(absl::NotFoundError(Unknown("unknown symbol " + q.symbol)));
      query += "&market=" + in->venue_symbol;
    }
    if (q.from > 0) query += "&start_at=" + std::to_string(q.from / 1000000);
    if (q.to > 0) query += "&end_at=" + std::to_string(q.to / 1000000);
    rest_.Fills(acc->creds, query, [this, acc, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto fills = codec_.ParseFills(r.body, symbols_);
      if (!fills.ok()) return done(fills.status());
      for (auto& f : *fills) {
        f.venue = cfg_.name;
        f.account = acc->creds.account;
      }
      done(std::move(*fills));
    });
  }

  void LeverageInfoNow(AccountState* acc, const std::string& vs, Callback<LeverageInfo> done) {
    rest_.AccountMargin(acc->creds, vs, [this, acc, vs, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto settings = codec_.ParseAccountMargin(r.body);
      if (!settings.ok()) return done(settings.status());
      auto m = markets_.find(vs);
      if (m == markets_.end()) return done(absl::NotFoundError(Unknown("unknown market " + vs)));
      const MarginSetting* s = nullptr;
      for (const auto& x : *settings) {
        if (x.venue_symbol == vs) s = &x;
      }
      LeverageInfo li = BuildLeverageInfo(m->second, s);
      li.venue = cfg_.name;
      li.account = acc->creds.account;
      done(li);
    });
  }

  // ---------------------------------------------------------------- lifecycle

  void OnStart(EventSink* sink) override { rest_.set_sink(sink); }

  void OnStop() override {
    books_.Stop();
    if (public_) public_->Stop();
    for (auto& [id, a] : accounts_) {
      if (a->stream) a->stream->Stop();
      a->balance_gate->Cancel();
    }
    for (auto* t : {&funding_timer_, &instrument_timer_, &balance_timer_, &jwt_timer_}) {
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
      SetState(system_.status == SystemStatus::kOk ? ConnState::kConnected : ConnState::kDegraded,
               system_.status == SystemStatus::kOk ? "" : "system state " + system_.text);
      // Every (re)subscription starts with a snapshot: the books wait for it.
      books_.OnStreamOpenAll();
    };
    h.on_message = [this](std::string_view f) { OnMarketFrame(feed_, books_, f, false); };
    h.on_binary = [this](std::string_view f) { OnMarketFrame(feed_, books_, f, true); };
    h.on_disconnected = [this](int, const std::string& reason) {
      reconnects_.fetch_add(1);
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kReconnects, 1);
      SetState(ConnState::kConnecting, "public ws: " + reason);
      books_.OnStreamLostAll();
    };
    public_ = std::make_unique<common::StreamSet>(
        ioc_, PublicStreamOptions(cfg_.ws_url, cfg_.tls_verify),
        [](const std::vector<std::string>& s, uint64_t seq) -> absl::StatusOr<std::string> {
          return EncodeSubscribe(s.front(), static_cast<int64_t>(seq));
        },
        std::move(h));
    for (const auto& ac : cfg_.accounts) {
      auto creds = LoadCredentials(ac);
      if (!creds.ok()) {
        SetState(ConnState::kDegraded, std::string(creds.status().message()));
        log_->error("{}", std::string(creds.status().message()));
        continue;
      }
      auto a = std::make_unique<AccountState>();
      a->creds = std::move(*creds);
      AccountState* acc = a.get();
      a->balance_gate = std::make_unique<common::RefreshGate>(
          ioc_, kBalanceRefreshGap, [this, acc](std::function<void()> done) {
            PollBalance(acc, [this, done](absl::StatusOr<Balance> b) {
              if (b.ok()) Publish(*b);
              done();
            });
          });
      accounts_[ac.id] = std::move(a);
    }
    funding_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    instrument_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    balance_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    jwt_timer_ = std::make_unique<asio::steady_timer>(ioc_);
    InstallDeskHooks();
    LoadSystem();
  }

  // /system/config (chain id for signing), /system/state, then the markets.
  void LoadSystem() {
    rest_.SystemConfig([this](RestResult r) {
      if (stopped_) return;
      if (!r.ok()) return RetrySystem("system config: " + std::string(FromVenue(r.error).message()));
      auto cfg = codec_.ParseSystemConfig(r.body);
      if (!cfg.ok()) return RetrySystem("system config: " + std::string(cfg.status().message()));
      rest_.set_chain_id(cfg->starknet_chain_id);
      for (auto& [id, a] : accounts_) {
        auto hasher = MessageHasher::Create(cfg->starknet_chain_id, a->creds.address_felt);
        if (hasher.ok()) a->hasher = std::make_unique<MessageHasher>(std::move(*hasher));
      }
      RefreshSystemState();
      LoadInstruments();
    });
  }

  void RetrySystem(const std::string& why) {
    SetState(ConnState::kConnecting, why);
    log_->warn("{} (retrying)", why);
    After(std::chrono::seconds(2), [this] { LoadSystem(); });
  }

  void RefreshSystemState() {
    rest_.SystemState([this](RestResult r) {
      if (stopped_ || !r.ok()) return;
      auto st = codec_.ParseSystemState(r.body);
      if (!st.ok()) return;
      if (st->status != system_.status) {
        log_->warn("system state: {}", st->text);
        SetState(st->status == SystemStatus::kOk ? ConnState::kConnected : ConnState::kDegraded,
                 st->status == SystemStatus::kOk ? "" : "system state " + st->text);
      }
      system_ = *st;
    });
  }

  void LoadInstruments() {
    rest_.Markets([this](RestResult r) {
      if (stopped_) return;
      if (!r.ok()) return RetryInstruments("markets: " + std::string(FromVenue(r.error).message()));
      auto infos = codec_.ParseMarketInfos(r.body);
      if (!infos.ok()) return RetryInstruments("markets: " + std::string(infos.status().message()));
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
      if (!taken.insert(in.symbol).second) in.symbol += "-" + in.base;  // kBONK vs BONK
      taken.insert(in.symbol);
      m.instrument = in;
      markets_[in.venue_symbol] = m;
      table.Add(in);
      list.push_back(in);
    }
    symbols_ = std::move(table);
    const bool first = SetInstruments(list);
    log_->info("{} instruments loaded", list.size());
    if (first) {
      if (auto st = public_->Start(); !st.ok()) {
        SetState(ConnState::kDisconnected, "public ws: " + std::string(st.message()));
      }
      StartAccounts();
      RefreshFunding();
      ScheduleBalancePoll();
      KeepJwtFresh();
      if (desk_) desk_->Reconcile();
    }
    EnsureStreams();
    instrument_timer_->expires_after(kInstrumentRefresh);
    instrument_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopped_) {
        RefreshSystemState();
        LoadInstruments();
      }
    });
  }

  void EnsureStreams() {
    std::vector<std::string> channels;
    for (const auto& ticker : wanted_) {
      const Instrument* in = symbols_.ByTicker(ticker);
      if (!in) {
        log_->warn("subscription for unknown symbol {} ignored", ticker);
        continue;
      }
      if (!books_.Add(*in)) continue;
      for (auto c : {OrderBookDeltasChannel(in->venue_symbol), BboChannel(in->venue_symbol),
                     TradesChannel(in->venue_symbol), FundingDataChannel(in->venue_symbol),
                     MarketsSummaryChannel(in->venue_symbol)}) {
        channels.push_back(std::move(c));
      }
    }
    if (!channels.empty()) {
      if (auto st = public_->Add(channels); !st.ok()) {
        SetState(ConnState::kDegraded, "public ws: " + std::string(st.message()));
      }
    }
  }

  // The book keeper's snapshot request: the deltas feed starts every subscription with a
  // snapshot, so re-subscribing asks for one (the snapshot frame answers it).
  void RequestSnapshot(const Instrument& in) {
    const std::string channel = OrderBookDeltasChannel(in.venue_symbol);
    absl::Status st =
        public_->Resubscribe(channel, EncodeUnsubscribe(channel, static_cast<int64_t>(++rpc_id_)));
    if (!st.ok()) {
      log_->debug("re-subscribe {}: {}", channel, std::string(st.message()));
      books_.OnSnapshot(in.venue_symbol, absl::UnavailableError(std::string(st.message())));
    }
  }

  // Public frames take the runtime's dispatch; here: snapshots from the stream, funding rows
  // from funding_data + markets_summary, and frame errors (a lost book frame is a resync).
  void OnFeedMessage(const MarketMsg& m, UnixNanos) override {
    if (m.kind == FeedKind::kDepthSnapshot && m.instrument != nullptr) {
      runtime::BookSnapshot s;
      s.id = m.delta->last_id;
      s.exchange_time = m.delta->exchange_time;
      SplitSnapshotLevels(*m.delta, &s.bids, &s.asks);
      if (books_.Live(m.venue_symbol)) {
        // Any SNAPSHOT is a full reset (paradex-sbe.md §5.3): drop the live book, take this one.
        books_.Resync(m.venue_symbol, "snapshot on a live stream", VenueCounter::kResyncGap,
                      false);
      }
      books_.OnSnapshot(m.venue_symbol, std::move(s));
      return;
    }
    if (m.kind != FeedKind::kVenue) return;
    if (m.detail == "markets_summary") {
      const MarketSummary& s = feed_.summary();
      summaries_[s.venue_symbol] = s;
      EmitFunding(s.venue_symbol);
    } else if (m.detail == "funding_data") {
      const FundingData& f = feed_.funding_data();
      funding_data_[f.venue_symbol] = f;
      EmitFunding(f.venue_symbol);
    }
  }

  void OnMarketFrameError(const absl::Status& why) override {
    // A book frame that did not decode: the book it belonged to is no longer known to be
    // right. Its market is named at the frame's end, so a corrupt one may not say which: then
    // every followed book resyncs (rare; never serve a book known to be wrong).
    if (feed_.sbe_header().template_id != static_cast<uint16_t>(sbe::TemplateId::kBook) &&
        feed_.info().channel_kind != ChannelKind::kOrderBook) {
      return;
    }
    log_->warn("book frame dropped ({}): resync", std::string(why.message()));
    for (const std::string& vs : books_.VenueSymbols()) {
      books_.Resync(vs, "undecodable book frame", VenueCounter::kResyncBadInput, true);
    }
  }

  // ---------------------------------------------------------------- funding

  void RefreshFunding() {
    if (stopped_) return;
    RefreshSystemState();  // maintenance / cancel-only show within the funding period (30 s)
    rest_.MarketsSummary("ALL", [this](RestResult r) {
      if (r.ok()) {
        auto rows = codec_.ParseMarketsSummary(r.body);
        if (rows.ok()) {
          for (auto& s : *rows) summaries_[s.venue_symbol] = s;
        }
      }
      for (const auto& [vs, s] : summaries_) EmitFunding(vs);
    });
    funding_timer_->expires_after(kFundingRefresh);
    funding_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) RefreshFunding();
    });
  }

  // One GET /funding/data page of a ListFundingHistory read; follows the cursor only while the
  // query's newest `limit` rows may still be ahead (FundingHistoryComplete).
  void FundingHistoryPage(std::string vs, std::string ticker, int64_t period, FundingHistoryQuery q,
                          std::string cursor, std::vector<FundingData> rows, int pages,
                          Callback<std::vector<Funding>> done) {
    if (stopped_) return done(absl::CancelledError("paradex adapter stopped"));
    rest_.FundingData(
        EncodeFundingDataQuery(vs, q, cursor),
        [this, vs, ticker, period, q, rows = std::move(rows), pages,
         done = std::move(done)](RestResult r) mutable {
          if (!r.ok()) return done(FromVenue(r.error));
          PageCursor next;
          auto page = codec_.ParseFundingData(r.body, &next);
          if (!page.ok()) return done(page.status());
          rows.insert(rows.end(), page->begin(), page->end());
          if (!FundingHistoryComplete(*page, next, rows.size(), q.limit)) {
            if (pages + 1 >= kMaxFundingPages) {
              return done(absl::FailedPreconditionError(
                  "paradex funding history: more than " + std::to_string(kMaxFundingPages) +
                  " pages of " + vs + " in the range; narrow from/to"));
            }
            return FundingHistoryPage(vs, ticker, period, q, next.next, std::move(rows), pages + 1,
                                      std::move(done));
          }
          auto out = BuildFundingHistory(rows, vs, period, ticker);
          if (!out.ok()) return done(out.status());
          for (auto& f : *out) f.venue = cfg_.name;
          done(std::move(*out));
        });
  }

  void EmitFunding(const std::string& vs) {
    auto info = markets_.find(vs);
    if (info == markets_.end()) return;
    auto s = summaries_.find(vs);
    auto fd = funding_data_.find(vs);
    const MarketSummary* summary = s == summaries_.end() ? nullptr : &s->second;
    absl::StatusOr<Funding> f = absl::UnavailableError("no funding data");
    if (fd != funding_data_.end()) {
      f = BuildFunding(fd->second, summary, info->second.instrument.symbol, clock_.Now());
    } else if (summary != nullptr && info->second.funding_period_hours > 0) {
      f = BuildFundingFromSummary(*summary, info->second.funding_period_hours,
                                  info->second.instrument.symbol, clock_.Now());
    }
    if (!f.ok()) return;
    f->venue = cfg_.name;
    funding_[vs] = *f;
    Publish(std::move(*f));
  }

  // ---------------------------------------------------------------- account

  void PollBalance(AccountState* acc, Callback<Balance> done) {
    rest_.Account(acc->creds, [this, acc, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto a = codec_.ParseAccount(r.body);
      if (!a.ok()) return done(a.status());
      done(ToBalance(acc, *a));
    });
  }

  Balance ToBalance(const AccountState* acc, const AccountSummary& a) const {
    Balance b;
    b.venue = cfg_.name;
    b.account = acc->creds.account;
    b.asset = a.settlement_asset;
    b.available = a.free_collateral;
    b.equity = a.account_value;
    b.margin_used = a.initial_margin_requirement;
    auto u = Decimal::Sub(a.account_value, a.total_collateral);
    if (u.ok()) b.unrealized_pnl = *u;
    b.update_time = a.update_time != 0 ? a.update_time : clock_.Now();
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

  // Keeps every account's JWT ahead of its expiry (the private stream's auth on reconnect uses
  // the cached one).
  void KeepJwtFresh() {
    for (auto& [id, a] : accounts_) {
      rest_.EnsureJwt(a->creds, [this, acc = a.get()](absl::StatusOr<std::string> t) {
        if (!t.ok()) {
          log_->warn("jwt for {}: {}", acc->creds.account, std::string(t.status().message()));
        }
      });
    }
    jwt_timer_->expires_after(kJwtKeeper);
    jwt_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopped_) KeepJwtFresh();
    });
  }

  void StartAccounts() {
    for (auto& [id, a] : accounts_) {
      AccountState* acc = a.get();
      rest_.EnsureJwt(acc->creds, [this, acc](absl::StatusOr<std::string> t) {
        if (!t.ok()) {
          log_->error("private stream {}: no JWT yet ({}); retrying", acc->creds.account,
                      std::string(t.status().message()));
        }
        StartPrivateStream(acc);
      });
    }
  }

  void StartPrivateStream(AccountState* acc) {
    if (acc->stream || stopped_) return;
    common::StreamSet::Handlers h;
    h.on_connected = [this, acc](int) {
      // Events may have been missed while disconnected: the desk queries its open and unknown
      // orders and publishes exactly what changed (fills included).
      if (desk_ && ready_) desk_->Reconcile();
      acc->balance_gate->Request();
    };
    h.on_message = [this, acc](std::string_view f) { OnPrivateFrame(acc, f); };
    h.on_disconnected = [this, acc](int, const std::string& reason) {
      log_->warn("private stream {} down: {}", acc->creds.account, reason);
    };
    auto builder = [this, acc](const std::vector<std::string>& s,
                               uint64_t seq) -> absl::StatusOr<std::string> {
      if (s.front() == kAuthTopic) {
        std::string jwt = rest_.CachedJwt(acc->creds);
        if (jwt.empty()) return absl::UnavailableError("no JWT for the private stream yet");
        return EncodeAuth(jwt, static_cast<int64_t>(seq));
      }
      if (s.front() == kCancelOnDisconnectTopic) {
        return EncodeCancelOnDisconnect(true, static_cast<int64_t>(seq));
      }
      return EncodeSubscribe(s.front(), static_cast<int64_t>(seq));
    };
    h.on_frame_error = [this, acc](int conn, const absl::Status& why) {
      // Without a JWT the subscriptions would be refused: reconnect once one is there.
      log_->warn("private stream {}: {}", acc->creds.account, std::string(why.message()));
      rest_.EnsureJwt(acc->creds, [this, acc, conn](absl::StatusOr<std::string> t) {
        After(std::chrono::seconds(t.ok() ? 0 : 2), [acc, conn] {
          if (acc->stream) acc->stream->ForceReconnect(conn, "authenticating again");
        });
      });
    };
    acc->stream = std::make_unique<common::StreamSet>(
        ioc_, PrivateStreamOptions(cfg_.ws_url, cfg_.tls_verify), std::move(builder),
        std::move(h));
    std::vector<std::string> topics{kAuthTopic};
    if (acc->creds.cancel_on_disconnect) topics.emplace_back(kCancelOnDisconnectTopic);
    for (std::string_view c : {kOrdersAllChannel, kFillsAllChannel, kPositionsChannel, kAccountChannel})
      topics.emplace_back(c);
    (void)acc->stream->Add(topics);
    if (auto st = acc->stream->Start(); !st.ok()) {
      log_->error("private stream {}: {}", acc->creds.account, std::string(st.message()));
    }
  }

  void OnPrivateFrame(AccountState* acc, std::string_view frame) {
    const UnixNanos now = clock_.Now();
    if (sink_) sink_->Count(cfg_.name, VenueCounter::kMessagesIn, 1);
    WsFrameInfo info;
    if (!codec_.ClassifyWsFrame(frame, &info).ok()) {
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
      return;
    }
    if (info.kind == WsKind::kError) {
      log_->warn("private ws error {}: {}", info.error_code, info.error_message);
      if (info.error_code == 40110 || info.error_code == 40111) {
        // The bearer was refused: a new token, then a fresh connection (auth first again).
        rest_.InvalidateJwt(acc->creds);
        rest_.EnsureJwt(acc->creds, [acc](absl::StatusOr<std::string>) {
          if (acc->stream) acc->stream->ForceReconnect(0, "bearer refused");
        });
      }
      return;
    }
    if (info.kind != WsKind::kSubscription) return;
    auto bad = [this] {
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
    };
    switch (info.channel_kind) {
      case ChannelKind::kOrders: {
        auto o = codec_.ParseOrder(frame, symbols_);
        if (!o.ok()) return bad();
        // A live order at a new price or size: a modify (the venue's event for it carries no
        // marker the notes name). The desk takes the new price/size and publishes the order;
        // the event itself then repeats it and is dropped below.
        auto prev = acc->orders.find(o->order_id);
        const bool amended = prev != acc->orders.end() && !IsTerminal(prev->second.status) &&
                             !IsTerminal(o->status) &&
                             (prev->second.price != o->price || prev->second.size != o->size);
        acc->orders[o->order_id] = *o;
        if (desk_ && amended) (void)desk_->RecordAmend(Own(acc, *o));
        OrderEvent ev;
        ev.order = Own(acc, *o);
        ev.exchange_time = o->updated_time;
        ev.receive_time = now;
        if (IsTerminal(o->status)) {
          // Kept a while: a fill may arrive after the order's terminal state (the channels are
          // not ordered with each other) and must still see the order's real size.
          acc->terminal.push_back(o->order_id);
          if (acc->terminal.size() > kTerminalKept) {
            acc->orders.erase(acc->terminal.front());
            acc->terminal.pop_front();
          }
        }
        if (!desk_ || desk_->OnOrderEvent(ev)) Publish(std::move(ev));
        acc->balance_gate->Request();
        return;
      }
      case ChannelKind::kFills: {
        auto f = codec_.ParseFill(frame, symbols_);
        if (!f.ok()) return bad();
        f->venue = cfg_.name;
        f->account = acc->creds.account;
        OrderEvent ev;
        ev.exchange_time = f->exchange_time;
        ev.receive_time = now;
        auto known = acc->orders.find(f->order_id);
        if (known != acc->orders.end()) {
          // The order's state after this fill (the orders channel follows with the same).
          Order& o = known->second;
          auto filled = Decimal::Add(o.filled_size, f->size);
          if (filled.ok() && *filled <= o.size) o.filled_size = filled->Normalized();
          o.status = o.filled_size == o.size ? OrderStatus::kFilled : OrderStatus::kPartiallyFilled;
          ev.order = Own(acc, o);
        } else {
          // A fill of an order this session has not seen (placed elsewhere, a liquidation).
          ev.order.venue = cfg_.name;
          ev.order.account = acc->creds.account;
          ev.order.symbol = f->symbol;
          ev.order.order_id = f->order_id.empty() ? "fill-" + f->trade_id : f->order_id;
          ev.order.client_order_id = f->client_order_id;
          ev.order.side = f->side;
          ev.order.size = f->size;
          ev.order.filled_size = f->size;
          ev.order.price = f->price;
          ev.order.avg_fill_price = f->price;
          ev.order.status = OrderStatus::kFilled;
          if (f->liquidation) ev.order.reason = CancelReason::kLiquidation;
        }
        if (f->liquidation) {
          Liquidation l;
          l.venue = cfg_.name;
          l.account = acc->creds.account;
          l.symbol = f->symbol;
          l.side = f->side;
          l.price = f->price;
          l.size = f->size;
          l.order_id = f->order_id;
          l.exchange_time = f->exchange_time;
          Publish(std::move(l));
        }
        ev.fill = *f;
        if (!desk_ || desk_->OnOrderEvent(ev)) Publish(std::move(ev));
        return;
      }
      case ChannelKind::kPositions: {
        auto p = codec_.ParsePosition(frame, symbols_);
        if (!p.ok()) return bad();
        Own(acc, &*p);
        if (p->update_time == 0) p->update_time = now;
        Publish(std::move(*p));
        return;
      }
      case ChannelKind::kAccount: {
        auto a = codec_.ParseAccount(frame);
        if (!a.ok()) return bad();
        Publish(ToBalance(acc, *a));
        return;
      }
      default:
        return;
    }
  }

  ParadexRest rest_;
  Codec codec_;
  SymbolTable symbols_;
  Feed feed_{&codec_, &symbols_};
  std::map<std::string, MarketInfo> markets_;
  std::set<std::string> wanted_;
  runtime::BookKeeper books_;  // by venue symbol
  std::map<std::string, MarketSummary> summaries_;
  std::map<std::string, FundingData> funding_data_;
  std::map<std::string, Funding> funding_;
  std::map<std::string, std::unique_ptr<AccountState>> accounts_;
  std::unique_ptr<common::StreamSet> public_;
  std::unique_ptr<asio::steady_timer> funding_timer_, instrument_timer_, balance_timer_,
      jwt_timer_;
  SystemState system_{SystemStatus::kOk, "ok"};
  uint64_t rpc_id_ = 1000000;
};

}  // namespace

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock) {
  return std::make_unique<ParadexAdapter>(config, clock);
}

}  // namespace perpgw::adapters::paradex
