// Aster REST endpoints, named as in the venue docs: public market data and signed (V1 HMAC or
// V3 EIP-712) trading/account calls, with a weight-driven rate limiter and error classification.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"
#include "adapters/aster/errors.h"
#include "adapters/aster/signing.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::aster {

struct RestResult {
  VenueError error;  // status_code kOk on success
  std::string body;
  bool ok() const { return error.status_code == absl::StatusCode::kOk; }
};
using RestCallback = std::function<void(RestResult)>;

enum class AuthScheme : uint8_t { kV1, kV3 };

// One account's credentials. Secrets stay in Secret / EvmSigner and never reach logs.
struct Credentials {
  std::string account;
  AuthScheme scheme = AuthScheme::kV1;
  std::string api_key;  // V1
  Secret api_secret;    // V1
  std::shared_ptr<EvmSigner> signer;  // V3 agent key
  V3Auth v3;
  std::shared_ptr<NonceSequence> nonces = std::make_shared<NonceSequence>();
};

// The account's scheme as LoadCredentials reads it: options.auth_scheme, else v3 when a
// private_key is configured, else v1 (no key parsing: cheap and pure).
AuthScheme SchemeOf(const AccountConfig& account);
// Builds credentials from config: auth_scheme v1 (api_key, api_secret) or v3 (user, signer,
// private_key). Errors name the missing key, never a value.
absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account, uint64_t chain_id);

// Everything in a venue config that only Aster reads, checked before anything starts (pure):
// venue options chain_id, recv_window_ms; account credentials api_key, api_secret, private_key;
// account options auth_scheme (v1|v3), user, signer (must be the private key's address); and
// that each account's credentials can sign. Unknown keys and unparsable numbers are errors.
absl::Status ValidateConfig(const VenueConfig& cfg);
// chain_id as configured (ValidateConfig has checked it), or mainnet's.
uint64_t ConfiguredChainId(const VenueConfig& cfg);
// recv_window_ms as configured (ValidateConfig has checked it), or the default.
int64_t ConfiguredRecvWindowMs(const VenueConfig& cfg);
// bbo_source: "book" (the default: no <symbol>@bookTicker stream; the gateway derives the BBO
// from the depth book, so it moves with the book's 100 ms diffs) or "ticker" (the venue's
// real-time bookTicker stream, one frame per top-of-book change: lower BBO latency, more CPU).
bool ConfiguredBboFromBook(const VenueConfig& cfg);

class AsterRest {
 public:
  AsterRest(boost::asio::io_context& ioc, const VenueConfig& config, const Clock& clock);
  ~AsterRest();
  absl::Status Init();  // parses the base URL and creates the HTTP client
  void set_sink(EventSink* sink);
  // Server time minus local time (V1 timestamps); refreshed after -1021.
  void set_time_offset_ms(int64_t offset);
  int64_t time_offset_ms() const;
  // recvWindow sent with V1 signed calls (option recv_window_ms, default 5000, 1..60000).
  int64_t recv_window_ms() const;

  // Public market data (no auth).
  void Time(RestCallback cb);
  void ExchangeInfo(RestCallback cb);
  void FundingInfo(RestCallback cb);
  void Depth(const std::string& venue_symbol, int limit, RestCallback cb);
  void PremiumIndex(RestCallback cb);  // all symbols
  void Ticker24hr(RestCallback cb);    // all symbols (weight 40)
  void OpenInterest(const std::string& venue_symbol, RestCallback cb);
  // GET /fapi/v1/fundingRate; `params` percent-encoded (symbol, [startTime], [endTime], limit).
  void FundingRate(const std::string& params, RestCallback cb);

  // Signed trading/account calls; `params` are percent-encoded business parameters.
  void NewOrder(const Credentials& c, const std::string& params, RestCallback cb);
  void QueryOrder(const Credentials& c, const std::string& params, RestCallback cb);
  void CancelOrder(const Credentials& c, const std::string& params, RestCallback cb);
  // PUT /fapi/v3/order (modify in place): V3 accounts only — aster.md §9 and the venue's V1
  // docs have no modify endpoint; a V1 account gets FAILED_PRECONDITION without a request.
  // Order entry: a timeout or 5xx is an unknown outcome.
  void ModifyOrder(const Credentials& c, const std::string& params, RestCallback cb);
  // POST /fapi/v1|v3/batchOrders (batchOrders = JSON list of at most 5 orders; weight 5). The
  // answer is an array of order objects and {code,msg} entries in request order. Order entry: a
  // timeout or 5xx is an unknown outcome for every order of the batch.
  void BatchOrders(const Credentials& c, const std::string& params, RestCallback cb);
  // DELETE /fapi/v1|v3/batchOrders (symbol + orderIdList or origClientOrderIdList, at most 10;
  // weight 1): an array of order objects and {code,msg} entries in request order.
  void BatchCancel(const Credentials& c, const std::string& params, RestCallback cb);
  void CancelAllOpenOrders(const Credentials& c, const std::string& params, RestCallback cb);
  void OpenOrders(const Credentials& c, const std::string& params, RestCallback cb);
  void PositionRisk(const Credentials& c, RestCallback cb);
  void Balance(const Credentials& c, RestCallback cb);
  void Account(const Credentials& c, RestCallback cb);
  void LeverageBracket(const Credentials& c, const std::string& params, RestCallback cb);
  void Leverage(const Credentials& c, const std::string& params, RestCallback cb);
  void UserTrades(const Credentials& c, const std::string& params, RestCallback cb);
  // GET /fapi/v1/income (symbol, incomeType, startTime, endTime, limit <= 1000; weight 30).
  void Income(const Credentials& c, const std::string& params, RestCallback cb);
  void ListenKeyCreate(const Credentials& c, RestCallback cb);
  void ListenKeyKeepAlive(const Credentials& c, RestCallback cb);

  class Impl;  // opaque; public only so the .cpp's helpers can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::aster
