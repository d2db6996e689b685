// Aster error classification: HTTP status + venue code → absl status code, retry class, cancel
// reason and the recovery the adapter should run (clock resync, back-off, listenKey renewal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/api/types.h"
#include "adapters/api/venue_error.h"

namespace perpgw::adapters::aster {

// The shared shape (adapters/api/venue_error.h); `code` holds Aster's numeric code as text
// ("-2010"), "" when the body had none.
using ::perpgw::ErrorAction;
using ::perpgw::RequestKind;
using ::perpgw::RetryClass;
using ::perpgw::VenueError;

// `code` 0 when the body had none. A 2xx status with code 0 or 200 is not an error: the result
// has status_code kOk.
VenueError ClassifyError(int http_status, int code, std::string_view message, RequestKind kind);
// Parses the body ({"code":..,"msg":..}, or anything else) and classifies.
VenueError ClassifyResponse(int http_status, std::string_view body, RequestKind kind);
// No response at all (connect failure, reset, deadline): unknown outcome for order entry.
VenueError ClassifyTransportError(std::string_view what, bool timed_out, RequestKind kind);
// "aster <http>/<code>: <msg>" with the mapped code; OkStatus when status_code is kOk.
absl::Status ToStatus(const VenueError& e);

// A failed modify (PUT /fapi/v3/order, classified as order entry) as AmendOrder answers it:
// no answer / 5xx / 429 → OUTCOME_UNKNOWN (retryable; the order may or may not be amended);
// -2013 and other NOT_FOUND → the status itself (the order is not open there: filled, canceled
// or unknown); any other refusal → REJECTED with the venue's reason, the order unchanged
// (`before`). Not for -1021/-4225 (the caller resyncs and retries once first).
absl::StatusOr<OrderAck> AmendFailure(const VenueError& e, const Order& before);

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
