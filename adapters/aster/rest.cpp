// Aster REST transport: paths per auth scheme, signing, rate limiting, classification.
#include "adapters/aster/rest.h"

#include <cctype>
#include <cstdint>

#include <boost/asio/io_context.hpp>

#include "adapters/aster/codec.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rest_channel.h"

namespace perpgw::adapters::aster {

namespace asio = boost::asio;
using common::HttpRequest;
using common::HttpResponse;

AuthScheme SchemeOf(const AccountConfig& account) {
  auto it = account.options.find("auth_scheme");
  if (it != account.options.end() && !it->second.empty()) {
    return it->second == "v3" ? AuthScheme::kV3 : AuthScheme::kV1;
  }
  return account.credentials.count("private_key") ? AuthScheme::kV3 : AuthScheme::kV1;
}

absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account, uint64_t chain_id) {
  Credentials c;
  c.account = account.id;
  auto opt = [&](const char* k) -> std::string {
    auto it = account.options.find(k);
    return it == account.options.end() ? "" : it->second;
  };
  auto secret = [&](const char* k) -> const Secret* {
    auto it = account.credentials.find(k);
    return it == account.credentials.end() ? nullptr : &it->second;
  };
  std::string scheme = opt("auth_scheme");
  if (scheme.empty()) scheme = secret("private_key") ? "v3" : "v1";
  if (scheme == "v1") {
    c.scheme = AuthScheme::kV1;
    const Secret* key = secret("api_key");
    const Secret* sec = secret("api_secret");
    if (!key || key->empty() || !sec || sec->empty()) {
      return absl::InvalidArgumentError("account " + account.id +
                                        ": auth_scheme v1 needs credentials api_key and api_secret");
    }
    c.api_key = key->Reveal();
    c.api_secret = *sec;
  } else if (scheme == "v3") {
    c.scheme = AuthScheme::kV3;
    const Secret* pk = secret("private_key");
    if (!pk || pk->empty()) {
      return absl::InvalidArgumentError("account " + account.id +
                                        ": auth_scheme v3 needs credentials private_key");
    }
    auto signer = EvmSigner::FromPrivateKeyHex(pk->Reveal());
    if (!signer.ok()) {
      return absl::InvalidArgumentError("account " + account.id + ": private_key is not a valid "
                                        "secp256k1 key");
    }
    c.signer = std::make_shared<EvmSigner>(std::move(*signer));
    c.v3.signer = c.signer->address();
    c.v3.user = opt("user").empty() ? c.v3.signer : opt("user");
    c.v3.chain_id = chain_id;
  } else {
    return absl::InvalidArgumentError("account " + account.id +
                                      ": options.auth_scheme must be v1 or v3");
  }
  return c;
}

uint64_t ConfiguredChainId(const VenueConfig& cfg) {
  auto it = cfg.options.find("chain_id");
  if (it == cfg.options.end()) return kMainnetChainId;
  auto v = ParseIntOption(it->second, 1, INT64_MAX, "chain_id");
  return v.ok() ? static_cast<uint64_t>(*v) : kMainnetChainId;
}

bool ConfiguredBboFromBook(const VenueConfig& cfg) {
  auto it = cfg.options.find("bbo_source");
  return it == cfg.options.end() || it->second != "ticker";  // checked at config load
}

int64_t ConfiguredRecvWindowMs(const VenueConfig& cfg) {
  auto it = cfg.options.find("recv_window_ms");
  if (it == cfg.options.end()) return kDefaultRecvWindowMs;
  auto v = ParseIntOption(it->second, 1, 60000, "recv_window_ms");  // checked at config load
  return v.ok() ? *v : kDefaultRecvWindowMs;
}

absl::Status ValidateConfig(const VenueConfig& cfg) {
  const std::string venue = "venues." + cfg.name + ".options";
  if (auto st = CheckOptionKeys(cfg.options, {"chain_id", "recv_window_ms", "bbo_source"}, venue);
      !st.ok()) {
    return st;
  }
  if (auto it = cfg.options.find("bbo_source"); it != cfg.options.end()) {
    if (it->second != "book" && it->second != "ticker") {
      return absl::InvalidArgumentError(venue + ".bbo_source: must be book or ticker, got '" +
                                        it->second + "'");
    }
  }
  if (auto it = cfg.options.find("chain_id"); it != cfg.options.end()) {
    if (auto v = ParseIntOption(it->second, 1, INT64_MAX, venue + ".chain_id"); !v.ok()) {
      return v.status();
    }
  }
  if (auto it = cfg.options.find("recv_window_ms"); it != cfg.options.end()) {
    if (auto v = ParseIntOption(it->second, 1, 60000, venue + ".recv_window_ms"); !v.ok()) {
      return v.status();
    }
  }
  for (const auto& ac : cfg.accounts) {
    const std::string where = "accounts." + ac.id;
    if (auto st = CheckOptionKeys(ac.credentials, {"api_key", "api_secret", "private_key"},
                                  where + ".credentials");
        !st.ok()) {
      return st;
    }
    if (auto st = CheckOptionKeys(ac.options, {"auth_scheme", "user", "signer"}, where + ".options");
        !st.ok()) {
      return st;
    }
    auto creds = LoadCredentials(ac, ConfiguredChainId(cfg));
    if (!creds.ok()) return creds.status();
    for (const char* k : {"user", "signer"}) {
      auto it = ac.options.find(k);
      if (it == ac.options.end()) continue;
      const std::string& a = it->second;
      bool hex = a.size() == 42 && a[0] == '0' && (a[1] == 'x' || a[1] == 'X');
      for (size_t i = 2; hex && i < a.size(); ++i) hex = std::isxdigit(static_cast<unsigned char>(a[i]));
      if (!hex) {
        return absl::InvalidArgumentError(where + ".options." + k +
                                          ": must be a 0x-prefixed 20-byte hex address");
      }
    }
    if (auto it = ac.options.find("signer"); it != ac.options.end()) {
      if (creds->scheme != AuthScheme::kV3) {
        return absl::InvalidArgumentError(where + ".options.signer: only for auth_scheme v3");
      }
      std::string want = it->second, got = creds->v3.signer;
      for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto& c : got) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (want != got) {
        return absl::InvalidArgumentError(where + ".options.signer: " + it->second +
                                          " is not the address of credentials.private_key (" +
                                          creds->v3.signer + ")");
      }
    }
  }
  return absl::OkStatus();
}

class AsterRest::Impl {
 public:
  Impl(asio::io_context& ioc, const VenueConfig& cfg, const Clock& clock)
      : clock_(clock),
        recv_window_ms_(ConfiguredRecvWindowMs(cfg)),
        channel_(ioc, ChannelOptions(cfg)) {}

  static common::RestChannel::Options ChannelOptions(const VenueConfig& cfg) {
    common::RestChannel::Options o;
    o.venue = cfg.name;
    o.base_url = cfg.rest_url;
    o.verify_tls = cfg.tls_verify;
    // Documented REQUEST_WEIGHT limit: 2400 per minute per IP. Keep 10% headroom.
    o.bucket = {2160, 2160, std::chrono::minutes(1)};
    // The venue's own count wins over ours (other clients on this IP).
    o.used_weight_header = "X-MBX-USED-WEIGHT-1M";
    o.rate_limit_statuses = {429, 418};  // 418: IP banned after ignoring 429s
    return o;
  }

  struct Call {
    HttpRequest req;
    int weight = 1;
    RequestKind kind = RequestKind::kQuery;
    RestCallback cb;
  };

  absl::Status Init() { return channel_.Init(); }

  void Send(std::shared_ptr<Call> call) {
    channel_.Send(std::move(call->req), call->weight,
                  [kind = call->kind, cb = std::move(call->cb)](absl::StatusOr<HttpResponse> r) {
                    RestResult out;
                    if (!r.ok()) {
                      const bool timed_out = r.status().code() == absl::StatusCode::kDeadlineExceeded;
                      out.error = ClassifyTransportError(std::string(r.status().message()),
                                                         timed_out, kind);
                      return cb(std::move(out));
                    }
                    out.error = ClassifyResponse(r->status, r->body, kind);
                    out.body = std::move(r->body);
                    cb(std::move(out));
                  });
  }

  const Clock& clock_;
  const int64_t recv_window_ms_;  // V1 signing (parsed once)
  int64_t time_offset_ms_ = 0;
  common::RestChannel channel_;
};

AsterRest::AsterRest(asio::io_context& ioc, const VenueConfig& config, const Clock& clock)
    : impl_(std::make_unique<Impl>(ioc, config, clock)) {}
AsterRest::~AsterRest() = default;

absl::Status AsterRest::Init() { return impl_->Init(); }
void AsterRest::set_sink(EventSink* sink) { impl_->channel_.set_sink(sink); }
void AsterRest::set_time_offset_ms(int64_t offset) { impl_->time_offset_ms_ = offset; }
int64_t AsterRest::time_offset_ms() const { return impl_->time_offset_ms_; }
int64_t AsterRest::recv_window_ms() const {
  return impl_->recv_window_ms_;
}

namespace {

std::shared_ptr<AsterRest::Impl::Call> MakeCall(const char* method, std::string target, int weight,
                                                RequestKind kind, RestCallback cb) {
  auto c = std::make_shared<AsterRest::Impl::Call>();
  c->req.method = method;
  c->req.target = std::move(target);
  c->weight = weight;
  c->kind = kind;
  c->cb = std::move(cb);
  return c;
}

std::string WithQuery(const char* path, const std::string& query) {
  return query.empty() ? std::string(path) : std::string(path) + "?" + query;
}

}  // namespace

void AsterRest::Time(RestCallback cb) {
  impl_->Send(MakeCall("GET", "/fapi/v1/time", 1, RequestKind::kQuery, std::move(cb)));
}
void AsterRest::ExchangeInfo(RestCallback cb) {
  impl_->Send(MakeCall("GET", "/fapi/v1/exchangeInfo", 1, RequestKind::kQuery, std::move(cb)));
}
void AsterRest::FundingInfo(RestCallback cb) {
  impl_->Send(MakeCall("GET", "/fapi/v1/fundingInfo", 1, RequestKind::kQuery, std::move(cb)));
}
void AsterRest::Depth(const std::string& venue_symbol, int limit, RestCallback cb) {
  int weight = limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
  std::string q = QueryBuilder().Add("symbol", venue_symbol).Add("limit", limit).Build();
  impl_->Send(MakeCall("GET", WithQuery("/fapi/v1/depth", q), weight, RequestKind::kQuery,
                       std::move(cb)));
}
void AsterRest::PremiumIndex(RestCallback cb) {
  impl_->Send(MakeCall("GET", "/fapi/v1/premiumIndex", 1, RequestKind::kQuery, std::move(cb)));
}
void AsterRest::Ticker24hr(RestCallback cb) {
  impl_->Send(MakeCall("GET", "/fapi/v1/ticker/24hr", 40, RequestKind::kQuery, std::move(cb)));
}
void AsterRest::OpenInterest(const std::string& venue_symbol, RestCallback cb) {
  std::string q = QueryBuilder().Add("symbol", venue_symbol).Build();
  impl_->Send(MakeCall("GET", WithQuery("/fapi/v1/openInterest", q), 1, RequestKind::kQuery,
                       std::move(cb)));
}
void AsterRest::FundingRate(const std::string& params, RestCallback cb) {
  impl_->Send(MakeCall("GET", WithQuery("/fapi/v1/fundingRate", params), 1, RequestKind::kQuery,
                       std::move(cb)));
}

// Signed call: V1 adds timestamp/recvWindow + HMAC signature and the API-key header; V3 adds
// nonce/user/signer + EIP-712 signature. GET sends it in the query, others in a form body.
static void SignedCall(AsterRest::Impl& impl, const Credentials& c, const char* method,
                       const char* v1_path, const char* v3_path, const std::string& params,
                       int weight, RequestKind kind, RestCallback cb) {
  absl::StatusOr<std::string> signed_params;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t now_ms = impl.clock_.Now() / 1000000;
  if (c.scheme == AuthScheme::kV1) {
    signed_params = SignV1Params(c.api_secret.Reveal(), params, now_ms + impl.time_offset_ms_,
                                 impl.recv_window_ms_);
  } else {
    const uint64_t nonce = c.nonces->Next(static_cast<uint64_t>(impl.clock_.Now() / 1000));
    signed_params = SignV3Params(*c.signer, c.v3, params, nonce);
  }
  impl.channel_.ObserveSigning(std::chrono::steady_clock::now() - t0);
  if (!signed_params.ok()) {
    RestResult r;
    r.error.status_code = absl::StatusCode::kInternal;
    r.error.message = "signing failed: " + std::string(signed_params.status().message());
    r.error.retry = RetryClass::kNotRetryable;
    cb(std::move(r));
    return;
  }
  const char* path = c.scheme == AuthScheme::kV1 ? v1_path : v3_path;
  auto call = MakeCall(method, path, weight, kind, std::move(cb));
  if (std::string_view(method) == "GET") {
    call->req.target = WithQuery(path, *signed_params);
  } else {
    call->req.body = std::move(*signed_params);
    call->req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  if (c.scheme == AuthScheme::kV1) call->req.headers.emplace_back(kApiKeyHeader, c.api_key);
  impl.Send(std::move(call));
}

void AsterRest::NewOrder(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "POST", "/fapi/v1/order", "/fapi/v3/order", params, 1,
             RequestKind::kOrderEntry, std::move(cb));
}
void AsterRest::QueryOrder(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v1/order", "/fapi/v3/order", params, 1, RequestKind::kQuery,
             std::move(cb));
}
void AsterRest::CancelOrder(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "DELETE", "/fapi/v1/order", "/fapi/v3/order", params, 1,
             RequestKind::kCancel, std::move(cb));
}
void AsterRest::ModifyOrder(const Credentials& c, const std::string& params, RestCallback cb) {
  if (c.scheme != AuthScheme::kV3) {
    RestResult r;
    r.error.status_code = absl::StatusCode::kFailedPrecondition;
    r.error.retry = RetryClass::kNotRetryable;
    r.error.message = "order modify exists on V3 accounts only (PUT /fapi/v3/order)";
    return cb(std::move(r));
  }
  SignedCall(*impl_, c, "PUT", "/fapi/v3/order", "/fapi/v3/order", params, 1,
             RequestKind::kOrderEntry, std::move(cb));
}
void AsterRest::BatchOrders(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "POST", "/fapi/v1/batchOrders", "/fapi/v3/batchOrders", params, 5,
             RequestKind::kOrderEntry, std::move(cb));
}
void AsterRest::BatchCancel(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "DELETE", "/fapi/v1/batchOrders", "/fapi/v3/batchOrders", params, 1,
             RequestKind::kCancel, std::move(cb));
}
void AsterRest::CancelAllOpenOrders(const Credentials& c, const std::string& params,
                                    RestCallback cb) {
  SignedCall(*impl_, c, "DELETE", "/fapi/v1/allOpenOrders", "/fapi/v3/allOpenOrders", params, 1,
             RequestKind::kCancel, std::move(cb));
}
void AsterRest::OpenOrders(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v1/openOrders", "/fapi/v3/openOrders", params,
             params.empty() ? 40 : 1, RequestKind::kQuery, std::move(cb));
}
void AsterRest::PositionRisk(const Credentials& c, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v2/positionRisk", "/fapi/v3/positionRisk", "", 5,
             RequestKind::kQuery, std::move(cb));
}
void AsterRest::Balance(const Credentials& c, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v2/balance", "/fapi/v3/balance", "", 5, RequestKind::kQuery,
             std::move(cb));
}
void AsterRest::Account(const Credentials& c, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v4/account", "/fapi/v3/account", "", 5, RequestKind::kQuery,
             std::move(cb));
}
void AsterRest::LeverageBracket(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v1/leverageBracket", "/fapi/v3/leverageBracket", params, 1,
             RequestKind::kQuery, std::move(cb));
}
void AsterRest::Leverage(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "POST", "/fapi/v1/leverage", "/fapi/v3/leverage", params, 1,
             RequestKind::kQuery, std::move(cb));
}
void AsterRest::UserTrades(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v1/userTrades", "/fapi/v3/userTrades", params, 5,
             RequestKind::kQuery, std::move(cb));
}
void AsterRest::Income(const Credentials& c, const std::string& params, RestCallback cb) {
  SignedCall(*impl_, c, "GET", "/fapi/v1/income", "/fapi/v3/income", params, 30,
             RequestKind::kQuery, std::move(cb));
}

void AsterRest::ListenKeyCreate(const Credentials& c, RestCallback cb) {
  if (c.scheme == AuthScheme::kV3) {
    SignedCall(*impl_, c, "POST", "/fapi/v3/listenKey", "/fapi/v3/listenKey", "", 1,
               RequestKind::kQuery, std::move(cb));
    return;
  }
  // V1: API-key header only, no parameters, no signature.
  auto call = MakeCall("POST", "/fapi/v1/listenKey", 1, RequestKind::kQuery, std::move(cb));
  call->req.headers.emplace_back(kApiKeyHeader, c.api_key);
  impl_->Send(std::move(call));
}

void AsterRest::ListenKeyKeepAlive(const Credentials& c, RestCallback cb) {
  if (c.scheme == AuthScheme::kV3) {
    SignedCall(*impl_, c, "PUT", "/fapi/v3/listenKey", "/fapi/v3/listenKey", "", 1,
               RequestKind::kQuery, std::move(cb));
    return;
  }
  auto call = MakeCall("PUT", "/fapi/v1/listenKey", 1, RequestKind::kQuery, std::move(cb));
  call->req.headers.emplace_back(kApiKeyHeader, c.api_key);
  impl_->Send(std::move(call));
}

}  // namespace perpgw::adapters::aster
