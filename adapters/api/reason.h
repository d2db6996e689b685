// The documented error and reject reasons (README "Errors"): ONE list for
// google.rpc.ErrorInfo.reason on every non-OK gRPC status and for Order.reason,
// PlaceOrderResponse.reason and OrderEvent.reject_reason. Adding a reason means adding it here,
// to ReasonCode() where an order reason maps to it, and to the README table.
//
// An absl::Status carries its reason and context as payloads (pure: no gRPC here); the gateway
// turns them into google.rpc.ErrorInfo/RetryInfo at its edge (gateway/rpc/common.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/api/types.h"

namespace perpgw::reason {

// Requests
inline constexpr std::string_view kInvalidArgument = "invalid_argument";
inline constexpr std::string_view kUnknownVenue = "unknown_venue";
inline constexpr std::string_view kUnknownMarket = "unknown_market";
inline constexpr std::string_view kUnknownAccount = "unknown_account";
inline constexpr std::string_view kOrderNotFound = "order_not_found";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kUnauthenticated = "unauthenticated";
inline constexpr std::string_view kPermissionDenied = "permission_denied";
inline constexpr std::string_view kUnsupported = "unsupported";  // the venue has no such thing
inline constexpr std::string_view kFailedPrecondition = "failed_precondition";
inline constexpr std::string_view kDuplicateClientOrderId = "duplicate_client_order_id";
inline constexpr std::string_view kStreamQuota = "stream_quota";
inline constexpr std::string_view kSlowConsumer = "slow_consumer";
inline constexpr std::string_view kReplayUnavailable = "replay_unavailable";
inline constexpr std::string_view kNoLiveBook = "no_live_book";
// Venue and transport
inline constexpr std::string_view kVenueUnavailable = "venue_unavailable";
inline constexpr std::string_view kVenueTimeout = "venue_timeout";
inline constexpr std::string_view kVenueError = "venue_error";  // refused, no finer reason
inline constexpr std::string_view kOutcomeUnknown = "outcome_unknown";
inline constexpr std::string_view kRateLimited = "rate_limited";
// Orders (also Order.reason)
inline constexpr std::string_view kUserCanceled = "user_canceled";
inline constexpr std::string_view kExpired = "expired";
inline constexpr std::string_view kPostOnlyViolation = "post_only_violation";
inline constexpr std::string_view kInsufficientMargin = "insufficient_margin";
inline constexpr std::string_view kOrderRejected = "order_rejected";
inline constexpr std::string_view kReduceOnly = "reduce_only";
inline constexpr std::string_view kSelfTrade = "self_trade";
inline constexpr std::string_view kLiquidation = "liquidation";
inline constexpr std::string_view kRiskLimit = "risk_limit";
inline constexpr std::string_view kKillSwitch = "kill_switch";
inline constexpr std::string_view kUnknown = "unknown";
// Gateway
inline constexpr std::string_view kCancelled = "cancelled";
inline constexpr std::string_view kInternal = "internal";
inline constexpr std::string_view kUnimplemented = "unimplemented";

// Every reason above, in README order (the docs test checks the README lists each).
const std::vector<std::string_view>& All();

// The reason an order end carries; "" for kNone. kTimeout (a timed-out venue call) maps to
// venue_timeout, kUnknown to unknown.
std::string_view ReasonCode(CancelReason r);

// The reason a status gets when none was attached where it was made (by its code).
std::string_view DefaultFor(absl::StatusCode code);

// True when a reason was attached (not only its code's default).
bool Has(const absl::Status& s);
// Attaches `reason` (replacing one already there).
absl::Status With(absl::Status s, std::string_view reason);
// Attaches a metadata entry (ErrorInfo.metadata[key] = value).
absl::Status WithMeta(absl::Status s, std::string_view key, std::string_view value);
// Attaches how long to wait before retrying (RetryInfo.retry_delay).
absl::Status WithRetryAfterMs(absl::Status s, int64_t ms);

struct Details {
  std::string reason;  // attached or DefaultFor(code)
  std::map<std::string, std::string> metadata;
  std::optional<int64_t> retry_after_ms;  // attached, or the default for the reason
};
// What the gateway's edge sends for `s` (not OK). A retryable reason without an attached delay
// gets a default (rate_limited 1000 ms; venue_unavailable/venue_timeout/no_live_book 500 ms).
Details Of(const absl::Status& s);

}  // namespace perpgw::reason
