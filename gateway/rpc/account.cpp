// perpgw.v1.AccountService: balances, positions, leverage, liquidations.
#include "gateway/rpc/common.h"

#include <map>

#include "absl/base/thread_annotations.h"
#include "adapters/api/mutex.h"
#include "gateway/convert.h"
#include "gateway/orders/order_builder.h"
#include "perpgw/v1/account.grpc.pb.h"

namespace perpgw::gateway::rpc {
namespace {

using AccountBase = v1::AccountService::WithRawCallbackMethod_GetBalance<
    v1::AccountService::WithRawCallbackMethod_ListPositions<
        v1::AccountService::WithRawCallbackMethod_StreamPositions<
            v1::AccountService::WithRawCallbackMethod_GetLeverageInfo<
                v1::AccountService::WithRawCallbackMethod_SetLeverage<
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

  ServerUnaryReactor* GetBalance(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                 grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetBalanceRequest, v1::Balance>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetBalanceRequest* rq, v1::Balance* rs) {
          return DoGetBalance(c, rq, rs);
        });
  }

  ServerUnaryReactor* DoGetBalance(CallbackServerContext* ctx, const v1::GetBalanceRequest* req,
                                   v1::Balance* resp) {
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

  ServerUnaryReactor* ListPositions(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                    grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListPositionsRequest, v1::ListPositionsResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListPositionsRequest* rq,
               v1::ListPositionsResponse* rs) { return DoListPositions(c, rq, rs); });
  }

  ServerUnaryReactor* DoListPositions(CallbackServerContext* ctx,
                                      const v1::ListPositionsRequest* req,
                                      v1::ListPositionsResponse* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto market = AccountMarket(gw_, (*a)->name(), req->market());
    if (!market.ok()) return Done(ctx, ToGrpc(market.status()));
    const std::string symbol = *market;
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "ListPositions");
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

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamPositions(
      CallbackServerContext* ctx, const grpc::ByteBuffer* raw) override {
    v1::StreamPositionsRequest req;
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    auto a = Account(ctx, req.account());
    if (!a.ok()) return new FailedStream(ToGrpc(a.status()));
    auto sub = std::make_shared<Subscriber>(StreamKind::kPositions,
                                            gw_.config().limits.order_mailbox, &gw_.bus().stats());
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribePositions(sub, req.account());
    // The current positions first (each message is a position's whole state), then changes.
    // Without the venue's answer the stream still carries the changes. One venue query per
    // account at a time, shared by every stream that opened meanwhile: opening streams in a
    // loop never turns into a burst of venue calls.
    bool ask = false;
    {
      perpgw::MutexLock lock(&seed_mu_);
      auto& w = seed_waiters_[req.account()];
      ask = w.empty();
      w.push_back(sub);
    }
    if (ask) {
      (*a)->GetPositions(req.account(),
                         [this, account = req.account()](absl::StatusOr<std::vector<Position>> ps) {
                           std::vector<Position> open;
                           if (ps.ok()) {
                             for (auto& p : *ps) {
                               if (!p.size.IsZero()) open.push_back(std::move(p));
                             }
                           }
                           std::vector<SubscriberPtr> waiters;
                           {
                             perpgw::MutexLock lock(&seed_mu_);
                             waiters.swap(seed_waiters_[account]);
                           }
                           for (auto& s : waiters) gw_.bus().SeedPositions(s, account, open);
                         });
    }
    return stream;
  }

  ServerUnaryReactor* GetLeverageInfo(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                      grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetLeverageInfoRequest, v1::LeverageInfo>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetLeverageInfoRequest* rq,
               v1::LeverageInfo* rs) { return DoGetLeverageInfo(c, rq, rs); });
  }

  ServerUnaryReactor* DoGetLeverageInfo(CallbackServerContext* ctx,
                                        const v1::GetLeverageInfoRequest* req,
                                        v1::LeverageInfo* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    auto market = AccountMarket(gw_, (*a)->name(), req->market());
    if (!market.ok()) return Done(ctx, ToGrpc(market.status()));
    if (market->empty()) {
      return Done(
          ctx, Err(StatusCode::INVALID_ARGUMENT, "market is required", reason::kInvalidArgument));
    }
    auto inst = gw_.FindInstrument((*a)->name(), *market);
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "GetLeverageInfo");
    (*a)->GetLeverageInfo(req->account(), inst->symbol,
                          [once, resp](absl::StatusOr<LeverageInfo> li) {
                            if (!li.ok()) return (void)once->Finish(ToGrpc(li.status()));
                            if (!once->Claim())
                              return;  // the deadline answered first: resp is gone
                            Fill(*li, resp);
                            once->Finished(Status::OK);
                          });
    return r;
  }

  ServerUnaryReactor* SetLeverage(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                  grpc::ByteBuffer* out) override {
    return RawUnary<v1::SetLeverageRequest, v1::LeverageInfo>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::SetLeverageRequest* rq, v1::LeverageInfo* rs) {
          return DoSetLeverage(c, rq, rs);
        });
  }

  ServerUnaryReactor* DoSetLeverage(CallbackServerContext* ctx, const v1::SetLeverageRequest* req,
                                    v1::LeverageInfo* resp) {
    auto a = Account(ctx, req->account());
    if (!a.ok()) return Done(ctx, ToGrpc(a.status()));
    if (!(*a)->capabilities().set_leverage) {
      return Done(ctx, Err(StatusCode::FAILED_PRECONDITION,
                           "venue '" + (*a)->name() + "' does not support setting leverage",
                           reason::kUnsupported));
    }
    auto market = AccountMarket(gw_, (*a)->name(), req->market());
    if (!market.ok()) return Done(ctx, ToGrpc(market.status()));
    if (market->empty()) {
      return Done(
          ctx, Err(StatusCode::INVALID_ARGUMENT, "market is required", reason::kInvalidArgument));
    }
    auto inst = gw_.FindInstrument((*a)->name(), *market);
    if (!inst.ok()) return Done(ctx, ToGrpc(inst.status()));
    auto lev = orders::ParseField(req->leverage(), "leverage", true);
    if (!lev.ok()) return Done(ctx, ToGrpc(lev.status()));
    auto* r = ctx->DefaultReactor();
    auto once = WithDeadline(gw_, r, "SetLeverage");
    (*a)->SetLeverage(req->account(), inst->symbol, *lev,
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
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    auto a = Account(ctx, req.account());
    if (!a.ok()) return new FailedStream(ToGrpc(a.status()));
    if (!(*a)->capabilities().liquidation_stream) {
      return new FailedStream(Err(StatusCode::FAILED_PRECONDITION,
                                  "venue '" + (*a)->name() + "' has no liquidation stream",
                                  reason::kUnsupported));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kLiquidations,
                                            gw_.config().limits.order_mailbox, &gw_.bus().stats());
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribeLiquidations(sub, req.account());
    return stream;
  }

 private:
  perpgw::Mutex seed_mu_;
  // Position streams waiting for the account's positions (one venue query in flight each).
  std::map<std::string, std::vector<SubscriberPtr>> seed_waiters_ ABSL_GUARDED_BY(seed_mu_);
  Gateway& gw_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAccountService(Gateway& gw) {
  return std::make_unique<AccountImpl>(gw);
}

}  // namespace perpgw::gateway::rpc
