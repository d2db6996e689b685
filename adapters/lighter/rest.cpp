// Lighter REST transport: credentials and options, the tier's rate limit, auth tokens, answer
// classification.
#include "adapters/lighter/rest.h"

#include <boost/asio/io_context.hpp>

#include <map>

#include "adapters/common/http_client.h"
#include "adapters/common/rest_channel.h"
#include "adapters/common/url.h"
#include "adapters/lighter/codec.h"

namespace perpgw::adapters::lighter {

namespace asio = boost::asio;
using common::HttpRequest;
using common::HttpResponse;

namespace {

constexpr int64_t kAuthTokenLifetimeS = 3600;  // the web signer's 1 h (the venue caps ~8 h)
constexpr int64_t kAuthTokenRefreshS = 600;    // re-minted when less than 10 min remain

std::string WithPath(const std::string& url, const char* path) {
  size_t scheme = url.find("://");
  size_t p = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (p == std::string::npos) return url + path;
  if (p + 1 == url.size()) return url.substr(0, p) + path;
  return url;
}

// Documented weights (lighter.md §10); everything else weighs 300.
enum Weight : int { kWTx = 6, kWInactive = 100, kWTrades = 600, kWDefault = 300 };

}  // namespace

absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account) {
  const std::string where = "account " + account.id;
  auto get = [&](const char* k) -> const Secret* {
    auto it = account.credentials.find(k);
    return it == account.credentials.end() || it->second.empty() ? nullptr : &it->second;
  };
  const Secret* index = get("account_index");
  const Secret* key_index = get("api_key_index");
  const Secret* key = get("api_private_key");
  if (!index || !key_index || !key) {
    return absl::InvalidArgumentError(
        where + ": lighter needs credentials account_index, api_key_index and api_private_key");
  }
  Credentials c;
  c.account = account.id;
  auto ai = ParseIntOption(index->Reveal(), 0, (int64_t{1} << 48) - 1, where + ": account_index");
  if (!ai.ok()) return ai.status();
  c.account_index = *ai;
  auto ki = ParseIntOption(key_index->Reveal(), 0, 254, where + ": api_key_index");
  if (!ki.ok()) return ki.status();
  c.api_key_index = static_cast<uint8_t>(*ki);
  auto k = PrivateKey::FromHex(key->Reveal());
  if (!k.ok()) {
    // Never echo the value: only that it is not a key.
    return absl::InvalidArgumentError(where +
                                      ": api_private_key is not a Lighter API key (80 hex chars)");
  }
  if (const Secret* pub = get("public_key")) {
    auto want = PublicKey::FromHex(pub->Reveal());
    if (!want.ok() || want->bytes() != k->public_key()) {
      return absl::InvalidArgumentError(where + ": public_key does not match api_private_key's");
    }
  }
  c.key = std::make_shared<const PrivateKey>(std::move(*k));
  return c;
}

uint32_t ChainIdOf(const VenueConfig& cfg) {
  auto it = cfg.options.find("chain_id");
  return it != cfg.options.end() && it->second == "300" ? kTestnetChainId : kMainnetChainId;
}

absl::Status ValidateConfig(const VenueConfig& cfg) {
  if (auto st = CheckOptionKeys(cfg.options, {"funding_rate_hours", "chain_id", "rate_tier"},
                                cfg.name + ".options");
      !st.ok()) {
    return st;
  }
  auto bad = [&](const char* key, const char* want, const std::string& got) {
    return absl::InvalidArgumentError(cfg.name + ".options." + key + ": " + want + ", got '" +
                                      got.substr(0, 16) + "'");
  };
  if (auto it = cfg.options.find("funding_rate_hours");
      it != cfg.options.end() && it->second != "1" && it->second != "8") {
    return bad("funding_rate_hours", "1 (hourly) or 8", it->second);
  }
  if (auto it = cfg.options.find("chain_id");
      it != cfg.options.end() && it->second != "304" && it->second != "300") {
    return bad("chain_id", "304 (mainnet) or 300 (testnet)", it->second);
  }
  if (auto it = cfg.options.find("rate_tier");
      it != cfg.options.end() && it->second != "standard" && it->second != "premium") {
    return bad("rate_tier", "standard or premium", it->second);
  }
  std::map<std::pair<int64_t, int>, std::string> keys;
  for (const auto& ac : cfg.accounts) {
    const std::string where = "accounts." + ac.id;
    if (auto st = CheckOptionKeys(ac.credentials,
                                  {"account_index", "api_key_index", "api_private_key",
                                   "public_key"},
                                  where + ".credentials");
        !st.ok()) {
      return st;
    }
    if (auto st = CheckOptionKeys(ac.options, {}, where + ".options"); !st.ok()) return st;
    auto c = LoadCredentials(ac);
    if (!c.ok()) return c.status();
    // Nonces are per (account, key): two gateway accounts on one key would collide (§13.10).
    auto [it, fresh] = keys.emplace(std::make_pair(c->account_index, int{c->api_key_index}), ac.id);
    if (!fresh) {
      return absl::InvalidArgumentError(where + ": account_index " +
                                        std::to_string(c->account_index) + " api_key_index " +
                                        std::to_string(c->api_key_index) + " is already used by " +
                                        it->second + " (one signer per API key)");
    }
  }
  return absl::OkStatus();
}

std::string WithApiPath(const std::string& url) {
  return WithPath(url, "/api/v1");
}
std::string WithStreamPath(const std::string& url) {
  return WithPath(url, "/stream");
}

struct LighterRest::Impl {
  Impl(asio::io_context& ioc, const VenueConfig& cfg, const Clock& clock)
      : clock_(clock), premium_(IsPremium(cfg)), channel_(ioc, ChannelOptions(cfg)) {
    std::string base = WithApiPath(cfg.rest_url);
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    prefix_ = path == std::string::npos ? "" : base.substr(path);
  }

  static bool IsPremium(const VenueConfig& cfg) {
    auto it = cfg.options.find("rate_tier");
    return it != cfg.options.end() && it->second == "premium";
  }

  static common::RestChannel::Options ChannelOptions(const VenueConfig& cfg) {
    common::RestChannel::Options o;
    o.venue = cfg.name;
    std::string base = WithApiPath(cfg.rest_url);
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    o.base_url = path == std::string::npos ? base : base.substr(0, path);
    o.verify_tls = cfg.tls_verify;
    // Rolling minute per IP and L1 address (lighter.md §10), with headroom: standard 60
    // requests (unweighted), premium 24 000 weight. 405 is the firewall's block (~60 s).
    o.bucket = IsPremium(cfg) ? common::TokenBucket::Options{21600, 21600, std::chrono::minutes(1)}
                              : common::TokenBucket::Options{54, 54, std::chrono::minutes(1)};
    o.rate_limit_statuses = {429, 405};
    o.default_block = std::chrono::seconds(5);  // no Retry-After: 5 s, as the other venues (the firewall blocks ~60 s: a 405 again blocks again)
    return o;
  }

  void Send(HttpRequest req, int weight, RequestKind kind, RestCallback cb) {
    req.target = prefix_ + req.target;
    channel_.Send(std::move(req), premium_ ? weight : 1,
                  [cb = std::move(cb), kind](absl::StatusOr<HttpResponse> r) {
                    RestResult out;
                    if (!r.ok()) {
                      out.error = ClassifyTransportError(std::string(r.status().message()), kind);
                      return cb(std::move(out));
                    }
                    out.http_status = r->status;
                    out.error = ClassifyApiAnswer(r->status, r->body, kind);
                    out.body = std::move(r->body);
                    cb(std::move(out));
                  });
  }

  void Get(const std::string& target, int weight, RestCallback cb) {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    Send(std::move(req), weight, RequestKind::kQuery, std::move(cb));
  }

  void PrivateGet(const Credentials& c, const std::string& target, int weight, RestCallback cb) {
    auto token = AuthToken(c);
    if (!token.ok()) {
      RestResult out;
      out.error = ClassifyTransportError("auth token: " + std::string(token.status().message()),
                                         RequestKind::kQuery);
      return cb(std::move(out));
    }
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    req.headers.emplace_back("Authorization", std::move(*token));
    Send(std::move(req), weight, RequestKind::kQuery, std::move(cb));
  }

  absl::StatusOr<std::string> AuthToken(const Credentials& c) {
    const int64_t now_s = clock_.Now() / 1000000000;
    auto& t = tokens_[c.account];
    if (!t.token.empty() && t.deadline_s - now_s > kAuthTokenRefreshS) return t.token;
    const int64_t deadline = now_s + kAuthTokenLifetimeS;
    auto token = MakeAuthToken(deadline, c.account_index, c.api_key_index, *c.key);
    if (!token.ok()) return token.status();
    t.token = std::move(*token);
    t.deadline_s = deadline;
    return t.token;
  }

  struct Token {
    std::string token;
    int64_t deadline_s = 0;
  };
  const Clock& clock_;
  const bool premium_;
  common::RestChannel channel_;
  std::string prefix_;  // "/api/v1"
  std::map<std::string, Token> tokens_;  // by gateway account id
};

LighterRest::LighterRest(asio::io_context& ioc, const VenueConfig& config, const Clock& clock)
    : impl_(std::make_unique<Impl>(ioc, config, clock)) {}
LighterRest::~LighterRest() = default;
absl::Status LighterRest::Init() {
  return impl_->channel_.Init();
}
void LighterRest::set_sink(EventSink* sink) {
  impl_->channel_.set_sink(sink);
}

void LighterRest::OrderBookDetails(RestCallback cb) {
  impl_->Get("/orderBookDetails", kWDefault, std::move(cb));
}
void LighterRest::FundingRates(RestCallback cb) {
  impl_->Get("/funding-rates", kWDefault, std::move(cb));
}
void LighterRest::Fundings(const std::string& query, RestCallback cb) {
  impl_->Get("/fundings?" + query, kWDefault, std::move(cb));
}
void LighterRest::OrderBookOrders(int64_t market_index, int limit, RestCallback cb) {
  impl_->Get("/orderBookOrders?market_id=" + std::to_string(market_index) +
                 "&limit=" + std::to_string(limit),
             kWDefault, std::move(cb));
}
void LighterRest::Account(int64_t account_index, RestCallback cb) {
  impl_->Get("/account?by=index&value=" + std::to_string(account_index), kWDefault,
             std::move(cb));
}
void LighterRest::Tx(const std::string& hash, RestCallback cb) {
  impl_->Get("/tx?by=hash&value=" + hash, kWDefault, std::move(cb));
}

void LighterRest::NextNonce(const Credentials& c, RestCallback cb) {
  impl_->Get("/nextNonce?account_index=" + std::to_string(c.account_index) +
                 "&api_key_index=" + std::to_string(c.api_key_index),
             kWTx, std::move(cb));
}

void LighterRest::SendTxs(const std::vector<SignedTx>& txs, RestCallback cb) {
  HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  if (txs.size() == 1) {
    req.target = "/sendTx";
    req.body = EncodeSendTxForm(txs[0].tx_type, txs[0].tx_info);
  } else {
    std::vector<TxType> types;
    std::vector<std::string> infos;
    for (const SignedTx& t : txs) {
      types.push_back(t.tx_type);
      infos.push_back(t.tx_info);
    }
    req.target = "/sendTxBatch";
    req.body = EncodeSendTxBatchForm(types, infos);
  }
  impl_->Send(std::move(req), kWTx, RequestKind::kOrderEntry, std::move(cb));
}

void LighterRest::ActiveOrders(const Credentials& c, int64_t market_index, RestCallback cb) {
  impl_->PrivateGet(c,
                    "/accountActiveOrders?account_index=" + std::to_string(c.account_index) +
                        "&market_id=" + std::to_string(market_index),
                    kWDefault, std::move(cb));
}

void LighterRest::InactiveOrders(const Credentials& c, int64_t market_index, int limit,
                                 const std::string& cursor, RestCallback cb) {
  std::string t = "/accountInactiveOrders?account_index=" + std::to_string(c.account_index) +
                  "&limit=" + std::to_string(limit);
  if (market_index >= 0) t += "&market_id=" + std::to_string(market_index);
  if (!cursor.empty()) t += "&cursor=" + common::PercentEncode(cursor);
  impl_->PrivateGet(c, t, kWInactive, std::move(cb));
}

void LighterRest::Trades(const Credentials& c, int64_t market_index, int limit, int64_t from_ms,
                         const std::string& cursor, bool oldest_first, RestCallback cb) {
  // sort_dir: the venue's OpenAPI (ReqGetTrades) has it; lighter.md lists only sort_by, from,
  // limit. TakeFillPage refuses a page that is not in the order asked for.
  std::string t = std::string("/trades?sort_by=timestamp&sort_dir=") +
                  (oldest_first ? "asc" : "desc") + "&account_index=" +
                  std::to_string(c.account_index) + "&limit=" + std::to_string(limit);
  if (market_index >= 0) t += "&market_id=" + std::to_string(market_index);
  if (from_ms > 0) t += "&from=" + std::to_string(from_ms);
  if (!cursor.empty()) t += "&cursor=" + common::PercentEncode(cursor);
  impl_->PrivateGet(c, t, kWTrades, std::move(cb));
}

absl::StatusOr<std::string> LighterRest::AuthToken(const Credentials& c) {
  return impl_->AuthToken(c);
}

}  // namespace perpgw::adapters::lighter
