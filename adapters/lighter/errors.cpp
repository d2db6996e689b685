// Lighter error classification (protocols/lighter.md §9).
#include "adapters/lighter/errors.h"

#include <cctype>
#include <optional>

#include "adapters/lighter/codec.h"

namespace perpgw::adapters::lighter {
namespace {

bool Has(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && std::tolower(static_cast<unsigned char>(hay[i + j])) ==
                                    std::tolower(static_cast<unsigned char>(needle[j]))) {
      ++j;
    }
    if (j == needle.size()) return true;
  }
  return false;
}

bool IsWrite(RequestKind k) {
  return k == RequestKind::kOrderEntry || k == RequestKind::kOther;
}

}  // namespace

absl::StatusCode StatusCodeForVenueCode(int64_t code, int http_status) {
  using C = absl::StatusCode;
  if (code == kCodeOk) return C::kOk;
  if (code == kCodeInvalidNonce) return C::kFailedPrecondition;
  if (code == kCodeAlreadySubscribed) return C::kAlreadyExists;
  if (code == 429) return C::kResourceExhausted;
  if (code >= 20000 && code < 21000) return C::kInvalidArgument;
  if (code >= 21000 && code < 22000) return C::kFailedPrecondition;
  if (code >= 30000 && code < 31000) return C::kInvalidArgument;
  switch (http_status) {
    case 400: return C::kInvalidArgument;
    case 401: return C::kUnauthenticated;
    case 403: return C::kPermissionDenied;
    case 404: return C::kNotFound;
    case 405: return C::kUnavailable;  // the firewall's block (~60 s)
    case 408: return C::kDeadlineExceeded;
    case 429: return C::kResourceExhausted;
    case 500: return C::kInternal;
    case 502:
    case 503: return C::kUnavailable;
    case 504: return C::kDeadlineExceeded;
    default: break;
  }
  if (http_status >= 500) return C::kUnavailable;
  if (http_status >= 400 || (code != 0 && code != kCodeOk)) return C::kInvalidArgument;
  return C::kUnknown;
}

VenueError ClassifyApiAnswer(int http_status, std::string_view body, RequestKind kind) {
  VenueError e;
  e.http_status = http_status;
  Codec codec;
  std::optional<ErrorBody> b = codec.ParseError(body);
  const int64_t code = b ? b->code : 0;
  if (b) {
    e.code = std::to_string(code);
    e.message = BoundedVenueText(b->message);
  } else if (http_status < 200 || http_status >= 300) {
    e.message = BoundedVenueText(body);
  }
  if (http_status >= 200 && http_status < 300 && (!b || code == kCodeOk)) {
    e.status_code = absl::StatusCode::kOk;
    e.retry = RetryClass::kRetryable;
    return e;
  }
  e.status_code = StatusCodeForVenueCode(code, http_status);
  if (e.status_code == absl::StatusCode::kUnknown) e.status_code = absl::StatusCode::kInternal;
  e.reason = CancelReason::kRejected;
  e.retry = RetryClass::kNotRetryable;
  if (http_status == 429 || code == 429 || http_status == 405 || Has(e.message, "rate limit") ||
      Has(e.message, "too many requests")) {
    // Refused by the limiter (or the firewall's 405 block) before the sequencer saw it.
    e.status_code =
        http_status == 405 ? absl::StatusCode::kUnavailable : absl::StatusCode::kResourceExhausted;
    e.retry = RetryClass::kRetryable;
    e.action = ErrorAction::kBackOff;
    return e;
  }
  if (http_status >= 500 || http_status == 408 || (http_status == 0 && !b)) {
    e.retry = IsWrite(kind) || kind == RequestKind::kCancel ? RetryClass::kUnknownOutcome
                                                            : RetryClass::kRetryable;
    e.reason =
        e.retry == RetryClass::kUnknownOutcome ? CancelReason::kUnknown : CancelReason::kRejected;
    if (http_status == 503) e.action = ErrorAction::kBackOff;
    return e;
  }
  if (code == kCodeInvalidNonce || Has(e.message, "invalid nonce") || Has(e.message, "nonce too")) {
    // The sequencer refused the nonce: nothing was accepted. Re-fetch nextNonce, re-sign, retry.
    e.status_code = absl::StatusCode::kFailedPrecondition;
    e.retry = RetryClass::kRetryable;
    e.action = ErrorAction::kResyncClock;
    return e;
  }
  if (Has(e.message, "expired") && (Has(e.message, "tx") || Has(e.message, "transaction"))) {
    e.retry = RetryClass::kRetryable;  // ExpiredAt passed before it landed: re-sign
    e.action = ErrorAction::kResyncClock;
    return e;
  }
  if (Has(e.message, "auth") || Has(e.message, "token") || http_status == 401) {
    e.status_code = absl::StatusCode::kUnauthenticated;
    e.retry = RetryClass::kRetryable;  // mint a new auth token, retry once
    return e;
  }
  if (Has(e.message, "post only") || Has(e.message, "post-only")) {
    e.status_code = absl::StatusCode::kFailedPrecondition;
    e.reason = CancelReason::kPostOnlyViolation;
    return e;
  }
  if (Has(e.message, "margin") || Has(e.message, "insufficient") || Has(e.message, "not enough")) {
    e.status_code = absl::StatusCode::kFailedPrecondition;
    e.reason = CancelReason::kInsufficientBalance;
    return e;
  }
  if (Has(e.message, "reduce only") || Has(e.message, "reduce-only")) {
    e.reason = CancelReason::kReduceOnly;
    return e;
  }
  if (Has(e.message, "client order index") && (Has(e.message, "exist") || Has(e.message, "dup"))) {
    e.status_code = absl::StatusCode::kAlreadyExists;
    e.duplicate_client_id = true;
    return e;
  }
  if (http_status == 404 || Has(e.message, "not found"))
    e.status_code = absl::StatusCode::kNotFound;
  return e;
}

VenueError ClassifyTransportError(std::string_view what, RequestKind kind) {
  return TransportVenueError(what, kind);
}

absl::Status ToStatus(const VenueError& e) {
  return VenueErrorStatus("lighter", e);
}

absl::StatusOr<OrderAck> AmendFailure(const VenueError& e, const Order& before) {
  return AmendRefusal(e, ToStatus(e), before);
}

}  // namespace perpgw::adapters::lighter
