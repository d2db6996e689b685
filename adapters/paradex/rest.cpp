// Paradex REST transport: JWT lifecycle per account, Bearer private calls, rate limiter,
// classification.
#include "adapters/paradex/rest.h"

#include <boost/asio/io_context.hpp>

#include <map>

#include "adapters/common/http_client.h"
#include "adapters/common/rest_channel.h"
#include "adapters/paradex/codec.h"

namespace perpgw::adapters::paradex {

namespace asio = boost::asio;
using common::HttpRequest;
using common::HttpResponse;

absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account) {
  const std::string where = "account " + account.id;
  auto addr = account.credentials.find("account");
  auto key = account.credentials.find("stark_private_key");
  if (addr == account.credentials.end() || addr->second.empty() ||
      key == account.credentials.end() || key->second.empty()) {
    return absl::InvalidArgumentError(
        where + ": paradex needs credentials account (the L2 address) and stark_private_key");
  }
  Credentials c;
  c.account = account.id;
  c.address = addr->second.Reveal();
  auto felt = ParseFelt(c.address);
  if (!felt.ok()) {
    return absl::InvalidArgumentError(where + ": account is not a Starknet address (0x hex)");
  }
  c.address_felt = *felt;
  auto k = StarkKey::FromPrivateHex(key->second.Reveal());
  if (!k.ok()) {
    return absl::InvalidArgumentError(where + ": stark_private_key is not a valid Stark key");
  }
  c.key = std::make_shared<StarkKey>(std::move(*k));
  auto pub = account.credentials.find("public_key");
  if (pub != account.credentials.end() && !pub->second.empty()) {
    auto want = ParseFelt(pub->second.Reveal());
    if (!want.ok() || *want != c.key->public_key()) {
      return absl::InvalidArgumentError(where +
                                        ": public_key does not match stark_private_key's");
    }
  }
  auto w = account.options.find("recv_window_ms");
  if (w != account.options.end()) {
    auto v = ParseIntOption(w->second, 10, 60000, where + ": recv_window_ms");
    if (!v.ok()) return v.status();
    c.recv_window_ms = *v;
  }
  auto cod = account.options.find("cancel_on_disconnect");
  if (cod != account.options.end()) {
    if (cod->second != "true" && cod->second != "false") {
      return absl::InvalidArgumentError(where + ": cancel_on_disconnect must be true or false");
    }
    c.cancel_on_disconnect = cod->second == "true";
  }
  return c;
}

absl::Status ValidateConfig(const VenueConfig& cfg) {
  if (auto st = CheckOptionKeys(cfg.options, {}, "venues." + cfg.name + ".options"); !st.ok()) {
    return st;
  }
  for (const auto& ac : cfg.accounts) {
    const std::string where = "accounts." + ac.id;
    if (auto st = CheckOptionKeys(ac.credentials, {"account", "stark_private_key", "public_key"},
                                  where + ".credentials");
        !st.ok()) {
      return st;
    }
    if (auto st = CheckOptionKeys(ac.options, {"recv_window_ms", "cancel_on_disconnect"},
                                  where + ".options");
        !st.ok()) {
      return st;
    }
    if (auto creds = LoadCredentials(ac); !creds.ok()) return creds.status();
  }
  return absl::OkStatus();
}

std::string WithApiPath(const std::string& url) {
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return url + "/v1";
  if (path + 1 == url.size()) return url + "v1";
  return url;
}

class ParadexRest::Impl {
 public:
  Impl(asio::io_context& ioc, const VenueConfig& cfg, const Clock& clock)
      : clock_(clock), channel_(ioc, ChannelOptions(cfg)) {
    std::string base = WithApiPath(cfg.rest_url);
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    prefix_ = path == std::string::npos ? "" : base.substr(path);
  }

  static common::RestChannel::Options ChannelOptions(const VenueConfig& cfg) {
    common::RestChannel::Options o;
    o.venue = cfg.name;
    // The channel takes the origin; the /v1 prefix is added per call.
    std::string base = WithApiPath(cfg.rest_url);
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    o.base_url = path == std::string::npos ? base : base.substr(0, path);
    o.verify_tls = cfg.tls_verify;
    // Documented: private GETs 600/min per account, orders 17250/min; public 1500/min per IP.
    // One bucket below the tightest (private GETs), with headroom.
    o.bucket = {540, 540, std::chrono::minutes(1)};
    o.rate_limit_statuses = {429};
    return o;
  }

  struct Jwt {
    std::string token;
    UnixNanos refresh_at = 0;  // 60 % of the lifetime
    UnixNanos expires_at = 0;
    bool fetching = false;
    std::vector<std::function<void(absl::StatusOr<std::string>)>> waiters;
  };

  absl::Status Init() { return channel_.Init(); }

  void Send(HttpRequest req, RequestKind kind, RestCallback cb) {
    channel_.Send(std::move(req), 1, [kind, cb = std::move(cb)](absl::StatusOr<HttpResponse> r) {
      RestResult out;
      if (!r.ok()) {
        out.error = ClassifyTransportError(std::string(r.status().message()), kind);
        return cb(std::move(out));
      }
      out.http_status = r->status;
      if (r->status >= 200 && r->status < 300) {
        out.error.http_status = r->status;
        out.error.status_code = absl::StatusCode::kOk;
      } else {
        out.error = ClassifyHttpError(r->status, r->body, kind);
      }
      out.body = std::move(r->body);
      cb(std::move(out));
    });
  }

  void Public(const std::string& target, RestCallback cb) {
    HttpRequest req;
    req.method = "GET";
    req.target = prefix_ + target;
    Send(std::move(req), RequestKind::kQuery, std::move(cb));
  }

  void FetchJwt(const Credentials& cr) {
    Jwt& j = jwts_[cr.account];
    if (j.fetching) return;
    j.fetching = true;
    auto finish = [this, account = cr.account](absl::StatusOr<std::string> token) {
      Jwt& j = jwts_[account];
      j.fetching = false;
      auto waiters = std::move(j.waiters);
      j.waiters.clear();
      for (auto& w : waiters) w(token);
    };
    if (chain_id_.empty()) {
      return finish(absl::FailedPreconditionError("paradex: chain id not loaded yet"));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const UnixNanos now = clock_.Now();
    const uint64_t ts = static_cast<uint64_t>(now / 1'000'000'000);
    auto headers = AuthHeaders(*cr.key, chain_id_, cr.address, ts, ts + 300);
    channel_.ObserveSigning(std::chrono::steady_clock::now() - t0);
    if (!headers.ok()) {
      return finish(absl::InternalError("paradex auth signing failed: " +
                                        std::string(headers.status().message())));
    }
    HttpRequest req;
    req.method = "POST";
    // POST /auth/{our public key} (what paradex-py always sends): required when the key is a
    // subkey registered to the account, and accepted for the account's own key. The signed
    // message still names the main account and the path /v1/auth.
    req.target = prefix_ + "/auth/" + cr.key->public_key().ToHex();
    for (auto& [k, v] : *headers) req.headers.emplace_back(k, v);
    Send(std::move(req), RequestKind::kQuery,
         [this, account = cr.account, now, finish](RestResult r) {
           if (!r.ok()) return finish(ToStatus(r.error));
           Codec codec;
           auto token = codec.ParseAuth(r.body);
           if (!token.ok()) return finish(token.status());
           auto exp = JwtExpiry(*token);
           Jwt& j = jwts_[account];
           j.token = *token;
           // Lifetime from our clock at the request and the token's exp (5 min on the venue);
           // refresh at 60 % of it. A token without a readable exp: 4 minutes, as paradex-py.
           const UnixNanos expires =
               exp.ok() ? *exp * 1'000'000'000 : now + int64_t{240} * 1'000'000'000;
           const UnixNanos life = std::max<UnixNanos>(expires - now, 1'000'000'000);
           j.expires_at = expires;
           j.refresh_at = now + life * 6 / 10;
           finish(*token);
         });
  }

  void EnsureJwt(const Credentials& cr, std::function<void(absl::StatusOr<std::string>)> done) {
    Jwt& j = jwts_[cr.account];
    if (!j.token.empty() && clock_.Now() < j.refresh_at) return done(j.token);
    j.waiters.push_back(std::move(done));
    FetchJwt(cr);
  }

  // A Bearer call; a 401 refreshes the token and retries once.
  void Private(const Credentials& cr, const char* method, std::string target, std::string body,
               RequestKind kind, RestCallback cb, bool retried = false) {
    EnsureJwt(cr, [this, cr, method, target, body, kind, cb = std::move(cb),
                   retried](absl::StatusOr<std::string> jwt) mutable {
      if (!jwt.ok()) {
        RestResult r;
        r.error.status_code = jwt.status().code() == absl::StatusCode::kOk
                                  ? absl::StatusCode::kUnauthenticated
                                  : jwt.status().code();
        r.error.message = "no JWT: " + std::string(jwt.status().message());
        // Nothing was sent: a query may be retried; an order never reached the venue.
        r.error.retry = RetryClass::kRetryable;
        return cb(std::move(r));
      }
      HttpRequest req;
      req.method = method;
      req.target = prefix_ + target;
      req.headers.emplace_back("Authorization", "Bearer " + *jwt);
      if (!body.empty()) {
        req.body = body;
        req.headers.emplace_back("Content-Type", "application/json");
      }
      Send(std::move(req), kind,
           [this, cr, method, target, body, kind, cb = std::move(cb), retried](RestResult r) {
             if (r.http_status == 401 && !retried) {
               jwts_[cr.account].token.clear();  // refused: fetch a new one, retry once
               return Private(cr, method, target, body, kind, cb, true);
             }
             cb(std::move(r));
           });
    });
  }

  const Clock& clock_;
  common::RestChannel channel_;
  std::string prefix_;  // "/v1"
  std::string chain_id_;
  std::map<std::string, Jwt> jwts_;  // by account id
};

ParadexRest::ParadexRest(asio::io_context& ioc, const VenueConfig& config, const Clock& clock)
    : impl_(std::make_unique<Impl>(ioc, config, clock)) {}
ParadexRest::~ParadexRest() = default;
absl::Status ParadexRest::Init() { return impl_->Init(); }
void ParadexRest::set_sink(EventSink* sink) { impl_->channel_.set_sink(sink); }
void ParadexRest::set_chain_id(std::string chain_id) { impl_->chain_id_ = std::move(chain_id); }
const std::string& ParadexRest::chain_id() const { return impl_->chain_id_; }

void ParadexRest::SystemConfig(RestCallback cb) { impl_->Public("/system/config", std::move(cb)); }
void ParadexRest::SystemState(RestCallback cb) { impl_->Public("/system/state", std::move(cb)); }
void ParadexRest::Markets(RestCallback cb) { impl_->Public("/markets", std::move(cb)); }
void ParadexRest::MarketsSummary(const std::string& market, RestCallback cb) {
  impl_->Public("/markets/summary?market=" + market, std::move(cb));
}
void ParadexRest::FundingData(const std::string& query, RestCallback cb) {
  impl_->Public("/funding/data?" + query, std::move(cb));
}
void ParadexRest::Orderbook(const std::string& market, int depth, RestCallback cb) {
  impl_->Public("/orderbook/" + market + "?depth=" + std::to_string(depth), std::move(cb));
}

std::string ParadexRest::CachedJwt(const Credentials& c) const {
  auto it = impl_->jwts_.find(c.account);
  return it == impl_->jwts_.end() ? std::string() : it->second.token;
}
void ParadexRest::EnsureJwt(const Credentials& c,
                            std::function<void(absl::StatusOr<std::string>)> done) {
  impl_->EnsureJwt(c, std::move(done));
}
void ParadexRest::InvalidateJwt(const Credentials& c) { impl_->jwts_[c.account].token.clear(); }

void ParadexRest::PlaceOrder(const Credentials& c, std::string body, RestCallback cb) {
  impl_->Private(c, "POST", "/orders", std::move(body), RequestKind::kOrderEntry, std::move(cb));
}
void ParadexRest::ModifyOrder(const Credentials& c, const std::string& order_id, std::string body,
                              RestCallback cb) {
  impl_->Private(c, "PUT", "/orders/" + order_id, std::move(body), RequestKind::kOrderEntry,
                 std::move(cb));
}
void ParadexRest::PlaceBatch(const Credentials& c, std::string body, RestCallback cb) {
  impl_->Private(c, "POST", "/orders/batch", std::move(body), RequestKind::kOrderEntry,
                 std::move(cb));
}
void ParadexRest::CancelBatch(const Credentials& c, std::string body, RestCallback cb) {
  impl_->Private(c, "DELETE", "/orders/batch", std::move(body), RequestKind::kCancel,
                 std::move(cb));
}
void ParadexRest::CancelOrder(const Credentials& c, const std::string& order_id,
                              RestCallback cb) {
  impl_->Private(c, "DELETE", "/orders/" + order_id, "", RequestKind::kCancel, std::move(cb));
}
void ParadexRest::CancelByClientId(const Credentials& c, const std::string& client_id,
                                   const std::string& market, RestCallback cb) {
  impl_->Private(c, "DELETE", "/orders/by_client_id/" + client_id + "?market=" + market, "",
                 RequestKind::kCancel, std::move(cb));
}
void ParadexRest::CancelAll(const Credentials& c, const std::string& market, RestCallback cb) {
  impl_->Private(c, "DELETE", market.empty() ? "/orders" : "/orders?market=" + market, "",
                 RequestKind::kCancel, std::move(cb));
}
void ParadexRest::GetOrder(const Credentials& c, const std::string& order_id, RestCallback cb) {
  impl_->Private(c, "GET", "/orders/" + order_id, "", RequestKind::kQuery, std::move(cb));
}
void ParadexRest::GetOrderByClientId(const Credentials& c, const std::string& client_id,
                                     RestCallback cb) {
  impl_->Private(c, "GET", "/orders/by_client_id/" + client_id, "", RequestKind::kQuery,
                 std::move(cb));
}
void ParadexRest::OpenOrders(const Credentials& c, const std::string& market, RestCallback cb) {
  impl_->Private(c, "GET", market.empty() ? "/orders" : "/orders?market=" + market, "",
                 RequestKind::kQuery, std::move(cb));
}
void ParadexRest::OrdersHistory(const Credentials& c, const std::string& query, RestCallback cb) {
  impl_->Private(c, "GET", "/orders-history?" + query, "", RequestKind::kQuery, std::move(cb));
}
void ParadexRest::Fills(const Credentials& c, const std::string& query, RestCallback cb) {
  impl_->Private(c, "GET", "/fills?" + query, "", RequestKind::kQuery, std::move(cb));
}
void ParadexRest::Positions(const Credentials& c, RestCallback cb) {
  impl_->Private(c, "GET", "/positions", "", RequestKind::kQuery, std::move(cb));
}
void ParadexRest::Balance(const Credentials& c, RestCallback cb) {
  impl_->Private(c, "GET", "/balance", "", RequestKind::kQuery, std::move(cb));
}
void ParadexRest::Account(const Credentials& c, RestCallback cb) {
  impl_->Private(c, "GET", "/account", "", RequestKind::kQuery, std::move(cb));
}
void ParadexRest::AccountMargin(const Credentials& c, const std::string& market,
                                RestCallback cb) {
  impl_->Private(c, "GET", "/account/margin?market=" + market, "", RequestKind::kQuery,
                 std::move(cb));
}
void ParadexRest::SetMargin(const Credentials& c, const std::string& market, std::string body,
                            RestCallback cb) {
  impl_->Private(c, "POST", "/account/margin/" + market, std::move(body), RequestKind::kOther,
                 std::move(cb));
}

}  // namespace perpgw::adapters::paradex
