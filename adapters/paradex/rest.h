// Paradex REST endpoints (paths as in the venue docs): public market data, POST /auth (Stark-
// signed request → JWT) and the Bearer-authenticated private API. The JWT of each account lives
// here: fetched before the first private call, refreshed at 60 % of its lifetime (5 minutes on
// the venue) so no request goes out with an expired token, and on a 401 refreshed and the call
// retried once (a refused token means nothing ran).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"
#include "adapters/paradex/errors.h"
#include "adapters/paradex/signing.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::paradex {

struct RestResult {
  int http_status = 0;
  VenueError error;  // status_code kOk on a 2xx
  std::string body;
  bool ok() const { return error.status_code == absl::StatusCode::kOk; }
};
using RestCallback = std::function<void(RestResult)>;

inline constexpr int64_t kDefaultRecvWindowMs = 10000;

struct Credentials {
  std::string account;  // the gateway's account id
  std::string address;  // the Paradex (L2) account address, 0x hex, as configured
  Felt address_felt;
  std::shared_ptr<StarkKey> key;
  int64_t recv_window_ms = kDefaultRecvWindowMs;
  // The venue's own dead man's switch for this account (option cancel_on_disconnect): every
  // private-stream connection asks order.cancel_on_disconnect, so Paradex cancels the account's
  // open orders when the gateway's connection drops (the gateway died, or the network did).
  bool cancel_on_disconnect = false;
};

// Credentials: account (the L2 address), stark_private_key (hex), public_key (optional
// cross-check); options recv_window_ms, cancel_on_disconnect (true|false). Errors never carry the key.
absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account);

// Everything in a venue config that only Paradex reads, checked before anything starts (pure).
absl::Status ValidateConfig(const VenueConfig& cfg);

// The venue's API lives under /v1: a base URL with no path gets it ("http://127.0.0.1:9" →
// "http://127.0.0.1:9/v1"); one with a path is kept as configured.
std::string WithApiPath(const std::string& url);

class ParadexRest {
 public:
  ParadexRest(boost::asio::io_context& ioc, const VenueConfig& config, const Clock& clock);
  ~ParadexRest();
  absl::Status Init();
  void set_sink(EventSink* sink);
  // The chain id signatures are made for (GET /system/config). Private calls fail until set.
  void set_chain_id(std::string chain_id);
  const std::string& chain_id() const;

  // Public.
  void SystemConfig(RestCallback cb);                            // GET /system/config
  void SystemState(RestCallback cb);                             // GET /system/state
  void Markets(RestCallback cb);                                 // GET /markets
  void MarketsSummary(const std::string& market, RestCallback cb);  // GET /markets/summary
  // GET /funding/data?<query> (query already encoded: EncodeFundingDataQuery).
  void FundingData(const std::string& query, RestCallback cb);
  void Orderbook(const std::string& market, int depth, RestCallback cb);  // GET /orderbook/{m}

  // The account's current JWT ("" until the first one arrived); refreshed in the background by
  // KeepJwtFresh. For the WS `auth` call.
  std::string CachedJwt(const Credentials& c) const;
  // Fetches a JWT now when the cached one is at 60 % of its life or more; `done` gets the token.
  void EnsureJwt(const Credentials& c, std::function<void(absl::StatusOr<std::string>)> done);
  // Drops the cached token (the venue refused it).
  void InvalidateJwt(const Credentials& c);

  // Private (Bearer). Bodies are JSON.
  void PlaceOrder(const Credentials& c, std::string body, RestCallback cb);  // POST /orders
  // PUT /orders/{id} (modify: same id; body EncodeModifyOrderBody). An order write: a timeout
  // or 5xx is an unknown outcome.
  void ModifyOrder(const Credentials& c, const std::string& order_id, std::string body,
                   RestCallback cb);
  // POST /orders/batch (body EncodeBatchOrdersBody): an order write (a timeout or 5xx is an
  // unknown outcome for each order).
  void PlaceBatch(const Credentials& c, std::string body, RestCallback cb);
  // DELETE /orders/batch (body EncodeBatchCancelBody).
  void CancelBatch(const Credentials& c, std::string body, RestCallback cb);
  void CancelOrder(const Credentials& c, const std::string& order_id, RestCallback cb);
  void CancelByClientId(const Credentials& c, const std::string& client_id,
                        const std::string& market, RestCallback cb);
  void CancelAll(const Credentials& c, const std::string& market, RestCallback cb);
  void GetOrder(const Credentials& c, const std::string& order_id, RestCallback cb);
  void GetOrderByClientId(const Credentials& c, const std::string& client_id, RestCallback cb);
  void OpenOrders(const Credentials& c, const std::string& market, RestCallback cb);
  // GET /orders-history?<query> (query already encoded).
  void OrdersHistory(const Credentials& c, const std::string& query, RestCallback cb);
  void Fills(const Credentials& c, const std::string& query, RestCallback cb);  // GET /fills
  void Positions(const Credentials& c, RestCallback cb);
  void Balance(const Credentials& c, RestCallback cb);
  void Account(const Credentials& c, RestCallback cb);
  void AccountMargin(const Credentials& c, const std::string& market, RestCallback cb);
  void SetMargin(const Credentials& c, const std::string& market, std::string body,
                 RestCallback cb);  // POST /account/margin/{market}

  class Impl;  // opaque; public only so the .cpp's helpers can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::paradex
