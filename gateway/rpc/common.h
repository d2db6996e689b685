// Shared pieces of the perpgw.v1 services (gateway/rpc/): status mapping, unary deadlines
// (claim-then-write), stream reactors over the fan-out's mailboxes, request parsing, market
// resolution and per-token stream quotas. One file per service next to this one.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/api/reason.h"
#include "gateway/fanout/bus.h"
#include "gateway/gateway.h"
#include "gateway/grpc_status.h"
#include "perpgw/v1/common.pb.h"

namespace perpgw::gateway::rpc {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using grpc::Status;
using grpc::StatusCode;

// Every non-OK status leaves with google.rpc.ErrorInfo (reason from adapters/api/reason.h, the
// venue's code and message in metadata) and RetryInfo where a retry makes sense, in the
// "grpc-status-details-bin" trailer. ToGrpc reads the reason payloads of an absl::Status; Err
// names the reason of a status made here; Rich gives a bare grpc::Status its code's default
// reason (FinishUnary and the stream finishes call it, so nothing leaves without details).
Status ToGrpc(const absl::Status& s);
Status Err(StatusCode code, const std::string& message, std::string_view why);
Status Rich(const Status& s);

// Every unary call ends here (Done, Once): a raw call's registered response is serialized
// first when the status is OK (see RawUnary), then the reactor finishes.
void FinishUnary(ServerUnaryReactor* r, const Status& s);
// Registers what FinishUnary serializes for `r` (the call's response holder lives in it).
void SetRawResponse(ServerUnaryReactor* r, std::function<void()> serialize);
// The raw "authorization" metadata value ("" when absent).
std::string AuthHeader(CallbackServerContext* ctx);
// Finishes a unary call at once with `s`.
ServerUnaryReactor* Done(CallbackServerContext* ctx, const Status& s);

// Finishes a unary reactor exactly once: the venue's answer or the deadline, whichever is first.
// The response message lives in the call's arena, which gRPC frees once the call finished: a
// venue answer must Claim() BEFORE it writes the response (a late answer after the deadline
// then writes nothing), and end with Finished().
// One answer, given exactly once: Claim() before writing the response, then Finished(). Once
// answers a unary call; a batch (PlaceOrders, CancelOrders) gives each of its items one.
class Answer {
 public:
  virtual ~Answer() = default;
  bool Finish(const Status& s) {
    if (!Claim()) return false;
    Finished(s);
    return true;
  }
  [[nodiscard]] virtual bool Claim() = 0;
  virtual void Finished(const Status& s) = 0;
  // An order answered here may join a venue batch (PlaceOrders): the batch id the adapter gave
  // (VenueAdapter::OpenBatch), 0 for none; Dispatched() once the order was handed over.
  virtual uint64_t BatchFor(const VenueAdapter* /*adapter*/) const { return 0; }
  virtual void Dispatched() {}
};

class Once final : public Answer {
 public:
  explicit Once(ServerUnaryReactor* r) : r_(r) {}
  [[nodiscard]] bool Claim() override { return !done_.exchange(true); }
  void Finished(const Status& s) override { FinishUnary(r_, s); }

 private:
  ServerUnaryReactor* r_;
  std::atomic<bool> done_{false};
};

// A Once whose deadline (limits.request_timeout_ms) answers DEADLINE_EXCEEDED naming `what`.
std::shared_ptr<Once> WithDeadline(Gateway& gw, ServerUnaryReactor* r, const std::string& what);

absl::Status CheckMarket(const v1::MarketRef& m);

// An account call's market (issue 19: one request shape): `market` in any spelling → the
// ticker; "" when none is named. market.venue, when given, must be the account's venue.
absl::StatusOr<std::string> AccountMarket(Gateway& gw, const std::string& account_venue,
                                          const v1::MarketRef& market);

template <typename Req>
bool ParseRaw(const grpc::ByteBuffer* raw, Req* out) {
  grpc::ByteBuffer copy(*raw);
  return grpc::SerializationTraits<Req>::Deserialize(&copy, out).ok();
}

// A unary method registered raw. gRPC's typed callback handler answers a request that does not
// parse with UNIMPLEMENTED and an empty message before any code of ours runs; here it is
// INVALID_ARGUMENT naming the message type. `body` is the typed implementation, unchanged: it
// gets a request and a response that live until the call finishes, and the response is
// serialized into `out` when it finishes OK.
template <typename Req, typename Resp, typename Body>
ServerUnaryReactor* RawUnary(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                             grpc::ByteBuffer* out, Body&& body) {
  auto call = std::make_shared<std::pair<Req, Resp>>();
  if (!ParseRaw(raw, &call->first)) {
    return Done(
        ctx, Status(StatusCode::INVALID_ARGUMENT,
                    "the request is not a valid " + Req::descriptor()->full_name() + " message"));
  }
  SetRawResponse(ctx->DefaultReactor(), [call, out] {
    bool own = false;
    (void)grpc::SerializationTraits<Resp>::Serialize(call->second, out, &own);
  });
  return body(ctx, &call->first, &call->second);
}

// Validates a list of markets: at most limits.max_markets_per_stream entries, each (venue,
// symbol) once, known venue, enabled, known symbol. Subscribes them at the venue.
absl::Status ResolveMarkets(Gateway& gw,
                            const google::protobuf::RepeatedPtrField<v1::MarketRef>& in,
                            std::vector<MarketKey>* out, bool allow_empty);

// The calling token's place among its open streams (limits.max_streams_per_token); null with
// `err` set when it has none left.
std::shared_ptr<void> StreamQuota(Gateway& gw, CallbackServerContext* ctx, Status* err);

// ------------------------------------------------------------------ streams

class RawStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // `quota`: this stream's place in its token's stream count, released when the call is done.
  // The response headers go out once the bus registered the stream (Subscriber::Live); the
  // subscriber never overlaps them with a write or a Finish, so `ctx` is not touched
  // concurrently.
  RawStream(CallbackServerContext* ctx, SubscriberPtr sub, std::shared_ptr<void> quota)
      : sub_(std::move(sub)), quota_(std::move(quota)) {
    sub_->Bind(
        [this](const grpc::ByteBuffer* m, bool more) {
          grpc::WriteOptions wo;
          if (more) wo.set_buffer_hint();
          StartWrite(m, wo);
        },
        [this](const Status& s) { Finish(Rich(s)); },
        [this, ctx](const Subscriber::Headers& headers, bool alone) {
          for (const auto& [k, v] : headers) ctx->AddInitialMetadata(k, v);
          if (alone) StartSendInitialMetadata();
        });
  }
  void OnSendInitialMetadataDone(bool ok) override { sub_->OnWriteDone(ok); }
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
  explicit FailedStream(const Status& s) { Finish(Rich(s)); }
  void OnDone() override { delete this; }
};

// The services (one file each).
std::unique_ptr<grpc::Service> MakeGatewayService(Gateway& gw);
std::unique_ptr<grpc::Service> MakeInstrumentService(Gateway& gw);
std::unique_ptr<grpc::Service> MakeMarketDataService(Gateway& gw);
std::unique_ptr<grpc::Service> MakeFundingService(Gateway& gw);
std::unique_ptr<grpc::Service> MakeTradingService(Gateway& gw);
std::unique_ptr<grpc::Service> MakeAccountService(Gateway& gw);
std::unique_ptr<grpc::Service> MakeRiskService(Gateway& gw);

}  // namespace perpgw::gateway::rpc
