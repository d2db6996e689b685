// Backpack error classification (protocols/backpack.md section 12).
#include "adapters/backpack/errors.h"

#include <cctype>

#include "adapters/wire/json_reader.h"

namespace perpgw::adapters::backpack {
namespace {

constexpr size_t kMaxMessage = 512;

std::string Trim(std::string_view s) { return BoundedVenueText(s, kMaxMessage); }

bool Contains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    bool eq = true;
    for (size_t j = 0; j < needle.size(); ++j) {
      if (std::tolower(static_cast<unsigned char>(hay[i + j])) !=
          std::tolower(static_cast<unsigned char>(needle[j]))) {
        eq = false;
        break;
      }
    }
    if (eq) return true;
  }
  return false;
}

// Upper-case letters only: "PostOnlyTaker" and "POST_ONLY_TAKER" both -> "POSTONLYTAKER".
std::string Canon(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

// A code: a JSON string, or a JSON integer as its digits.
bool CodeText(const wire::Scalar& v, std::string* out) {
  int64_t n;
  if (!v.has() || (!v.is_string && !wire::ParseInt64(v.text, &n))) return false;
  out->assign(v.text);
  return true;
}

// Pulls code/message out of a JSON error body; false when the body is not that shape.
bool ParseJsonError(std::string_view body, std::string* code, std::string* message) {
  constexpr wire::Where kW{"backpack", "error body"};
  wire::JsonParser& parser = wire::JsonParser::ThreadLocal();
  wire::od::document doc;
  wire::od::object obj;
  if (!parser.Start(body, kW, &doc).ok() || !wire::RootObject(doc, kW, &obj).ok()) return false;
  // WS-style {"id":null,"error":{"code":4006,"message":"..."}} also lands here.
  wire::Fields top{"code", "message"};
  wire::Fields nested{"code", "message"};
  bool have_nested = false;
  absl::Status st = top.Read(obj, kW, [&](std::string_view key, wire::od::value& v) {
    wire::od::json_type t;
    if (key != "error" || v.type().get(t) || t != wire::od::json_type::object) {
      return absl::OkStatus();
    }
    wire::od::object err;
    PERPGW_JSON_TRY(v.get_object().get(err), kW);
    have_nested = true;
    return nested.Read(err, kW);
  });
  if (!st.ok() || !wire::CheckEnd(doc, kW).ok()) return false;
  bool any = CodeText(top["code"], code);
  if (top["message"].is_string) {
    *message = Trim(top["message"].text);
    any = true;
  }
  if (!any && have_nested) {
    CodeText(nested["code"], code);
    if (nested["message"].is_string) *message = Trim(nested["message"].text);
    any = !code->empty() || !message->empty();
  }
  return any;
}

bool IsOrderWrite(RequestKind k) {
  return k == RequestKind::kOrderEntry || k == RequestKind::kOther;
}

// Server-side trouble: unknown outcome for writes, retryable for reads and cancels.
RetryClass ServerSide(RequestKind k) {
  return IsOrderWrite(k) ? RetryClass::kUnknownOutcome : RetryClass::kRetryable;
}

}  // namespace

absl::StatusCode StatusCodeForVenueCode(std::string_view code, int http_status) {
  using C = absl::StatusCode;
  struct Row {
    std::string_view code;
    C status;
  };
  static constexpr Row kRows[] = {
      {"ACCOUNT_DEACTIVATED", C::kPermissionDenied},
      {"ACCOUNT_LIQUIDATING", C::kFailedPrecondition},
      {"BORROW_LIMIT", C::kFailedPrecondition},
      {"BORROW_REQUIRES_LEND_REDEEM", C::kFailedPrecondition},
      {"FORBIDDEN", C::kPermissionDenied},
      {"INSUFFICIENT_FUNDS", C::kFailedPrecondition},
      {"INSUFFICIENT_MARGIN", C::kFailedPrecondition},
      {"INSUFFICIENT_SUPPLY", C::kFailedPrecondition},
      {"INVALID_ASSET", C::kInvalidArgument},
      {"INVALID_CLIENT_REQUEST", C::kInvalidArgument},
      {"INVALID_MARKET", C::kInvalidArgument},
      {"INVALID_ORDER", C::kInvalidArgument},
      {"INVALID_PRICE", C::kInvalidArgument},
      {"INVALID_POSITION_ID", C::kInvalidArgument},
      {"INVALID_QUANTITY", C::kInvalidArgument},
      {"INVALID_RANGE", C::kInvalidArgument},
      {"INVALID_SIGNATURE", C::kUnauthenticated},
      {"INVALID_SOURCE", C::kInvalidArgument},
      {"INVALID_SYMBOL", C::kInvalidArgument},
      {"INVALID_TWO_FACTOR_CODE", C::kPermissionDenied},
      {"LEND_LIMIT", C::kFailedPrecondition},
      {"LEND_REQUIRES_BORROW_REPAY", C::kFailedPrecondition},
      {"MAINTENANCE", C::kUnavailable},
      {"MAX_LEVERAGE_REACHED", C::kFailedPrecondition},
      {"NOT_IMPLEMENTED", C::kUnimplemented},
      {"ORDER_LIMIT", C::kResourceExhausted},
      {"POSITION_LIMIT", C::kFailedPrecondition},
      {"PRECONDITION_FAILED", C::kFailedPrecondition},
      {"RESOURCE_NOT_FOUND", C::kNotFound},
      {"SERVER_ERROR", C::kInternal},
      {"TIMEOUT", C::kDeadlineExceeded},
      {"TOO_EARLY", C::kUnavailable},
      {"TOO_MANY_REQUESTS", C::kResourceExhausted},
      {"TRADING_PAUSED", C::kUnavailable},
      {"UNAUTHORIZED", C::kUnauthenticated},
  };
  for (const Row& r : kRows) {
    if (r.code == code) return r.status;
  }
  switch (http_status) {
    case 400:
      return C::kInvalidArgument;
    case 401:
      return C::kUnauthenticated;
    case 403:
      return C::kPermissionDenied;
    case 404:
      return C::kNotFound;
    case 408:
      return C::kDeadlineExceeded;
    case 409:
      return C::kAlreadyExists;
    case 429:
      return C::kResourceExhausted;
    case 202:
      return C::kUnknown;
    case 500:
      return C::kInternal;
    case 501:
      return C::kUnimplemented;
    case 502:
    case 503:
      return C::kUnavailable;
    case 504:
      return C::kDeadlineExceeded;
    default:
      break;
  }
  if (http_status >= 500) return C::kUnavailable;
  if (http_status >= 400) return C::kInvalidArgument;
  return C::kUnknown;
}

VenueError ClassifyHttpError(int http_status, std::string_view body, RequestKind kind) {
  VenueError e;
  e.http_status = http_status;
  if (!ParseJsonError(body, &e.code, &e.message)) e.message = Trim(body);
  e.status_code = StatusCodeForVenueCode(e.code, http_status);
  e.reason = CancelReason::kRejected;
  e.retry = RetryClass::kNotRetryable;

  const std::string& c = e.code;
  const std::string& m = e.message;
  if (http_status == 202) {
    // Accepted but not yet executed: the engine may still run it.
    e.status_code = absl::StatusCode::kUnknown;
    e.retry = ServerSide(kind);
    e.reason = CancelReason::kUnknown;
    return e;
  }
  if (c == "TOO_MANY_REQUESTS" || http_status == 429) {
    // Rate limiter answers before the engine; a replay with the same clientId is idempotent
    // anyway (duplicate live clientIds are rejected).
    e.status_code = absl::StatusCode::kResourceExhausted;
    e.retry = RetryClass::kRetryable;
    e.action = ErrorAction::kBackOff;
    e.reason = CancelReason::kRejected;
    return e;
  }
  if (c == "TIMEOUT" || c == "SERVER_ERROR" || http_status >= 500 ||
      (c.empty() && http_status == 408)) {
    if (c.empty() && http_status == 503) e.status_code = absl::StatusCode::kUnavailable;
    e.retry = ServerSide(kind);
    e.reason =
        e.retry == RetryClass::kUnknownOutcome ? CancelReason::kUnknown : CancelReason::kRejected;
    if (c == "TIMEOUT")
      e.reason = IsOrderWrite(kind) ? CancelReason::kUnknown : CancelReason::kTimeout;
    return e;
  }
  if (c == "TOO_EARLY") {
    e.retry = RetryClass::kRetryable;
    return e;
  }
  // Signature / auth problems arrive as INVALID_CLIENT_REQUEST with telling messages.
  if (Contains(m, "Request has expired")) {
    // Clock skew or a slow queue: re-sign with a fresh timestamp.
    e.status_code = absl::StatusCode::kUnauthenticated;
    e.retry = RetryClass::kRetryable;
    return e;
  }
  if (Contains(m, "signature") || Contains(m, "X-API-Key") || Contains(m, "X-Timestamp") ||
      Contains(m, "X-Window") || c == "INVALID_SIGNATURE") {
    e.status_code = absl::StatusCode::kUnauthenticated;
    return e;
  }
  if (Contains(m, "client ID already exists")) {
    e.status_code = absl::StatusCode::kAlreadyExists;
    e.duplicate_client_id = true;
    return e;
  }
  if (Contains(m, "immediately match") || Contains(m, "post only") || Contains(m, "post-only") ||
      Contains(m, "PostOnly")) {
    e.status_code = absl::StatusCode::kFailedPrecondition;
    e.reason = CancelReason::kPostOnlyViolation;
    return e;
  }
  if (c == "INSUFFICIENT_FUNDS" || c == "INSUFFICIENT_MARGIN" || c == "MAX_LEVERAGE_REACHED" ||
      c == "BORROW_LIMIT" || Contains(m, "insufficient")) {
    e.reason = CancelReason::kInsufficientBalance;
    return e;
  }
  if (Contains(m, "reduce only") || Contains(m, "reduce-only") || Contains(m, "ReduceOnly")) {
    e.reason = CancelReason::kReduceOnly;
    return e;
  }
  if (c == "ACCOUNT_LIQUIDATING") {
    e.reason = CancelReason::kLiquidation;
    return e;
  }
  if (c == "RESOURCE_NOT_FOUND" || http_status == 404) {
    e.status_code = absl::StatusCode::kNotFound;
    return e;
  }
  return e;
}

VenueError ClassifyTransportError(std::string_view what, RequestKind kind) {
  return TransportVenueError(what, kind);
}

absl::Status ToStatus(const VenueError& e) { return VenueErrorStatus("backpack", e); }

CancelReason CancelReasonFromExpiry(std::string_view expiry_reason) {
  if (expiry_reason.empty()) return CancelReason::kNone;
  std::string r = Canon(expiry_reason);
  struct Row {
    std::string_view canon;
    CancelReason reason;
  };
  static constexpr Row kRows[] = {
      {"POSTONLYTAKER", CancelReason::kPostOnlyViolation},
      {"POSTONLYMODE", CancelReason::kRejected},
      {"IMMEDIATEORCANCEL", CancelReason::kExpired},
      {"FILLORKILL", CancelReason::kExpired},
      {"INSUFFICIENTLIQUIDITY", CancelReason::kExpired},
      {"INSUFFICIENTFUNDS", CancelReason::kInsufficientBalance},
      {"INSUFFICIENTMARGIN", CancelReason::kInsufficientBalance},
      {"INSUFFICIENTBORROWABLEQUANTITY", CancelReason::kInsufficientBalance},
      {"BORROWREQUIRESLENDREDEEM", CancelReason::kInsufficientBalance},
      {"NEGATIVEEQUITY", CancelReason::kInsufficientBalance},
      {"REDUCEONLYNOTREDUCED", CancelReason::kReduceOnly},
      {"STOPWITHOUTPOSITION", CancelReason::kReduceOnly},
      {"SELFTRADEPREVENTION", CancelReason::kSelfTrade},
      {"LIQUIDATION", CancelReason::kLiquidation},
      {"PRICEOUTOFBOUNDS", CancelReason::kRejected},
      {"PRICEBAND", CancelReason::kRejected},
      {"PRICEIMPACT", CancelReason::kRejected},
      {"SLIPPAGETOLERANCEEXCEEDED", CancelReason::kRejected},
      {"INVALIDPRICE", CancelReason::kRejected},
      {"INVALIDQUANTITY", CancelReason::kRejected},
      {"POSITIONLIMIT", CancelReason::kRejected},
      {"MAXSTOPORDERSPERPOSITION", CancelReason::kRejected},
      {"USERPERMISSIONS", CancelReason::kRejected},
      {"ACCOUNTTRADINGSUSPENDED", CancelReason::kRejected},
      {"USERCANCELLED", CancelReason::kUserCanceled},
      {"UNKNOWN", CancelReason::kUnknown},
  };
  for (const Row& row : kRows) {
    if (row.canon == r) return row.reason;
  }
  return CancelReason::kUnknown;
}

}  // namespace perpgw::adapters::backpack
