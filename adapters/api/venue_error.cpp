#include "adapters/api/venue_error.h"

#include <cctype>

#include "adapters/api/reason.h"

namespace perpgw {

const char* ToString(RetryClass r) {
  switch (r) {
    case RetryClass::kRetryable: return "retryable";
    case RetryClass::kNotRetryable: return "not_retryable";
    case RetryClass::kUnknownOutcome: return "unknown_outcome";
  }
  return "?";
}

const char* ToString(ErrorAction a) {
  switch (a) {
    case ErrorAction::kNone: return "none";
    case ErrorAction::kResyncClock: return "resync_clock";
    case ErrorAction::kBackOff: return "back_off";
    case ErrorAction::kRenewListenKey: return "renew_listen_key";
    case ErrorAction::kRefreshInstruments: return "refresh_instruments";
    case ErrorAction::kReconcile: return "reconcile";
  }
  return "?";
}

std::string BoundedVenueText(std::string_view s, size_t max) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.size() > max) s = s.substr(0, max);
  return std::string(s);
}

VenueError TransportVenueError(std::string_view what, RequestKind kind) {
  VenueError e;
  e.http_status = 0;
  e.message = BoundedVenueText(what);
  e.status_code = absl::StatusCode::kUnavailable;
  const bool write = kind == RequestKind::kOrderEntry || kind == RequestKind::kOther;
  e.retry = write ? RetryClass::kUnknownOutcome : RetryClass::kRetryable;
  e.reason = write ? CancelReason::kUnknown : CancelReason::kTimeout;
  return e;
}

absl::Status VenueErrorStatus(std::string_view venue, const VenueError& e) {
  std::string msg(venue);
  if (!e.code.empty()) msg += " " + e.code;
  msg += e.http_status ? " (HTTP " + std::to_string(e.http_status) + ")" : " (transport)";
  if (!e.message.empty()) msg += ": " + e.message;
  if (e.retry == RetryClass::kUnknownOutcome) msg += " [outcome unknown]";
  return AttachVenueDetails(
      absl::Status(
          e.status_code == absl::StatusCode::kOk ? absl::StatusCode::kUnknown : e.status_code, msg),
      venue, e);
}

absl::Status AttachVenueDetails(absl::Status st, std::string_view venue, const VenueError& e) {
  if (st.ok()) return st;
  // The documented reason (README "Errors"): what the caller does next, finest first.
  std::string_view why;
  if (e.duplicate_client_id) {
    why = reason::kDuplicateClientOrderId;
  } else if (e.rate_limited()) {
    why = reason::kRateLimited;
  } else if (e.retry == RetryClass::kUnknownOutcome) {
    why = reason::kOutcomeUnknown;
  } else if (e.reason != CancelReason::kNone && e.reason != CancelReason::kUnknown &&
             e.reason != CancelReason::kRejected && e.reason != CancelReason::kTimeout &&
             e.reason != CancelReason::kUserCanceled) {
    // A finer reason than "refused" (post-only, margin, reduce-only, self trade, ...).
    why = reason::ReasonCode(e.reason);
  } else if (e.status_code == absl::StatusCode::kDeadlineExceeded) {
    why = reason::kVenueTimeout;
  } else if (e.http_status == 0) {
    why = reason::kVenueUnavailable;
  } else if (e.status_code == absl::StatusCode::kNotFound) {
    why = reason::kOrderNotFound;
  } else if (e.status_code == absl::StatusCode::kUnavailable) {
    why = reason::kVenueUnavailable;
  } else {
    why = reason::kVenueError;
  }
  st = reason::With(std::move(st), why);
  st = reason::WithMeta(std::move(st), "venue", venue);
  if (!e.code.empty()) st = reason::WithMeta(std::move(st), "venue_code", e.code);
  if (!e.message.empty()) st = reason::WithMeta(std::move(st), "venue_message", e.message);
  if (e.http_status) {
    st = reason::WithMeta(std::move(st), "http_status", std::to_string(e.http_status));
  }
  st = reason::WithMeta(std::move(st), "retry", ToString(e.retry));
  return st;
}

absl::StatusOr<OrderAck> AmendRefusal(const VenueError& e, const absl::Status& st,
                                      const Order& before) {
  OrderAck ack;
  ack.order = before;
  if (e.retry == RetryClass::kUnknownOutcome) {
    ack.outcome = AckOutcome::kOutcomeUnknown;
    ack.retryable = true;
    ack.message = "amend outcome unknown (" + std::string(st.message()) +
                  "); look the order up before amending again";
    return ack;
  }
  if (st.ok()) return absl::InternalError("AmendRefusal called with a success");
  if (st.code() == absl::StatusCode::kNotFound) return st;
  ack.outcome = AckOutcome::kRejected;
  ack.reason = e.reason == CancelReason::kNone ? CancelReason::kRejected : e.reason;
  ack.retryable = e.retry == RetryClass::kRetryable;
  ack.message = std::string(st.message());
  return ack;
}

}  // namespace perpgw
