#include "gateway/rpc/common.h"

#include <set>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "adapters/api/mutex.h"
#include "adapters/api/reason.h"

namespace perpgw::gateway::rpc {

Status ToGrpc(const absl::Status& s) {
  return GrpcStatus(s);
}

Status Err(StatusCode code, const std::string& message, std::string_view why) {
  return GrpcStatus(code, message, why);
}

Status Rich(const Status& s) {
  return WithDetails(s);
}

std::string AuthHeader(CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

namespace {
constinit perpgw::Mutex g_raw_mu;
std::unordered_map<ServerUnaryReactor*, std::function<void()>> g_raw ABSL_GUARDED_BY(g_raw_mu);
}  // namespace

void SetRawResponse(ServerUnaryReactor* r, std::function<void()> serialize) {
  perpgw::MutexLock lock(&g_raw_mu);
  g_raw[r] = std::move(serialize);
}

void FinishUnary(ServerUnaryReactor* r, const Status& s) {
  std::function<void()> serialize;
  {
    perpgw::MutexLock lock(&g_raw_mu);
    if (auto it = g_raw.find(r); it != g_raw.end()) {
      serialize = std::move(it->second);
      g_raw.erase(it);
    }
  }
  if (serialize && s.ok()) serialize();
  r->Finish(Rich(s));
}

ServerUnaryReactor* Done(CallbackServerContext* ctx, const Status& s) {
  auto* r = ctx->DefaultReactor();
  FinishUnary(r, s);
  return r;
}

std::shared_ptr<Once> WithDeadline(Gateway& gw, ServerUnaryReactor* r, const std::string& what) {
  auto once = std::make_shared<Once>(r);
  gw.timer().After(std::chrono::milliseconds(gw.config().limits.request_timeout_ms), [once, what] {
    // An order entry that timed out may have executed: its reason says so.
    once->Finish(Err(StatusCode::DEADLINE_EXCEEDED, what + ": venue did not answer in time",
                     what == "PlaceOrder" || what == "AmendOrder" ? reason::kOutcomeUnknown
                                                                  : reason::kVenueTimeout));
  });
  return once;
}

absl::Status CheckMarket(const v1::MarketRef& m) {
  if (m.venue().empty()) return absl::InvalidArgumentError("market.venue is required");
  if (m.symbol().empty()) return absl::InvalidArgumentError("market.symbol is required");
  return absl::OkStatus();
}

absl::StatusOr<std::string> AccountMarket(Gateway& gw, const std::string& account_venue,
                                          const v1::MarketRef& market) {
  if (!market.venue().empty() && market.venue() != account_venue) {
    return reason::With(
        absl::InvalidArgumentError("market.venue '" + market.venue() +
                                   "' is not the account's venue '" + account_venue + "'"),
        reason::kInvalidArgument);
  }
  if (market.symbol().empty()) return std::string();
  auto in = gw.FindInstrument(account_venue, market.symbol());
  if (!in.ok()) return in.status();
  return in->symbol;
}

absl::Status ResolveMarkets(Gateway& gw,
                            const google::protobuf::RepeatedPtrField<v1::MarketRef>& in,
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
    auto st = CheckMarket(in[i]);
    if (!st.ok()) {
      return absl::InvalidArgumentError("markets[" + std::to_string(i) +
                                        "]: " + std::string(st.message()));
    }
    auto inst = gw.FindInstrument(in[i].venue(), in[i].symbol());
    if (!inst.ok()) return inst.status();
    // Named twice (maybe in two spellings: "BTC", "BTCUSDT"): subscribed once.
    if (!seen.emplace(inst->venue, inst->symbol).second) continue;
    out->push_back({inst->venue, inst->symbol});
  }
  for (const auto& m : *out) gw.EnsureSubscribed(m.venue, m.symbol);
  return absl::OkStatus();
}

std::shared_ptr<void> StreamQuota(Gateway& gw, CallbackServerContext* ctx, Status* err) {
  absl::Status st;
  auto quota = gw.AcquireStream(gw.auth().Identity(AuthHeader(ctx)), &st);
  if (!quota) *err = ToGrpc(reason::With(st, reason::kStreamQuota));
  return quota;
}

}  // namespace perpgw::gateway::rpc
