// Request validation, auth checks, venue calls with deadlines, and stream reactors.
#include "gateway/services.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <atomic>
#include <regex>
#include <set>

#include "gateway/convert.h"
#include "gateway/orders/order_builder.h"
#include "perpgw/v1/account.grpc.pb.h"
#include "perpgw/v1/funding.grpc.pb.h"
#include "perpgw/v1/gateway.grpc.pb.h"
#include "perpgw/v1/market_data.grpc.pb.h"
#include "perpgw/v1/trading.grpc.pb.h"

namespace perpgw::gateway {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using grpc::Status;
using grpc::StatusCode;

Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return Status::OK;
  return Status(static_cast<StatusCode>(s.code()), std::string(s.message()));
}

std::string AuthHeader(CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

ServerUnaryReactor* Done(CallbackServerContext* ctx, const Status& s) {
  auto* r = ctx->DefaultReactor();
  r->Finish(s);
  return r;
}

// Finishes a unary reactor exactly once: the venue's answer or the deadline, whichever is first.
// The response message lives in the call's arena, which gRPC frees once the call finished: a
// venue answer must Claim() BEFORE it writes the response (a late answer after the deadline
// then writes nothing), and end with Finished().
class Once {
 public:
  explicit Once(ServerUnaryReactor* r) : r_(r) {}
  bool Finish(const Status& s) {
    if (!Claim()) return false;
    r_->Finish(s);
    return true;
  }
  [[nodiscard]] bool Claim() { return !done_.exchange(true); }
  void Finished(const Status& s) { r_->Finish(s); }

 private:
  ServerUnaryReactor* r_;
  std::atomic<bool> done_{false};
};

std::shared_ptr<Once> WithDeadline(Gateway& gw, ServerUnaryReactor* r, const std::string& what) {
  auto once = std::make_shared<Once>(r);
  gw.timer().After(std::chrono::milliseconds(gw.config().limits.request_timeout_ms), [once, what] {
    once->Finish(Status(StatusCode::DEADLINE_EXCEEDED, what + ": venue did not answer in time"));
  });
  return once;
}

using orders::ParseField;

absl::Status CheckMarket(const v1::MarketRef& m) {
  if (m.venue().empty()) return absl::InvalidArgumentError("market.venue is required");
  if (m.symbol().empty()) return absl::InvalidArgumentError("market.symbol is required");
  return absl::OkStatus();
}

// ------------------------------------------------------------------ streams

class RawStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // `quota`: this stream's place in its token's stream count, released when the call is done.
  RawStream(SubscriberPtr sub, std::shared_ptr<void> quota)
      : sub_(std::move(sub)), quota_(std::move(quota)) {
    sub_->Bind(
        [this](const grpc::ByteBuffer* m, bool more) {
          grpc::WriteOptions wo;
          if (more) wo.set_buffer_hint();
          StartWrite(m, wo);
        },
               [this](const Status& s) { Finish(s); });
  }
  void OnWriteDone(bool ok) override { sub_->OnWriteDone(ok); }
  void OnCancel() override { sub_->Finish(Status(StatusCode::CANCELLED, "client cancelled")); }
  void OnDone() override {
    sub_->OnDone();
    delete this;
  }

 private:
  SubscriberPtr sub_;
  std::shared_ptr<void> quota_;
};

class FailedStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit FailedStream(const Status& s) { Finish(s); }
  void OnDone() override { delete this; }
};

template <typename Req>
bool ParseRaw(const grpc::ByteBuffer* raw, Req* out) {
  grpc::ByteBuffer copy(*raw);
  return grpc::SerializationTraits<Req>::Deserialize(&copy, out).ok();
}

// Validates a list of markets: known venue, enabled, known symbol. Subscribes them at the venue.
absl::Status ResolveMarkets(Gateway& gw, const google::protobuf::RepeatedPtrField<v1::MarketRef>& in,
                            std::vector<MarketKey>* out, bool allow_empty) {
  if (in.empty() && !allow_empty) {
    return absl::InvalidArgumentError("markets: at least one (venue, symbol) is required");
  }
  // One request naming a market 50,000 times starved the fan-out for everyone: cap the list,
  // and subscribe each market once however often it is named.
  const int cap = gw.config().limits.max_markets_per_stream;
  if (in.size() > cap) {
    return absl::ResourceExhaustedError("markets: " + std::to_string(in.size()) +
                                        " entries exceed limits.max_markets_per_stream (" +
                                        std::to_string(cap) + ")");
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (int i = 0; i < in.size(); ++i) {
    if (!seen.emplace(in[i].venue(), in[i].symbol()).second) continue;
    auto st = CheckMarket(in[i]);
    if (!st.ok()) {
      return absl::InvalidArgumentError("markets[" + std::to_string(i) + "]: " +
                                        std::string(st.message()));
    }
    auto inst = gw.FindInstrument(in[i].venue(), in[i].symbol());
    if (!inst.ok()) return inst.status();
    out->push_back({in[i].venue(), in[i].symbol()});
  }
  for (const auto& m : *out) gw.EnsureSubscribed(m.venue, m.symbol);
  return absl::OkStatus();
}

// ------------------------------------------------------------------ GatewayService

class GatewayImpl final : public v1::GatewayService::CallbackService {
 public:
  explicit GatewayImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* ListVenues(CallbackServerContext* ctx, const v1::ListVenuesRequest*,
                                 v1::ListVenuesResponse* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    const UnixNanos now = gw_.clock().Now();
    for (const auto& [name, vc] : gw_.config().venues) {
      auto* v = resp->add_venues();
      v->set_venue(name);
      v->set_rest_url(vc.rest_url);
      v->set_ws_url(vc.ws_url);
      for (const auto& a : vc.accounts) v->add_accounts(a.id);
      VenueAdapter* a = gw_.adapter(name);
      v->set_enabled(a != nullptr);
      if (!a) {
        v->set_state(v1::CONNECTION_STATE_DISCONNECTED);
        v->set_last_message_age_ms(-1);
        v->set_last_error(vc.enabled ? "adapter not running" : "disabled in config");
        continue;
      }
      VenueHealth h = a->Health();
      v->set_state(ToProto(h.state));
      v->set_last_message_age_ms(h.last_message_time ? (now - h.last_message_time) / 1000000 : -1);
      v->set_reconnects(h.reconnects);
      v->set_last_error(h.last_error);
      Fill(a->capabilities(), v->mutable_capabilities());
      v->set_instruments(static_cast<int>(a->Instruments().size()));
    }
    return Done(ctx, Status::OK);
  }

  ServerUnaryReactor* GetVersion(CallbackServerContext* ctx, const v1::GetVersionRequest*,
                                 v1::GetVersionResponse* resp) override {
    resp->set_version(PERPGW_VERSION);
    resp->set_build(__DATE__ " " __TIME__);
    resp->set_start_time_ns(gw_.start_time());
    resp->set_epoch(gw_.bus().epoch());
    return Done(ctx, Status::OK);
  }

 private:
  Gateway& gw_;
};

// ------------------------------------------------------------------ InstrumentService

class InstrumentImpl final : public v1::InstrumentService::CallbackService {
 public:
  explicit InstrumentImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* ListInstruments(CallbackServerContext* ctx,
                                      const v1::ListInstrumentsRequest* req,
                                      v1::ListInstrumentsResponse* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    if (!req->venue().empty() && !gw_.config().venues.count(req->venue())) {
      return Done(ctx, Status(StatusCode::NOT_FOUND, "unknown venue '" + req->venue() + "'"));
    }
    for (const auto& in : gw_.ListInstruments(req->venue())) {
      if (!in.tradeable && !req->include_untradeable()) continue;
      Fill(in, resp->add_instruments());
    }
    return Done(ctx, Status::OK);
  }

  ServerUnaryReactor* GetInstrument(CallbackServerContext* ctx, const v1::GetInstrumentRequest* req,
                                    v1::Instrument* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    auto in = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!in.ok()) return Done(ctx, ToGrpc(in.status()));
    Fill(*in, resp);
    return Done(ctx, Status::OK);
  }

 private:
  Gateway& gw_;
};

// ------------------------------------------------------------------ MarketDataService

using MarketDataBase = v1::MarketDataService::WithCallbackMethod_GetOrderBook<
    v1::MarketDataService::WithRawCallbackMethod_StreamOrderBooks<
        v1::MarketDataService::WithRawCallbackMethod_StreamBbo<
            v1::MarketDataService::WithRawCallbackMethod_StreamTrades<
                v1::MarketDataService::Service>>>>;

class MarketDataImpl final : public MarketDataBase {
 public:
  explicit MarketDataImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* GetOrderBook(CallbackServerContext* ctx, const v1::GetOrderBookRequest* req,
                                   v1::OrderBook* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    auto in = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!in.ok()) return Done(ctx, ToGrpc(in.status()));
    if (req->depth() < 0 || req->depth() > gw_.config().limits.max_book_depth) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                              "depth must be between 0 and " +
                                  std::to_string(gw_.config().limits.max_book_depth)));
    }
    const int depth = req->depth() == 0 ? 20 : req->depth();
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetOrderBook");
    if (req->from_venue()) {
      gw_.adapter(req->market().venue())
          ->FetchBook(req->market().symbol(), depth,
                      [once, resp](absl::StatusOr<BookUpdate> b) {
                        if (!b.ok()) return (void)once->Finish(ToGrpc(b.status()));
                        if (!once->Claim()) return;  // the deadline answered first: resp is gone
                        resp->mutable_market()->set_venue(b->venue);
                        resp->mutable_market()->set_symbol(b->symbol);
                        resp->set_status(ToProto(b->status));
                        resp->set_venue_sequence(b->venue_seq);
                        resp->set_exchange_time_ns(b->exchange_time);
                        resp->set_receive_time_ns(b->receive_time);
                        AddLevels(b->bids, b->price_scale, b->size_scale, resp->mutable_bids());
                        AddLevels(b->asks, b->price_scale, b->size_scale, resp->mutable_asks());
                        once->Finished(Status::OK);
                      });
      return r;
    }
    gw_.EnsureSubscribed(req->market().venue(), req->market().symbol());
    gw_.bus().GetBook({req->market().venue(), req->market().symbol()}, depth,
                      [once, resp](std::optional<v1::OrderBook> ob) {
                        if (!ob) {
                          once->Finish(Status(StatusCode::UNAVAILABLE,
                                              "no book yet for this market (subscribing); retry"));
                          return;
                        }
                        if (!once->Claim()) return;  // the deadline answered first: resp is gone
                        *resp = std::move(*ob);
                        once->Finished(Status::OK);
                      });
    return r;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamOrderBooks(
      CallbackServerContext* ctx, const grpc::ByteBuffer* raw) override {
    v1::StreamOrderBooksRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return new FailedStream(ToGrpc(st));
    if (req.depth() < 0 || req.depth() > gw_.config().limits.max_book_depth) {
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "depth out of range"));
    }
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, false); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kBook, gw_.config().limits.book_mailbox,
                                            &gw_.bus().stats());
    sub->set_max_lag(gw_.config().limits.book_max_lag_ms * 1'000'000);
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribeBooks(sub, std::move(keys), req.depth());
    return stream;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamBbo(CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* raw) override {
    v1::StreamBboRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return new FailedStream(ToGrpc(st));
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, false); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kBbo, gw_.config().limits.conflated_mailbox,
                                            &gw_.bus().stats());
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribeBbo(sub, std::move(keys));
    return stream;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamTrades(CallbackServerContext* ctx,
                                                           const grpc::ByteBuffer* raw) override {
    v1::StreamTradesRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return new FailedStream(ToGrpc(st));
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, false); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kTrades, gw_.config().limits.book_mailbox,
                                            &gw_.bus().stats());
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribeTrades(sub, std::move(keys));
    return stream;
  }

 private:
  Gateway& gw_;
};

// ------------------------------------------------------------------ FundingService

using FundingBase = v1::FundingService::WithCallbackMethod_GetFunding<
    v1::FundingService::WithCallbackMethod_ListFunding<
        v1::FundingService::WithRawCallbackMethod_StreamFunding<
            v1::FundingService::WithCallbackMethod_RankFundingOpportunities<
                v1::FundingService::Service>>>>;

class FundingImpl final : public FundingBase {
 public:
  explicit FundingImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* GetFunding(CallbackServerContext* ctx, const v1::GetFundingRequest* req,
                                 v1::FundingRate* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    auto in = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!in.ok()) return Done(ctx, ToGrpc(in.status()));
    for (const auto& f : gw_.bus().FundingSnapshot()) {
      if (f.venue == req->market().venue() && f.symbol == req->market().symbol()) {
        Fill(f, resp);
        return Done(ctx, Status::OK);
      }
    }
    // Not cached yet: ask the venue.
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetFunding");
    gw_.adapter(req->market().venue())
        ->FetchFunding(req->market().symbol(), [once, resp](absl::StatusOr<Funding> f) {
          if (!f.ok()) return (void)once->Finish(ToGrpc(f.status()));
          if (!once->Claim()) return;  // the deadline answered first: resp is gone
          Fill(*f, resp);
          once->Finished(Status::OK);
        });
    return r;
  }

  ServerUnaryReactor* ListFunding(CallbackServerContext* ctx, const v1::ListFundingRequest* req,
                                  v1::ListFundingResponse* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    if (!req->venue().empty() && !gw_.config().venues.count(req->venue())) {
      return Done(ctx, Status(StatusCode::NOT_FOUND, "unknown venue '" + req->venue() + "'"));
    }
    for (const auto& f : gw_.bus().FundingSnapshot()) {
      if (!req->venue().empty() && f.venue != req->venue()) continue;
      if (!req->symbols().empty() &&
          std::find(req->symbols().begin(), req->symbols().end(), f.symbol) ==
              req->symbols().end()) {
        continue;
      }
      Fill(f, resp->add_rates());
    }
    return Done(ctx, Status::OK);
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamFunding(CallbackServerContext* ctx,
                                                            const grpc::ByteBuffer* raw) override {
    v1::StreamFundingRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return new FailedStream(ToGrpc(st));
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, true); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(
        StreamKind::kFunding, gw_.config().limits.conflated_mailbox, &gw_.bus().stats());
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribeFunding(sub, std::move(keys));
    return stream;
  }

  ServerUnaryReactor* RankFundingOpportunities(CallbackServerContext* ctx,
                                               const v1::RankFundingRequest* req,
                                               v1::RankFundingResponse* resp) override {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    Decimal min_oi, min_vol;
    if (!req->min_open_interest_usd().empty()) {
      auto d = ParseField(req->min_open_interest_usd(), "min_open_interest_usd", false);
      if (!d.ok()) return Done(ctx, ToGrpc(d.status()));
      min_oi = *d;
    }
    if (!req->min_volume_24h_usd().empty()) {
      auto d = ParseField(req->min_volume_24h_usd(), "min_volume_24h_usd", false);
      if (!d.ok()) return Done(ctx, ToGrpc(d.status()));
      min_vol = *d;
    }
    for (const auto& v : req->venues()) {
      if (!gw_.config().venues.count(v)) {
        return Done(ctx, Status(StatusCode::NOT_FOUND, "unknown venue '" + v + "'"));
      }
    }
    auto in_list = [](const auto& list, const std::string& x) {
      return list.empty() || std::find(list.begin(), list.end(), x) != list.end();
    };
    std::map<std::string, std::vector<Funding>> by_symbol;
    for (auto& f : gw_.bus().FundingSnapshot()) {
      if (!in_list(req->venues(), f.venue) || !in_list(req->symbols(), f.symbol)) continue;
      if (f.open_interest_usd < min_oi || f.volume_24h_usd < min_vol) continue;
      by_symbol[f.symbol].push_back(f);
    }
    struct Opp {
      v1::FundingOpportunity msg;
      Decimal net;
    };
    std::vector<Opp> opps;
    for (auto& [sym, list] : by_symbol) {
      for (size_t i = 0; i < list.size(); ++i) {
        for (size_t j = 0; j < list.size(); ++j) {
          if (i == j || list[i].venue == list[j].venue) continue;
          const Funding& lo = list[i];  // long the lower rate
          const Funding& hi = list[j];  // short the higher rate
          if (!(lo.rate_8h < hi.rate_8h)) continue;
          auto spread = Decimal::Sub(hi.rate_8h, lo.rate_8h);
          if (!spread.ok()) continue;
          auto fee_of = [&](const std::string& venue) {
            const VenueConfig* vc = gw_.venue_config(venue);
            if (!vc) return Decimal();
            return req->use_maker_fees() ? vc->fees.maker : vc->fees.taker;
          };
          // Open and close on both legs.
          auto legs = Decimal::Add(fee_of(lo.venue), fee_of(hi.venue));
          if (!legs.ok()) continue;
          auto fees = Decimal::Mul(*legs, Decimal::FromInt(2), 12, Rounding::kHalfEven);
          if (!fees.ok()) continue;
          auto net = Decimal::Sub(*spread, *fees);
          auto apr = Decimal::Mul(*spread, Decimal::FromInt(3 * 365), 12, Rounding::kHalfEven);
          if (!net.ok() || !apr.ok()) continue;
          Opp o;
          o.net = *net;
          o.msg.set_symbol(sym);
          o.msg.set_long_venue(lo.venue);
          o.msg.set_short_venue(hi.venue);
          o.msg.set_long_rate_8h(Str(lo.rate_8h));
          o.msg.set_short_rate_8h(Str(hi.rate_8h));
          o.msg.set_spread_8h(Str(*spread));
          o.msg.set_spread_apr(Str(*apr));
          o.msg.set_fees(Str(*fees));
          o.msg.set_net_spread_8h_after_fees_one_period(Str(*net));
          o.msg.set_min_open_interest_usd(
              Str(std::min(lo.open_interest_usd, hi.open_interest_usd)));
          o.msg.set_min_volume_24h_usd(Str(std::min(lo.volume_24h_usd, hi.volume_24h_usd)));
          opps.push_back(std::move(o));
        }
      }
    }
    std::sort(opps.begin(), opps.end(), [](const Opp& a, const Opp& b) {
      return a.net > b.net;
    });
    const int limit = req->limit() > 0 ? req->limit() : 50;
    for (int i = 0; i < static_cast<int>(opps.size()) && i < limit; ++i) {
      *resp->add_opportunities() = opps[i].msg;
    }
    resp->set_as_of_ns(gw_.clock().Now());
    return Done(ctx, Status::OK);
  }

 private:
  Gateway& gw_;
};

// ------------------------------------------------------------------ TradingService

using TradingBase = v1::TradingService::WithCallbackMethod_PlaceOrder<
    v1::TradingService::WithCallbackMethod_CancelOrder<
        v1::TradingService::WithCallbackMethod_CancelAllOrders<
            v1::TradingService::WithCallbackMethod_GetOrder<
                v1::TradingService::WithCallbackMethod_ListOpenOrders<
                    v1::TradingService::WithCallbackMethod_ListFills<
                        v1::TradingService::WithRawCallbackMethod_StreamOrderEvents<
                            v1::TradingService::Service>>>>>>>;

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
    if (!a) return absl::FailedPreconditionError("venue '" + *venue + "' of account '" + account +
                                                 "' is not enabled");
    return a;
  }

  ServerUnaryReactor* PlaceOrder(CallbackServerContext* ctx, const v1::PlaceOrderRequest* req,
                                 v1::PlaceOrderResponse* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (req->market().venue() != (*a)->name()) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                              "market.venue '" + req->market().venue() + "' does not match account '" +
                                  req->account() + "' on venue '" + (*a)->name() + "'"));
    }
    auto inst = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    if (!inst->tradeable) {
      return Done(ctx, Status(StatusCode::FAILED_PRECONDITION,
                              req->market().symbol() + " is not tradeable on " + inst->venue));
    }
    auto order = orders::BuildOrder(*req, *inst);
    if (!order.ok()) return Done(ctx, ToGrpc(order.status()));

    // Idempotency (same id → same answer, mismatch → ALREADY_EXISTS, unknown outcomes
    // resolved first) is the venue's order desk's job: every retry goes there.
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "PlaceOrder");
    if (order->type == OrderType::kMarket) {
      // Worst acceptable price from the live book's best opposite level.
      VenueAdapter* adapter = *a;
      Instrument in = *inst;
      gw_.bus().GetBestPrices(
          {req->market().venue(), req->market().symbol()},
          [this, once, resp, adapter, o = *order, in](std::optional<Level> bid,
                                                     std::optional<Level> ask, int ps,
                                                     BookStatus status) mutable {
            auto ref = o.side == Side::kBuy ? ask : bid;
            if (!ref || status != BookStatus::kLive) {
              once->Finish(Status(StatusCode::UNAVAILABLE,
                                  "no live book to bound a market order's slippage; retry"));
              return;
            }
            if (auto st = orders::BoundMarketOrder(Decimal::FromUnits(ref->price, ps), in, &o);
                !st.ok()) {
              once->Finish(ToGrpc(st));
              return;
            }
            Send(adapter, std::move(o), once, resp);
          });
      return r;
    }
    Send(*a, std::move(*order), once, resp);
    return r;
  }

  void Send(VenueAdapter* a, OrderRequest o, std::shared_ptr<Once> once,
            v1::PlaceOrderResponse* resp) {
    std::string account = o.account, venue = a->name();
    const auto t0 = std::chrono::steady_clock::now();
    a->PlaceOrder(std::move(o), [this, once, resp, account, venue,
                                 t0](absl::StatusOr<OrderAck> ack) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!ack.ok()) return (void)once->Finish(ToGrpc(ack.status()));
      gw_.metrics().OrderResult(venue, account,
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
  }

  ServerUnaryReactor* CancelOrder(CallbackServerContext* ctx, const v1::CancelOrderRequest* req,
                                  v1::CancelOrderResponse* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (auto st = CheckMarket(req->market()); !st.ok()) return Done(ctx, ToGrpc(st));
    if (req->order_id().empty() == req->client_order_id().empty()) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                              "give exactly one of order_id or client_order_id"));
    }
    auto inst = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "CancelOrder");
    (*a)->CancelOrder({req->account(), req->market().symbol(), req->order_id(),
                       req->client_order_id()},
                      [once, resp](absl::StatusOr<CancelResult> res) {
                        if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
                        if (!once->Claim()) return;  // the deadline answered first: resp is gone
                        Fill(res->order, resp->mutable_order());
                        resp->set_filled_size(Str(res->order.filled_size));
                        once->Finished(Status::OK);
                      });
    return r;
  }

  ServerUnaryReactor* CancelAllOrders(CallbackServerContext* ctx,
                                      const v1::CancelAllOrdersRequest* req,
                                      v1::CancelAllOrdersResponse* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (!req->venue().empty() && req->venue() != (*a)->name()) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT, "venue does not match the account"));
    }
    if (!req->symbol().empty()) {
      auto inst = gw_.FindInstrument((*a)->name(), req->symbol());
      if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "CancelAllOrders");
    (*a)->CancelAll(req->account(), req->symbol(),
                    [once, resp](absl::StatusOr<std::vector<Order>> res) {
                      if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
                      if (!once->Claim()) return;  // the deadline answered first: resp is gone
                      for (const auto& o : *res) Fill(o, resp->add_orders());
                      once->Finished(Status::OK);
                    });
    return r;
  }

  ServerUnaryReactor* GetOrder(CallbackServerContext* ctx, const v1::GetOrderRequest* req,
                               v1::Order* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (req->order_id().empty() == req->client_order_id().empty()) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                              "give exactly one of order_id or client_order_id"));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetOrder");
    VenueAdapter* adapter = *a;
    CancelRequest ref{req->account(), req->market().symbol(), req->order_id(),
                      req->client_order_id()};
    auto from_venue = [once, resp, adapter, ref] {
      adapter->GetOrder(ref, true, [once, resp](absl::StatusOr<Order> o) {
        if (!o.ok()) return (void)once->Finish(ToGrpc(o.status()));
        if (!once->Claim()) return;  // the deadline answered first: resp is gone
        Fill(*o, resp);
        once->Finished(Status::OK);
      });
    };
    if (req->refresh()) {
      from_venue();
      return r;
    }
    gw_.bus().GetOrder(req->account(), req->order_id(), req->client_order_id(),
                       [once, resp, from_venue](std::optional<Order> o) {
                         if (!o) return from_venue();
                         if (!once->Claim()) return;  // the deadline answered first: resp is gone
                         Fill(*o, resp);
                         once->Finished(Status::OK);
                       });
    return r;
  }

  ServerUnaryReactor* ListOpenOrders(CallbackServerContext* ctx,
                                     const v1::ListOpenOrdersRequest* req,
                                     v1::ListOpenOrdersResponse* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (!req->symbol().empty()) {
      auto inst = gw_.FindInstrument((*a)->name(), req->symbol());
      if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListOpenOrders");
    (*a)->ListOpenOrders(req->account(), req->symbol(),
                         [once, resp](absl::StatusOr<std::vector<Order>> res) {
                           if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
                           if (!once->Claim()) return;  // the deadline answered first: resp is gone
                           for (const auto& o : *res) Fill(o, resp->add_orders());
                           once->Finished(Status::OK);
                         });
    return r;
  }

  ServerUnaryReactor* ListFills(CallbackServerContext* ctx, const v1::ListFillsRequest* req,
                                v1::ListFillsResponse* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (req->to_time_ns() != 0 && req->to_time_ns() < req->from_time_ns()) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT, "to_time_ns is before from_time_ns"));
    }
    if (req->limit() < 0 || req->limit() > 1000) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT, "limit must be 0..1000"));
    }
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListFills");
    FillQuery q{req->account(), req->symbol(), req->from_time_ns(), req->to_time_ns(),
                req->limit() == 0 ? 500 : req->limit()};
    (*a)->ListFills(q, [once, resp](absl::StatusOr<std::vector<perpgw::Fill>> res) {
      if (!res.ok()) return (void)once->Finish(ToGrpc(res.status()));
      if (!once->Claim()) return;  // the deadline answered first: resp is gone
      for (const auto& f : *res) Fill(f, resp->add_fills());
      once->Finished(Status::OK);
    });
    return r;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamOrderEvents(
      CallbackServerContext* ctx, const grpc::ByteBuffer* raw) override {
    v1::StreamOrderEventsRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    auto a = Account(ctx, req.account());
    if (!a.ok()) return new FailedStream(ToGrpc(a.status()));
    auto sub = std::make_shared<Subscriber>(StreamKind::kOrders, gw_.config().limits.order_mailbox,
                                            &gw_.bus().stats());
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribeOrders(sub, req.account(), req.from_sequence(), req.epoch());
    return stream;
  }

 private:
  Gateway& gw_;
};

// ------------------------------------------------------------------ AccountService

using AccountBase = v1::AccountService::WithCallbackMethod_GetBalance<
    v1::AccountService::WithCallbackMethod_ListPositions<
        v1::AccountService::WithRawCallbackMethod_StreamPositions<
            v1::AccountService::WithCallbackMethod_GetLeverageInfo<
                v1::AccountService::WithCallbackMethod_SetLeverage<
                    v1::AccountService::WithRawCallbackMethod_StreamLiquidations<
                        v1::AccountService::Service>>>>>>;

class AccountImpl final : public AccountBase {
 public:
  explicit AccountImpl(Gateway& gw) : gw_(gw) {}

  absl::StatusOr<VenueAdapter*> Account(CallbackServerContext* ctx, const std::string& account) {
    // Authenticate before looking anything up, so unknown ids cannot be probed without a token.
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return st;
    auto venue = gw_.AccountVenue(account);
    if (!venue.ok()) return venue.status();
    if (auto st = gw_.auth().CheckTrade(AuthHeader(ctx), account); !st.ok()) return st;
    VenueAdapter* a = gw_.adapter(*venue);
    if (!a) return absl::FailedPreconditionError("venue '" + *venue + "' is not enabled");
    return a;
  }

  ServerUnaryReactor* GetBalance(CallbackServerContext* ctx, const v1::GetBalanceRequest* req,
                                 v1::Balance* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetBalance");
    (*a)->GetBalance(req->account(), [once, resp](absl::StatusOr<Balance> b) {
      if (!b.ok()) return (void)once->Finish(ToGrpc(b.status()));
      if (!once->Claim()) return;  // the deadline answered first: resp is gone
      Fill(*b, resp);
      once->Finished(Status::OK);
    });
    return r;
  }

  ServerUnaryReactor* ListPositions(CallbackServerContext* ctx,
                                    const v1::ListPositionsRequest* req,
                                    v1::ListPositionsResponse* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListPositions");
    std::string symbol = req->symbol();
    (*a)->GetPositions(req->account(),
                       [once, resp, symbol](absl::StatusOr<std::vector<Position>> ps) {
                         if (!ps.ok()) return (void)once->Finish(ToGrpc(ps.status()));
                         if (!once->Claim()) return;  // the deadline answered first: resp is gone
                         for (const auto& p : *ps) {
                           if (!symbol.empty() && p.symbol != symbol) continue;
                           if (symbol.empty() && p.size.IsZero()) continue;
                           Fill(p, resp->add_positions());
                         }
                         once->Finished(Status::OK);
                       });
    return r;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamPositions(CallbackServerContext* ctx,
                                                              const grpc::ByteBuffer* raw) override {
    v1::StreamPositionsRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    auto a = Account(ctx, req.account());
    if (!a.ok()) return new FailedStream(ToGrpc(a.status()));
    auto sub = std::make_shared<Subscriber>(StreamKind::kPositions,
                                            gw_.config().limits.order_mailbox, &gw_.bus().stats());
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribePositions(sub, req.account());
    return stream;
  }

  ServerUnaryReactor* GetLeverageInfo(CallbackServerContext* ctx,
                                      const v1::GetLeverageInfoRequest* req,
                                      v1::LeverageInfo* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto inst = gw_.FindInstrument((*a)->name(), req->symbol());
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetLeverageInfo");
    (*a)->GetLeverageInfo(req->account(), req->symbol(),
                          [once, resp](absl::StatusOr<LeverageInfo> li) {
                            if (!li.ok()) return (void)once->Finish(ToGrpc(li.status()));
                            if (!once->Claim()) return;  // the deadline answered first: resp is gone
                            Fill(*li, resp);
                            once->Finished(Status::OK);
                          });
    return r;
  }

  ServerUnaryReactor* SetLeverage(CallbackServerContext* ctx, const v1::SetLeverageRequest* req,
                                  v1::LeverageInfo* resp) override {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (!(*a)->capabilities().set_leverage) {
      return Done(ctx, Status(StatusCode::FAILED_PRECONDITION,
                              "venue '" + (*a)->name() + "' does not support setting leverage"));
    }
    auto inst = gw_.FindInstrument((*a)->name(), req->symbol());
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    auto lev = ParseField(req->leverage(), "leverage", true);
    if (!lev.ok()) return Done(ctx, ToGrpc(lev.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "SetLeverage");
    (*a)->SetLeverage(req->account(), req->symbol(), *lev,
                      [once, resp](absl::StatusOr<LeverageInfo> li) {
                        if (!li.ok()) return (void)once->Finish(ToGrpc(li.status()));
                        if (!once->Claim()) return;  // the deadline answered first: resp is gone
                        Fill(*li, resp);
                        once->Finished(Status::OK);
                      });
    return r;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamLiquidations(
      CallbackServerContext* ctx, const grpc::ByteBuffer* raw) override {
    v1::StreamLiquidationsRequest req;
    if (!ParseRaw(raw, &req)) return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    auto a = Account(ctx, req.account());
    if (!a.ok()) return new FailedStream(ToGrpc(a.status()));
    if (!(*a)->capabilities().liquidation_stream) {
      return new FailedStream(Status(StatusCode::FAILED_PRECONDITION,
                                     "venue '" + (*a)->name() + "' has no liquidation stream"));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kLiquidations,
                                            gw_.config().limits.order_mailbox, &gw_.bus().stats());
    absl::Status qerr;
    auto quota = gw_.AcquireStream(gw_.auth().Identity(AuthHeader(ctx)), &qerr);
    if (!quota) return new FailedStream(ToGrpc(qerr));
    auto* stream = new RawStream(sub, std::move(quota));
    gw_.bus().SubscribeLiquidations(sub, req.account());
    return stream;
  }

 private:
  Gateway& gw_;
};

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> MakeServices(Gateway& gw) {
  std::vector<std::unique_ptr<grpc::Service>> v;
  v.push_back(std::make_unique<GatewayImpl>(gw));
  v.push_back(std::make_unique<InstrumentImpl>(gw));
  v.push_back(std::make_unique<MarketDataImpl>(gw));
  v.push_back(std::make_unique<FundingImpl>(gw));
  v.push_back(std::make_unique<TradingImpl>(gw));
  v.push_back(std::make_unique<AccountImpl>(gw));
  return v;
}

std::vector<std::string> ServiceNames() {
  return {"perpgw.v1.GatewayService", "perpgw.v1.InstrumentService",
          "perpgw.v1.MarketDataService", "perpgw.v1.FundingService",
          "perpgw.v1.TradingService", "perpgw.v1.AccountService"};
}

}  // namespace perpgw::gateway
