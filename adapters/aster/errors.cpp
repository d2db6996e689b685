// Aster error table (codes from the venue docs; a few Binance-inherited ones marked as such).
#include "adapters/aster/errors.h"

#include <cctype>
#include <charconv>

#include "adapters/aster/codec.h"

namespace perpgw::adapters::aster {
namespace {

using absl::StatusCode;

bool ContainsCi(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() &&
           std::tolower(static_cast<unsigned char>(hay[i + j])) ==
               std::tolower(static_cast<unsigned char>(needle[j]))) {
      ++j;
    }
    if (j == needle.size()) return true;
  }
  return false;
}

bool StartsWithCi(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ContainsCi(s.substr(0, prefix.size()), prefix);
}

// Server-side failures: the request may or may not have run.
void ServerSide(VenueError* e, RequestKind kind, StatusCode code) {
  e->status_code = code;
  if (kind == RequestKind::kQuery) {
    e->retry = RetryClass::kRetryable;
  } else {
    e->retry = RetryClass::kUnknownOutcome;
    e->action = ErrorAction::kReconcile;
  }
}

void Refused(VenueError* e, StatusCode code, CancelReason reason) {
  e->status_code = code;
  e->retry = RetryClass::kNotRetryable;
  e->reason = reason;
}

// Refines -2010 ("new order rejected") from its text, which carries the real cause.
CancelReason ReasonFromText(std::string_view msg) {
  if (ContainsCi(msg, "post only") || ContainsCi(msg, "postonly") ||
      ContainsCi(msg, "executed as maker") || ContainsCi(msg, "immediately match")) {
    return CancelReason::kPostOnlyViolation;
  }
  if (ContainsCi(msg, "insufficient")) return CancelReason::kInsufficientBalance;
  if (ContainsCi(msg, "reduceonly") || ContainsCi(msg, "reduce only")) {
    return CancelReason::kReduceOnly;
  }
  return CancelReason::kRejected;
}

void ByCode(VenueError* e, int code, RequestKind kind) {
  switch (code) {
    case -1000:  // unknown error while processing
    case -1001:  // internal error / disconnected
    case -1006:  // unexpected response from the backend (Binance: execution status unknown)
    case -1007:  // backend timeout (Binance: execution status unknown)
      ServerSide(e, kind, code == -1007 ? StatusCode::kDeadlineExceeded : StatusCode::kUnavailable);
      return;
    case -1003:  // too many requests
    case -1015:  // too many new orders
      e->status_code = StatusCode::kResourceExhausted;
      e->retry = RetryClass::kRetryable;
      e->action = ErrorAction::kBackOff;
      return;
    case -1021:  // timestamp outside recvWindow (V1)
    case -4225:  // nonce expired (V3)
      e->status_code = StatusCode::kFailedPrecondition;
      e->retry = RetryClass::kRetryable;
      e->action = ErrorAction::kResyncClock;
      return;
    case -1022:  // invalid signature
    case -2014:  // API key format invalid
    case -2015:  // invalid API key, IP or permissions
      Refused(e, code == -2015 ? StatusCode::kPermissionDenied : StatusCode::kUnauthenticated,
              CancelReason::kRejected);
      return;
    case -1121:  // invalid symbol
      Refused(e, StatusCode::kInvalidArgument, CancelReason::kRejected);
      e->action = ErrorAction::kRefreshInstruments;
      return;
    case -1125:  // invalid listenKey
      e->status_code = StatusCode::kUnauthenticated;
      e->retry = RetryClass::kRetryable;
      e->action = ErrorAction::kRenewListenKey;
      return;
    case -2010:  // new order rejected (cause in the text)
      Refused(e, StatusCode::kFailedPrecondition, ReasonFromText(e->message));
      return;
    case -2011:  // cancel rejected
      Refused(e, StatusCode::kFailedPrecondition, CancelReason::kRejected);
      return;
    case -2013:  // no such order
      Refused(e, StatusCode::kNotFound, CancelReason::kNone);
      return;
    case -2018:  // balance insufficient
    case -2019:  // margin insufficient
      Refused(e, StatusCode::kFailedPrecondition, CancelReason::kInsufficientBalance);
      return;
    case -2022:  // reduce-only rejected
      Refused(e, StatusCode::kFailedPrecondition, CancelReason::kReduceOnly);
      return;
    case -5022:  // Binance-inherited: post-only order would take liquidity
      Refused(e, StatusCode::kFailedPrecondition, CancelReason::kPostOnlyViolation);
      return;
    case -2021:  // would immediately trigger
    case -2025:  // max open orders
    case -2027:  // Binance-inherited: max position at this leverage
    case -2028:  // Binance-inherited: leverage too high for margin
    case -4131:  // market order rejected (price protection)
      Refused(e, StatusCode::kFailedPrecondition, CancelReason::kRejected);
      return;
    case -4046:  // no need to change margin type
    case -4059:  // no need to change position side
      Refused(e, StatusCode::kAlreadyExists, CancelReason::kNone);
      return;
    default:
      break;
  }
  if (code <= -1100 && code >= -1199) {  // parameter errors (-1102 missing, -1111 precision ...)
    Refused(e, StatusCode::kInvalidArgument, CancelReason::kRejected);
    return;
  }
  if (code == -4116) {  // "ClientOrderId is duplicated.": an order with this id exists
    Refused(e, StatusCode::kAlreadyExists, CancelReason::kRejected);
    e->duplicate_client_id = true;
    return;
  }
  if ((code <= -4000 && code >= -4999) || (code <= -5000 && code >= -5999)) {
    // filter violations: -4003/-4004/-4005 qty, -4014 tick, -4015 client id, -4016/-4024 and
    // -5060 price band, -4023 step, -4028 leverage, -4061 side, -4164/-5076 min notional
    Refused(e, StatusCode::kInvalidArgument, CancelReason::kRejected);
    return;
  }
  if (code <= -2000 && code >= -2999) {
    Refused(e, StatusCode::kFailedPrecondition, CancelReason::kRejected);
    return;
  }
  // Unknown code: refusing is the safe default for queries; for order entry we cannot be sure
  // the venue refused, but a body with a code means it answered deliberately.
  Refused(e, StatusCode::kUnknown, CancelReason::kUnknown);
}

}  // namespace

VenueError ClassifyError(int http_status, int code, std::string_view message, RequestKind kind) {
  VenueError e;
  e.http_status = http_status;
  if (code != 0) e.code = std::to_string(code);
  e.message = std::string(message);
  bool success_http = http_status >= 200 && http_status < 300;
  if (success_http && (code == 0 || code == 200)) {
    e.status_code = StatusCode::kOk;
    e.retry = RetryClass::kRetryable;
    return e;
  }
  if (http_status == 429 || http_status == 418) {
    // Rate limited / auto-banned. For order entry the architecture rule is unknown outcome
    // (never REJECTED) even though the venue most likely refused it.
    e.status_code = StatusCode::kResourceExhausted;
    e.action = ErrorAction::kBackOff;
    e.retry = kind == RequestKind::kQuery ? RetryClass::kRetryable : RetryClass::kUnknownOutcome;
    return e;
  }
  if (http_status == 503 || http_status == 504 || (http_status >= 500 && code == 0) ||
      (http_status >= 500 && (code == -1000 || code == -1001 || code == -1006 || code == -1007))) {
    // 503 = "execution status unknown" per the docs; other 5xx are treated the same on writes.
    ServerSide(&e, kind,
               http_status == 504 ? StatusCode::kDeadlineExceeded : StatusCode::kUnavailable);
    return e;
  }
  if (code != 0 && code != 200) {
    ByCode(&e, code, kind);
    if (http_status >= 500 && e.retry == RetryClass::kNotRetryable &&
        e.status_code == StatusCode::kUnknown && kind != RequestKind::kQuery) {
      e.retry = RetryClass::kUnknownOutcome;
      e.action = ErrorAction::kReconcile;
    }
    return e;
  }
  if (http_status >= 500) {
    ServerSide(&e, kind, StatusCode::kUnavailable);
    return e;
  }
  switch (http_status) {
    case 400: Refused(&e, StatusCode::kInvalidArgument, CancelReason::kRejected); break;
    case 401: Refused(&e, StatusCode::kUnauthenticated, CancelReason::kRejected); break;
    case 403: Refused(&e, StatusCode::kPermissionDenied, CancelReason::kRejected); break;
    case 404: Refused(&e, StatusCode::kNotFound, CancelReason::kNone); break;
    case 408: ServerSide(&e, kind, StatusCode::kDeadlineExceeded); break;
    default: Refused(&e, StatusCode::kUnknown, CancelReason::kUnknown); break;
  }
  return e;
}

VenueError ClassifyResponse(int http_status, std::string_view body, RequestKind kind) {
  auto parsed = ParseErrorBody(body);
  if (parsed.ok()) return ClassifyError(http_status, parsed->code, parsed->msg, kind);
  // Not a {"code","msg"} body (HTML from a proxy, empty 5xx, ...): classify by HTTP alone and
  // keep a bounded prefix of the text for the operator.
  std::string_view text = body.substr(0, std::min<size_t>(body.size(), 200));
  return ClassifyError(http_status, 0, text, kind);
}

VenueError ClassifyTransportError(std::string_view what, bool timed_out, RequestKind kind) {
  VenueError e;
  e.message = std::string(what);
  ServerSide(&e, kind, timed_out ? StatusCode::kDeadlineExceeded : StatusCode::kUnavailable);
  return e;
}

absl::Status ToStatus(const VenueError& e) {
  if (e.status_code == StatusCode::kOk) return absl::OkStatus();
  std::string text = "aster";
  if (e.http_status != 0) text += " http " + std::to_string(e.http_status);
  if (!e.code.empty()) text += " code " + e.code;
  text += " (";
  text += ToString(e.retry);
  text += "): ";
  text += e.message.empty() ? "no message" : e.message;
  return AttachVenueDetails(absl::Status(e.status_code, text), "aster", e);
}

absl::StatusOr<OrderAck> AmendFailure(const VenueError& e, const Order& before) {
  return AmendRefusal(e, ToStatus(e), before);
}

bool ParseRateLimitHeader(std::string_view name, std::string_view value, RateLimitUsage* usage) {
  auto parse_int = [](std::string_view v, int64_t* out) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
      v.remove_suffix(1);
    }
    if (v.empty()) return false;
    auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
    return r.ec == std::errc() && r.ptr == v.data() + v.size() && *out >= 0;
  };
  auto interval_of = [](std::string_view rest) {
    std::string s(rest);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  int64_t n = 0;
  if (StartsWithCi(name, "retry-after") && name.size() == 11) {
    if (!parse_int(value, &n)) return false;
    usage->retry_after_seconds = n;
    return true;
  }
  static constexpr std::string_view kWeight = "x-mbx-used-weight-";
  static constexpr std::string_view kOrders = "x-mbx-order-count-";
  std::vector<RateLimitCounter>* target = nullptr;
  std::string_view rest;
  if (StartsWithCi(name, kWeight)) {
    target = &usage->used_weight;
    rest = name.substr(kWeight.size());
  } else if (StartsWithCi(name, kOrders)) {
    target = &usage->order_count;
    rest = name.substr(kOrders.size());
  } else {
    return false;
  }
  if (rest.empty() || !parse_int(value, &n)) return false;
  std::string interval = interval_of(rest);
  for (RateLimitCounter& c : *target) {
    if (c.interval == interval) {
      c.value = n;
      return true;
    }
  }
  target->push_back({std::move(interval), n});
  return true;
}

}  // namespace perpgw::adapters::aster
