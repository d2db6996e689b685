// Lighter REST endpoints (paths under /api/v1, lighter.md §2-§4): the public market data the
// adapter loads. Every answer is classified with ClassifyApiAnswer (an HTTP 200 carrying a code
// other than 200 is the venue's error). Private calls (auth token, nextNonce, sendTx) arrive
// with the transactions step of issue 15.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"
#include "adapters/lighter/errors.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::adapters::lighter {

struct RestResult {
  int http_status = 0;
  VenueError error;  // status_code kOk on success
  std::string body;
  bool ok() const { return error.status_code == absl::StatusCode::kOk; }
};
using RestCallback = std::function<void(RestResult)>;

// Everything in a venue config that only Lighter reads, checked before anything starts (pure).
// Accounts are refused for now: trading is not implemented yet (market data only).
absl::Status ValidateConfig(const VenueConfig& cfg);

// The API lives under /api/v1: a base URL with no path gets it; one with a path is kept.
std::string WithApiPath(const std::string& url);
// The WebSocket lives at /stream: a URL with no path gets it.
std::string WithStreamPath(const std::string& url);

class LighterRest {
 public:
  LighterRest(boost::asio::io_context& ioc, const VenueConfig& config, const Clock& clock);
  ~LighterRest();
  absl::Status Init();
  void set_sink(EventSink* sink);

  void OrderBookDetails(RestCallback cb);  // GET /orderBookDetails
  void FundingRates(RestCallback cb);      // GET /funding-rates
  // GET /orderBookOrders?market_id=&limit= (individual resting orders; aggregate by price).
  void OrderBookOrders(int64_t market_index, int limit, RestCallback cb);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::lighter
