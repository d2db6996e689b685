#include "adapters/api/venue_error.h"

#include <cctype>

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
  return absl::Status(
      e.status_code == absl::StatusCode::kOk ? absl::StatusCode::kUnknown : e.status_code, msg);
}

}  // namespace perpgw
