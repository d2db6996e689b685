// perpgw.v1.MarketDataService: books (cached or from the venue), BBO, trades.
#include "gateway/rpc/common.h"

#include "gateway/convert.h"
#include "perpgw/v1/market_data.grpc.pb.h"

namespace perpgw::gateway::rpc {
namespace {

using MarketDataBase = v1::MarketDataService::WithRawCallbackMethod_GetOrderBook<
    v1::MarketDataService::WithRawCallbackMethod_StreamOrderBooks<
        v1::MarketDataService::WithRawCallbackMethod_StreamOrderBookBatches<
            v1::MarketDataService::WithRawCallbackMethod_StreamBbo<
                v1::MarketDataService::WithRawCallbackMethod_StreamTrades<
                    v1::MarketDataService::Service>>>>>;

class MarketDataImpl final : public MarketDataBase {
 public:
  explicit MarketDataImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* GetOrderBook(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                   grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetOrderBookRequest, v1::OrderBook>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetOrderBookRequest* rq, v1::OrderBook* rs) {
          return DoGetOrderBook(c, rq, rs);
        });
  }

  ServerUnaryReactor* DoGetOrderBook(CallbackServerContext* ctx, const v1::GetOrderBookRequest* req,
                                     v1::OrderBook* resp) {
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
          ->FetchBook(in->symbol, depth, [once, resp](absl::StatusOr<BookUpdate> b) {
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
    gw_.EnsureSubscribed(in->venue, in->symbol);
    gw_.bus().GetBook({in->venue, in->symbol}, depth,
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
    return OpenBooks(ctx, raw, 0);
  }

  // The same stream, each write carrying every update queued for it (OrderBookBatch).
  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamOrderBookBatches(
      CallbackServerContext* ctx, const grpc::ByteBuffer* raw) override {
    return OpenBooks(ctx, raw, kMaxBatchUpdates);
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamBbo(CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* raw) override {
    v1::StreamBboRequest req;
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok())
      return new FailedStream(ToGrpc(st));
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, false); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kBbo, gw_.config().limits.conflated_mailbox,
                                            &gw_.bus().stats());
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribeBbo(sub, std::move(keys));
    return stream;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamTrades(CallbackServerContext* ctx,
                                                           const grpc::ByteBuffer* raw) override {
    v1::StreamTradesRequest req;
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok())
      return new FailedStream(ToGrpc(st));
    std::vector<MarketKey> keys;
    if (auto st = ResolveMarkets(gw_, req.markets(), &keys, false); !st.ok()) {
      return new FailedStream(ToGrpc(st));
    }
    auto sub = std::make_shared<Subscriber>(StreamKind::kTrades, gw_.config().limits.book_mailbox,
                                            &gw_.bus().stats());
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribeTrades(sub, std::move(keys));
    return stream;
  }

 private:
  // A batch carries at most this many updates (and about Subscriber::kMaxBatchBytes).
  static constexpr size_t kMaxBatchUpdates = 512;

  // StreamOrderBooks (batch 0: one update a message) and StreamOrderBookBatches.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* OpenBooks(CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* raw, size_t batch) {
    v1::StreamOrderBooksRequest req;
    if (!ParseRaw(raw, &req))
      return new FailedStream(Status(StatusCode::INVALID_ARGUMENT, "bad request"));
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok())
      return new FailedStream(ToGrpc(st));
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
    sub->set_batch(batch);
    Status qerr;
    auto quota = StreamQuota(gw_, ctx, &qerr);
    if (!quota) return new FailedStream(qerr);
    auto* stream = new RawStream(ctx, sub, std::move(quota));
    gw_.bus().SubscribeBooks(sub, std::move(keys), req.depth());
    return stream;
  }

  Gateway& gw_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeMarketDataService(Gateway& gw) {
  return std::make_unique<MarketDataImpl>(gw);
}

}  // namespace perpgw::gateway::rpc
