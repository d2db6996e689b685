// Aster error classification: HTTP status + venue code → absl status code, retry class, cancel
// reason and the recovery the adapter should run (clock resync, back-off, listenKey renewal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/api/types.h"

namespace perpgw::adapters::aster {

enum class RetryClass : uint8_t {
  kRetryable,       // safe to retry (possibly after the action below)
  kNotRetryable,    // the request was refused; retrying the same request fails again
  kUnknownOutcome,  // the venue may have executed it: reconcile (query by client id) first
};
const char* ToString(RetryClass r);

enum class ErrorAction : uint8_t {
  kNone,
  kResyncClock,       // -1021 / -4225: refresh the server-time offset, retry once
  kBackOff,           // 429 / 418 / -1003 / -1015: stop sending until Retry-After / window end
  kRenewListenKey,    // -1125: create a new listenKey and reconnect the user stream
  kRefreshInstruments,  // -1121: the catalogue is out of date
  kReconcile,         // unknown outcome: query the order by client order id
};
const char* ToString(ErrorAction a);

// What the request was; order entry and cancels turn server/transport failures into
// kUnknownOutcome, plain queries make them retryable.
enum class RequestKind : uint8_t { kQuery, kOrderEntry, kCancel };

struct VenueError {
  int http_status = 0;  // 0 = no HTTP response (transport error / timeout)
  int code = 0;         // venue code (negative); 0 = none
  std::string message;  // venue text, never secrets
  absl::StatusCode status_code = absl::StatusCode::kUnknown;
  RetryClass retry = RetryClass::kNotRetryable;
  CancelReason reason = CancelReason::kNone;
  ErrorAction action = ErrorAction::kNone;
};

// `code` 0 when the body had none. A 2xx status with code 0 or 200 is not an error: the result
// has status_code kOk.
VenueError ClassifyError(int http_status, int code, std::string_view message, RequestKind kind);
// Parses the body ({"code":..,"msg":..}, or anything else) and classifies.
VenueError ClassifyResponse(int http_status, std::string_view body, RequestKind kind);
// No response at all (connect failure, reset, deadline): unknown outcome for order entry.
VenueError ClassifyTransportError(std::string_view what, bool timed_out, RequestKind kind);
// "aster <http>/<code>: <msg>" with the mapped code; OkStatus when status_code is kOk.
absl::Status ToStatus(const VenueError& e);

// Usage counters from response headers (X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S, ...).
struct RateLimitCounter {
  std::string interval;  // "1M", "10S" (as in the header name, upper-case)
  int64_t value = 0;
};
struct RateLimitUsage {
  std::vector<RateLimitCounter> used_weight;
  std::vector<RateLimitCounter> order_count;
  int64_t retry_after_seconds = -1;  // from Retry-After; -1 = absent
};
// Feeds one header (name case-insensitive). Returns true when it was a rate-limit header and
// parsed; false for unrelated headers or malformed values (usage is left unchanged).
bool ParseRateLimitHeader(std::string_view name, std::string_view value, RateLimitUsage* usage);

}  // namespace perpgw::adapters::aster
