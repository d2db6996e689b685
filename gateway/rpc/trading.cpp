// perpgw.v1.TradingService: orders through the venue's order desk, lookups, order events.
#include "gateway/rpc/common.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>

#include "adapters/api/mutex.h"
#include "adapters/api/reason.h"
#include "gateway/convert.h"
#include "gateway/orders/fill_pages.h"
#include "gateway/orders/order_builder.h"
#include "perpgw/v1/trading.grpc.pb.h"

namespace perpgw::gateway::rpc {
namespace {

using TradingBase = v1::TradingService::WithRawCallbackMethod_PlaceOrders<
    v1::TradingService::WithRawCallbackMethod_CancelOrders<
        v1::TradingService::WithRawCallbackMethod_AmendOrder<
            v1::TradingService::WithRawCallbackMethod_PlaceOrder<
                v1::TradingService::WithRawCallbackMethod_CancelOrder<
                    v1::TradingService::WithRawCallbackMethod_CancelAllOrders<
                        v1::TradingService::WithRawCallbackMethod_GetOrder<
                            v1::TradingService::WithRawCallbackMethod_ListOpenOrders<
                                v1::TradingService::WithRawCallbackMethod_ListFills<
                                    v1::TradingService::WithRawCallbackMethod_StreamOrderEvents<
                                        v1::TradingService::WithRawCallbackMethod_Heartbeat<
                                            v1::TradingService::Service>>>>>>>>>>>;

constexpr int64_t kMinDeadManMs = 100, kMaxDeadManMs = 3600000;
// PlaceOrders / CancelOrders: at most this many items per call.
constexpr int kMaxBatch = 20;

// A batch's items answer one by one (each through a Slot); the call answers once, when the last
// item did or at the deadline (items without an answer then say DEADLINE_EXCEEDED: for orders,
// outcome_unknown). Item responses live here, not in the call's arena, so a late item writes
// nothing the call still reads.
//
// Venue batches: PlaceOrders and CancelOrders open one batch per venue adapter involved
// (VenueAdapter::OpenBatch) before their items start, and close them once every item was
// handed to its adapter or answered without reaching it (or at the deadline): the orders or
// cancels an adapter received in between go out in the venue's batch requests.
struct VenueBatches {
  std::vector<std::pair<VenueAdapter*, uint64_t>> open;  // fixed before the items start
  std::atomic<size_t> pending{0};                        // items not yet dispatched or answered
  std::atomic<bool> closed{false};

  uint64_t For(const VenueAdapter* a) const {
    for (const auto& [adapter, id] : open) {
      if (adapter == a) return id;
    }
    return 0;
  }
  void Release() {
    if (pending.fetch_sub(1) == 1) CloseAll();
  }
  void CloseAll() {
    if (closed.exchange(true)) return;
    for (const auto& [adapter, id] : open) adapter->CloseBatch(id);
  }
};

template <typename ItemResp>
struct Batch {
  struct Item {
    std::atomic<bool> claimed{false};
    std::atomic<bool> released{false};  // its VenueBatches share is released
    bool answered = false;              // under mu
    Status status;
    ItemResp resp;
  };
  explicit Batch(size_t n) : items(n), remaining(n) {}
  std::vector<Item> items;
  perpgw::Mutex mu;
  size_t remaining;
  std::shared_ptr<Once> call;
  std::function<void(Batch&)> write;     // fills the call's response from the items (call claimed)
  std::shared_ptr<VenueBatches> venues;  // the venue batches the items may join

  void Release(size_t i) {
    if (venues && !items[i].released.exchange(true)) venues->Release();
  }
  void Complete() {
    if (venues) venues->CloseAll();
    if (!call->Claim()) return;
    {
      perpgw::MutexLock lock(&mu);
      write(*this);
    }
    call->Finished(Status::OK);
  }
};

template <typename ItemResp>
class Slot final : public Answer {
 public:
  Slot(std::shared_ptr<Batch<ItemResp>> b, size_t i) : b_(std::move(b)), i_(i) {}
  [[nodiscard]] bool Claim() override { return !b_->items[i_].claimed.exchange(true); }
  void Finished(const Status& s) override {
    b_->Release(i_);
    bool last = false;
    {
      perpgw::MutexLock lock(&b_->mu);
      auto& it = b_->items[i_];
      it.status = s;
      it.answered = true;
      last = --b_->remaining == 0;
    }
    if (last) b_->Complete();
  }
  ItemResp* resp() { return &b_->items[i_].resp; }
  uint64_t BatchFor(const VenueAdapter* a) const override {
    return b_->venues ? b_->venues->For(a) : 0;
  }
  void Dispatched() override { b_->Release(i_); }

 private:
  std::shared_ptr<Batch<ItemResp>> b_;
  size_t i_;
};

// The batch result of one item: its response when OK, else its status and reason.
template <typename Result, typename Item>
void FillResult(const Item& it, Result* out, bool order_entry) {
  if (!it.answered) {
    out->set_code(static_cast<int>(StatusCode::DEADLINE_EXCEEDED));
    out->set_message("the venue did not answer in time");
    out->set_reason(std::string(order_entry ? reason::kOutcomeUnknown : reason::kVenueTimeout));
    return;
  }
  if (it.status.ok()) {
    *out->mutable_response() = it.resp;
    return;
  }
  out->set_code(static_cast<int>(it.status.error_code()));
  out->set_message(it.status.error_message());
  out->set_reason(ReasonOf(it.status));
}

class TradingImpl final : public TradingBase {
 public:
  explicit TradingImpl(Gateway& gw) : gw_(gw) {}

  // Common checks: token scope, account → venue, adapter running.
  absl::StatusOr<VenueAdapter*> Account(CallbackServerContext* ctx, const std::string& account) {
    // Authenticate before looking anything up, so unknown ids cannot be probed without a token.
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return st;
    auto venue = gw_.AccountVenue(account);
    if (!venue.ok()) return venue.status();
    if (auto st = gw_.auth().CheckTrade(AuthHeader(ctx), account); !st.ok()) return st;
    VenueAdapter* a = gw_.adapter(*venue);
    if (!a)
      return absl::FailedPreconditionError("venue '" + *venue + "' of account '" + account +
                                           "' is not enabled");
    return a;
  }

  // The cancel-rate limits (account and token): RESOURCE_EXHAUSTED naming the limit, counted.
  absl::Status CancelAllowed(CallbackServerContext* ctx, const std::string& account) {
    return CancelAllowedFor(account, gw_.auth().Identity(AuthHeader(ctx)));
  }
  absl::Status CancelAllowedFor(const std::string& account, const std::string& token) {
    const risk::Verdict v = gw_.risk().CheckCancel(account, gw_.clock().Now(), token);
    if (v.ok()) return absl::OkStatus();
    gw_.metrics().RiskRejection(account, v.limit);
    auto st = reason::With(absl::ResourceExhaustedError("risk: " + v.limit + ": " + v.message),
                           reason::kRateLimited);
    st = reason::WithMeta(std::move(st), "limit", v.limit);
    return reason::WithMeta(std::move(st), "account", account);
  }

  // A NOT_FOUND about an order (CancelOrder, GetOrder) names it: order_not_found.
  static Status OrderLookupStatus(const absl::Status& st) {
    if (st.code() == absl::StatusCode::kNotFound && !reason::Has(st)) {
      return ToGrpc(reason::With(st, reason::kOrderNotFound));
    }
    return ToGrpc(st);
  }

  ServerUnaryReactor* PlaceOrder(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                 grpc::ByteBuffer* out) override {
    return RawUnary<v1::PlaceOrderRequest, v1::PlaceOrderResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::PlaceOrderRequest* rq,
               v1::PlaceOrderResponse* rs) { return DoPlaceOrder(c, rq, rs); });
  }

  ServerUnaryReactor* DoPlaceOrder(CallbackServerContext* ctx, const v1::PlaceOrderRequest* req,
                                   v1::PlaceOrderResponse* resp) {
    auto* r = ctx->DefaultReactor();
    PlaceCore(ctx, *req, WithDeadline(gw_, r, "PlaceOrder"), resp);
    return r;
  }

  // One order, answered through `once` (a unary call's, or a batch item's): every check, the
  // risk engine and the venue's order desk. `resp` lives until `once` has finished.
  void PlaceCore(CallbackServerContext* ctx, const v1::PlaceOrderRequest& rq,
                 std::shared_ptr<Answer> once, v1::PlaceOrderResponse* resp) {
    const v1::PlaceOrderRequest* req = &rq;
    auto a = Account(ctx, req->account());
    if (!a.ok()) return (void)once->Finish(ToGrpc(a.status()));
    if (req->market().venue() != (*a)->name()) {
      return (void)once->Finish(
          Status(StatusCode::INVALID_ARGUMENT, "market.venue '" + req->market().venue() +
                                                   "' does not match account '" + req->account() +
                                                   "' on venue '" + (*a)->name() + "'"));
    }
    auto inst = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!inst.ok()) return (void)once->Finish(ToGrpc(inst.status()));
    if (!inst->tradeable) {
      return (void)once->Finish(Status(StatusCode::FAILED_PRECONDITION,
                                       inst->symbol + " is not tradeable on " + inst->venue));
    }
    auto order = orders::BuildOrder(*req, *inst);
    if (!order.ok()) return (void)once->Finish(ToGrpc(order.status()));
    // The strategy's token: its own risk limits apply on top of the account's.
    const std::string token = gw_.auth().Identity(AuthHeader(ctx));

    // Idempotency (same id → same answer, mismatch → ALREADY_EXISTS, unknown outcomes
    // resolved first) is the venue's order desk's job: every retry goes there.
    if (order->type == OrderType::kMarket) {
      // Worst acceptable price from the live book's best opposite level.
      VenueAdapter* adapter = *a;
      Instrument in = *inst;
      gw_.bus().GetBestPrices(
          {inst->venue, inst->symbol}, [this, once, resp, adapter, o = *order, in, token](
                                           std::optional<Level> bid, std::optional<Level> ask,
                                           int ps, BookStatus status) mutable {
            auto ref = o.side == Side::kBuy ? ask : bid;
            if (!ref || status != BookStatus::kLive) {
              once->Finish(Err(StatusCode::UNAVAILABLE,
                               "no live book to bound a market order's slippage; retry",
                               reason::kNoLiveBook));
              return;
            }
            if (auto st = orders::BoundMarketOrder(Decimal::FromUnits(ref->price, ps), in, &o);
                !st.ok()) {
              once->Finish(ToGrpc(st));
              return;
            }
            // Inside the venue's own band, instead of a worst price the venue would refuse
            // outright. The band's reference (mark or last price) lies between bid and ask:
            // both sides and the mark are references, the tighter wins (at worst half a spread
            // inside the venue's own edge).
            std::vector<Decimal> refs;
            if (bid) refs.push_back(Decimal::FromUnits(bid->price, ps));
            if (ask) refs.push_back(Decimal::FromUnits(ask->price, ps));
            if (auto mark = gw_.risk().Mark(in.venue, in.symbol)) refs.push_back(*mark);
            orders::ClampToVenueBand(refs, in, &o);
            CheckRiskThenSend(adapter, std::move(o), Touch(bid, ask, ps), once, resp, token);
          });
      return;
    }
    const risk::Limits lim =
        gw_.risk().Effective(req->account()).Merged(gw_.risk().TokenLimits(token));
    if (lim.price_band_touch_bps || lim.price_band_mark_bps) {
      // The band needs the market's data: subscribe (once) so the touch and mark arrive.
      gw_.EnsureSubscribed(inst->venue, inst->symbol);
    }
    if (lim.price_band_touch_bps) {
      VenueAdapter* adapter = *a;
      gw_.bus().GetBestPrices({inst->venue, inst->symbol},
                              [this, once, resp, adapter, o = *order, token](
                                  std::optional<Level> bid, std::optional<Level> ask, int ps,
                                  BookStatus status) mutable {
                                // A book that is not live is no reference: the band check then
                                // refuses.
                                risk::Reference ref;
                                if (status == BookStatus::kLive) ref = Touch(bid, ask, ps);
                                CheckRiskThenSend(adapter, std::move(o), ref, once, resp, token);
                              });
      return;
    }
    CheckRiskThenSend(*a, std::move(*order), {}, once, resp, token);
  }

  static risk::Reference Touch(const std::optional<Level>& bid, const std::optional<Level>& ask,
                               int ps) {
    risk::Reference ref;
    if (bid) ref.bid = Decimal::FromUnits(bid->price, ps);
    if (ask) ref.ask = Decimal::FromUnits(ask->price, ps);
    return ref;
  }

  // Pre-trade risk (gateway/risk/risk.h): a refused order is answered REJECTED naming the limit
  // and never reaches the venue; a passing one is reserved until the venue's answer.
  void CheckRiskThenSend(VenueAdapter* a, OrderRequest o, risk::Reference ref,
                         std::shared_ptr<Answer> once, v1::PlaceOrderResponse* resp,
                         const std::string& token) {
    if (!ref.mark) ref.mark = gw_.risk().Mark(a->name(), o.symbol);
    bool reserved = false;
    const risk::Verdict v = gw_.risk().CheckOrder(o, ref, gw_.clock().Now(), &reserved, token);
    if (!v.ok()) {
      gw_.metrics().RiskRejection(o.account, v.limit);
      if (!once->Claim()) return;
      OrderAck ack;
      ack.outcome = AckOutcome::kRejected;
      // kill_switch, rate_limited (order rates) or risk_limit (every other limit).
      ack.reason = v.limit == "kill_switch"                     ? CancelReason::kKillSwitch
                   : v.limit.find("_per_") != std::string::npos ? CancelReason::kRateLimited
                                                                : CancelReason::kRiskLimit;
      ack.message = "risk: " + v.limit + ": " + v.message;
      // Rates and a band without a reference pass again later; the rest need a change first.
      ack.retryable = v.limit.find("_per_") != std::string::npos ||
                      v.message.find("retry") != std::string::npos;
      ack.order = OrderOf(o, a->name(), OrderStatus::kRejected, gw_.clock().Now());
      ack.order.reason = ack.reason;
      ack.order.reason_text = ack.message;
      FillAck(ack, resp);
      once->Finished(Status::OK);
      return;
    }
    Send(a, std::move(o), once, resp, reserved);
  }

  void Send(VenueAdapter* a, OrderRequest o, std::shared_ptr<Answer> once,
            v1::PlaceOrderResponse* resp, bool reserved) {
    std::string account = o.account, venue = a->name(), cid = o.client_order_id;
    const auto t0 = std::chrono::steady_clock::now();
    o.batch_id = once->BatchFor(a);
    struct Dispatch {  // after PlaceOrder returned, whatever path it took
      Answer& once;
      ~Dispatch() { once.Dispatched(); }
    } dispatch{*once};
    a->PlaceOrder(std::move(o), [this, once, resp, account, venue, cid, reserved,
                                 t0](absl::StatusOr<OrderAck> ack) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!ack.ok()) {
        // Nothing reached the venue (the desk's contract for an error): unreserve.
        if (reserved) gw_.risk().Release(account, cid);
        return (void)once->Finish(ToGrpc(ack.status()));
      }
      gw_.risk().OnAck(account, cid, *ack);
      gw_.metrics().OrderResult(
          venue, account,
          ack->outcome == AckOutcome::kAccepted   ? Metrics::OrderOutcome::kAccepted
          : ack->outcome == AckOutcome::kRejected ? Metrics::OrderOutcome::kRejected
                                                  : Metrics::OrderOutcome::kUnknown,
          secs);
      if (!once->Claim()) return;
      FillAck(*ack, resp);
      once->Finished(Status::OK);
    });
  }

  static void FillAck(const OrderAck& ack, v1::PlaceOrderResponse* resp) {
    resp->set_outcome(ToProto(ack.outcome));
    Fill(ack.order, resp->mutable_order());
    resp->set_reject_reason(ToProto(ack.reason));
    resp->set_message(ack.message);
    resp->set_retryable(ack.retryable);
    // The documented reason (README "Errors"); an unknown outcome says so whatever the venue
    // answered.
    resp->set_reason(std::string(ack.outcome == AckOutcome::kOutcomeUnknown
                                     ? reason::kOutcomeUnknown
                                     : reason::ReasonCode(ack.reason)));
  }

  ServerUnaryReactor* CancelOrder(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                  grpc::ByteBuffer* out) override {
    return RawUnary<v1::CancelOrderRequest, v1::CancelOrderResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::CancelOrderRequest* rq,
               v1::CancelOrderResponse* rs) { return DoCancelOrder(c, rq, rs); });
  }

  ServerUnaryReactor* DoCancelOrder(CallbackServerContext* ctx, const v1::CancelOrderRequest* req,
                                    v1::CancelOrderResponse* resp) {
    auto* r = ctx->DefaultReactor();
    CancelCore(ctx, *req, WithDeadline(gw_, r, "CancelOrder"), resp);
    return r;
  }

  // One cancel, answered through `once` (a unary call's or a batch item's).
  void CancelCore(CallbackServerContext* ctx, const v1::CancelOrderRequest& rq,
                  std::shared_ptr<Answer> once, v1::CancelOrderResponse* resp) {
    const v1::CancelOrderRequest* req = &rq;
    auto a = Account(ctx, req->account());
    if (!a.ok()) return (void)once->Finish(ToGrpc(a.status()));
    if (auto st = CheckMarket(req->market()); !st.ok()) return (void)once->Finish(ToGrpc(st));
    if (req->order_id().empty() == req->client_order_id().empty()) {
      return (void)once->Finish(
          Status(StatusCode::INVALID_ARGUMENT, "give exactly one of order_id or client_order_id"));
    }
    auto inst = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!inst.ok()) return (void)once->Finish(ToGrpc(inst.status()));
    if (auto st = CancelAllowed(ctx, req->account()); !st.ok())
      return (void)once->Finish(ToGrpc(st));
    CancelRequest creq{req->account(), inst->symbol, req->order_id(), req->client_order_id()};
    creq.batch_id = once->BatchFor(*a);
    struct Dispatch {  // after CancelOrder returned
      Answer& once;
      ~Dispatch() { once.Dispatched(); }
    } dispatch{*once};
    (*a)->CancelOrder(std::move(creq), [once, resp](absl::StatusOr<CancelResult> res) {
      if (!res.ok()) return (void)once->Finish(OrderLookupStatus(res.status()));
      if (!once->Claim()) return;  // the deadline answered first: resp is gone
      Fill(res->order, resp->mutable_order());
      resp->set_filled_size(Str(res->order.filled_size));
      once->Finished(Status::OK);
    });
  }

  // ------------------------------------------------------------------ batches

  ServerUnaryReactor* PlaceOrders(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                  grpc::ByteBuffer* out) override {
    return RawUnary<v1::PlaceOrdersRequest, v1::PlaceOrdersResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::PlaceOrdersRequest* rq,
               v1::PlaceOrdersResponse* rs) {
          std::set<std::pair<std::string, std::string>> ids;
          for (const auto& o : rq->orders()) {
            if (!o.client_order_id().empty() &&
                !ids.emplace(o.account(), o.client_order_id()).second) {
              return Done(c, Err(StatusCode::INVALID_ARGUMENT,
                                 "orders: client_order_id '" + o.client_order_id() +
                                     "' twice for account '" + o.account() + "'",
                                 reason::kInvalidArgument));
            }
          }
          return RunBatch<v1::PlaceOrderResponse>(
              c, rq->orders().size(),
              [this, c, rq](size_t i, std::shared_ptr<Slot<v1::PlaceOrderResponse>> slot) {
                PlaceCore(c, rq->orders(static_cast<int>(i)), slot, slot->resp());
              },
              [rs](Batch<v1::PlaceOrderResponse>& b) {
                for (const auto& it : b.items) FillResult(it, rs->add_results(), true);
              },
              OpenVenueBatches(*rq));
        });
  }

  ServerUnaryReactor* CancelOrders(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                   grpc::ByteBuffer* out) override {
    return RawUnary<v1::CancelOrdersRequest, v1::CancelOrdersResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::CancelOrdersRequest* rq,
               v1::CancelOrdersResponse* rs) {
          return RunBatch<v1::CancelOrderResponse>(
              c, rq->orders().size(),
              [this, c, rq](size_t i, std::shared_ptr<Slot<v1::CancelOrderResponse>> slot) {
                CancelCore(c, rq->orders(static_cast<int>(i)), slot, slot->resp());
              },
              [rs](Batch<v1::CancelOrderResponse>& b) {
                for (const auto& it : b.items) FillResult(it, rs->add_results(), false);
              },
              OpenVenueBatches(*rq));
        });
  }

  // One venue batch per adapter the items' accounts name (none for a venue without batch
  // requests, or a batch of one item there). Accounts that do not resolve are answered by
  // PlaceCore / CancelCore as usual.
  template <typename BatchRequest>
  std::shared_ptr<VenueBatches> OpenVenueBatches(const BatchRequest& rq) {
    std::vector<std::pair<VenueAdapter*, int>> count;
    for (const auto& o : rq.orders()) {
      auto venue = gw_.AccountVenue(o.account());
      VenueAdapter* a = venue.ok() ? gw_.adapter(*venue) : nullptr;
      if (!a) continue;
      auto it =
          std::find_if(count.begin(), count.end(), [a](const auto& p) { return p.first == a; });
      if (it == count.end()) {
        count.emplace_back(a, 1);
      } else {
        ++it->second;
      }
    }
    auto vb = std::make_shared<VenueBatches>();
    for (const auto& [a, n] : count) {
      if (n < 2) continue;
      if (uint64_t id = a->OpenBatch(); id != 0) vb->open.emplace_back(a, id);
    }
    if (vb->open.empty()) return nullptr;
    vb->pending = static_cast<size_t>(rq.orders().size());
    return vb;
  }

  // Starts every item at once (the venues' own desks serialize what must be); answers when the
  // last one did, or at the deadline.
  template <typename ItemResp, typename Start, typename Write>
  ServerUnaryReactor* RunBatch(CallbackServerContext* ctx, int n, Start start, Write write,
                               std::shared_ptr<VenueBatches> venues = nullptr) {
    if (n == 0 || n > kMaxBatch) {
      if (venues) venues->CloseAll();
    }
    if (n == 0) {
      return Done(ctx, Err(StatusCode::INVALID_ARGUMENT, "orders: at least one is required",
                           reason::kInvalidArgument));
    }
    if (n > kMaxBatch) {
      return Done(ctx, Err(StatusCode::INVALID_ARGUMENT,
                           "orders: " + std::to_string(n) + " items; at most " +
                               std::to_string(kMaxBatch) + " per call",
                           reason::kInvalidArgument));
    }
    auto* r = ctx->DefaultReactor();
    auto batch = std::make_shared<Batch<ItemResp>>(static_cast<size_t>(n));
    batch->call = std::make_shared<Once>(r);
    batch->write = std::move(write);
    batch->venues = std::move(venues);
    gw_.timer().After(std::chrono::milliseconds(gw_.config().limits.request_timeout_ms),
                      [batch] { batch->Complete(); });
    for (int i = 0; i < n; ++i) {
      start(static_cast<size_t>(i), std::make_shared<Slot<ItemResp>>(batch, i));
    }
    return r;
  }

  // ------------------------------------------------------------------ amend

  ServerUnaryReactor* AmendOrder(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                 grpc::ByteBuffer* out) override {
    return RawUnary<v1::AmendOrderRequest, v1::AmendOrderResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::AmendOrderRequest* rq,
               v1::AmendOrderResponse* rs) { return DoAmendOrder(c, rq, rs); });
  }

  ServerUnaryReactor* DoAmendOrder(CallbackServerContext* ctx, const v1::AmendOrderRequest* req,
                                   v1::AmendOrderResponse* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (auto st = CheckMarket(req->market()); !st.ok()) return Done(ctx, ToGrpc(st));
    if (req->order_id().empty() == req->client_order_id().empty()) {
      return Done(
          ctx, Err(StatusCode::INVALID_ARGUMENT, "give exactly one of order_id or client_order_id",
                   reason::kInvalidArgument));
    }
    if (req->price().empty() && req->size().empty()) {
      return Done(ctx, Err(StatusCode::INVALID_ARGUMENT, "give a new price, a new size or both",
                           reason::kInvalidArgument));
    }
    auto inst = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    VenueAdapter* adapter = *a;
    const bool native = adapter->capabilities().native_amend;
    if (!native && req->new_client_order_id().empty()) {
      return Done(ctx, Err(StatusCode::INVALID_ARGUMENT,
                           "new_client_order_id is required: " + adapter->name() +
                               " amends by cancel-replace (VenueCapabilities.amend)",
                           reason::kInvalidArgument));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "AmendOrder");
    resp->set_method(native ? "native" : "cancel_replace");
    // The order as the gateway knows it (side, time in force, reduce-only, filled), else the
    // venue's answer.
    CancelRequest ref{req->account(), inst->symbol, req->order_id(), req->client_order_id()};
    const std::string token = gw_.auth().Identity(AuthHeader(ctx));
    auto with_order = [this, once, resp, adapter, native, token, in = *inst,
                       rq = *req](Order orig) {
      if (IsTerminal(orig.status)) {
        if (!once->Claim()) return;
        resp->set_outcome(v1::ACK_OUTCOME_REJECTED);
        Fill(orig, resp->mutable_replaced());
        resp->set_message("the order is no longer open (" + std::string(ToString(orig.status)) +
                          "): nothing to amend");
        resp->set_reason(std::string(reason::kOrderNotFound));
        return once->Finished(Status::OK);
      }
      // The amended order, validated like a new one (tick, step, min size and notional).
      v1::PlaceOrderRequest as_new;
      as_new.set_account(rq.account());
      *as_new.mutable_market() = rq.market();
      as_new.set_client_order_id(native ? orig.client_order_id : rq.new_client_order_id());
      as_new.set_side(ToProto(orig.side));
      as_new.set_type(v1::ORDER_TYPE_LIMIT);
      as_new.set_time_in_force(ToProto(orig.tif));
      as_new.set_price(rq.price().empty() ? Str(orig.price) : rq.price());
      as_new.set_size(rq.size().empty() ? Str(orig.size) : rq.size());
      as_new.set_reduce_only(orig.reduce_only);
      as_new.set_rounding(rq.rounding());
      auto built = orders::BuildOrder(as_new, in);
      if (!built.ok()) return (void)once->Finish(ToGrpc(built.status()));
      if (native) {
        AmendRequest ar{rq.account(),         in.symbol,    orig.order_id,
                        orig.client_order_id, built->price, built->size};
        return adapter->AmendOrder(ar, [once, resp](absl::StatusOr<OrderAck> ack) {
          if (!ack.ok()) return (void)once->Finish(ToGrpc(ack.status()));
          if (!once->Claim()) return;
          FillAmend(*ack, resp);
          once->Finished(Status::OK);
        });
      }
      CancelReplace(adapter, orig, std::move(*built), once, resp, token);
    };
    auto from_venue = [once, adapter, ref, with_order] {
      adapter->GetOrder(ref, true, [once, with_order](absl::StatusOr<Order> o) {
        if (!o.ok()) return (void)once->Finish(OrderLookupStatus(o.status()));
        with_order(*o);
      });
    };
    if (!native) {
      // A retry of an amend that already placed its replacement answers with it (same
      // new_client_order_id: never placed twice).
      gw_.bus().GetOrder(
          req->account(), "", req->new_client_order_id(),
          [this, once, resp, ref, from_venue, with_order](std::optional<Order> placed) {
            if (placed) {
              if (!once->Claim()) return;
              resp->set_outcome(v1::ACK_OUTCOME_ACCEPTED);
              Fill(*placed, resp->mutable_order());
              return once->Finished(Status::OK);
            }
            gw_.bus().GetOrder(ref.account, ref.order_id, ref.client_order_id,
                               [from_venue, with_order](std::optional<Order> o) {
                                 if (o) return with_order(*o);
                                 from_venue();
                               });
          });
      return r;
    }
    gw_.bus().GetOrder(req->account(), req->order_id(), req->client_order_id(),
                       [from_venue, with_order](std::optional<Order> o) {
                         if (o) return with_order(*o);
                         from_venue();
                       });
    return r;
  }

  static void FillAmend(const OrderAck& ack, v1::AmendOrderResponse* resp) {
    resp->set_outcome(ToProto(ack.outcome));
    Fill(ack.order, resp->mutable_order());
    resp->set_message(ack.message);
    resp->set_retryable(ack.retryable);
    if (ack.outcome != AckOutcome::kAccepted) {
      resp->set_reason(std::string(ack.outcome == AckOutcome::kOutcomeUnknown
                                       ? reason::kOutcomeUnknown
                                       : reason::ReasonCode(ack.reason)));
    }
  }

  // Cancel first; only a confirmed cancel places the rest (new size - filled at the cancel)
  // under the new client order id, through the risk engine and the desk like any order.
  void CancelReplace(VenueAdapter* a, Order orig, OrderRequest repl, std::shared_ptr<Answer> once,
                     v1::AmendOrderResponse* resp, const std::string& token) {
    if (auto st = CancelAllowedFor(orig.account, token); !st.ok()) {
      return (void)once->Finish(ToGrpc(st));
    }
    CancelRequest cr{orig.account, orig.symbol, orig.order_id, orig.client_order_id};
    a->CancelOrder(cr, [this, a, once, resp, repl = std::move(repl),
                        token](absl::StatusOr<CancelResult> res) mutable {
      if (!res.ok()) {
        // Not cancelled (or not known to be): nothing placed.
        return (void)once->Finish(OrderLookupStatus(res.status()));
      }
      const Order& gone = res->order;
      auto rest = Decimal::Sub(repl.size, gone.filled_size);
      if (!rest.ok() || !rest->IsPositive()) {
        if (!once->Claim()) return;
        resp->set_outcome(v1::ACK_OUTCOME_REJECTED);
        Fill(gone, resp->mutable_replaced());
        resp->set_message("filled " + Str(gone.filled_size) +
                          " before the cancel: nothing left of " + Str(repl.size) + " to place");
        resp->set_reason(std::string(reason::kOrderRejected));
        return once->Finished(Status::OK);
      }
      repl.size = *rest;
      // The replacement's answer becomes the amend's (the original's final state beside it).
      auto place = std::make_shared<v1::PlaceOrderResponse>();
      auto inner = std::make_shared<Forward>(once, [resp, place, gone](const Status& s) {
        if (!s.ok()) return;
        resp->set_outcome(place->outcome());
        *resp->mutable_order() = place->order();
        resp->set_message(place->message());
        resp->set_retryable(place->retryable());
        resp->set_reason(place->reason());
        Fill(gone, resp->mutable_replaced());
      });
      CheckRiskThenSend(a, std::move(repl), {}, inner, place.get(), token);
    });
  }

  // An Answer that answers `outer` after `copy` moved the inner response into the outer one.
  class Forward final : public Answer {
   public:
    Forward(std::shared_ptr<Answer> outer, std::function<void(const Status&)> copy)
        : outer_(std::move(outer)), copy_(std::move(copy)) {}
    [[nodiscard]] bool Claim() override { return outer_->Claim(); }
    void Finished(const Status& s) override {
      copy_(s);
      outer_->Finished(s);
    }

   private:
    std::shared_ptr<Answer> outer_;
    std::function<void(const Status&)> copy_;
  };

  ServerUnaryReactor* CancelAllOrders(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                      grpc::ByteBuffer* out) override {
    return RawUnary<v1::CancelAllOrdersRequest, v1::CancelAllOrdersResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::CancelAllOrdersRequest* rq,
               v1::CancelAllOrdersResponse* rs) { return DoCancelAllOrders(c, rq, rs); });
  }

  ServerUnaryReactor* DoCancelAllOrders(CallbackServerContext* ctx,
                                        const v1::CancelAllOrdersRequest* req,
                                        v1::CancelAllOrdersResponse* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto symbol = AccountMarket(gw_, (*a)->name(), req->market());
    if (!symbol.ok()) return Done(ctx, ToGrpc(symbol.status()));
    if (auto st = CancelAllowed(ctx, req->account()); !st.ok()) return Done(ctx, ToGrpc(st));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "CancelAllOrders");
    (*a)->CancelAll(req->account(), *symbol, [once, resp](absl::StatusOr<std::vector<Order>> res) {
      if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
      if (!once->Claim()) return;  // the deadline answered first: resp is gone
      for (const auto& o : *res) Fill(o, resp->add_orders());
      once->Finished(Status::OK);
    });
    return r;
  }

  ServerUnaryReactor* GetOrder(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                               grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetOrderRequest, v1::Order>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetOrderRequest* rq, v1::Order* rs) {
          return DoGetOrder(c, rq, rs);
        });
  }

  ServerUnaryReactor* DoGetOrder(CallbackServerContext* ctx, const v1::GetOrderRequest* req,
                                 v1::Order* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (req->order_id().empty() == req->client_order_id().empty()) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                              "give exactly one of order_id or client_order_id"));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetOrder");
    VenueAdapter* adapter = *a;
    auto symbol = AccountMarket(gw_, adapter->name(), req->market());  // optional here
    if (!symbol.ok()) return Done(ctx, ToGrpc(symbol.status()));
    CancelRequest ref{req->account(), *symbol, req->order_id(), req->client_order_id()};
    // The venue is asked by market: without one, the market of the order the gateway has seen.
    auto from_venue = [once, resp, adapter, ref](const std::string& market) mutable {
      if (market.empty()) {
        return (void)once->Finish(Err(StatusCode::INVALID_ARGUMENT,
                                      "market is required to ask the venue for an order the "
                                      "gateway has not seen",
                                      reason::kInvalidArgument));
      }
      ref.symbol = market;
      adapter->GetOrder(ref, true, [once, resp](absl::StatusOr<Order> o) {
        if (!o.ok()) return (void)once->Finish(OrderLookupStatus(o.status()));
        if (!once->Claim()) return;  // the deadline answered first: resp is gone
        Fill(*o, resp);
        once->Finished(Status::OK);
      });
    };
    if (req->refresh() && !ref.symbol.empty()) {
      from_venue(ref.symbol);
      return r;
    }
    gw_.bus().GetOrder(req->account(), req->order_id(), req->client_order_id(),
                       [once, resp, from_venue, refresh = req->refresh(),
                        market = ref.symbol](std::optional<Order> o) mutable {
                         if (!o || refresh)
                           return from_venue(market.empty() && o ? o->symbol : market);
                         if (!once->Claim()) return;  // the deadline answered first: resp is gone
                         Fill(*o, resp);
                         once->Finished(Status::OK);
                       });
    return r;
  }

  ServerUnaryReactor* ListOpenOrders(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                     grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListOpenOrdersRequest, v1::ListOpenOrdersResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListOpenOrdersRequest* rq,
               v1::ListOpenOrdersResponse* rs) { return DoListOpenOrders(c, rq, rs); });
  }

  ServerUnaryReactor* DoListOpenOrders(CallbackServerContext* ctx,
                                       const v1::ListOpenOrdersRequest* req,
                                       v1::ListOpenOrdersResponse* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto symbol = AccountMarket(gw_, (*a)->name(), req->market());
    if (!symbol.ok()) return Done(ctx, ToGrpc(symbol.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListOpenOrders");
    (*a)->ListOpenOrders(req->account(), *symbol,
                         [once, resp](absl::StatusOr<std::vector<Order>> res) {
                           if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
                           if (!once->Claim()) return;  // the deadline answered first: resp is gone
                           for (const auto& o : *res) Fill(o, resp->add_orders());
                           once->Finished(Status::OK);
                         });
    return r;
  }

  ServerUnaryReactor* ListFills(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListFillsRequest, v1::ListFillsResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListFillsRequest* rq,
               v1::ListFillsResponse* rs) { return DoListFills(c, rq, rs); });
  }

  ServerUnaryReactor* DoListFills(CallbackServerContext* ctx, const v1::ListFillsRequest* req,
                                  v1::ListFillsResponse* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (req->from_time_ns() < 0 || req->to_time_ns() < 0 ||
        (req->to_time_ns() != 0 && req->to_time_ns() < req->from_time_ns())) {
      return Done(ctx, Err(StatusCode::INVALID_ARGUMENT,
                           "from_time_ns/to_time_ns: non-negative, to not before from",
                           reason::kInvalidArgument));
    }
    if (req->limit() < 0 || req->limit() > 1000) {
      return Done(ctx, Err(StatusCode::INVALID_ARGUMENT, "limit must be 0..1000",
                           reason::kInvalidArgument));
    }
    auto cursor = orders::ParseCursor(req->cursor());
    if (!cursor.ok()) return Done(ctx, ToGrpc(cursor.status()));
    auto symbol = AccountMarket(gw_, (*a)->name(), req->market());
    if (!symbol.ok()) return Done(ctx, ToGrpc(symbol.status()));
    VenueAdapter* adapter = *a;
    const int page_cap = adapter->capabilities().fill_page_size;
    if (*cursor && page_cap == 0) {
      return Done(ctx, Err(StatusCode::FAILED_PRECONDITION,
                           adapter->name() + " fill history has no cursor here "
                                             "(VenueCapabilities.fill_cursor)",
                           reason::kUnsupported));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListFills");
    const int limit = req->limit() == 0 ? 500 : req->limit();
    if (page_cap == 0) {
      // One venue call; the answer sorted (no cursor on this venue).
      FillQuery q{req->account(), *symbol, req->from_time_ns(), req->to_time_ns(), limit};
      adapter->ListFills(q, [this, once, resp, account = req->account(),
                             limit](absl::StatusOr<std::vector<perpgw::Fill>> res) {
        if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
        orders::SortFills(&*res);
        if (res->size() > static_cast<size_t>(limit)) res->resize(static_cast<size_t>(limit));
        AnswerFills(account, std::move(*res), "", once, resp);
      });
      return r;
    }
    // A cursor walk: windows of at most 7 days (Aster's own maximum), halved while the venue
    // answers a full page (which may be cut at either end), so each answer is complete.
    constexpr UnixNanos kMaxWindow = 7LL * 24 * 3600 * 1000000000LL;
    const UnixNanos hi = req->to_time_ns() != 0 ? req->to_time_ns() : gw_.clock().Now();
    UnixNanos lo = *cursor ? (*cursor)->time : req->from_time_ns();
    if (lo == 0) lo = std::max<UnixNanos>(hi - kMaxWindow, 1);
    auto walk = std::make_shared<FillWalk>();
    walk->adapter = adapter;
    walk->account = req->account();
    walk->symbol = *symbol;
    walk->after = *cursor;
    walk->limit = limit;
    walk->page_cap = page_cap;
    walk->lo = lo;
    walk->hi = hi;
    walk->window_hi = std::min(hi, lo + kMaxWindow);
    StepFills(walk, once, resp);
    return r;
  }

  struct FillWalk {
    VenueAdapter* adapter = nullptr;
    std::string account, symbol;
    std::optional<orders::FillCursor> after;
    int limit = 500, page_cap = 1000, halvings = 0;
    UnixNanos lo = 0, hi = 0, window_hi = 0;
  };

  void StepFills(std::shared_ptr<FillWalk> w, std::shared_ptr<Answer> once,
                 v1::ListFillsResponse* resp) {
    FillQuery q{w->account, w->symbol, w->lo, w->window_hi, w->page_cap};
    w->adapter->ListFills(q, [this, w, once, resp](absl::StatusOr<std::vector<perpgw::Fill>> res) {
      if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
      constexpr UnixNanos kMinWindow = 1000000;  // 1 ms: the venues' time resolution
      if (res->size() >= static_cast<size_t>(w->page_cap)) {
        if (w->window_hi - w->lo <= kMinWindow || ++w->halvings > 40) {
          return (void)once->Finish(Err(StatusCode::FAILED_PRECONDITION,
                                        "more than " + std::to_string(w->page_cap) +
                                            " fills within 1 ms at " + std::to_string(w->lo) +
                                            ": the venue's page cannot hold them",
                                        reason::kFailedPrecondition));
        }
        w->window_hi = w->lo + (w->window_hi - w->lo) / 2;
        return StepFills(w, once, resp);
      }
      // Rows outside the window (a venue rounding its bounds) are not this window's.
      std::vector<perpgw::Fill> rows;
      for (auto& f : *res) {
        if (f.exchange_time != 0 && (f.exchange_time < w->lo || f.exchange_time > w->window_hi)) {
          continue;
        }
        rows.push_back(std::move(f));
      }
      auto page =
          orders::PageOf(std::move(rows), w->after, w->limit, w->window_hi, w->window_hi >= w->hi);
      AnswerFills(w->account, std::move(page.rows), std::move(page.next_cursor), once, resp);
    });
  }

  // Writes the page, naming each fill's client order id where the venue left it out (Aster's
  // userTrades rows carry none: the gateway's own orders know it by venue order id).
  void AnswerFills(const std::string& account, std::vector<perpgw::Fill> rows, std::string next,
                   std::shared_ptr<Answer> once, v1::ListFillsResponse* resp) {
    auto fills = std::make_shared<std::vector<perpgw::Fill>>(std::move(rows));
    auto answer = [once, resp, fills, next = std::move(next)] {
      if (!once->Claim()) return;  // the deadline answered first: resp is gone
      for (const auto& f : *fills) Fill(f, resp->add_fills());
      resp->set_next_cursor(next);
      once->Finished(Status::OK);
    };
    const bool missing = std::any_of(fills->begin(), fills->end(), [](const auto& f) {
      return f.client_order_id.empty() && !f.order_id.empty();
    });
    if (!missing) return answer();
    gw_.bus().ListOrders(account, "", false, [fills, answer](std::vector<Order> orders) {
      std::unordered_map<std::string, std::string> cid;
      for (const auto& o : orders) {
        if (!o.order_id.empty() && !o.client_order_id.empty()) cid[o.order_id] = o.client_order_id;
      }
      for (auto& f : *fills) {
        if (!f.client_order_id.empty()) continue;
        if (auto it = cid.find(f.order_id); it != cid.end()) f.client_order_id = it->second;
      }
      answer();
    });
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamOrderEvents(
      CallbackServerContext* ctx, const grpc::ByteBuffer* raw) override {
    v1::StreamOrderEventsRequest req;
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    auto a = Account(ctx, req.account());
    if (!a.ok()) return new FailedStream(ToGrpc(a.status()));
    auto sub = std::make_shared<Subscriber>(StreamKind::kOrders, gw_.config().limits.order_mailbox,
                                            &gw_.bus().stats());
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    const int64_t dms = req.cancel_on_disconnect_ms();
    if (dms != 0 && (dms < kMinDeadManMs || dms > kMaxDeadManMs)) {
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT,
                                     "cancel_on_disconnect_ms must be 0 (off) or 100..3600000"));
    }
    if (dms > 0) {
      // The stream's end (whatever the cause) starts the account's countdown.
      const uint64_t id = gw_.dead_man().StreamOpened(req.account(), dms * 1000000);
      std::shared_ptr<void> guard(
          nullptr, [gw = &gw_, id](void*) { gw->dead_man().StreamClosed(id, gw->clock().Now()); });
      quota = std::make_shared<std::pair<std::shared_ptr<void>, std::shared_ptr<void>>>(
          std::move(quota), std::move(guard));
    }
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribeOrders(sub, req.account(), req.from_sequence(), req.epoch());
    return stream;
  }

  ServerUnaryReactor* Heartbeat(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                grpc::ByteBuffer* out) override {
    return RawUnary<v1::HeartbeatRequest, v1::HeartbeatResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::HeartbeatRequest* rq,
               v1::HeartbeatResponse* rs) {
          auto a = Account(c, rq->account());
          if (!a.ok()) return Done(c, ToGrpc(a.status()));
          const int64_t ms = rq->timeout_ms();
          if (ms != 0 && (ms < kMinDeadManMs || ms > kMaxDeadManMs)) {
            return Done(c, Status(StatusCode::INVALID_ARGUMENT,
                                  "timeout_ms must be 0 (disarm) or 100..3600000"));
          }
          if (rq->name().size() > 64) {
            return Done(c, Status(StatusCode::INVALID_ARGUMENT, "name is longer than 64"));
          }
          const UnixNanos now = gw_.clock().Now();
          const std::string owner = gw_.auth().Identity(AuthHeader(c)) + "/" + rq->name();
          gw_.dead_man().Heartbeat(rq->account(), owner, ms * 1000000, now);
          rs->set_deadline_ns(ms > 0 ? now + ms * 1000000 : 0);
          return Done(c, Status::OK);
        });
  }

 private:
  Gateway& gw_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeTradingService(Gateway& gw) {
  return std::make_unique<TradingImpl>(gw);
}

}  // namespace perpgw::gateway::rpc
