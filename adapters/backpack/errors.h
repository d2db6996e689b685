// Backpack error mapping: HTTP status + {"code","message"} (or plain-text) bodies -> absl status
// code, retry class and CancelReason; order expiry reasons -> CancelReason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "adapters/api/types.h"

namespace perpgw::adapters::backpack {

enum class RetryClass : uint8_t {
  kRetryable,       // nothing happened on the venue; safe to retry (maybe after a backoff)
  kNotRetryable,    // the venue refused the request; retrying the same request fails again
  kUnknownOutcome,  // order entry may or may not have executed: reconcile before any retry
};
const char* ToString(RetryClass r);

// What kind of call failed: the same venue answer means different things for each.
enum class RequestKind : uint8_t {
  kQuery,       // reads (GET): timeouts and 5xx are simply retryable
  kOrderEntry,  // POST /order(s): timeouts, 5xx and 202 are unknown outcome
  kCancel,      // DELETE /order(s): idempotent, so timeouts/5xx are retryable
  kOther,       // other writes (PATCH /account): like order entry
};

struct VenueError {
  int http_status = 0;  // 0 = transport failure (no HTTP answer)
  std::string code;     // venue code ("INVALID_ORDER"); empty for plain-text/empty bodies
  std::string message;  // venue text (never contains secrets; trimmed to 512 bytes)
  absl::StatusCode status_code = absl::StatusCode::kUnknown;
  RetryClass retry = RetryClass::kNotRetryable;
  CancelReason reason = CancelReason::kRejected;
  bool backoff = false;              // 429 / TOO_MANY_REQUESTS: retry only after backing off
  bool duplicate_client_id = false;  // "Order with client ID already exists" (idempotent replay)
};

// Classifies an HTTP answer that is not a 200. `body` may be JSON {"code","message"}, plain text
// (Backpack's body-parse failures) or empty. A 202 on order entry is an unknown outcome.
VenueError ClassifyHttpError(int http_status, std::string_view body, RequestKind kind);
// No HTTP answer at all (connect/TLS/read failure, local deadline).
VenueError ClassifyTransportError(std::string_view what, RequestKind kind);

// The venue code alone -> status code ("" or unknown -> from the HTTP status).
absl::StatusCode StatusCodeForVenueCode(std::string_view code, int http_status);

// "backpack INVALID_ORDER (HTTP 400): Invalid order".
absl::Status ToStatus(const VenueError& e);

// Order expiry reason (REST `expiryReason` PascalCase "PostOnlyTaker", or WS `R` in either
// spelling, "POST_ONLY_TAKER"/"PRICE_BAND") -> CancelReason. Empty -> kNone.
CancelReason CancelReasonFromExpiry(std::string_view expiry_reason);

}  // namespace perpgw::adapters::backpack
