// Lighter module: default catalogue and test accounts, API keys and nonces, timers, endpoints,
// faults and injected error bodies. REST lives in rest.cpp, transactions and auth tokens in
// tx.cpp, account payloads in account.cpp, WebSocket and event fan-out in ws.cpp.
#include "sim/lighter/module.h"

#include <cctype>
#include <chrono>

namespace perpgw::sim::lighter {
namespace {

namespace lt = perpgw::adapters::lighter;

InstrumentSpec Spec(const char* symbol, int64_t market_id, const char* tick, const char* step,
                    const char* min_qty, const char* mid, int max_leverage) {
  InstrumentSpec s;
  s.symbol = symbol;  // the venue's `symbol` is the bare base asset
  s.base = symbol;
  s.quote = "USDC";
  s.tick = tick;  // 10^-price_decimals
  s.step = step;  // 10^-size_decimals
  s.min_qty = min_qty;
  s.min_notional = "10";  // min_quote_amount
  s.mid = mid;
  s.funding_rate = "0.00001";    // per hour
  s.funding_interval_hours = 1;  // settled every hour on the hour
  s.max_leverage = max_leverage;
  s.market_id = market_id;
  return s;
}

AccountSpec Account(const char* id, const char* account_index, const char* api_key_index,
                    const char* key) {
  AccountSpec a{id, "USDC", "100000", "0", "0.0002", {}};
  a.credentials["account_index"] = account_index;
  a.credentials["api_key_index"] = api_key_index;
  a.credentials["api_private_key"] = key;
  auto k = lt::PrivateKey::FromHex(key);
  a.credentials["public_key"] = k.ok() ? k->PublicKeyHex() : "";
  return a;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool IsL1Address(const std::string& s) {
  if (s.size() != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  for (size_t i = 2; i < s.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool ParseIndex(const std::string& s, int64_t max, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

}  // namespace

std::string L1AddressOf(int64_t account_index) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (uint64_t k = 0; out.size() < 42; ++k) {
    uint64_t v = SplitMix64(static_cast<uint64_t>(account_index) * 3 + k + 0x4c31);
    for (int b = 0; b < 16 && out.size() < 42; ++b, v >>= 4) out += kHex[v & 15];
  }
  return out;
}

LighterModule::LighterModule() = default;
LighterModule::~LighterModule() = default;

std::unique_ptr<VenueModule> MakeModule() {
  return std::make_unique<LighterModule>();
}

std::vector<InstrumentSpec> LighterModule::DefaultInstruments() const {
  // Market indexes as on the venue (ETH 0, BTC 1, SOL 2); decimals like its listings.
  return {
      Spec("ETH", 0, "0.01", "0.0001", "0.005", "3420.96", 50),
      Spec("BTC", 1, "0.1", "0.00001", "0.0002", "97250.0", 50),
      Spec("SOL", 2, "0.001", "0.001", "0.05", "182.366", 20),
  };
}

// The one table of synthetic per-market activity. Illustrative sizes, not the venue's figures:
// the spec's order_book_details.json (itself illustrative) gives the scale for ETH
// (daily_quote_token_volume 830M USDC, open_interest 95000.1234 ETH at 3327.46 = 316M USDC) and
// its ratio for every market: open interest (one side) ~0.38 of a day's volume. Markets from a
// config (not listed here) get 5M USDC a day.
MarketBaseline BaselineFor(const SimInstrument& in) {
  const std::string& base = in.spec.base;
  int64_t usd = 5'000'000;
  if (base == "ETH") {
    usd = 830'000'000;
  } else if (base == "BTC") {
    usd = 1'100'000'000;
  } else if (base == "SOL") {
    usd = 150'000'000;
  }
  MarketBaseline b;
  b.daily_volume = usd * int64_t{100'000'000};
  b.oi_usd = b.daily_volume / 100 * 38;
  return b;
}

std::vector<AccountSpec> LighterModule::DefaultAccounts() const {
  return {Account(kAccount1, kAccountIndex1, kApiKeyIndex1, kApiKey1),
          Account(kAccount2, kAccountIndex2, kApiKeyIndex2, kApiKey2)};
}

void LighterModule::Attach(SimContext& ctx) {
  ctx_ = &ctx;
  const Market& m = ctx.market();
  markets_.resize(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    markets_[i].last_price = m.mid(i);
    markets_[i].last_id = m.update_id(i);
    markets_[i].created_at = IsoUtc(ctx.Now());  // every market is listed when the sim starts
    // Ten past hourly settlements (at the current rate and mid) so GET fundings has history
    // from the start, as the other venues' modules do.
    const int64_t next_s = ctx.NextFundingTime(i) / 1'000'000'000;
    for (int k = 10; k >= 1; --k) {
      markets_[i].fundings.push_back({next_s - k * 3600, m.funding_rate(i), m.mid(i)});
    }
  }
  // One registered key per (account_index, api_key_index): the credentials' public_key, else
  // the one derived from api_private_key. Accounts without usable credentials cannot trade.
  // Two accounts naming one account_index trade as the first of them (one engine account).
  for (const AccountSpec& a : ctx.accounts()) {
    auto cred = [&](const char* k) {
      auto it = a.credentials.find(k);
      return it == a.credentials.end() ? std::string() : it->second;
    };
    int64_t index = 0, key_index = 0;
    if (!ParseIndex(cred("account_index"), (int64_t{1} << 48) - 2, &index) ||
        !ParseIndex(cred("api_key_index"), 254, &key_index)) {
      continue;
    }
    std::string pub = cred("public_key");
    if (pub.empty()) {
      auto k = lt::PrivateKey::FromHex(cred("api_private_key"));
      if (!k.ok()) continue;
      pub = k->PublicKeyHex();
    }
    auto key = lt::PublicKey::FromHex(pub);
    if (!key.ok()) continue;
    account_by_index_.emplace(index, a.id);
    // The L1 address: the credential when it is a well-formed one, else the derived one.
    std::string l1 = cred("l1_address");
    if (!IsL1Address(l1)) l1 = L1AddressOf(index);
    for (char& c : l1) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    l1_by_index_.emplace(index, l1);
    ApiKey& k = keys_[{index, static_cast<int>(key_index)}];
    k.account_id = account_by_index_.at(index);
    k.account_index = index;
    k.api_key_index = static_cast<int>(key_index);
    k.public_key_hex = key->Hex();
    k.key = key->WithPrecomputation();
    k.nonce = 0;
  }
  using std::chrono::milliseconds;
  ctx.loop().RunEvery(milliseconds(kBookFlushMs), [this] { FlushBooks(); });
  ctx.loop().RunEvery(milliseconds(1000), [this] { PushStats(); });
  ctx.loop().RunEvery(milliseconds(1000), [this] { CloseIdle(); });
  ctx.loop().RunEvery(milliseconds(200), [this] { Housekeeping(); });
}

void LighterModule::DescribeEndpoints(VenueEndpoints& out) const {
  out.urls["rest"] = out.rest_url + "/api/v1";
  out.urls["ws"] = out.ws_url + "/stream";
  out.extra["markets"] = "market index = the instrument's market_id (ETH 0, BTC 1, SOL 2)";
  out.extra["chain_id"] = std::to_string(chain_id_);
  out.extra["auth"] =
      "auth token <deadline_s>:<account_index>:<api_key_index>:<sig hex>, deadline <= now + 8 h; "
      "REST header Authorization (or ?auth=), WS subscribe field auth";
  out.extra["transactions"] =
      "sendTx / sendTxBatch (<= 50) / WS jsonapi/sendtx / jsonapi/sendtxbatch (<= 15): tx types "
      "14 create, 15 cancel, 16 cancel all, 17 modify, 20 update leverage, 28 grouped orders, "
      "29 update margin; nonces per "
      "(account_index, api_key_index) from 0";
  // Not a credential: the gateway's config refuses unknown credential keys, and clients pass
  // the endpoints file's credentials through.
  std::string l1;
  for (const auto& [index, address] : l1_by_index_) {
    if (!l1.empty()) l1 += ", ";
    l1 += std::to_string(index) + " " + address;
  }
  out.extra["l1_addresses"] =
      "account_index L1 address (GET account?by=l1_address, accountsByL1Address): " + l1;
}

int64_t LighterModule::NowMs() const {
  return ctx_->Now() / 1'000'000;
}

const SimInstrument* LighterModule::ByMarketId(int64_t id) const {
  const Market& m = ctx_->market();
  for (size_t i = 0; i < m.size(); ++i) {
    if (m.instrument(i).spec.market_id == id) return &m.instrument(i);
  }
  return nullptr;
}

LighterModule::ApiKey* LighterModule::FindKey(int64_t account_index, int api_key_index) {
  auto it = keys_.find({account_index, api_key_index});
  return it == keys_.end() ? nullptr : &it->second;
}

const std::string* LighterModule::AccountIdOf(int64_t account_index) const {
  auto it = account_by_index_.find(account_index);
  return it == account_by_index_.end() ? nullptr : &it->second;
}

const std::string& LighterModule::L1Of(int64_t account_index) const {
  static const std::string kZero = "0x0000000000000000000000000000000000000000";
  auto it = l1_by_index_.find(account_index);
  return it == l1_by_index_.end() ? kZero : it->second;
}

int64_t LighterModule::AccountIndexOf(std::string_view account_id) const {
  for (const auto& [index, id] : account_by_index_) {
    if (id == account_id) return index;
  }
  return -1;
}

void LighterModule::HandleHttp(const HttpRequest& req, HttpResponse& resp) {
  Route(req, resp);
}

void LighterModule::Housekeeping() {
  PushCandles();
  const int64_t now = NowMs();
  Engine& e = ctx_->engine();
  // GTT expiry: open orders whose OrderExpiry passed end canceled-expired.
  std::vector<std::pair<std::string, uint64_t>> expired;
  for (const auto& [index, id] : account_by_index_) {
    for (const SimOrder* o : e.OpenOrders(id)) {
      auto m = meta_.find(o->id);
      if (m != meta_.end() && m->second.order_expiry > 0 && m->second.order_expiry <= now) {
        expired.emplace_back(id, o->id);
      }
    }
  }
  for (const auto& [account, id] : expired) {
    meta_[id].status_override = "canceled-expired";
    (void)e.Cancel(account, id);
  }
  // Scheduled cancel-all (dead-man switch) whose time came.
  for (auto it = scheduled_.begin(); it != scheduled_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    if (const std::string* account = AccountIdOf(it->first)) (void)e.CancelAll(*account);
    it = scheduled_.erase(it);
  }
}

bool LighterModule::OnFault(const FaultRequest& fault, FaultResult& result) {
  if (fault.kind == "idle_timeout") {
    // The venue closes connections that send nothing for 2 minutes; tests shorten it.
    int64_t ms = fault.GetInt("ms", -1);
    if (ms <= 0) {
      result.error = "idle_timeout needs ms > 0";
      return true;
    }
    idle_close_ms_ = ms;
    result.affected = 1;
    return true;
  }
  if (fault.kind == "sequencer_reject") {
    // The next `count` accepted txs answer 200 with their hash but never execute (tx status 0);
    // their nonces are not consumed.
    int64_t n = fault.GetInt("count", 1);
    if (n <= 0 || n > 1'000'000) {
      result.error = "sequencer_reject needs count in [1, 1000000]";
      return true;
    }
    sequencer_rejects_ = static_cast<int>(n);
    result.affected = static_cast<int>(n);
    return true;
  }
  if (fault.kind == "nonce_jump") {
    // Another process used the key: the sequencer's next nonce moves by `by`.
    const int64_t a = fault.GetInt("account_index", -1);
    const int64_t k = fault.GetInt("api_key_index", -1);
    const int64_t by = fault.GetInt("by", 1);
    ApiKey* key = k < 0 || k > 254 ? nullptr : FindKey(a, static_cast<int>(k));
    if (key == nullptr) {
      result.error = "nonce_jump needs the account_index and api_key_index of a registered key";
      return true;
    }
    if (by == 0 || key->nonce + by < 0) {
      result.error = "nonce_jump needs by != 0 that keeps the nonce >= 0";
      return true;
    }
    key->nonce += by;
    result.affected = 1;
    return true;
  }
  if (fault.kind == "chain_id") {
    const int64_t id = fault.GetInt("chain_id", -1);
    if (id != lt::kMainnetChainId && id != lt::kTestnetChainId) {
      result.error = "chain_id needs chain_id 304 (mainnet) or 300 (testnet)";
      return true;
    }
    chain_id_ = static_cast<uint32_t>(id);
    result.affected = 1;
    return true;
  }
  return false;
}

void LighterModule::FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) {
  (void)req;
  const char* msg = status == 429   ? "Too Many Requests"
                    : status == 405 ? "Not Allowed"
                    : status >= 500 ? "internal server error"
                                    : "invalid request";
  JsonWriter w;
  w.BeginObject().Field("code", status).Field("message", msg).EndObject();
  resp.Json(status, w.Take());
}

std::string LighterModule::VenueOrderId(uint64_t engine_id) const {
  auto it = meta_.find(engine_id);
  if (it != meta_.end()) return std::to_string(it->second.order_index);
  return std::to_string(kOrderIndexBase + static_cast<int64_t>(engine_id));
}

}  // namespace perpgw::sim::lighter
