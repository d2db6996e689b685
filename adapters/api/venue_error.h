// One venue error shape for every venue: what a failed venue call means for the caller, in the
// terms the order path needs (may it be retried, could it have executed, what to do first).
// Each venue's errors.cpp fills it from its own codes; formatting stays per venue (ToStatus).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/types.h"

namespace perpgw {

enum class RetryClass : uint8_t {
  kRetryable,       // nothing happened on the venue; safe to retry (maybe after the action)
  kNotRetryable,    // the venue refused the request; retrying the same request fails again
  kUnknownOutcome,  // it may have executed: reconcile (query by client id) before any retry
};
const char* ToString(RetryClass r);

// What kind of call failed: the same answer means different things for each.
enum class RequestKind : uint8_t {
  kQuery,       // reads: timeouts and 5xx are simply retryable
  kOrderEntry,  // new orders: timeouts, 5xx and "accepted, not executed" are unknown outcomes
  kCancel,      // cancels
  kOther,       // other writes (account settings): like order entry
};

// The recovery the adapter runs before anything else.
enum class ErrorAction : uint8_t {
  kNone,
  kResyncClock,         // our timestamp / nonce was refused: refresh the clock offset, retry once
  kBackOff,             // rate limited: stop sending until the window (Retry-After) ends
  kRenewListenKey,      // the user-stream key expired: new key, reconnect
  kRefreshInstruments,  // the catalogue is out of date
  kReconcile,           // unknown outcome: query the order by client order id
};
const char* ToString(ErrorAction a);

struct VenueError {
  int http_status = 0;  // 0 = no HTTP answer (transport failure, local deadline)
  std::string code;     // the venue's own code as sent ("-2010", "INVALID_ORDER"); "" = none
  std::string message;  // venue text, bounded, never secrets
  absl::StatusCode status_code = absl::StatusCode::kUnknown;  // kOk: not an error
  RetryClass retry = RetryClass::kNotRetryable;
  CancelReason reason = CancelReason::kNone;  // for refused orders
  ErrorAction action = ErrorAction::kNone;
  bool duplicate_client_id = false;  // the venue already has an order with this client id

  bool ok() const { return status_code == absl::StatusCode::kOk; }
  // Refused by a rate limiter, before the matching engine saw it.
  bool rate_limited() const {
    return action == ErrorAction::kBackOff || http_status == 429 || http_status == 418;
  }
};

// Shared by the venues whose errors read the same way (Backpack, Paradex):
// venue text trimmed of surrounding white space and bounded (a hostile or broken answer never
// becomes a huge status message);
std::string BoundedVenueText(std::string_view text, size_t max = 512);
// no HTTP answer at all (connect/TLS/read failure, local deadline): reads and cancels may be
// retried, writes have an unknown outcome;
VenueError TransportVenueError(std::string_view what, RequestKind kind);
// "<venue> CODE (HTTP 400): message [outcome unknown]" with the error's status code.
absl::Status VenueErrorStatus(std::string_view venue, const VenueError& e);
// The documented reason (README "Errors") and the venue's code, message, HTTP status and retry
// class, attached to `st` (reason.h payloads): every venue's ToStatus ends here.
absl::Status AttachVenueDetails(absl::Status st, std::string_view venue, const VenueError& e);
// The answer to a modify (AmendOrder) the venue refused or did not answer, for every venue:
// `st` is the venue's own status for `e` (its ToStatus). Unknown outcome → OUTCOME_UNKNOWN
// (retryable: look the order up before amending again); NOT_FOUND → that status (nothing to
// amend); any other refusal → REJECTED with the order unchanged (`before`).
absl::StatusOr<OrderAck> AmendRefusal(const VenueError& e, const absl::Status& st,
                                      const Order& before);

}  // namespace perpgw
