// Backpack REST transport: Ed25519 headers, JSON bodies, 2000 req/min limiter, classification.
#include "adapters/backpack/rest.h"

#include <boost/asio/io_context.hpp>

#include "adapters/backpack/codec.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rest_channel.h"

namespace perpgw::adapters::backpack {

namespace asio = boost::asio;
using common::HttpRequest;
using common::HttpResponse;

absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account) {
  auto it = account.credentials.find("api_secret");
  if (it == account.credentials.end() || it->second.empty()) {
    return absl::InvalidArgumentError("account " + account.id +
                                      ": backpack needs credentials api_secret (base64 seed)");
  }
  auto signer = Signer::FromSecretBase64(it->second.Reveal());
  if (!signer.ok()) {
    return absl::InvalidArgumentError("account " + account.id +
                                      ": api_secret is not a valid base64 Ed25519 seed");
  }
  Credentials c;
  c.account = account.id;
  c.signer = std::make_shared<Signer>(std::move(*signer));
  auto key = account.credentials.find("api_key");
  if (key != account.credentials.end() && !key->second.empty() &&
      key->second.Reveal() != c.signer->api_key()) {
    return absl::InvalidArgumentError("account " + account.id +
                                      ": api_key does not match the public key of api_secret");
  }
  auto w = account.options.find("window_ms");
  if (w != account.options.end()) {
    auto v = ParseIntOption(w->second, 1, kMaxWindowMs, "account " + account.id + ": window_ms");
    if (!v.ok()) return v.status();
    c.window_ms = *v;
  }
  return c;
}

absl::Status ValidateConfig(const VenueConfig& cfg) {
  if (auto st = CheckOptionKeys(cfg.options, {}, "venues." + cfg.name + ".options"); !st.ok()) {
    return st;
  }
  for (const auto& ac : cfg.accounts) {
    const std::string where = "accounts." + ac.id;
    if (auto st = CheckOptionKeys(ac.credentials, {"api_key", "api_secret"}, where + ".credentials");
        !st.ok()) {
      return st;
    }
    if (auto st = CheckOptionKeys(ac.options, {"window_ms"}, where + ".options"); !st.ok()) {
      return st;
    }
    if (auto creds = LoadCredentials(ac); !creds.ok()) return creds.status();
  }
  return absl::OkStatus();
}

class BackpackRest::Impl {
 public:
  Impl(asio::io_context& ioc, const VenueConfig& cfg, const Clock& clock)
      : clock_(clock), channel_(ioc, ChannelOptions(cfg)) {}

  static common::RestChannel::Options ChannelOptions(const VenueConfig& cfg) {
    common::RestChannel::Options o;
    o.venue = cfg.name;
    o.base_url = cfg.rest_url;
    o.verify_tls = cfg.tls_verify;
    // Documented: 2000 requests/minute per subaccount; keep 10% headroom.
    o.bucket = {1800, 1800, std::chrono::minutes(1)};
    o.rate_limit_statuses = {429};
    return o;
  }

  struct Call {
    HttpRequest req;
    RequestKind kind = RequestKind::kQuery;
    RestCallback cb;
  };

  absl::Status Init() { return channel_.Init(); }

  void Send(std::shared_ptr<Call> call) {
    channel_.Send(std::move(call->req), 1,
                  [kind = call->kind, cb = std::move(call->cb)](absl::StatusOr<HttpResponse> r) {
                    RestResult out;
                    if (!r.ok()) {
                      out.error = ClassifyTransportError(std::string(r.status().message()), kind);
                      return cb(std::move(out));
                    }
                    out.http_status = r->status;
                    if (r->status == 200 || r->status == 204) {
                      out.error.http_status = r->status;
                      out.error.status_code = absl::StatusCode::kOk;
                    } else {
                      // 202 on order entry included: accepted but not yet executed = unknown.
                      out.error = ClassifyHttpError(r->status, r->body, kind);
                    }
                    out.body = std::move(r->body);
                    cb(std::move(out));
                  });
  }

  void Public(const std::string& target, RestCallback cb) {
    auto c = std::make_shared<Call>();
    c->req.method = "GET";
    c->req.target = target;
    c->cb = std::move(cb);
    Send(std::move(c));
  }

  void Signed(const Credentials& cr, const char* method, const char* path, const char* instruction,
              std::string body, std::vector<SignParam> params, RequestKind kind, RestCallback cb) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t ts = clock_.Now() / 1000000;
    auto auth = cr.signer->Sign(instruction, params, ts, cr.window_ms);
    channel_.ObserveSigning(std::chrono::steady_clock::now() - t0);
    SendSigned(std::move(auth), method, path, std::move(body), std::move(params), kind,
               std::move(cb));
  }

  // A batch body (JSON array): one signing segment per item (backpack.md section 9).
  void SignedBatch(const Credentials& cr, const char* path, const char* instruction,
                   std::string body, std::vector<std::vector<SignParam>> items, RequestKind kind,
                   RestCallback cb) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t ts = clock_.Now() / 1000000;
    auto auth = cr.signer->SignBatch(instruction, std::move(items), ts, cr.window_ms);
    channel_.ObserveSigning(std::chrono::steady_clock::now() - t0);
    SendSigned(std::move(auth), "POST", path, std::move(body), {}, kind, std::move(cb));
  }

  void SendSigned(absl::StatusOr<AuthHeaders> auth, const char* method, const char* path,
                  std::string body, std::vector<SignParam> params, RequestKind kind,
                  RestCallback cb) {
    if (!auth.ok()) {
      RestResult r;
      r.error.status_code = absl::StatusCode::kInternal;
      r.error.message = "signing failed: " + std::string(auth.status().message());
      return cb(std::move(r));
    }
    auto c = std::make_shared<Call>();
    c->req.method = method;
    c->kind = kind;
    c->cb = std::move(cb);
    if (std::string_view(method) == "GET") {
      std::string q = EncodeQueryString(std::move(params));
      c->req.target = q.empty() ? std::string(path) : std::string(path) + "?" + q;
    } else {
      c->req.target = path;
      c->req.body = std::move(body);
      c->req.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    }
    c->req.headers.emplace_back(std::string(kHeaderApiKey), auth->api_key);
    c->req.headers.emplace_back(std::string(kHeaderSignature), auth->signature);
    c->req.headers.emplace_back(std::string(kHeaderTimestamp), auth->timestamp);
    c->req.headers.emplace_back(std::string(kHeaderWindow), auth->window);
    Send(std::move(c));
  }

  const Clock& clock_;
  common::RestChannel channel_;
};

BackpackRest::BackpackRest(asio::io_context& ioc, const VenueConfig& config, const Clock& clock)
    : impl_(std::make_unique<Impl>(ioc, config, clock)) {}
BackpackRest::~BackpackRest() = default;
absl::Status BackpackRest::Init() { return impl_->Init(); }
void BackpackRest::set_sink(EventSink* sink) { impl_->channel_.set_sink(sink); }

void BackpackRest::Markets(RestCallback cb) {
  impl_->Public("/api/v1/markets?marketType=PERP", std::move(cb));
}
void BackpackRest::Depth(const std::string& symbol, int limit, RestCallback cb) {
  impl_->Public("/api/v1/depth?" + EncodeQueryString({{"symbol", symbol},
                                                       {"limit", std::to_string(limit)}}),
                std::move(cb));
}
void BackpackRest::MarkPrices(RestCallback cb) { impl_->Public("/api/v1/markPrices", std::move(cb)); }
void BackpackRest::Tickers(RestCallback cb) { impl_->Public("/api/v1/tickers", std::move(cb)); }
void BackpackRest::OpenInterest(RestCallback cb) {
  impl_->Public("/api/v1/openInterest", std::move(cb));
}
void BackpackRest::FundingRates(const std::string& symbol, int limit, int64_t offset,
                                RestCallback cb) {
  impl_->Public("/api/v1/fundingRates?" +
                    EncodeQueryString({{"symbol", symbol},
                                       {"limit", std::to_string(limit)},
                                       {"offset", std::to_string(offset)}}),
                std::move(cb));
}

void BackpackRest::OrderExecute(const Credentials& c, std::string body,
                                std::vector<SignParam> params, RestCallback cb) {
  impl_->Signed(c, "POST", "/api/v1/order", "orderExecute", std::move(body), std::move(params),
                RequestKind::kOrderEntry, std::move(cb));
}
void BackpackRest::OrderExecuteBatch(const Credentials& c, std::string body,
                                     std::vector<std::vector<SignParam>> items, RestCallback cb) {
  impl_->SignedBatch(c, "/api/v1/orders", "orderExecute", std::move(body), std::move(items),
                     RequestKind::kOrderEntry, std::move(cb));
}
void BackpackRest::OrderCancel(const Credentials& c, std::string body,
                               std::vector<SignParam> params, RestCallback cb) {
  impl_->Signed(c, "DELETE", "/api/v1/order", "orderCancel", std::move(body), std::move(params),
                RequestKind::kCancel, std::move(cb));
}
void BackpackRest::OrderCancelAll(const Credentials& c, std::string body,
                                  std::vector<SignParam> params, RestCallback cb) {
  impl_->Signed(c, "DELETE", "/api/v1/orders", "orderCancelAll", std::move(body),
                std::move(params), RequestKind::kCancel, std::move(cb));
}
void BackpackRest::OrderQuery(const Credentials& c, std::vector<SignParam> params,
                              RestCallback cb) {
  impl_->Signed(c, "GET", "/api/v1/order", "orderQuery", "", std::move(params),
                RequestKind::kQuery, std::move(cb));
}
void BackpackRest::OrderQueryAll(const Credentials& c, std::vector<SignParam> params,
                                 RestCallback cb) {
  impl_->Signed(c, "GET", "/api/v1/orders", "orderQueryAll", "", std::move(params),
                RequestKind::kQuery, std::move(cb));
}
void BackpackRest::OrderHistoryQueryAll(const Credentials& c, std::vector<SignParam> params,
                                        RestCallback cb) {
  impl_->Signed(c, "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll", "",
                std::move(params), RequestKind::kQuery, std::move(cb));
}
void BackpackRest::FillHistoryQueryAll(const Credentials& c, std::vector<SignParam> params,
                                       RestCallback cb) {
  impl_->Signed(c, "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", "", std::move(params),
                RequestKind::kQuery, std::move(cb));
}
void BackpackRest::PositionQuery(const Credentials& c, RestCallback cb) {
  impl_->Signed(c, "GET", "/api/v1/position", "positionQuery", "", {}, RequestKind::kQuery,
                std::move(cb));
}
void BackpackRest::CollateralQuery(const Credentials& c, RestCallback cb) {
  impl_->Signed(c, "GET", "/api/v1/capital/collateral", "collateralQuery", "", {},
                RequestKind::kQuery, std::move(cb));
}
void BackpackRest::AccountQuery(const Credentials& c, RestCallback cb) {
  impl_->Signed(c, "GET", "/api/v1/account", "accountQuery", "", {}, RequestKind::kQuery,
                std::move(cb));
}
void BackpackRest::AccountUpdate(const Credentials& c, std::string body,
                                 std::vector<SignParam> params, RestCallback cb) {
  impl_->Signed(c, "PATCH", "/api/v1/account", "accountUpdate", std::move(body),
                std::move(params), RequestKind::kQuery, std::move(cb));
}

}  // namespace perpgw::adapters::backpack
