// Helpers shared by the Aster module's files: request parameters, venue error bodies, request
// authentication (V1 HMAC / V3 EIP-712 verification) and the venue's number formats.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/core/candles.h"
#include "sim/core/net.h"
#include "sim/core/types.h"

namespace perpgw::sim::aster {

// Query + x-www-form-urlencoded body, decoded; the query wins on duplicates (venue rule).
struct Params {
  std::vector<std::pair<std::string, std::string>> kv;
  static Params From(const HttpRequest& req);
  const std::string* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  std::string Get(std::string_view key) const {
    const std::string* v = Find(key);
    return v ? *v : std::string();
  }
};

// A venue error: HTTP status + {"code":..,"msg":..}.
struct ApiError {
  int http = 400;
  int code = -1000;
  std::string msg;
};
void WriteError(HttpResponse& resp, const ApiError& e);
ApiError Mandatory(std::string_view param);  // -1102
// Order type names: the executing type (LIMIT / MARKET), and the venue's type of the order
// (STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET for conditional ones).
const char* ExecTypeText(const SimOrder& o);
const char* TypeText(const SimOrder& o);
// workingType as sent (CONTRACT_PRICE when not: the venue's default): what a conditional order
// triggers on (the engine's trigger_ref), echoed on every order.
const char* WorkingTypeText(const SimOrder& o);
// A trailing stop's callback rate (basis points) as the venue prints it, in percent ("0.3").
std::string CallbackRateText(int64_t bps);
// A kline interval name → core roll-up interval; nullopt for anything else. "1m" .. "3d" are
// fixed lengths from the epoch; "1w" starts Monday 00:00 UTC and "1M" the 1st 00:00 UTC (the
// Binance USD-M convention aster.md defers to: "Binance shapes"; Binance's weekly candles open on
// Mondays). The sim keeps a week of one-minute candles, so a 1M candle (and the first 1w one)
// covers only what is kept: its open is the oldest kept minute's.
std::optional<CandleInterval> KlineInterval(std::string_view interval);

// Raw received parameter strings (exactly as sent, still percent-encoded).
std::string RawQuery(const HttpRequest& req);

// Signature checks. Accounts come from the venue's AccountSpec list:
//   V1: credentials api_key / api_secret;  V3: credentials user / signer (the registered agent).
class Authenticator {
 public:
  Authenticator(const std::vector<AccountSpec>& accounts, uint64_t chain_id)
      : accounts_(accounts), chain_id_(chain_id) {}
  // API-key header only (listenKey); signed adds timestamp/recvWindow + HMAC over the raw
  // query string immediately followed by the body (signature excluded).
  const AccountSpec* VerifyV1(const HttpRequest& req, const Params& p, bool is_signed,
                              int64_t now_ms, ApiError* err);
  // nonce/user/signer + EIP-712 over the raw string minus "&signature=..."; signer must be the
  // user's agent (or the user itself); nonce within ±10 s and unused among the last 100.
  const AccountSpec* VerifyV3(const HttpRequest& req, const Params& p, int64_t now_us,
                              ApiError* err, bool approve_builder = false);
  // approve_builder: POST /fapi/v3/approveBuilder, signed over its own EIP-712 struct
  // ApproveBuilder by the user's own key (no signer param).

 private:
  const std::vector<AccountSpec>& accounts_;
  uint64_t chain_id_;
  std::map<std::string, std::set<uint64_t>> nonces_;  // lower-case user → retained nonces
};

// Number formats.
int64_t ToMs(UnixNanos t);
std::string Fixed(int64_t mantissa, int scale);  // exactly `scale` decimals ("114988.0")
std::string Money8(Money m);                      // 8 decimals ("23.72469206")
std::string Rate8(int64_t rate);                  // kRateScale → 8 decimals, half-even
std::string LowerAscii(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace perpgw::sim::aster

namespace perpgw::sim::aster {

// exchangeInfo details the core's InstrumentSpec does not carry (per default symbol; other
// symbols from a config file get derived values).
struct SymbolExtra {
  std::string name;
  int price_precision = 0;  // published pricePrecision (may exceed the tick's digits)
  int qty_precision = 0;
  std::string min_price, max_price, max_qty, market_max_qty;
  std::string max_notional;       // leverage bracket cap / maxNotionalValue
  Money daily_quote_volume = 0;   // synthetic 24 h baseline (USDT)
  int64_t onboard_ms = 1627628400000;
  std::string up = "1.0500", down = "0.9500";  // PERCENT_PRICE multipliers
};
SymbolExtra ExtraFor(const SimInstrument& in);
// Venue order status ("NEW", "EXPIRED", ...) of an engine order.
const char* OrderStatusText(const SimOrder& o);
// The venue's client order id of an engine order: the engine names its liquidation orders
// "liquidation-<id>"; the venue's are "autoclose-<id>" (REST and user stream alike).
std::string VenueClientId(const SimOrder& o);
// Decimal at an exact scale (half-even), e.g. entry price with price_scale + 4 digits.
std::string DecimalAt(Decimal d, int scale);

}  // namespace perpgw::sim::aster
