// Backpack REST endpoints, named as in the venue docs (instruction names in comments): public
// market data and Ed25519-signed account/trading calls, with a token-bucket limiter.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"
#include "adapters/backpack/errors.h"
#include "adapters/backpack/signing.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::backpack {

struct RestResult {
  int http_status = 0;
  VenueError error;  // status_code kOk on a 2xx
  std::string body;
  bool ok() const { return error.status_code == absl::StatusCode::kOk; }
};
using RestCallback = std::function<void(RestResult)>;

struct Credentials {
  std::string account;
  std::shared_ptr<Signer> signer;
  int64_t window_ms = kDefaultWindowMs;
};

// api_key (public key, optional cross-check) and api_secret (base64 seed). Errors never carry
// the secret.
absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account);

// Everything in a venue config that only Backpack reads, checked before anything starts (pure):
// no venue options; account credentials api_key, api_secret; account option window_ms; and
// that each account's credentials can sign. Unknown keys and unparsable numbers are errors.
absl::Status ValidateConfig(const VenueConfig& cfg);

class BackpackRest {
 public:
  BackpackRest(boost::asio::io_context& ioc, const VenueConfig& config, const Clock& clock);
  ~BackpackRest();
  absl::Status Init();
  void set_sink(EventSink* sink);

  // Public.
  void Markets(RestCallback cb);                                     // GET /api/v1/markets
  void Depth(const std::string& symbol, int limit, RestCallback cb);  // GET /api/v1/depth
  void MarkPrices(RestCallback cb);                                  // GET /api/v1/markPrices
  void Tickers(RestCallback cb);                                     // GET /api/v1/tickers
  void OpenInterest(RestCallback cb);                                // GET /api/v1/openInterest
  // GET /api/v1/fundingRates (newest first; limit 1..10000, offset from the newest).
  void FundingRates(const std::string& symbol, int limit, int64_t offset, RestCallback cb);

  // Signed. `params` are the sign params; bodies are JSON for POST/DELETE/PATCH.
  void OrderExecute(const Credentials& c, std::string body, std::vector<SignParam> params,
                    RestCallback cb);  // POST /api/v1/order
  // POST /api/v1/orders (batch orderExecute): `body` the JSON array, `items` each order's sign
  // params, signed as one instruction=orderExecute segment per order. Order entry: a timeout or
  // 5xx is an unknown outcome for every order of the batch.
  void OrderExecuteBatch(const Credentials& c, std::string body,
                         std::vector<std::vector<SignParam>> items, RestCallback cb);
  void OrderCancel(const Credentials& c, std::string body, std::vector<SignParam> params,
                   RestCallback cb);  // DELETE /api/v1/order
  void OrderCancelAll(const Credentials& c, std::string body, std::vector<SignParam> params,
                      RestCallback cb);  // DELETE /api/v1/orders
  void OrderQuery(const Credentials& c, std::vector<SignParam> params,
                  RestCallback cb);  // GET /api/v1/order
  void OrderQueryAll(const Credentials& c, std::vector<SignParam> params,
                     RestCallback cb);  // GET /api/v1/orders
  void OrderHistoryQueryAll(const Credentials& c, std::vector<SignParam> params,
                            RestCallback cb);  // GET /wapi/v1/history/orders
  void FillHistoryQueryAll(const Credentials& c, std::vector<SignParam> params,
                           RestCallback cb);  // GET /wapi/v1/history/fills
  void PositionQuery(const Credentials& c, RestCallback cb);   // GET /api/v1/position
  void CollateralQuery(const Credentials& c, RestCallback cb);  // GET /api/v1/capital/collateral
  void AccountQuery(const Credentials& c, RestCallback cb);     // GET /api/v1/account
  void AccountUpdate(const Credentials& c, std::string body, std::vector<SignParam> params,
                     RestCallback cb);  // PATCH /api/v1/account

  class Impl;  // opaque; public only so the .cpp's helpers can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::backpack
