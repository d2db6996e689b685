// Backpack error mapping: HTTP status + {"code","message"} (or plain-text) bodies -> absl status
// code, retry class and CancelReason; order expiry reasons -> CancelReason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "adapters/api/types.h"
#include "adapters/api/venue_error.h"

namespace perpgw::adapters::backpack {

// The shared shape (adapters/api/venue_error.h); `code` is Backpack's code ("INVALID_ORDER"),
// "" for plain-text or empty bodies; rate limiting sets action kBackOff.
using ::perpgw::ErrorAction;
using ::perpgw::RequestKind;
using ::perpgw::RetryClass;
using ::perpgw::VenueError;

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
