#include "adapters/api/venue_error.h"

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

}  // namespace perpgw
