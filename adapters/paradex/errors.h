// Paradex error mapping: HTTP status + {"error":"CODE","message"} bodies (paradex.md §12) ->
// absl status code, retry class and CancelReason.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "adapters/api/types.h"
#include "adapters/api/venue_error.h"

namespace perpgw::adapters::paradex {

using ::perpgw::ErrorAction;
using ::perpgw::RequestKind;
using ::perpgw::RetryClass;
using ::perpgw::VenueError;

// Classifies an HTTP answer that is not a 2xx. `body` may be the venue's JSON error, or anything.
// 401 (an expired or refused JWT) is kUnauthenticated and retryable: the caller refreshes the
// token and retries once (no order reached the engine with a refused token).
VenueError ClassifyHttpError(int http_status, std::string_view body, RequestKind kind);
// No HTTP answer at all (connect/TLS/read failure, local deadline).
VenueError ClassifyTransportError(std::string_view what, RequestKind kind);
// The venue code alone -> status code ("" or unknown -> from the HTTP status).
absl::StatusCode StatusCodeForVenueCode(std::string_view code, int http_status);
// "paradex INVALID_ORDER_SIZE (HTTP 400): ...".
absl::Status ToStatus(const VenueError& e);
// A refused or unanswered PUT /orders/{id} as AmendOrder's answer, `before` the order as known
// before it: an unknown outcome (timeout, 5xx) is kOutcomeUnknown (retryable, look the order
// up first); no such open order (ORDER_ID_NOT_FOUND, ORDER_IS_CLOSED, ORDER_IS_NOT_OPEN, 404)
// is a NOT_FOUND status; any other refusal is kRejected with the order unchanged and the
// venue's reason.
absl::StatusOr<OrderAck> AmendFailure(const VenueError& e, const Order& before);

}  // namespace perpgw::adapters::paradex
