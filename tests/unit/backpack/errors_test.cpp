// Backpack error classification on the recorded error bodies and the notes' rules.
#include "adapters/backpack/errors.h"

#include <catch2/catch.hpp>

#include "test_util.h"

namespace bp = perpgw::adapters::backpack;
using absl::StatusCode;
using bp::RequestKind;
using bp::RetryClass;
using perpgw::CancelReason;

TEST_CASE("backpack errors: recorded error bodies") {
  auto e = bp::ClassifyHttpError(400, bp::testing::ReadData("error.json"), RequestKind::kCancel);
  CHECK(e.code == "INVALID_CLIENT_REQUEST");
  CHECK(e.message == "Must specify either `clientId` or `orderId`");
  CHECK(e.status_code == StatusCode::kInvalidArgument);
  CHECK(e.retry == RetryClass::kNotRetryable);

  auto items = bp::testing::SplitArray(bp::testing::ReadData("errors.json"));
  REQUIRE(items.size() == 5);
  auto dup = bp::ClassifyHttpError(400, items[0], RequestKind::kOrderEntry);
  CHECK(dup.code == "INVALID_ORDER");
  CHECK(dup.duplicate_client_id);
  CHECK(dup.status_code == StatusCode::kAlreadyExists);
  CHECK(dup.retry == RetryClass::kNotRetryable);
  for (size_t i = 1; i < items.size(); ++i) {
    auto x = bp::ClassifyHttpError(400, items[i], RequestKind::kOrderEntry);
    INFO(items[i]);
    CHECK(x.status_code == StatusCode::kInvalidArgument);
    CHECK(x.retry == RetryClass::kNotRetryable);
    CHECK(x.reason == CancelReason::kRejected);
    CHECK(!x.duplicate_client_id);
  }
  auto st = bp::ToStatus(dup);
  CHECK(st.code() == StatusCode::kAlreadyExists);
  CHECK(std::string(st.message()) ==
        "backpack INVALID_ORDER (HTTP 400): Order with client ID already exists: 123456739");
}

TEST_CASE("backpack errors: plain-text and empty bodies") {
  const char* text =
      "failed to parse \"MarketSymbol\": Invalid market symbol (occurred while parsing "
      "\"OrderExecutePayload\")";
  auto e = bp::ClassifyHttpError(400, text, RequestKind::kOrderEntry);
  CHECK(e.code.empty());
  CHECK(e.message == text);
  CHECK(e.status_code == StatusCode::kInvalidArgument);
  CHECK(e.retry == RetryClass::kNotRetryable);
  auto empty = bp::ClassifyHttpError(404, "", RequestKind::kQuery);
  CHECK(empty.status_code == StatusCode::kNotFound);
  auto junk = bp::ClassifyHttpError(400, "{\"code\":", RequestKind::kQuery);
  CHECK(junk.status_code == StatusCode::kInvalidArgument);
  CHECK(junk.message == "{\"code\":");
  std::string huge(5000, 'x');
  CHECK(bp::ClassifyHttpError(400, huge, RequestKind::kQuery).message.size() == 512);
}

TEST_CASE("backpack errors: unknown outcome vs retryable") {
  // 202 on order entry: accepted, not yet executed.
  auto a = bp::ClassifyHttpError(202, "", RequestKind::kOrderEntry);
  CHECK(a.retry == RetryClass::kUnknownOutcome);
  CHECK(a.reason == CancelReason::kUnknown);
  // TIMEOUT / SERVER_ERROR: unknown for order entry, retryable for reads and cancels.
  const char* timeout = R"({"code":"TIMEOUT","message":"Request timed out"})";
  CHECK(bp::ClassifyHttpError(504, timeout, RequestKind::kOrderEntry).retry ==
        RetryClass::kUnknownOutcome);
  CHECK(bp::ClassifyHttpError(400, timeout, RequestKind::kOrderEntry).retry ==
        RetryClass::kUnknownOutcome);
  CHECK(bp::ClassifyHttpError(504, timeout, RequestKind::kQuery).retry == RetryClass::kRetryable);
  CHECK(bp::ClassifyHttpError(504, timeout, RequestKind::kCancel).retry == RetryClass::kRetryable);
  CHECK(bp::ClassifyHttpError(504, timeout, RequestKind::kQuery).status_code ==
        StatusCode::kDeadlineExceeded);
  const char* server = R"({"code":"SERVER_ERROR","message":"Internal"})";
  auto s = bp::ClassifyHttpError(500, server, RequestKind::kOrderEntry);
  CHECK(s.retry == RetryClass::kUnknownOutcome);
  CHECK(s.status_code == StatusCode::kInternal);
  CHECK(bp::ClassifyHttpError(502, "<html>bad gateway</html>", RequestKind::kOrderEntry).retry ==
        RetryClass::kUnknownOutcome);
  auto maint =
      bp::ClassifyHttpError(503, R"({"code":"MAINTENANCE","message":"m"})", RequestKind::kQuery);
  CHECK(maint.status_code == StatusCode::kUnavailable);
  CHECK(maint.retry == RetryClass::kRetryable);
  // 429: retry after a backoff.
  auto r = bp::ClassifyHttpError(429, R"({"code":"TOO_MANY_REQUESTS","message":"slow down"})",
                                 RequestKind::kOrderEntry);
  CHECK(r.retry == RetryClass::kRetryable);
  CHECK(r.action == perpgw::ErrorAction::kBackOff);
  CHECK(r.status_code == StatusCode::kResourceExhausted);
  CHECK(bp::ClassifyHttpError(429, "", RequestKind::kQuery).rate_limited());
  // Transport failures.
  auto t = bp::ClassifyTransportError("connection reset", RequestKind::kOrderEntry);
  CHECK(t.retry == RetryClass::kUnknownOutcome);
  CHECK(t.http_status == 0);
  CHECK(bp::ClassifyTransportError("reset", RequestKind::kQuery).retry == RetryClass::kRetryable);
  CHECK(std::string(bp::ToStatus(t).message()).find("[outcome unknown]") != std::string::npos);
}

TEST_CASE("backpack errors: auth, post-only, funds, not found") {
  auto sig = bp::ClassifyHttpError(
      400, R"({"code":"INVALID_CLIENT_REQUEST","message":"Invalid signature"})",
      RequestKind::kOrderEntry);
  CHECK(sig.status_code == StatusCode::kUnauthenticated);
  CHECK(sig.retry == RetryClass::kNotRetryable);
  auto exp = bp::ClassifyHttpError(
      400, R"({"code":"INVALID_CLIENT_REQUEST","message":"Request has expired"})",
      RequestKind::kOrderEntry);
  CHECK(exp.status_code == StatusCode::kUnauthenticated);
  CHECK(exp.retry == RetryClass::kRetryable);
  auto po = bp::ClassifyHttpError(
      400, R"({"code":"INVALID_ORDER","message":"Order would immediately match and take"})",
      RequestKind::kOrderEntry);
  CHECK(po.reason == CancelReason::kPostOnlyViolation);
  CHECK(po.retry == RetryClass::kNotRetryable);
  auto funds = bp::ClassifyHttpError(
      400, R"({"code":"INSUFFICIENT_MARGIN","message":"Insufficient margin"})",
      RequestKind::kOrderEntry);
  CHECK(funds.reason == CancelReason::kInsufficientBalance);
  CHECK(funds.status_code == StatusCode::kFailedPrecondition);
  auto nf = bp::ClassifyHttpError(
      404, R"({"code":"RESOURCE_NOT_FOUND","message":"Order not found"})", RequestKind::kQuery);
  CHECK(nf.status_code == StatusCode::kNotFound);
  CHECK(bp::ClassifyHttpError(401, R"({"code":"UNAUTHORIZED","message":"x"})", RequestKind::kQuery)
            .status_code == StatusCode::kUnauthenticated);
  CHECK(bp::ClassifyHttpError(400, R"({"code":"ORDER_LIMIT","message":"x"})",
                              RequestKind::kOrderEntry)
            .status_code == StatusCode::kResourceExhausted);
  CHECK(bp::ClassifyHttpError(400, R"({"code":"ACCOUNT_LIQUIDATING","message":"x"})",
                              RequestKind::kOrderEntry)
            .reason == CancelReason::kLiquidation);
  // WS-style error object.
  auto ws = bp::ClassifyHttpError(
      400, R"({"id":null,"error":{"code":4006,"message":"Invalid stream"}})", RequestKind::kQuery);
  CHECK(ws.code == "4006");
  CHECK(ws.message == "Invalid stream");
  CHECK(bp::StatusCodeForVenueCode("NOT_IMPLEMENTED", 400) == StatusCode::kUnimplemented);
  CHECK(bp::StatusCodeForVenueCode("SOMETHING_NEW", 418) == StatusCode::kInvalidArgument);
  CHECK(bp::StatusCodeForVenueCode("SOMETHING_NEW", 599) == StatusCode::kUnavailable);
}

TEST_CASE("backpack errors: expiry reasons -> CancelReason") {
  CHECK(bp::CancelReasonFromExpiry("") == CancelReason::kNone);
  CHECK(bp::CancelReasonFromExpiry("PostOnlyTaker") == CancelReason::kPostOnlyViolation);
  CHECK(bp::CancelReasonFromExpiry("POST_ONLY_TAKER") == CancelReason::kPostOnlyViolation);
  CHECK(bp::CancelReasonFromExpiry("SelfTradePrevention") == CancelReason::kSelfTrade);
  CHECK(bp::CancelReasonFromExpiry("ReduceOnlyNotReduced") == CancelReason::kReduceOnly);
  CHECK(bp::CancelReasonFromExpiry("InsufficientMargin") == CancelReason::kInsufficientBalance);
  CHECK(bp::CancelReasonFromExpiry("ImmediateOrCancel") == CancelReason::kExpired);
  CHECK(bp::CancelReasonFromExpiry("Liquidation") == CancelReason::kLiquidation);
  CHECK(bp::CancelReasonFromExpiry("PRICE_BAND") == CancelReason::kRejected);
  CHECK(bp::CancelReasonFromExpiry("SomethingNew") == CancelReason::kUnknown);
  CHECK(std::string(perpgw::ToString(RetryClass::kUnknownOutcome)) == "unknown_outcome");
}
