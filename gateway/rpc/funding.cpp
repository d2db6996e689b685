// perpgw.v1.FundingService: normalized funding rows, ranking, history, stream.
#include "gateway/rpc/common.h"

#include <algorithm>
#include <regex>

#include "gateway/convert.h"
#include "gateway/orders/order_builder.h"
#include "perpgw/v1/funding.grpc.pb.h"

namespace perpgw::gateway::rpc {
namespace {

using FundingBase = v1::FundingService::WithRawCallbackMethod_GetFunding<
    v1::FundingService::WithRawCallbackMethod_ListFunding<
        v1::FundingService::WithRawCallbackMethod_StreamFunding<
            v1::FundingService::WithRawCallbackMethod_RankFundingOpportunities<
                v1::FundingService::WithRawCallbackMethod_ListFundingHistory<
                    v1::FundingService::Service>>>>>;

class FundingImpl final : public FundingBase {
 public:
  explicit FundingImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* GetFunding(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                 grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetFundingRequest, v1::FundingRate>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetFundingRequest* rq, v1::FundingRate* rs) {
          return DoGetFunding(c, rq, rs);
        });
  }

  ServerUnaryReactor* DoGetFunding(CallbackServerContext* ctx, const v1::GetFundingRequest* req,
                                   v1::FundingRate* resp) {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    auto in = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!in.ok()) return Done(ctx, ToGrpc(in.status()));
    for (const auto& f : gw_.bus().FundingSnapshot()) {
      if (f.venue == in->venue && f.symbol == in->symbol) {
        Fill(f, resp);
        return Done(ctx, Status::OK);
      }
    }
    // Not cached yet: ask the venue.
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetFunding");
    gw_.adapter(req->market().venue())
        ->FetchFunding(in->symbol, [once, resp](absl::StatusOr<Funding> f) {
          if (!f.ok()) return (void)once->Finish(ToGrpc(f.status()));
          if (!once->Claim()) return;  // the deadline answered first: resp is gone
          Fill(*f, resp);
          once->Finished(Status::OK);
        });
    return r;
  }

  ServerUnaryReactor* ListFundingHistory(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                         grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListFundingHistoryRequest, v1::ListFundingHistoryResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListFundingHistoryRequest* rq,
               v1::ListFundingHistoryResponse* rs) { return DoListFundingHistory(c, rq, rs); });
  }

  // A symbol filter in any spelling a market may be named by (ticker, unified symbol, venue
  // symbol, any case: Gateway::FindInstrument); empty = every symbol.
  bool Named(const google::protobuf::RepeatedPtrField<std::string>& symbols, const Funding& f) {
    if (symbols.empty()) return true;
    for (const auto& s : symbols) {
      if (s == f.symbol) return true;
      auto in = gw_.FindInstrument(f.venue, s);
      if (in.ok() && in->symbol == f.symbol) return true;
    }
    return false;
  }

  ServerUnaryReactor* DoListFundingHistory(CallbackServerContext* ctx,
                                           const v1::ListFundingHistoryRequest* req,
                                           v1::ListFundingHistoryResponse* resp) {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    auto in = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!in.ok()) return Done(ctx, ToGrpc(in.status()));
    if (req->from_time_ns() < 0 || req->to_time_ns() < 0 ||
        (req->to_time_ns() != 0 && req->to_time_ns() < req->from_time_ns())) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                              "from_time_ns/to_time_ns: non-negative, to after from"));
    }
    if (req->limit() < 0 || req->limit() > 1000) {
      return Done(ctx, Status(StatusCode::INVALID_ARGUMENT, "limit must be 0..1000"));
    }
    FundingHistoryQuery q{in->symbol, req->from_time_ns(), req->to_time_ns(),
                          req->limit() == 0 ? 100 : req->limit()};
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListFundingHistory");
    gw_.adapter(in->venue)->ListFundingHistory(
        q, [once, resp, q](absl::StatusOr<std::vector<Funding>> rows) {
          if (!rows.ok()) return (void)once->Finish(ToGrpc(rows.status()));
          if (!once->Claim()) return;  // the deadline answered first: resp is gone
          // The contract for every venue, enforced once here: inside the range, oldest first,
          // the newest `limit`.
          std::vector<Funding> v;
          for (auto& f : *rows) {
            if (q.from != 0 && f.as_of < q.from) continue;
            if (q.to != 0 && f.as_of > q.to) continue;
            v.push_back(std::move(f));
          }
          std::stable_sort(v.begin(), v.end(),
                           [](const Funding& a, const Funding& b) { return a.as_of < b.as_of; });
          const size_t skip = v.size() > static_cast<size_t>(q.limit) ? v.size() - q.limit : 0;
          for (size_t i = skip; i < v.size(); ++i) Fill(v[i], resp->add_rates());
          once->Finished(Status::OK);
        });
    return r;
  }

  ServerUnaryReactor* ListFunding(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                  grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListFundingRequest, v1::ListFundingResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListFundingRequest* rq,
               v1::ListFundingResponse* rs) { return DoListFunding(c, rq, rs); });
  }

  ServerUnaryReactor* DoListFunding(CallbackServerContext* ctx, const v1::ListFundingRequest* req,
                                    v1::ListFundingResponse* resp) {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    if (!req->venue().empty() && !gw_.config().venues.count(req->venue())) {
      return Done(ctx, Status(StatusCode::NOT_FOUND, "unknown venue '" + req->venue() + "'"));
    }
    for (const auto& f : gw_.bus().FundingSnapshot()) {
      if (!req->venue().empty() && f.venue != req->venue()) continue;
      if (!Named(req->symbols(), f)) continue;
      Fill(f, resp->add_rates());
    }
    return Done(ctx, Status::OK);
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamFunding(CallbackServerContext* ctx,
                                                            const grpc::ByteBuffer* raw) override {
    v1::StreamFundingRequest req;
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok())
      return new FailedStream(ToGrpc(st));
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, true); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(
        StreamKind::kFunding, gw_.config().limits.conflated_mailbox, &gw_.bus().stats());
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribeFunding(sub, std::move(keys));
    return stream;
  }

  ServerUnaryReactor* RankFundingOpportunities(CallbackServerContext* ctx,
                                               const grpc::ByteBuffer* raw,
                                               grpc::ByteBuffer* out) override {
    return RawUnary<v1::RankFundingRequest, v1::RankFundingResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::RankFundingRequest* rq,
               v1::RankFundingResponse* rs) { return DoRankFundingOpportunities(c, rq, rs); });
  }

  ServerUnaryReactor* DoRankFundingOpportunities(CallbackServerContext* ctx,
                                                 const v1::RankFundingRequest* req,
                                                 v1::RankFundingResponse* resp) {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    Decimal min_oi, min_vol;
    if (!req->min_open_interest_usd().empty()) {
      auto d = orders::ParseField(req->min_open_interest_usd(), "min_open_interest_usd", false);
      if (!d.ok()) return Done(ctx, ToGrpc(d.status()));
      min_oi = *d;
    }
    if (!req->min_volume_24h_usd().empty()) {
      auto d = orders::ParseField(req->min_volume_24h_usd(), "min_volume_24h_usd", false);
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
      if (!in_list(req->venues(), f.venue) || !Named(req->symbols(), f)) continue;
      // A minimum is only met by a known value: a venue that does not publish open interest
      // or volume is left out when one is asked for (absent is not zero, nor infinite).
      if (!req->min_open_interest_usd().empty() &&
          (!f.open_interest_usd || *f.open_interest_usd < min_oi)) {
        continue;
      }
      if (!req->min_volume_24h_usd().empty() &&
          (!f.volume_24h_usd || *f.volume_24h_usd < min_vol)) {
        continue;
      }
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
    std::sort(opps.begin(), opps.end(), [](const Opp& a, const Opp& b) { return a.net > b.net; });
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

}  // namespace

std::unique_ptr<grpc::Service> MakeFundingService(Gateway& gw) {
  return std::make_unique<FundingImpl>(gw);
}

}  // namespace perpgw::gateway::rpc
