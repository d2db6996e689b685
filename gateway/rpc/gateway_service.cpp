// perpgw.v1.GatewayService and InstrumentService: venues, version, instruments.
#include "gateway/rpc/common.h"

#include "gateway/convert.h"
#include "perpgw/v1/gateway.grpc.pb.h"

namespace perpgw::gateway::rpc {
namespace {

using GatewayBase = v1::GatewayService::WithRawCallbackMethod_ListVenues<
    v1::GatewayService::WithRawCallbackMethod_GetVersion<v1::GatewayService::Service>>;

class GatewayImpl final : public GatewayBase {
 public:
  explicit GatewayImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* ListVenues(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                 grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListVenuesRequest, v1::ListVenuesResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListVenuesRequest* rq,
               v1::ListVenuesResponse* rs) { return DoListVenues(c, rq, rs); });
  }

  ServerUnaryReactor* DoListVenues(CallbackServerContext* ctx, const v1::ListVenuesRequest*,
                                   v1::ListVenuesResponse* resp) {
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

  ServerUnaryReactor* GetVersion(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                 grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetVersionRequest, v1::GetVersionResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetVersionRequest* rq,
               v1::GetVersionResponse* rs) { return DoGetVersion(c, rq, rs); });
  }

  ServerUnaryReactor* DoGetVersion(CallbackServerContext* ctx, const v1::GetVersionRequest*,
                                   v1::GetVersionResponse* resp) {
    resp->set_version(PERPGW_VERSION);
    resp->set_build(__DATE__ " " __TIME__);
    resp->set_start_time_ns(gw_.start_time());
    resp->set_epoch(gw_.bus().epoch());
    return Done(ctx, Status::OK);
  }

 private:
  Gateway& gw_;
};

using InstrumentBase = v1::InstrumentService::WithRawCallbackMethod_ListInstruments<
    v1::InstrumentService::WithRawCallbackMethod_GetInstrument<v1::InstrumentService::Service>>;

class InstrumentImpl final : public InstrumentBase {
 public:
  explicit InstrumentImpl(Gateway& gw) : gw_(gw) {}

  ServerUnaryReactor* ListInstruments(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                      grpc::ByteBuffer* out) override {
    return RawUnary<v1::ListInstrumentsRequest, v1::ListInstrumentsResponse>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::ListInstrumentsRequest* rq,
               v1::ListInstrumentsResponse* rs) { return DoListInstruments(c, rq, rs); });
  }

  ServerUnaryReactor* DoListInstruments(CallbackServerContext* ctx,
                                        const v1::ListInstrumentsRequest* req,
                                        v1::ListInstrumentsResponse* resp) {
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

  ServerUnaryReactor* GetInstrument(CallbackServerContext* ctx, const grpc::ByteBuffer* raw,
                                    grpc::ByteBuffer* out) override {
    return RawUnary<v1::GetInstrumentRequest, v1::Instrument>(
        ctx, raw, out,
        [this](CallbackServerContext* c, const v1::GetInstrumentRequest* rq, v1::Instrument* rs) {
          return DoGetInstrument(c, rq, rs);
        });
  }

  ServerUnaryReactor* DoGetInstrument(CallbackServerContext* ctx,
                                      const v1::GetInstrumentRequest* req, v1::Instrument* resp) {
    if (auto st = gw_.auth().CheckRead(AuthHeader(ctx)); !st.ok()) return Done(ctx, ToGrpc(st));
    auto in = gw_.FindInstrument(req->market().venue(), req->market().symbol());
    if (!in.ok()) return Done(ctx, ToGrpc(in.status()));
    Fill(*in, resp);
    return Done(ctx, Status::OK);
  }

 private:
  Gateway& gw_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeGatewayService(Gateway& gw) {
  return std::make_unique<GatewayImpl>(gw);
}

std::unique_ptr<grpc::Service> MakeInstrumentService(Gateway& gw) {
  return std::make_unique<InstrumentImpl>(gw);
}

}  // namespace perpgw::gateway::rpc
