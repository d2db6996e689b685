// Backpack adapter: markets + hourly funding, depth deltas bridged to REST snapshots (U == u+1),
// signed private streams, Ed25519 REST order entry with unknown-outcome reconciliation, and
// balance polling (the venue has no balance stream).
#include "adapters/backpack/adapter.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "adapters/api/order_book.h"
#include "adapters/common/adapter_base.h"
#include "adapters/common/refresh_gate.h"
#include "adapters/backpack/codec.h"
#include "adapters/backpack/errors.h"
#include "adapters/backpack/feed.h"
#include "adapters/backpack/rest.h"
#include "adapters/backpack/symbols.h"
#include "adapters/backpack/ws.h"

namespace perpgw::adapters::backpack {
namespace {

namespace asio = boost::asio;

constexpr int kSnapshotDepth = 1000;
constexpr auto kFundingRefresh = std::chrono::seconds(30);
constexpr auto kInstrumentRefresh = std::chrono::minutes(10);
constexpr auto kBalancePoll = std::chrono::seconds(10);
// Order/account events change the balance, but a busy strategy produces many: poll at most
// this often (trailing, so the last event is always covered).
constexpr auto kBalanceRefreshGap = std::chrono::milliseconds(500);
// Position.leverage is the account's leverageLimit (account-wide): read again by GetPositions
// when the last read is older than this. It changes only through PATCH /api/v1/account, which
// the gateway does not send (set_leverage is false), so this bounds how long a change made
// elsewhere goes unseen.
constexpr auto kAccountSettingsMaxAge = std::chrono::seconds(30);

absl::Status FromVenue(const VenueError& e) { return ToStatus(e); }

class BackpackAdapter final : public common::AdapterBase {
 public:
  BackpackAdapter(const VenueConfig& cfg, const Clock& clock)
      : AdapterBase(cfg, clock, "backpack"),
        rest_(ioc_, cfg_, clock),
        books_(cfg_.name, feed_.seq_rule(), BookHooks([this](const Instrument& in) {
                 RequestSnapshot(in);
               })) {
    // No snapshot is asked for while the public stream is down: its reconnect asks again.
    books_.set_can_request([this] { return public_ && public_->AnyOpen(); });
  }
  ~BackpackAdapter() override { Stop(); }

  Capabilities capabilities() const override {
    Capabilities c;
    c.trading = !cfg_.accounts.empty();
    c.set_leverage = false;  // leverage is account-wide (PATCH /account), not per symbol
    c.liquidation_stream = true;
    c.fill_history = true;
    c.funding_history = true;  // ListFundingHistory
    c.fill_page_size = 1000;  // ListFills: from/to honoured, a short page is the whole window
    c.market_orders = false;  // sent as bounded IOC limits (the desk reports them as MARKET)
    c.post_only = true;
    c.reduce_only = true;
    c.balance_stream = false;
    // PlaceOrders: POST /api/v1/orders (batch orderExecute), kMaxBatchOrders per request.
    c.native_batch = static_cast<int>(kMaxBatchOrders);
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
      if (!in) return done(absl::NotFoundError("unknown symbol " + symbol + " on backpack"));
      int limit = 1000;
      for (int l : {5, 10, 20, 50, 100, 500, 1000}) {
        if (l >= depth) {
          limit = l;
          break;
        }
      }
      Instrument inst = *in;
      rest_.Depth(inst.venue_symbol, limit, [this, inst, depth, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto snap = codec_.ParseDepthSnapshot(r.body, inst);
        if (!snap.ok()) return done(snap.status());
        BookUpdate u = MakeSnapshotUpdate(*snap, inst, clock_.Now());
        if (depth > 0 && u.bids.size() > static_cast<size_t>(depth)) u.bids.resize(depth);
        if (depth > 0 && u.asks.size() > static_cast<size_t>(depth)) u.asks.resize(depth);
        done(std::move(u));
      });
    });
  }

  void FetchFunding(std::string symbol, Callback<Funding> done) override {
    asio::post(ioc_, [this, symbol, done = std::move(done)] {
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + symbol + " on backpack"));
      auto it = funding_.find(in->venue_symbol);
      if (it != funding_.end()) return done(it->second);
      done(absl::UnavailableError("funding for " + symbol + " not loaded yet; retry"));
    });
  }

  // Pages /fundingRates newest first (FundingHistoryPager) until the query is answered.
  void ListFundingHistory(FundingHistoryQuery q, Callback<std::vector<Funding>> done) override {
    asio::post(ioc_, [this, q = std::move(q), done = std::move(done)]() mutable {
      const Instrument* in = symbols_.ByTicker(q.symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + q.symbol + " on backpack"));
      auto info = markets_.find(in->venue_symbol);
      auto walk = std::make_shared<FundingWalk>(FundingWalk{
          FundingHistoryPager(q.from, q.to, q.limit), in->venue_symbol, in->symbol,
          info == markets_.end() ? 0 : info->second.funding_interval_ms, std::move(done)});
      FetchFundingPage(std::move(walk));
    });
  }

  void PlaceOrder(OrderRequest req, Callback<OrderAck> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto* acc = FindAccount(req.account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + req.account));
      const Instrument* in = symbols_.ByTicker(req.symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + req.symbol + " on backpack"));
      if (auto st = DeskStatus(); !st.ok()) return done(st);
      // Market orders go out as IOC limits at the gateway's worst price (runtime::WireRequest:
      // exact price protection; the venue's own slippageTolerance unit is unverified, see the
      // notes).
      desk_->Place(req, acc->creds.window_ms * 1000000, std::move(done));
    });
  }

  void CancelOrder(CancelRequest req, Callback<CancelResult> done) override {
    asio::post(ioc_, [this, req = std::move(req), done = std::move(done)]() mutable {
      auto* acc = FindAccount(req.account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + req.account));
      const Instrument* in = symbols_.ByTicker(req.symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + req.symbol + " on backpack"));
      EncodedRequest enc;
      if (!req.order_id.empty()) {
        enc = EncodeCancelOrder(in->venue_symbol, req.order_id);
      } else {
        auto cid = acc->clients.Find(req.client_order_id);
        if (!cid) return done(absl::NotFoundError("unknown client_order_id " + req.client_order_id));
        enc = EncodeCancelOrderByClientId(in->venue_symbol, *cid);
      }
      std::string vs = in->venue_symbol;
      rest_.OrderCancel(acc->creds, enc.body, enc.params, [this, acc, req, vs, done](RestResult r) {
        if (r.ok()) {
          auto o = codec_.ParseOrder(r.body, symbols_, &acc->clients);
          if (!o.ok()) return done(o.status());
          return done(CancelResult{Own(acc, *o)});
        }
        if (r.http_status != 404) return done(FromVenue(r.error));
        // Not resting any more: report its final state (and filled size) from history. A
        // history that could not be read (far enough) is that error, not the venue's 404.
        FindInHistoryStrict(acc, vs, req.order_id, req.client_order_id,
                            [this, acc, err = r.error,
                             done](absl::StatusOr<std::optional<Order>> o) {
                              if (!o.ok()) return done(o.status());
                              if (!*o) return done(FromVenue(err));
                              done(CancelResult{Own(acc, **o)});
                            });
      });
    });
  }

  void CancelAll(std::string account, std::string symbol,
                 Callback<std::vector<Order>> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + account));
      std::vector<std::string> targets;
      if (!symbol.empty()) {
        const Instrument* in = symbols_.ByTicker(symbol);
        if (!in) return done(absl::NotFoundError("unknown symbol " + symbol + " on backpack"));
        targets.push_back(in->venue_symbol);
        return CancelAllIn(acc, targets, std::move(done));
      }
      rest_.OrderQueryAll(acc->creds, {{"marketType", "PERP"}}, [this, acc, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto orders = codec_.ParseOrders(r.body, symbols_, &acc->clients);
        if (!orders.ok()) return done(orders.status());
        std::set<std::string> vs;
        for (const auto& o : *orders) vs.insert(symbols_.VenueSymbolFor(o.symbol));
        CancelAllIn(acc, std::vector<std::string>(vs.begin(), vs.end()), done);
      });
    });
  }

  void GetOrder(CancelRequest ref, bool, Callback<Order> done) override {
    asio::post(ioc_, [this, ref = std::move(ref), done = std::move(done)] {
      auto* acc = FindAccount(ref.account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + ref.account));
      const Instrument* in = symbols_.ByTicker(ref.symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + ref.symbol + " on backpack"));
      std::vector<SignParam> params = {{"symbol", in->venue_symbol}};
      if (!ref.order_id.empty()) {
        params.push_back({"orderId", ref.order_id});
      } else {
        auto cid = acc->clients.Find(ref.client_order_id);
        if (!cid) return done(absl::NotFoundError("unknown client_order_id " + ref.client_order_id));
        params.push_back({"clientId", std::to_string(*cid)});
      }
      std::string vs = in->venue_symbol;
      rest_.OrderQuery(acc->creds, params, [this, acc, ref, vs, done](RestResult r) {
        if (r.ok()) {
          auto o = codec_.ParseOrder(r.body, symbols_, &acc->clients);
          if (!o.ok()) return done(o.status());
          return done(Annotated(Own(acc, *o)));
        }
        if (r.http_status != 404) return done(FromVenue(r.error));
        // GET /order only knows resting orders; terminal ones live in the order history.
        // NOT_FOUND only when the history was read to its end; a read that failed or stopped
        // short is that error (a client must not conclude the order never existed).
        FindInHistoryStrict(acc, vs, ref.order_id, ref.client_order_id,
                            [this, acc, done](absl::StatusOr<std::optional<Order>> o) {
                              if (!o.ok()) return done(o.status());
                              if (!*o) {
                                return done(absl::NotFoundError("order not found on backpack"));
                              }
                              done(Annotated(Own(acc, **o)));
                            });
      });
    });
  }

  void ListOpenOrders(std::string account, std::string symbol,
                      Callback<std::vector<Order>> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + account));
      std::vector<SignParam> params = {{"marketType", "PERP"}};
      if (!symbol.empty()) {
        const Instrument* in = symbols_.ByTicker(symbol);
        if (!in) return done(absl::NotFoundError("unknown symbol " + symbol + " on backpack"));
        params.push_back({"symbol", in->venue_symbol});
      }
      rest_.OrderQueryAll(acc->creds, params, [this, acc, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto orders = codec_.ParseOrders(r.body, symbols_, &acc->clients);
        if (!orders.ok()) return done(orders.status());
        for (auto& o : *orders) o = Own(acc, o);
        done(std::move(*orders));
      });
    });
  }

  void ListFills(FillQuery q, Callback<std::vector<Fill>> done) override {
    asio::post(ioc_, [this, q = std::move(q), done = std::move(done)] { ListFillsNow(q, done); });
  }

  void ListFillsNow(const FillQuery& q, Callback<std::vector<Fill>> done) {
    auto* acc = FindAccount(q.account);
    if (!acc) return done(absl::NotFoundError("unknown backpack account " + q.account));
    std::vector<SignParam> params;
    if (!q.symbol.empty()) {
      const Instrument* in = symbols_.ByTicker(q.symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + q.symbol + " on backpack"));
      params.push_back({"symbol", in->venue_symbol});
    }
    if (q.from > 0) params.push_back({"from", std::to_string(q.from / 1000000)});
    if (q.to > 0) params.push_back({"to", std::to_string(q.to / 1000000)});
    params.push_back({"limit", std::to_string(std::min(q.limit, 1000))});
    rest_.FillHistoryQueryAll(acc->creds, params, [this, acc, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto fills = codec_.ParseFills(r.body, symbols_, &acc->clients);
      if (!fills.ok()) return done(fills.status());
      for (auto& f : *fills) {
        f.venue = cfg_.name;
        f.account = acc->creds.account;
      }
      done(std::move(*fills));
    });
  }

  void GetBalance(std::string account, Callback<Balance> done) override {
    asio::post(ioc_, [this, account, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + account));
      PollBalance(acc, std::move(done));
    });
  }

  void GetPositions(std::string account, Callback<std::vector<Position>> done) override {
    asio::post(ioc_, [this, account, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + account));
      rest_.PositionQuery(acc->creds, [this, acc, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto ps = codec_.ParsePositions(r.body, symbols_, clock_.Now());
        if (!ps.ok()) return done(ps.status());
        for (auto& p : *ps) {
          p.venue = cfg_.name;
          p.account = acc->creds.account;
        }
        if (ps->empty() || FreshLeverage(acc)) {
          ApplyAccountLeverage(acc->leverage, &*ps);
          return done(std::move(*ps));
        }
        // The account's leverageLimit is every position's leverage (account-wide on Backpack).
        rest_.AccountQuery(acc->creds, [this, acc, ps = std::move(*ps),
                                        done](RestResult a) mutable {
          if (a.ok()) {
            auto settings = codec_.ParseAccount(a.body);
            if (settings.ok()) NoteAccountSettings(acc, *settings);
          }
          // Unread: the positions answer without leverage (absent, not a guess).
          ApplyAccountLeverage(FreshLeverage(acc) ? acc->leverage : std::nullopt, &ps);
          done(std::move(ps));
        });
      });
    });
  }

  void GetLeverageInfo(std::string account, std::string symbol,
                       Callback<LeverageInfo> done) override {
    asio::post(ioc_, [this, account, symbol, done = std::move(done)] {
      auto* acc = FindAccount(account);
      if (!acc) return done(absl::NotFoundError("unknown backpack account " + account));
      const Instrument* in = symbols_.ByTicker(symbol);
      if (!in) return done(absl::NotFoundError("unknown symbol " + symbol + " on backpack"));
      std::string vs = in->venue_symbol;
      rest_.AccountQuery(acc->creds, [this, acc, vs, symbol, done](RestResult r) {
        if (!r.ok()) return done(FromVenue(r.error));
        auto settings = codec_.ParseAccount(r.body);
        if (!settings.ok()) return done(settings.status());
        NoteAccountSettings(acc, *settings);
        auto m = markets_.find(vs);
        LeverageInfo li =
            BuildLeverageInfo(*settings, m == markets_.end() ? nullptr : &m->second, symbol);
        li.venue = cfg_.name;
        li.account = acc->creds.account;
        done(li);
      });
    });
  }

 private:
  struct AccountState {
    Credentials creds;
    ClientIdMapper clients;
    std::unique_ptr<common::StreamSet> stream;
    // Balance polls (events, reconnects, the periodic timer) go through this gate: at most one
    // per kBalanceRefreshGap, trailing, never two in flight. Each is a signed REST call on the
    // account's rate-limit budget and the connections orders use.
    std::unique_ptr<common::RefreshGate> balance_gate;
    // The account's leverageLimit as last read (GET /api/v1/account), venue thread only.
    OptDecimal leverage;
    UnixNanos leverage_at = 0;  // 0: never read
  };

  void NoteAccountSettings(AccountState* acc, const AccountSettings& settings) {
    acc->leverage = AccountLeverage(settings);
    acc->leverage_at = clock_.Now();
  }
  bool FreshLeverage(const AccountState* acc) const {
    const UnixNanos max_age =
        std::chrono::duration_cast<std::chrono::nanoseconds>(kAccountSettingsMaxAge).count();
    return acc->leverage_at > 0 && clock_.Now() - acc->leverage_at < max_age;
  }

  AccountState* FindAccount(const std::string& id) {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : it->second.get();
  }

  Order Own(const AccountState* acc, Order o) const {
    o.venue = cfg_.name;
    o.account = acc->creds.account;
    return o;
  }
  Order Annotated(Order o) const {
    if (desk_) desk_->Annotate(o);
    return o;
  }

  // One order's POST /api/v1/order body and sign params; the venue clientId is the desk's
  // (assign_venue_id), the same in a batch entry as alone.
  static absl::StatusOr<EncodedRequest> EncodeOrder(const OrderRequest& wire,
                                                    const Instrument& in,
                                                    const runtime::JournalEntry& e) {
    OrderEncodeOptions opts;
    opts.market_style = OrderEncodeOptions::MarketStyle::kLimitIoc;
    return EncodeOrderExecute(wire, in, static_cast<uint32_t>(e.venue_client_id), opts);
  }

  // The venue's answer for one order (`ack` = ParseOrderExecuteResponse(http_status, body)):
  // the codec's ack carries the venue's text and order fields; a non-200 outcome follows the
  // one rule every venue shares (rate limited / unknown / refused, duplicate client id).
  runtime::OrderDesk::SubmitResult OrderAnswer(const AccountState* acc, int http_status,
                                               std::string_view body, OrderAck ack) const {
    runtime::OrderDesk::SubmitResult res;
    res.venue_answered = true;
    res.ack = std::move(ack);
    if (http_status != 200 && http_status != 201) {
      res.ApplyVenueError(ClassifyHttpError(http_status, body, RequestKind::kOrderEntry));
    }
    res.ack.order = Own(acc, res.ack.order);
    return res;
  }

  // No HTTP answer at all: the order may have reached the venue.
  static runtime::OrderDesk::SubmitResult NoAnswer(const RestResult& r) {
    runtime::OrderDesk::SubmitResult res;
    res.venue_answered = false;
    res.ack.outcome = AckOutcome::kOutcomeUnknown;
    res.ack.message = r.error.message;
    return res;
  }

  void SendOrderExecute(AccountState* acc, EncodedRequest enc,
                        runtime::OrderDesk::SubmitDone done) {
    rest_.OrderExecute(acc->creds, std::move(enc.body), std::move(enc.params),
                       [this, acc, done = std::move(done)](RestResult r) {
                         if (r.http_status == 0) return done(NoAnswer(r));
                         OrderAck ack = codec_.ParseOrderExecuteResponse(r.http_status, r.body,
                                                                         symbols_, &acc->clients);
                         done(OrderAnswer(acc, r.http_status, r.body, std::move(ack)));
                       });
  }

  // One batch request; `dones` answer its orders in request order. An answer for the whole
  // request (no answer, a 5xx/202, a refusal of the batch) is every order's, classified as for
  // one order; a 200 answers each order with its own entry (an order object, or an error body
  // classified like a single order's); a 200 we cannot read, or with another number of
  // entries, is an unknown outcome for each (they may have executed).
  void SendOrderExecuteBatch(AccountState* acc, EncodedBatch batch,
                             std::vector<runtime::OrderDesk::SubmitDone> dones) {
    rest_.OrderExecuteBatch(
        acc->creds, std::move(batch.body), std::move(batch.items),
        [this, acc, dones = std::move(dones)](RestResult r) {
          if (r.http_status == 0) {
            for (auto& done : dones) done(NoAnswer(r));
            return;
          }
          if (r.http_status != 200 && r.http_status != 201) {
            for (auto& done : dones) {
              OrderAck ack = codec_.ParseOrderExecuteResponse(r.http_status, r.body, symbols_,
                                                              &acc->clients);
              done(OrderAnswer(acc, r.http_status, r.body, std::move(ack)));
            }
            return;
          }
          auto entries = codec_.ParseOrderExecuteBatchResponse(r.body, symbols_, &acc->clients);
          const bool readable = entries.ok() && entries->size() == dones.size();
          for (size_t i = 0; i < dones.size(); ++i) {
            if (readable) {
              BatchOrderEntry& e = (*entries)[i];
              dones[i](OrderAnswer(acc, e.http_status, e.body, std::move(e.ack)));
              continue;
            }
            runtime::OrderDesk::SubmitResult res;
            res.venue_answered = true;
            res.ack.outcome = AckOutcome::kOutcomeUnknown;
            res.ack.reason = CancelReason::kUnknown;
            res.ack.message =
                "unreadable batch order response: " +
                (entries.ok() ? std::to_string(entries->size()) + " entries for " +
                                    std::to_string(dones.size()) + " orders"
                              : std::string(entries.status().message()));
            dones[i](res);
          }
        });
  }

  void InstallDeskHooks() {
    if (!desk_) return;
    // Numeric clientIds of journaled orders map back to their string ids after a restart.
    for (const auto* e : desk_->Entries()) {
      if (auto* acc = FindAccount(e->account); acc && e->venue_client_id > 0 &&
                                               e->venue_client_id <= 0xFFFFFFFFu) {
        auto st = acc->clients.Restore(e->client_order_id, static_cast<uint32_t>(e->venue_client_id));
        if (!st.ok()) log_->warn("journal clientId {}: {}", e->venue_client_id, std::string(st.message()));
      }
    }
    runtime::OrderDesk::Hooks h;
    h.assign_venue_id = [this](const std::string& account,
                               const std::string& cid) -> absl::StatusOr<uint64_t> {
      auto* acc = FindAccount(account);
      if (!acc) return absl::NotFoundError("unknown backpack account " + account);
      auto id = acc->clients.Assign(cid);
      if (!id.ok()) return id.status();
      return static_cast<uint64_t>(*id);
    };
    h.submit = [this](const OrderRequest& wire, const runtime::JournalEntry& e,
                      runtime::OrderDesk::SubmitDone done) {
      runtime::OrderDesk::SubmitResult res;
      auto* acc = FindAccount(wire.account);
      const Instrument* in = symbols_.ByTicker(wire.symbol);
      if (!acc || !in) {
        res.error = absl::NotFoundError("unknown account or symbol " + wire.symbol);
        return done(res);
      }
      auto enc = EncodeOrder(wire, *in, e);
      if (!enc.ok()) {
        res.error = enc.status();
        return done(res);
      }
      SendOrderExecute(acc, std::move(*enc), std::move(done));
    };
    // PlaceOrders: POST /api/v1/orders, at most kMaxBatchOrders per request (codec.h: the cap
    // is ours, neither the notes nor the sim name one).
    h.max_batch = kMaxBatchOrders;
    h.submit_batch = [this](std::vector<runtime::OrderDesk::BatchItem> items) {
      auto* acc = FindAccount(items.front().wire.account);
      std::vector<EncodedRequest> encoded;
      std::vector<runtime::OrderDesk::SubmitDone> dones;
      for (auto& item : items) {
        runtime::OrderDesk::SubmitResult res;
        const Instrument* in = symbols_.ByTicker(item.wire.symbol);
        if (!acc || !in) {
          res.error = absl::NotFoundError("unknown account or symbol " + item.wire.symbol);
          item.done(res);
          continue;
        }
        // An order the venue would refuse to encode is answered alone (nothing sent); the
        // rest still go together.
        auto enc = EncodeOrder(item.wire, *in, item.entry);
        if (!enc.ok()) {
          res.error = enc.status();
          item.done(res);
          continue;
        }
        encoded.push_back(std::move(*enc));
        dones.push_back(std::move(item.done));
      }
      if (dones.empty()) return;
      if (dones.size() == 1) {  // what is left is one order: its own request
        return SendOrderExecute(acc, std::move(encoded.front()), std::move(dones.front()));
      }
      auto batch = EncodeOrderExecuteBatch(std::move(encoded));
      if (!batch.ok()) {
        for (auto& done : dones) {
          runtime::OrderDesk::SubmitResult res;
          res.error = batch.status();
          done(res);
        }
        return;
      }
      SendOrderExecuteBatch(acc, std::move(*batch), std::move(dones));
    };
    h.query = [this](const runtime::JournalEntry& e, runtime::OrderDesk::QueryDone done) {
      runtime::OrderDesk::QueryResult q;
      auto* acc = FindAccount(e.account);
      const Instrument* in = symbols_.ByTicker(e.symbol);
      if (!acc || !in || e.venue_client_id == 0) {
        q.error = "instruments not loaded, account unknown or no clientId";
        return done(q);
      }
      std::string vs = in->venue_symbol, cid = e.client_order_id;
      std::vector<SignParam> params = {{"symbol", vs},
                                       {"clientId", std::to_string(e.venue_client_id)}};
      rest_.OrderQuery(acc->creds, params, [this, acc, vs, cid, done](RestResult r) {
        runtime::OrderDesk::QueryResult q;
        if (r.ok()) {
          auto o = codec_.ParseOrder(r.body, symbols_, &acc->clients);
          if (o.ok()) {
            q.found = runtime::OrderDesk::Found::kFound;
            q.order = Own(acc, *o);
          } else {
            q.error = std::string(o.status().message());
          }
          return done(q);
        }
        if (r.http_status != 404) {
          q.error = r.error.message.empty() ? "lookup failed" : r.error.message;
          return done(q);
        }
        // GET /order only knows resting orders; a filled/cancelled one is in the history.
        FindInHistoryStrict(acc, vs, "", cid,
                            [this, acc, done](absl::StatusOr<std::optional<Order>> o) {
                              runtime::OrderDesk::QueryResult q;
                              if (!o.ok()) {
                                q.error = std::string(o.status().message());
                              } else if (*o) {
                                q.found = runtime::OrderDesk::Found::kFound;
                                q.order = Own(acc, **o);
                              } else {
                                // Neither resting nor anywhere in the history.
                                q.found = runtime::OrderDesk::Found::kNotFound;
                              }
                              done(q);
                            });
      });
    };
    h.fills = [this](const std::string& account, const std::string& symbol, UnixNanos since,
                     Callback<std::vector<Fill>> done) {
      FillQuery q{account, symbol, since, 0, 1000};
      ListFillsNow(q, std::move(done));
    };
    SetDeskHooks(std::move(h));
  }

  void OnStart(EventSink* sink) override { rest_.set_sink(sink); }

  void OnStop() override {
    books_.Stop();
    if (public_) public_->Stop();
    for (auto& [id, a] : accounts_) {
      if (a->stream) a->stream->Stop();
    }
    for (auto* t : {&funding_timer_, &instrument_timer_, &balance_timer_}) {
      if (*t) (*t)->cancel();
    }
    for (auto& [id, a] : accounts_) a->balance_gate->Cancel();
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
      // The venue sends no snapshot: every book is re-bridged on a fresh connection.
      books_.OnStreamOpenAll();
    };
    h.on_message = [this](std::string_view f) { OnMarketFrame(feed_, books_, f); };
    h.on_disconnected = [this](int, const std::string& reason) {
      reconnects_.fetch_add(1);
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kReconnects, 1);
      SetState(ConnState::kConnecting, "public ws: " + reason);
      books_.OnStreamLostAll();
    };
    public_ = std::make_unique<common::StreamSet>(
        ioc_, StreamOptions(cfg_.ws_url, cfg_.tls_verify),
        [](const std::vector<std::string>& s, uint64_t) -> absl::StatusOr<std::string> {
          return EncodeSubscribe(s);
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
    InstallDeskHooks();
    LoadInstruments();
  }

  void LoadInstruments() {
    rest_.Markets([this](RestResult r) {
      if (stopped_) return;
      // The whole status (HTTP code, venue code, text): a 5xx with an empty body said nothing.
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
      if (!taken.insert(in.symbol).second) in.symbol += "-" + in.base;  // kPEPE vs PEPE
      taken.insert(in.symbol);
      if (m.funding_interval_ms > 0) in.funding_interval_hours = m.funding_interval_ms / 3.6e6;
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
      // The journal's open and unknown orders, checked against the venue before trading.
      if (desk_) desk_->Reconcile();
    }
    EnsureStreams();
    instrument_timer_->expires_after(kInstrumentRefresh);
    instrument_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopped_) LoadInstruments();
    });
  }

  void EnsureStreams() {
    std::vector<std::string> streams;
    for (const auto& ticker : wanted_) {
      const Instrument* in = symbols_.ByTicker(ticker);
      if (!in) {
        log_->warn("subscription for unknown symbol {} ignored", ticker);
        continue;
      }
      if (!books_.Add(*in)) continue;  // its first snapshot is asked for shortly
      for (auto s : {DepthStream(in->venue_symbol), BookTickerStream(in->venue_symbol),
                     TradeStream(in->venue_symbol), MarkPriceStream(in->venue_symbol)}) {
        streams.push_back(std::move(s));
      }
    }
    if (!streams.empty()) {
      if (auto st = public_->Add(streams); !st.ok()) {
        SetState(ConnState::kDegraded, "public ws: " + std::string(st.message()));
      }
    }
  }

  // The book keeper's snapshot request: REST depth at the instrument's scales.
  void RequestSnapshot(const Instrument& in) {
    rest_.Depth(in.venue_symbol, kSnapshotDepth, [this, in](RestResult r) {
      if (stopped_) return;
      if (!r.ok()) {
        absl::Status st = FromVenue(r.error);
        log_->warn("depth snapshot {} failed: {}", in.venue_symbol, std::string(st.message()));
        return books_.OnSnapshot(in.venue_symbol, st.ok() ? absl::UnavailableError("depth") : st);
      }
      auto snap = codec_.ParseDepthSnapshot(r.body, in);
      if (!snap.ok()) return books_.OnSnapshot(in.venue_symbol, snap.status(), /*parse_error=*/true);
      runtime::BookSnapshot out;
      out.id = snap->last_update_id;
      out.exchange_time = snap->exchange_time;
      out.bids = std::move(snap->bids);
      out.asks = std::move(snap->asks);
      books_.OnSnapshot(in.venue_symbol, std::move(out));
    });
  }

  // Public frames take the runtime's dispatch (AdapterBase::OnMarketFrame); what stays here is
  // Backpack's: a mark-price frame is combined with the market's interval and the REST
  // volume and open interest into the symbol's funding row.
  void OnFeedMessage(const MarketMsg& m, UnixNanos) override {
    if (m.kind != FeedKind::kVenue || m.detail != "markPrice") return;
    const MarkPriceInfo& mark = feed_.mark();
    marks_[mark.venue_symbol] = mark;
    EmitFunding(mark.venue_symbol);
  }

  // ---------------------------------------------------------------- funding

  void RefreshFunding() {
    if (stopped_) return;
    rest_.MarkPrices([this](RestResult r) {
      if (r.ok()) {
        auto rows = codec_.ParseMarkPrices(r.body);
        if (rows.ok()) {
          for (auto& m : *rows) marks_[m.venue_symbol] = m;
        }
      }
      rest_.Tickers([this](RestResult t) {
        if (t.ok()) {
          auto rows = codec_.ParseTickers(t.body);
          if (rows.ok()) {
            for (auto& s : *rows) tickers_[s.venue_symbol] = s;
          }
        }
        rest_.OpenInterest([this](RestResult o) {
          if (o.ok()) {
            auto rows = codec_.ParseOpenInterest(o.body);
            if (rows.ok()) {
              for (auto& s : *rows) oi_[s.venue_symbol] = s;
            }
          }
          for (const auto& [vs, m] : marks_) EmitFunding(vs);
        });
      });
    });
    funding_timer_->expires_after(kFundingRefresh);
    funding_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) RefreshFunding();
    });
  }

  // ListFundingHistory's walk through /fundingRates (venue thread only).
  struct FundingWalk {
    FundingHistoryPager pager;
    std::string venue_symbol, ticker;
    int64_t interval_ms = 0;
    Callback<std::vector<Funding>> done;
  };

  void FetchFundingPage(std::shared_ptr<FundingWalk> w) {
    const FundingHistoryPager& pg = w->pager;
    rest_.FundingRates(w->venue_symbol, pg.page_size(), pg.offset(), [this, w](RestResult r) {
      if (!r.ok()) return w->done(FromVenue(r.error));
      auto rows = codec_.ParseFundingHistory(r.body, w->venue_symbol, w->ticker, w->interval_ms);
      if (!rows.ok()) return w->done(rows.status());
      switch (w->pager.Add(std::move(*rows))) {
        case FundingHistoryPager::Step::kFetchMore:
          return FetchFundingPage(w);
        case FundingHistoryPager::Step::kTooDeep:
          // Never a silently short answer: the rest of the range is further back than we page.
          return w->done(absl::OutOfRangeError(
              "backpack funding history: answering this range needs settlements more than " +
              std::to_string(w->pager.offset()) + " back from the newest (the paging cap); move "
              "`to` closer to now"));
        case FundingHistoryPager::Step::kDone:
          break;
      }
      auto out = w->pager.Take();
      if (!out.ok()) return w->done(out.status());
      for (Funding& f : *out) f.venue = cfg_.name;
      w->done(std::move(*out));
    });
  }

  void EmitFunding(const std::string& vs) {
    auto m = marks_.find(vs);
    auto info = markets_.find(vs);
    if (m == marks_.end() || info == markets_.end()) return;
    auto t = tickers_.find(vs);
    auto o = oi_.find(vs);
    auto f = BuildFunding(m->second, info->second.funding_interval_ms,
                          t == tickers_.end() ? nullptr : &t->second,
                          o == oi_.end() ? nullptr : &o->second, info->second.instrument.symbol,
                          clock_.Now());
    if (!f.ok()) return;
    f->venue = cfg_.name;
    funding_[vs] = *f;
    Publish(std::move(*f));
  }

  // ---------------------------------------------------------------- orders and account

  void CancelAllIn(AccountState* acc, std::vector<std::string> symbols,
                   Callback<std::vector<Order>> done) {
    if (symbols.empty()) return done(std::vector<Order>{});
    auto remaining = std::make_shared<size_t>(symbols.size());
    auto failure = std::make_shared<absl::Status>();
    auto result = std::make_shared<std::vector<Order>>();
    for (const auto& vs : symbols) {
      auto enc = EncodeCancelAll(vs);
      rest_.OrderCancelAll(acc->creds, enc.body, enc.params,
                           [this, acc, remaining, failure, result, done](RestResult r) {
                             if (!r.ok()) {
                               *failure = FromVenue(r.error);
                             } else if (auto os = codec_.ParseOrders(r.body, symbols_, &acc->clients);
                                        os.ok()) {
                               for (auto& o : *os) result->push_back(Own(acc, o));
                             }
                             if (--*remaining > 0) return;
                             if (!failure->ok()) return done(*failure);
                             done(*result);
                           });
    }
  }

  // The order history's answer for one order: nullopt = not in the history; an error = the
  // history could not be read, or not far enough (neither may ever count as "not found": the
  // desk would then resend an order that exists). By venue order id the venue filters; by
  // client id we page back from the newest row until the order shows, a page comes back empty
  // (the end: offsets advance by the rows actually received, so a venue that caps `limit` lower
  // than we ask is still read through), or kHistoryMaxRows rows were read without it.
  static constexpr int kHistoryPage = 1000;
  static constexpr size_t kHistoryMaxRows = 10000;
  void FindInHistoryStrict(AccountState* acc, const std::string& vs, const std::string& order_id,
                           const std::string& client_order_id,
                           std::function<void(absl::StatusOr<std::optional<Order>>)> done,
                           size_t seen = 0) {
    std::vector<SignParam> params = {{"symbol", vs}, {"limit", std::to_string(kHistoryPage)}};
    if (!order_id.empty()) params.push_back({"orderId", order_id});
    if (seen > 0) params.push_back({"offset", std::to_string(seen)});
    rest_.OrderHistoryQueryAll(acc->creds, params, [this, acc, vs, order_id, client_order_id,
                                                    done, seen](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto orders = codec_.ParseOrders(r.body, symbols_, &acc->clients);
      if (!orders.ok()) return done(orders.status());
      for (const auto& o : *orders) {
        if ((!order_id.empty() && o.order_id == order_id) ||
            (!client_order_id.empty() && o.client_order_id == client_order_id)) {
          return done(std::optional<Order>(o));
        }
      }
      // By order id the venue filtered; an empty page is the end of the history.
      if (!order_id.empty() || orders->empty()) return done(std::optional<Order>());
      const size_t now_seen = seen + orders->size();
      if (now_seen >= kHistoryMaxRows) {
        return done(absl::UnavailableError(
            "order " + client_order_id + " is not in the newest " + std::to_string(now_seen) +
            " history rows of " + vs + " on backpack: its absence cannot be proven"));
      }
      FindInHistoryStrict(acc, vs, order_id, client_order_id, done, now_seen);
    });
  }

  void PollBalance(AccountState* acc, Callback<Balance> done) {
    rest_.CollateralQuery(acc->creds, [this, acc, done](RestResult r) {
      if (!r.ok()) return done(FromVenue(r.error));
      auto b = codec_.ParseCollateral(r.body, clock_.Now());
      if (!b.ok()) return done(b.status());
      b->venue = cfg_.name;
      b->account = acc->creds.account;
      done(*b);
    });
  }

  void ScheduleBalancePoll() {
    balance_timer_->expires_after(kBalancePoll);
    balance_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      for (auto& [id, a] : accounts_) PublishBalance(a.get());
      ScheduleBalancePoll();
    });
  }

  void PublishBalance(AccountState* acc) { acc->balance_gate->Request(); }


  void StartAccounts() {
    for (auto& [id, a] : accounts_) {
      AccountState* acc = a.get();
      common::StreamSet::Handlers h;
      h.on_connected = [this, acc](int) {
        // Events may have been missed while disconnected: the desk queries its open and
        // unknown orders and publishes exactly what changed (fills included).
        if (desk_ && ready_) desk_->Reconcile();  // needs the instruments for lookups
        PublishBalance(acc);
      };
      h.on_message = [this, acc](std::string_view f) { OnPrivateFrame(acc, f); };
      h.on_disconnected = [this, acc](int, const std::string& reason) {
        log_->warn("private stream {} down: {}", acc->creds.account, reason);
      };
      h.on_frame_error = [this, acc](int, const absl::Status& why) {
        log_->error("private stream {}: subscription not sent: {}", acc->creds.account,
                    std::string(why.message()));
      };
      auto builder = [this, acc](const std::vector<std::string>& s,
                                 uint64_t) -> absl::StatusOr<std::string> {
        auto sig = acc->creds.signer->SignWsSubscribe(clock_.Now() / 1000000, acc->creds.window_ms);
        if (!sig.ok()) return sig.status();
        return EncodePrivateSubscribe(s, *sig);
      };
      acc->stream = std::make_unique<common::StreamSet>(
          ioc_, StreamOptions(cfg_.ws_url, cfg_.tls_verify), std::move(builder), std::move(h));
      (void)acc->stream->Add({std::string(kOrderUpdateStream), std::string(kPositionUpdateStream)});
      if (auto st = acc->stream->Start(); !st.ok()) {
        log_->error("private stream {}: {}", id, std::string(st.message()));
      }
    }
  }

  void OnPrivateFrame(AccountState* acc, std::string_view frame) {
    const UnixNanos now = clock_.Now();
    if (sink_) sink_->Count(cfg_.name, VenueCounter::kMessagesIn, 1);
    auto info = codec_.ClassifyWsFrame(frame);
    if (!info.ok()) {
      if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
      return;
    }
    if (info->kind == WsKind::kOrderUpdate) {
      auto u = codec_.ParseOrderUpdate(frame, symbols_, &acc->clients, now);
      if (!u.ok()) {
        if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
        return;
      }
      OrderEvent ev = u->event;
      ev.order = Own(acc, ev.order);
      if (ev.fill) {
        ev.fill->venue = cfg_.name;
        ev.fill->account = acc->creds.account;
      }
      if (u->liquidation) {
        Liquidation l = *u->liquidation;
        l.venue = cfg_.name;
        l.account = acc->creds.account;
        Publish(std::move(l));
      }
      const bool fresh = !desk_ || desk_->OnOrderEvent(ev);
      if (fresh) Publish(std::move(ev));
      PublishBalance(acc);
    } else if (info->kind == WsKind::kPositionUpdate) {
      auto p = codec_.ParsePositionUpdate(frame, symbols_);
      if (!p.ok()) {
        if (sink_) sink_->Count(cfg_.name, VenueCounter::kParseErrors, 1);
        return;
      }
      Position pos = p->position;
      pos.venue = cfg_.name;
      pos.account = acc->creds.account;
      // Account-wide, as GetPositions/GetLeverageInfo last read it (the stream has no leverage).
      if (acc->leverage_at > 0) pos.leverage = acc->leverage;
      Publish(std::move(pos));
    } else if (info->kind == WsKind::kError) {
      log_->warn("private ws error {}: {}", info->error_code, info->error_message);
    }
  }

  BackpackRest rest_;
  Codec codec_;

  SymbolTable symbols_;
  Feed feed_{&codec_, &symbols_};
  std::map<std::string, MarketInfo> markets_;
  std::set<std::string> wanted_;
  runtime::BookKeeper books_;  // by venue symbol
  std::map<std::string, MarkPriceInfo> marks_;
  std::map<std::string, TickerStats> tickers_;
  std::map<std::string, OpenInterestInfo> oi_;
  std::map<std::string, Funding> funding_;
  std::map<std::string, std::unique_ptr<AccountState>> accounts_;
  std::unique_ptr<common::StreamSet> public_;
  std::unique_ptr<asio::steady_timer> funding_timer_, instrument_timer_, balance_timer_;
};

}  // namespace

std::unique_ptr<VenueAdapter> MakeAdapter(const VenueConfig& config, const Clock& clock) {
  return std::make_unique<BackpackAdapter>(config, clock);
}

}  // namespace perpgw::adapters::backpack
