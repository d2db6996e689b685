// What an adapter is given at construction: URLs, options, accounts and their secrets.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/decimal.h"

namespace perpgw {

// A secret value (API secret, private key). It has no operator<< and no implicit conversion to
// string, so it cannot end up in a log line or an error message by accident.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string v) : value_(std::move(v)) {}
  ~Secret();
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  const std::string& Reveal() const { return value_; }  // only for signing code
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

struct AccountConfig {
  std::string id;      // gateway-wide account id ("aster-main")
  std::string venue;
  std::map<std::string, Secret> credentials;  // venue-specific keys (api_key, api_secret, ...)
  std::map<std::string, std::string> options;  // non-secret settings (auth_scheme: v1|v3, ...)
};

struct VenueFees {
  Decimal maker;  // fraction, e.g. 0.0002
  Decimal taker;
};

struct VenueConfig {
  std::string name;
  bool enabled = true;
  std::string rest_url;
  std::string ws_url;
  std::string private_ws_url;  // empty = derive from ws_url
  bool tls_verify = true;
  std::vector<std::string> symbols;  // market data subscribed at start ("*" = all instruments)
  VenueFees fees;
  int64_t stale_after_ms = 10000;
  std::map<std::string, std::string> options;  // venue-specific (chain_id, recv_window_ms, ...)
  std::vector<AccountConfig> accounts;
  // Order journal (the order desk's idempotency across restarts). Empty = in memory only.
  std::string journal_path;
  bool journal_fsync = true;
};

// Config checks every venue's ValidateConfig uses (pure). Errors name the key path given.
// Keys of `m` outside `allowed` → "<what>.<key>: unknown key (known: a, b)".
template <typename V>
absl::Status CheckOptionKeys(const std::map<std::string, V>& m,
                             const std::vector<std::string>& allowed, const std::string& what);
// A whole decimal integer in [min, max] (no sign games, no trailing text, no silent 0).
absl::StatusOr<int64_t> ParseIntOption(const std::string& text, int64_t min, int64_t max,
                                       const std::string& what);

}  // namespace perpgw
