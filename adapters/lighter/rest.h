// Lighter REST endpoints (paths under /api/v1, lighter.md §2-§10): public market data, the
// account's public view, the private reads (auth token in the Authorization header), nextNonce
// and sendTx / sendTxBatch. Every answer is classified with ClassifyApiAnswer (an HTTP 200
// carrying a code other than 200 is the venue's error). The rate limit is the account tier's
// (option rate_tier): standard = 60 requests per rolling minute, premium = 24 000 weight per
// minute with the documented per-endpoint weights (§10); a local bucket paces every request.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/api/clock.h"
#include "adapters/api/venue.h"
#include "adapters/api/venue_config.h"
#include "adapters/lighter/errors.h"
#include "adapters/lighter/signing.h"

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

// One trading account: its index and the API key it signs with (one signer per key).
struct Credentials {
  std::string account;         // the gateway's account id
  int64_t account_index = -1;  // credentials.account_index
  uint8_t api_key_index = 0;   // credentials.api_key_index (0..254; 0 and 1 are the apps')
  std::shared_ptr<const PrivateKey> key;  // credentials.api_private_key (80 hex chars)
};

// Credentials of one configured account (pure): account_index, api_key_index,
// api_private_key, optional public_key (checked against the private key's).
absl::StatusOr<Credentials> LoadCredentials(const AccountConfig& account);

// Everything in a venue config that only Lighter reads, checked before anything starts (pure):
// options funding_rate_hours (1|8), chain_id (304 mainnet | 300 testnet; default 304),
// rate_tier (standard|premium; default standard); every account's credentials.
absl::Status ValidateConfig(const VenueConfig& cfg);
uint32_t ChainIdOf(const VenueConfig& cfg);

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

  // --- public
  void OrderBookDetails(RestCallback cb);  // GET /orderBookDetails
  void FundingRates(RestCallback cb);      // GET /funding-rates
  // GET /fundings?<query> (settled funding history; query from EncodeFundingsQuery).
  void Fundings(const std::string& query, RestCallback cb);
  // GET /orderBookOrders?market_id=&limit= (individual resting orders; aggregate by price).
  void OrderBookOrders(int64_t market_index, int limit, RestCallback cb);
  // GET /account?by=index&value=N (collateral, positions).
  void Account(int64_t account_index, RestCallback cb);
  // GET /tx?by=hash&value=H (status 0 failed, 1 pending, 2 executed, 3 final).
  void Tx(const std::string& hash, RestCallback cb);

  // --- the key's nonce and transactions
  void NextNonce(const Credentials& c, RestCallback cb);  // GET /nextNonce
  // POST /sendTx (one) or /sendTxBatch (2..15), form encoded. Order entry: a lost answer is an
  // unknown outcome (the classifier's kOrderEntry rules).
  void SendTxs(const std::vector<SignedTx>& txs, RestCallback cb);

  // --- private reads (auth token minted and refreshed here, per account)
  void ActiveOrders(const Credentials& c, int64_t market_index, RestCallback cb);
  // market_index -1: every market. cursor "": the newest page.
  void InactiveOrders(const Credentials& c, int64_t market_index, int limit,
                      const std::string& cursor, RestCallback cb);
  // GET /trades for the account, oldest first (sort_dir=asc) from from_ms (0: no bound), or
  // newest first when !oldest_first; market -1: all; cursor: a page's next_cursor.
  void Trades(const Credentials& c, int64_t market_index, int limit, int64_t from_ms,
              const std::string& cursor, bool oldest_first, RestCallback cb);

  // A valid auth token for the account's private channels (minted when missing or within 10
  // minutes of its deadline). Error only when signing fails.
  absl::StatusOr<std::string> AuthToken(const Credentials& c);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perpgw::adapters::lighter
