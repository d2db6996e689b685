// Lighter error mapping (lighter.md §9): every REST body carries `code` (200 = OK) and `message`;
// an HTTP 200 with another code is an error too (the official Go SDK reads it that way). Code
// ranges: 20xxx request validation, 21xxx transaction processing (21104 invalid nonce), 30xxx WS
// subscription state (30003 already subscribed). The full table is not in the notes: codes map
// by range, then by the message's words, always to the safe reading.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "adapters/api/types.h"
#include "adapters/api/venue_error.h"

namespace perpgw::adapters::lighter {

using ::perpgw::ErrorAction;
using ::perpgw::RequestKind;
using ::perpgw::RetryClass;
using ::perpgw::VenueError;

inline constexpr int64_t kCodeOk = 200;
inline constexpr int64_t kCodeInvalidNonce = 21104;
inline constexpr int64_t kCodeAlreadySubscribed = 30003;

// Classifies an answer: HTTP status (0 = none) and body. Returns status_code kOk when the
// answer is a success (2xx and `code` absent or 200). For sendTx (kOrderEntry / kCancel) an
// invalid nonce is retryable after re-fetching the nonce (action kResyncClock): the tx was not
// accepted. 429 and the firewall's 405 back off.
VenueError ClassifyApiAnswer(int http_status, std::string_view body, RequestKind kind);
// No HTTP answer at all (connect/TLS/read failure, local deadline).
VenueError ClassifyTransportError(std::string_view what, RequestKind kind);
// A venue code (and HTTP status when the code says nothing) -> status code.
absl::StatusCode StatusCodeForVenueCode(int64_t code, int http_status);
// "lighter 21104 (HTTP 200): invalid nonce".
absl::Status ToStatus(const VenueError& e);
// A refused or unanswered ModifyOrder tx as AmendOrder's answer, `before` the order as known
// before it: an unknown outcome (timeout, 5xx, a refused batch) is kOutcomeUnknown (retryable,
// look the order up first); no such open order (a "not found" answer, 404) is a NOT_FOUND
// status; any other refusal is kRejected with the order unchanged and the venue's reason.
absl::StatusOr<OrderAck> AmendFailure(const VenueError& e, const Order& before);

}  // namespace perpgw::adapters::lighter
