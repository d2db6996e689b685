// Paradex error classification (protocols/paradex.md section 12).
#include "adapters/paradex/errors.h"


#include "adapters/paradex/codec.h"

namespace perpgw::adapters::paradex {
namespace {

constexpr size_t kMaxMessage = 512;

std::string Trim(std::string_view s) { return BoundedVenueText(s, kMaxMessage); }

bool IsOrderWrite(RequestKind k) {
  return k == RequestKind::kOrderEntry || k == RequestKind::kOther;
}

RetryClass ServerSide(RequestKind k) {
  return IsOrderWrite(k) ? RetryClass::kUnknownOutcome : RetryClass::kRetryable;
}

bool Has(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

absl::StatusCode StatusCodeForVenueCode(std::string_view code, int http_status) {
  using C = absl::StatusCode;
  struct Row {
    std::string_view code;
    C status;
  };
  static constexpr Row kRows[] = {
      {"VALIDATION_ERROR", C::kInvalidArgument},
      {"BINDING_ERROR", C::kInvalidArgument},
      {"INTERNAL_ERROR", C::kInternal},
      {"NOT_FOUND", C::kNotFound},
      {"SERVICE_UNAVAILABLE", C::kUnavailable},
      {"INVALID_REQUEST_PARAMETER", C::kInvalidArgument},
      {"ORDER_ID_NOT_FOUND", C::kNotFound},
      {"ORDER_IS_CLOSED", C::kFailedPrecondition},
      {"ORDER_IS_NOT_OPEN", C::kFailedPrecondition},
      {"INVALID_ORDER_SIZE", C::kInvalidArgument},
      {"INVALID_PRICE_PRECISION", C::kInvalidArgument},
      {"CLIENT_ORDER_ID_NOT_FOUND", C::kNotFound},
      {"DUPLICATED_CLIENT_ID", C::kAlreadyExists},
      {"INVALID_SYMBOL", C::kInvalidArgument},
      {"MARKET_NOT_FOUND", C::kInvalidArgument},
      {"MARKET_NOT_OPEN", C::kFailedPrecondition},
      {"INVALID_TOKEN", C::kUnauthenticated},
      {"UNAUTHORIZED_ERROR", C::kUnauthenticated},
      {"INVALID_STARKNET_ADDRESS", C::kUnauthenticated},
      {"INVALID_STARKNET_SIGNATURE", C::kUnauthenticated},
      {"STARKNET_SIGNATURE_VERIFICATION_FAILED", C::kUnauthenticated},
      {"INVALID_ORDER_SIGNATURE", C::kUnauthenticated},
      {"INVALID_SIGNATURE_EXPIRATION", C::kUnauthenticated},
      {"INVALID_TIMESTAMP", C::kUnauthenticated},
      {"PUBLIC_KEY_INVALID", C::kUnauthenticated},
      {"INVALID_SUBKEY", C::kPermissionDenied},
      {"NOT_ONBOARDED", C::kFailedPrecondition},
      {"ACCOUNT_NOT_FOUND", C::kNotFound},
      {"GEO_IP_BLOCK", C::kPermissionDenied},
      {"IP_NOT_ALLOWED", C::kPermissionDenied},
      {"BATCH_SIZE_OUT_OF_RANGE", C::kInvalidArgument},
      {"SYSTEM_STATUS_POST_ONLY", C::kFailedPrecondition},
      {"SYSTEM_STATUS_CANCEL_ONLY", C::kFailedPrecondition},
      {"RPI_ACCOUNT_NOT_WHITELISTED", C::kPermissionDenied},
      {"RATE_LIMIT_EXCEEDED", C::kResourceExhausted},
  };
  for (const Row& r : kRows) {
    if (r.code == code) return r.status;
  }
  switch (http_status) {
    case 400: return C::kInvalidArgument;
    case 401: return C::kUnauthenticated;
    case 403: return C::kPermissionDenied;
    case 404: return C::kNotFound;
    case 408: return C::kDeadlineExceeded;
    case 409: return C::kAlreadyExists;
    case 429: return C::kResourceExhausted;
    case 500: return C::kInternal;
    case 501: return C::kUnimplemented;
    case 502:
    case 503: return C::kUnavailable;
    case 504: return C::kDeadlineExceeded;
    default: break;
  }
  if (http_status >= 500) return C::kUnavailable;
  if (http_status >= 400) return C::kInvalidArgument;
  return C::kUnknown;
}

VenueError ClassifyHttpError(int http_status, std::string_view body, RequestKind kind) {
  VenueError e;
  e.http_status = http_status;
  Codec codec;
  if (std::optional<ErrorBody> b = codec.ParseError(body)) {
    e.code = b->code;
    e.message = Trim(b->message);
  } else {
    e.message = Trim(body);
  }
  e.status_code = StatusCodeForVenueCode(e.code, http_status);
  e.reason = CancelReason::kRejected;
  e.retry = RetryClass::kNotRetryable;
  const std::string& c = e.code;
  if (http_status == 429 || c == "RATE_LIMIT_EXCEEDED") {
    // The rate limiter answers before the engine.
    e.status_code = absl::StatusCode::kResourceExhausted;
    e.retry = RetryClass::kRetryable;
    e.action = ErrorAction::kBackOff;
    return e;
  }
  if (http_status == 401) {
    // The JWT was refused (expired, revoked): nothing executed; refresh and retry once.
    e.status_code = absl::StatusCode::kUnauthenticated;
    e.retry = RetryClass::kRetryable;
    return e;
  }
  if (http_status >= 500 || c == "INTERNAL_ERROR" || c == "SERVICE_UNAVAILABLE" ||
      (c.empty() && http_status == 408)) {
    e.retry = ServerSide(kind);
    e.reason =
        e.retry == RetryClass::kUnknownOutcome ? CancelReason::kUnknown : CancelReason::kRejected;
    if (c == "SERVICE_UNAVAILABLE" || http_status == 503) {
      e.status_code = absl::StatusCode::kUnavailable;
      e.action = ErrorAction::kBackOff;  // maintenance: back off
    }
    return e;
  }
  if (c == "INVALID_TIMESTAMP" || c == "INVALID_SIGNATURE_EXPIRATION") {
    e.retry = RetryClass::kRetryable;  // clock skew: re-sign with a fresh timestamp
    e.action = ErrorAction::kResyncClock;
    return e;
  }
  if (c == "DUPLICATED_CLIENT_ID") {
    e.duplicate_client_id = true;
    return e;
  }
  if (Has(c, "POST_ONLY") || Has(e.message, "post only") || Has(e.message, "POST_ONLY")) {
    e.status_code = absl::StatusCode::kFailedPrecondition;
    e.reason = CancelReason::kPostOnlyViolation;
    return e;
  }
  if (Has(c, "MARGIN") || Has(e.message, "margin") || Has(c, "INSUFFICIENT")) {
    e.status_code = absl::StatusCode::kFailedPrecondition;
    e.reason = CancelReason::kInsufficientBalance;
    return e;
  }
  if (Has(c, "REDUCE_ONLY") || Has(e.message, "reduce only")) {
    e.reason = CancelReason::kReduceOnly;
    return e;
  }
  if (c == "SYSTEM_STATUS_CANCEL_ONLY" || c == "SYSTEM_STATUS_POST_ONLY") {
    e.action = ErrorAction::kBackOff;
    return e;
  }
  if (c == "ORDER_ID_NOT_FOUND" || c == "CLIENT_ORDER_ID_NOT_FOUND" || http_status == 404) {
    e.status_code = absl::StatusCode::kNotFound;
  }
  return e;
}

VenueError ClassifyTransportError(std::string_view what, RequestKind kind) {
  return TransportVenueError(what, kind);
}

absl::Status ToStatus(const VenueError& e) { return VenueErrorStatus("paradex", e); }

absl::StatusOr<OrderAck> AmendFailure(const VenueError& e, const Order& before) {
  if (e.retry == RetryClass::kUnknownOutcome || e.status_code == absl::StatusCode::kOk) {
    return AmendRefusal(e, ToStatus(e), before);
  }
  // A modify names one order: "closed" and "not open" say the same as "not found" here (filled
  // or canceled meanwhile: nothing to amend).
  VenueError nf = e;
  if (e.code == "ORDER_ID_NOT_FOUND" || e.code == "ORDER_IS_CLOSED" ||
      e.code == "ORDER_IS_NOT_OPEN" || e.code == "CLIENT_ORDER_ID_NOT_FOUND" ||
      (e.code.empty() && e.http_status == 404)) {
    nf.status_code = absl::StatusCode::kNotFound;
    return ToStatus(nf);
  }
  return AmendRefusal(e, ToStatus(e), before);
}

}  // namespace perpgw::adapters::paradex
