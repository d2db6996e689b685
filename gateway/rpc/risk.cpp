// perpgw.v1.RiskService (admin scope): risk limits at run time, state, and the kill switch.
#include "gateway/rpc/common.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>

#include "gateway/convert.h"
#include "gateway/orders/order_builder.h"
#include "perpgw/v1/risk.grpc.pb.h"

namespace perpgw::gateway::rpc {
namespace {

using RiskBase = v1::RiskService::WithRawCallbackMethod_GetRiskState<
    v1::RiskService::WithRawCallbackMethod_SetRiskLimits<
        v1::RiskService::WithRawCallbackMethod_EngageKillSwitch<
            v1::RiskService::WithRawCallbackMethod_ReleaseKillSwitch<v1::RiskService::Service>>>>;

void ToProto(const risk::Limits& l, v1::RiskLimits* out) {
  if (l.max_order_notional) out->set_max_order_notional(l.max_order_notional->ToNormalizedString());
  if (l.max_open_orders) out->set_max_open_orders(*l.max_open_orders);
  if (l.max_position_notional)
    out->set_max_position_notional(l.max_position_notional->ToNormalizedString());
  if (l.max_total_position_notional)
    out->set_max_total_position_notional(l.max_total_position_notional->ToNormalizedString());
  if (l.max_orders_per_second) out->set_max_orders_per_second(*l.max_orders_per_second);
  if (l.max_orders_per_minute) out->set_max_orders_per_minute(*l.max_orders_per_minute);
  if (l.max_cancels_per_second) out->set_max_cancels_per_second(*l.max_cancels_per_second);
  if (l.max_cancels_per_minute) out->set_max_cancels_per_minute(*l.max_cancels_per_minute);
  if (l.price_band_touch_bps)
    out->set_price_band_touch_bps(l.price_band_touch_bps->ToNormalizedString());
  if (l.price_band_mark_bps)
    out->set_price_band_mark_bps(l.price_band_mark_bps->ToNormalizedString());
  if (l.reduce_only) out->set_reduce_only(*l.reduce_only);
}

absl::StatusOr<risk::Limits> FromProto(const v1::RiskLimits& in) {
  risk::Limits l;
  auto dec = [](bool has, const std::string& text, const char* name,
                std::optional<Decimal>* out) -> absl::Status {
    if (!has) return absl::OkStatus();
    auto d = Decimal::Parse(text);
    if (!d.ok()) {
      return absl::InvalidArgumentError(std::string("limits.") + name +
                                        ": not a decimal number: '" + text.substr(0, 40) + "'");
    }
    *out = *d;
    return absl::OkStatus();
  };
  for (auto st : {dec(in.has_max_order_notional(), in.max_order_notional(), "max_order_notional",
                      &l.max_order_notional),
                  dec(in.has_max_position_notional(), in.max_position_notional(),
                      "max_position_notional", &l.max_position_notional),
                  dec(in.has_max_total_position_notional(), in.max_total_position_notional(),
                      "max_total_position_notional", &l.max_total_position_notional),
                  dec(in.has_price_band_touch_bps(), in.price_band_touch_bps(),
                      "price_band_touch_bps", &l.price_band_touch_bps),
                  dec(in.has_price_band_mark_bps(), in.price_band_mark_bps(), "price_band_mark_bps",
                      &l.price_band_mark_bps)}) {
    if (!st.ok()) return st;
  }
  if (in.has_max_open_orders()) l.max_open_orders = in.max_open_orders();
  if (in.has_max_orders_per_second()) l.max_orders_per_second = in.max_orders_per_second();
  if (in.has_max_orders_per_minute()) l.max_orders_per_minute = in.max_orders_per_minute();
  if (in.has_max_cancels_per_second()) l.max_cancels_per_second = in.max_cancels_per_second();
  if (in.has_max_cancels_per_minute()) l.max_cancels_per_minute = in.max_cancels_per_minute();
  if (in.has_reduce_only()) l.reduce_only = in.reduce_only();
  if (auto st = risk::Validate(l); !st.ok()) {
    return absl::InvalidArgumentError("limits." + std::string(st.message()));
  }
  return l;
}

void ToProto(const risk::KillSwitch& k, v1::KillSwitchState* out) {
  out->set_engaged(k.engaged);
  out->set_allow_reduce_only(k.allow_reduce_only);
  out->set_reason(k.reason);
  out->set_engaged_by(k.by);
  out->set_since_ns(k.since);
}

// One kill-switch run over several accounts: each account's cancel-all (and flatten) answers
// into here; the last one to finish writes the response.
struct KillRun {
  struct Flat {
    std::string venue, symbol;
    Side side = Side::kBuy;
    std::string size, cid;
    std::optional<AckOutcome> outcome;  // none: no ack (see message)
    std::string filled, message;
  };
  struct Result {
    std::string account, venue, cancel_error, flatten_error;
    int canceled = 0;
    std::vector<Flat> flats;
  };
  std::mutex mu;
  std::vector<Result> results;
  int pending = 0;
  std::shared_ptr<Once> once;
  v1::EngageKillSwitchResponse* resp = nullptr;

  // `n`: the results slot finished one piece of work.
  void Done() {
    std::vector<Result> out;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (--pending > 0) return;
      out = results;
    }
    if (!once->Claim()) return;  // the deadline answered first: resp is gone
    for (const auto& r : out) {
      auto* a = resp->add_accounts();
      a->set_account(r.account);
      a->set_venue(r.venue);
      a->set_orders_canceled(r.canceled);
      a->set_cancel_error(r.cancel_error);
      a->set_flatten_error(r.flatten_error);
      for (const auto& f : r.flats) {
        auto* fo = a->add_flatten_orders();
        fo->mutable_market()->set_venue(f.venue);
        fo->mutable_market()->set_symbol(f.symbol);
        fo->set_side(gateway::ToProto(f.side));
        fo->set_size(f.size);
        fo->set_client_order_id(f.cid);
        if (f.outcome) fo->set_outcome(gateway::ToProto(*f.outcome));
        fo->set_filled_size(f.filled);
        fo->set_message(f.message);
      }
    }
    once->Finished(Status::OK);
  }
};

class RiskImpl final : public RiskBase {
 public:
  explicit RiskImpl(Gateway& gw) : gw_(gw) {}

  absl::Status Admin(CallbackServerContext* ctx) { return gw_.auth().CheckAdmin(AuthHeader(ctx)); }

  // Every configured account, or the one named (NOT_FOUND when unknown).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Accounts(
      const std::string& account) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!account.empty()) {
      auto v = gw_.AccountVenue(account);
      if (!v.ok()) return v.status();
      out.emplace_back(account, *v);
      return out;
    }
    for (const auto& [venue, vc] : gw_.config().venues) {
      for (const auto& a : vc.accounts) out.emplace_back(a.id, venue);
    }
    return out;
  }

  ServerUnaryReactor* GetRiskState(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                   grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetRiskStateRequest, v1::GetRiskStateResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetRiskStateRequest* rq,
               v1::GetRiskStateResponse* rs) {
          if (auto st = Admin(c); !st.ok()) return Done(c, ToGrpc(st));
          auto accs = Accounts(rq->account());
          if (!accs.ok()) return Done(c, ToGrpc(accs.status()));
          risk::RiskEngine& r = gw_.risk();
          ToProto(r.DefaultLimits(), rs->mutable_default_limits());
          ToProto(r.Kill(""), rs->mutable_global_kill_switch());
          for (const auto& t : gw_.config().tokens)
            ToProto(r.TokenLimits(t.name), &(*rs->mutable_token_limits())[t.name]);
          const UnixNanos now = gw_.clock().Now();
          for (const auto& [id, venue] : *accs) {
            const risk::AccountState s = r.State(id, now);
            auto* a = rs->add_accounts();
            a->set_account(id);
            a->set_venue(venue);
            ToProto(s.limits, a->mutable_effective_limits());
            ToProto(r.AccountLimits(id), a->mutable_account_limits());
            a->set_open_orders(s.open_orders);
            a->set_in_flight_orders(s.in_flight);
            a->set_orders_last_second(s.orders_last_second);
            a->set_orders_last_minute(s.orders_last_minute);
            a->set_cancels_last_second(s.cancels_last_second);
            a->set_cancels_last_minute(s.cancels_last_minute);
            a->set_total_position_notional(s.total_position_notional.ToNormalizedString());
            for (const auto& [sym, n] : s.position_notional)
              (*a->mutable_position_notional())[sym] = n.ToNormalizedString();
            ToProto(s.kill, a->mutable_kill_switch());
            const risk::DeadMan::View dm = gw_.dead_man().Of(id);
            a->set_guarded_streams(dm.guarded_streams);
            a->set_disconnect_deadline_ns(dm.stream_deadline.value_or(0));
            for (const auto& [owner, t] : dm.heartbeat_deadlines)
              (*a->mutable_heartbeat_deadlines_ns())[owner] = t;
          }
          return Done(c, Status::OK);
        });
  }

  ServerUnaryReactor* SetRiskLimits(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                    grpc::ByteBuffer* out) override {
    return RawUnary<v1::SetRiskLimitsRequest, v1::SetRiskLimitsResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::SetRiskLimitsRequest* rq,
               v1::SetRiskLimitsResponse* rs) {
          if (auto st = Admin(c); !st.ok()) return Done(c, ToGrpc(st));
          if (!rq->account().empty() && !rq->token().empty()) {
            return Done(c, Status(StatusCode::INVALID_ARGUMENT, "give account or token, not both"));
          }
          if (!rq->account().empty()) {
            if (auto v = gw_.AccountVenue(rq->account()); !v.ok())
              return Done(c, ToGrpc(v.status()));
          }
          if (!rq->token().empty()) {
            bool known = false;
            for (const auto& t : gw_.config().tokens) known |= t.name == rq->token();
            if (!known) return Done(c, Status(StatusCode::NOT_FOUND, "unknown auth token name"));
          }
          auto l = FromProto(rq->limits());
          if (!l.ok()) return Done(c, ToGrpc(l.status()));
          spdlog::warn("risk limits of {} replaced by '{}'",
                       !rq->token().empty()    ? "token " + rq->token()
                       : rq->account().empty() ? std::string("the defaults")
                                               : rq->account(),
                       gw_.auth().Identity(AuthHeader(c)));
          if (!rq->token().empty()) {
            gw_.risk().SetTokenLimits(rq->token(), *l);
            ToProto(*l, rs->mutable_effective_limits());
          } else if (rq->account().empty()) {
            gw_.risk().SetDefaultLimits(*l);
            ToProto(*l, rs->mutable_effective_limits());
          } else {
            gw_.risk().SetAccountLimits(rq->account(), *l);
            ToProto(gw_.risk().Effective(rq->account()), rs->mutable_effective_limits());
          }
          return Done(c, Status::OK);
        });
  }

  ServerUnaryReactor* ReleaseKillSwitch(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                        grpc::ByteBuffer* out) override {
    return RawUnary<v1::ReleaseKillSwitchRequest, v1::ReleaseKillSwitchResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ReleaseKillSwitchRequest* rq,
               v1::ReleaseKillSwitchResponse* rs) {
          if (auto st = Admin(c); !st.ok()) return Done(c, ToGrpc(st));
          if (!rq->account().empty()) {
            if (auto v = gw_.AccountVenue(rq->account()); !v.ok())
              return Done(c, ToGrpc(v.status()));
          }
          rs->set_was_engaged(gw_.risk().Kill(rq->account()).engaged);
          gw_.risk().SetKill(rq->account(), risk::KillSwitch{});
          spdlog::warn("kill switch released for {} by '{}'",
                       rq->account().empty() ? std::string("all accounts") : rq->account(),
                       gw_.auth().Identity(AuthHeader(c)));
          auto st = gw_.PersistRisk();
          rs->set_persisted(st.ok());
          if (!st.ok()) {
            // Released in memory; the file still says engaged, so a restart would engage it
            // again: the safe direction. Say so.
            return Done(c, Status(StatusCode::INTERNAL,
                                  "released in memory, but the state file was not updated (a "
                                  "restart engages it again): " +
                                      std::string(st.message())));
          }
          return Done(c, Status::OK);
        });
  }

  ServerUnaryReactor* EngageKillSwitch(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                       grpc::ByteBuffer* out) override {
    return RawUnary<v1::EngageKillSwitchRequest, v1::EngageKillSwitchResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::EngageKillSwitchRequest* rq,
               v1::EngageKillSwitchResponse* rs) { return DoEngage(c, rq, rs); });
  }

  ServerUnaryReactor* DoEngage(CallbackServerContext* ctx, const v1::EngageKillSwitchRequest* rq,
                               v1::EngageKillSwitchResponse* rs) {
    if (auto st = Admin(ctx); !st.ok()) return Done(ctx, ToGrpc(st));
    auto accs = Accounts(rq->account());
    if (!accs.ok()) return Done(ctx, ToGrpc(accs.status()));
    Decimal slippage = Decimal::FromInt(100);
    if (!rq->flatten_slippage_bps().empty()) {
      auto d = Decimal::Parse(rq->flatten_slippage_bps());
      if (!d.ok() || !d->IsPositive()) {
        return Done(ctx, Status(StatusCode::INVALID_ARGUMENT,
                                "flatten_slippage_bps must be a positive decimal"));
      }
      slippage = *d;
    }
    // Block first, then cancel: an order racing the switch is refused or cancelled.
    risk::KillSwitch k;
    k.engaged = true;
    k.allow_reduce_only = rq->allow_reduce_only();
    k.reason = rq->reason().substr(0, 200);
    k.by = gw_.auth().Identity(AuthHeader(ctx));
    k.since = gw_.clock().Now();
    gw_.risk().SetKill(rq->account(), k);
    spdlog::warn("kill switch engaged for {} by '{}' ({}){}{}",
                 rq->account().empty() ? std::string("all accounts") : rq->account(), k.by,
                 k.reason, k.allow_reduce_only ? ", reduce-only allowed" : "",
                 rq->flatten() ? ", flattening" : "");
    ToProto(k, rs->mutable_state());
    rs->set_persisted(gw_.PersistRisk().ok());

    auto* r = ctx->DefaultReactor();
    auto run = std::make_shared<KillRun>();
    run->once = WithDeadline(gw_, r, "EngageKillSwitch");
    run->resp = rs;
    run->results.resize(accs->size());
    run->pending = static_cast<int>(accs->size()) + 1;  // +1: released below
    for (size_t i = 0; i < accs->size(); ++i) {
      // Copies, not structured bindings: a lambda below captures the id (clang refuses to
      // capture a structured binding before C++20 P1091).
      const std::string id = (*accs)[i].first, venue = (*accs)[i].second;
      run->results[i].account = id;
      run->results[i].venue = venue;
      VenueAdapter* a = gw_.adapter(venue);
      if (!a) {
        run->results[i].cancel_error = "venue '" + venue + "' is not enabled";
        run->Done();
        continue;
      }
      const bool flatten = rq->flatten();
      a->CancelAll(
          id, "", [this, run, i, a, id, flatten, slippage](absl::StatusOr<std::vector<Order>> res) {
            {
              std::lock_guard<std::mutex> lock(run->mu);
              if (res.ok())
                run->results[i].canceled = static_cast<int>(res->size());
              else
                run->results[i].cancel_error = std::string(res.status().message());
            }
            if (!flatten) return run->Done();
            Flatten(run, i, a, id, slippage);
          });
    }
    run->Done();
    return r;
  }

  // Closes every position of `account` with reduce-only IOC orders bounded `slippage` bps from
  // the touch (the same bounded market order as PlaceOrder). Not subject to the risk checks.
  void Flatten(std::shared_ptr<KillRun> run, size_t i, VenueAdapter* a, const std::string& id,
               Decimal slippage) {
    a->GetPositions(id, [this, run, i, a, id, slippage](absl::StatusOr<std::vector<Position>> ps) {
      if (!ps.ok()) {
        {
          std::lock_guard<std::mutex> lock(run->mu);
          run->results[i].flatten_error = std::string(ps.status().message());
        }
        return run->Done();
      }
      std::vector<Position> open;
      for (const auto& p : *ps)
        if (!p.size.IsZero()) open.push_back(p);
      {
        std::lock_guard<std::mutex> lock(run->mu);
        run->pending += static_cast<int>(open.size());
      }
      const UnixNanos now = gw_.clock().Now();
      for (size_t k = 0; k < open.size(); ++k) {
        const Position& p = open[k];
        OrderRequest o;
        o.account = id;
        o.symbol = p.symbol;
        o.client_order_id =
            "kill-" + std::to_string(now % 1000000000000LL) + "-" + std::to_string(k);
        o.side = p.size.IsPositive() ? Side::kSell : Side::kBuy;
        o.type = OrderType::kMarket;
        o.tif = TimeInForce::kIoc;
        o.size = p.size.Abs();
        o.reduce_only = true;
        o.max_slippage_bps = slippage;
        KillRun::Flat f;
        f.venue = a->name();
        f.symbol = p.symbol;
        f.side = o.side;
        f.size = o.size.ToNormalizedString();
        f.cid = o.client_order_id;
        auto record = [run, i](KillRun::Flat f) {
          {
            std::lock_guard<std::mutex> lock(run->mu);
            run->results[i].flats.push_back(std::move(f));
          }
          run->Done();
        };
        auto inst = gw_.FindInstrument(a->name(), p.symbol);
        if (!inst.ok()) {
          f.message = std::string(inst.status().message());
          record(f);
          continue;
        }
        gw_.EnsureSubscribed(a->name(), p.symbol);
        gw_.bus().GetBestPrices(
            {a->name(), p.symbol},
            [a, o, f, in = *inst, record](std::optional<Level> bid, std::optional<Level> ask,
                                          int scale, BookStatus status) mutable {
              auto ref = o.side == Side::kBuy ? ask : bid;
              if (!ref || status != BookStatus::kLive) {
                f.message = "no live book to bound the flatten order; flatten by hand";
                return record(f);
              }
              if (auto st = orders::BoundMarketOrder(Decimal::FromUnits(ref->price, scale), in, &o);
                  !st.ok()) {
                f.message = std::string(st.message());
                return record(f);
              }
              a->PlaceOrder(o, [f, record](absl::StatusOr<OrderAck> ack) mutable {
                if (!ack.ok()) {
                  f.message = std::string(ack.status().message());
                } else {
                  f.outcome = ack->outcome;
                  f.filled = ack->order.filled_size.ToNormalizedString();
                  f.message = ack->message;
                }
                record(f);
              });
            });
      }
      run->Done();
    });
  }

 private:
  Gateway& gw_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeRiskService(Gateway& gw) {
  return std::make_unique<RiskImpl>(gw);
}

}  // namespace perpgw::gateway::rpc
