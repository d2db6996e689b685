// Aster error classification: codes, HTTP statuses, retry classes, rate-limit headers.
#include <catch2/catch.hpp>

#include "adapters/aster/codec.h"
#include "adapters/aster/errors.h"
#include "test_util.h"

namespace perpgw::adapters::aster {
namespace {

using absl::StatusCode;
using testing::ReadData;

Decimal D(std::string_view s) { return Decimal::Parse(s).value(); }

TEST_CASE("recorded error bodies classify", "[aster][errors]") {
  VenueError e = ClassifyResponse(400, ReadData("error.json"), RequestKind::kQuery);
  CHECK(e.code == "-1121");
  CHECK(e.message == "Invalid symbol.");
  CHECK(e.status_code == StatusCode::kInvalidArgument);
  CHECK(e.retry == RetryClass::kNotRetryable);
  CHECK(e.action == ErrorAction::kRefreshInstruments);
  absl::Status s = ToStatus(e);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).find("-1121") != std::string::npos);
}

TEST_CASE("errors_examples.json: every code maps as the notes say", "[aster][errors]") {
  std::string json = ReadData("errors_examples.json");
  // Each element is a {code,msg} body; classify them one by one via the order-entry path.
  struct Expect {
    int code;
    StatusCode status;
    RetryClass retry;
    ErrorAction action;
    CancelReason reason;
  } expects[] = {
      {-1021, StatusCode::kFailedPrecondition, RetryClass::kRetryable, ErrorAction::kResyncClock,
       CancelReason::kNone},
      {-1022, StatusCode::kUnauthenticated, RetryClass::kNotRetryable, ErrorAction::kNone,
       CancelReason::kRejected},
      {-2019, StatusCode::kFailedPrecondition, RetryClass::kNotRetryable, ErrorAction::kNone,
       CancelReason::kInsufficientBalance},
      {-2021, StatusCode::kFailedPrecondition, RetryClass::kNotRetryable, ErrorAction::kNone,
       CancelReason::kRejected},
      {-4164, StatusCode::kInvalidArgument, RetryClass::kNotRetryable, ErrorAction::kNone,
       CancelReason::kRejected},
      {-4225, StatusCode::kFailedPrecondition, RetryClass::kRetryable, ErrorAction::kResyncClock,
       CancelReason::kNone},
      {-5060, StatusCode::kInvalidArgument, RetryClass::kNotRetryable, ErrorAction::kNone,
       CancelReason::kRejected},
      {-5076, StatusCode::kInvalidArgument, RetryClass::kNotRetryable, ErrorAction::kNone,
       CancelReason::kRejected},
  };
  size_t pos = 0;
  int n = 0;
  for (const Expect& x : expects) {
    size_t start = json.find('{', pos);
    size_t end = json.find('}', start);
    REQUIRE(start != std::string::npos);
    std::string body = json.substr(start, end - start + 1);
    pos = end + 1;
    VenueError e = ClassifyResponse(400, body, RequestKind::kOrderEntry);
    INFO(body);
    CHECK(e.code == std::to_string(x.code));
    CHECK(e.status_code == x.status);
    CHECK(e.retry == x.retry);
    CHECK(e.action == x.action);
    CHECK(e.reason == x.reason);
    CHECK(!e.message.empty());
    ++n;
  }
  CHECK(n == 8);
}

TEST_CASE("HTTP statuses on order entry are unknown outcome, never rejected", "[aster][errors]") {
  for (int http : {500, 502, 503, 504}) {
    INFO(http);
    VenueError e = ClassifyResponse(http, "<html>bad gateway</html>", RequestKind::kOrderEntry);
    CHECK(e.retry == RetryClass::kUnknownOutcome);
    CHECK(e.action == ErrorAction::kReconcile);
    VenueError q = ClassifyResponse(http, "", RequestKind::kQuery);
    CHECK(q.retry == RetryClass::kRetryable);
  }
  VenueError unknown = ClassifyResponse(503, R"({"code":-1000,"msg":"Unknown error"})",
                                        RequestKind::kOrderEntry);
  CHECK(unknown.retry == RetryClass::kUnknownOutcome);
  for (int http : {429, 418}) {
    VenueError e = ClassifyError(http, -1003, "Too many requests", RequestKind::kOrderEntry);
    CHECK(e.status_code == StatusCode::kResourceExhausted);
    CHECK(e.action == ErrorAction::kBackOff);
    CHECK(e.retry == RetryClass::kUnknownOutcome);
    CHECK(ClassifyError(http, 0, "", RequestKind::kQuery).retry == RetryClass::kRetryable);
  }
  VenueError t = ClassifyTransportError("deadline exceeded", true, RequestKind::kOrderEntry);
  CHECK(t.status_code == StatusCode::kDeadlineExceeded);
  CHECK(t.retry == RetryClass::kUnknownOutcome);
  CHECK(ClassifyTransportError("reset", false, RequestKind::kCancel).retry ==
        RetryClass::kUnknownOutcome);
  CHECK(ClassifyTransportError("reset", false, RequestKind::kQuery).retry ==
        RetryClass::kRetryable);
}

// AmendOrder's answer to a failed modify (PUT /fapi/v3/order): never a fake success.
TEST_CASE("a failed modify: unknown outcome, NOT_FOUND or REJECTED as the venue says",
          "[aster][errors][amend]") {
  Order before;
  before.client_order_id = "bt-0";
  before.order_id = "77";
  before.price = D("100");
  before.size = D("1");
  before.status = OrderStatus::kOpen;
  // A timeout on the PUT: it may have run.
  auto t = AmendFailure(ClassifyTransportError("deadline exceeded", true,
                                               RequestKind::kOrderEntry), before);
  REQUIRE(t.ok());
  CHECK(t->outcome == AckOutcome::kOutcomeUnknown);
  CHECK(t->retryable);
  CHECK(t->order.price == D("100"));  // what was known; not claimed amended
  // 503 ("execution status unknown") and 429 likewise.
  CHECK(AmendFailure(ClassifyResponse(503, "", RequestKind::kOrderEntry), before)->outcome ==
        AckOutcome::kOutcomeUnknown);
  CHECK(AmendFailure(ClassifyError(429, -1003, "Too many requests", RequestKind::kOrderEntry),
                     before)
            ->outcome == AckOutcome::kOutcomeUnknown);
  // -2013: the order is not open there (filled, canceled or unknown).
  auto gone = AmendFailure(
      ClassifyError(400, -2013, "Order does not exist.", RequestKind::kOrderEntry), before);
  REQUIRE(!gone.ok());
  CHECK(gone.status().code() == StatusCode::kNotFound);
  // A refusal leaves the order as it was: REJECTED with the venue's reason.
  auto post_only = AmendFailure(
      ClassifyError(400, -5022, "Due to the order could not be executed as maker, the Post Only "
                                "order will be rejected.", RequestKind::kOrderEntry), before);
  REQUIRE(post_only.ok());
  CHECK(post_only->outcome == AckOutcome::kRejected);
  CHECK(post_only->reason == CancelReason::kPostOnlyViolation);
  CHECK(post_only->order.price == D("100"));
  auto tick = AmendFailure(ClassifyError(400, -4014, "Price not increased by tick size.",
                                         RequestKind::kOrderEntry), before);
  REQUIRE(tick.ok());
  CHECK(tick->outcome == AckOutcome::kRejected);
  CHECK(tick->reason == CancelReason::kRejected);
  CHECK(tick->message.find("-4014") != std::string::npos);
  auto margin = AmendFailure(ClassifyError(400, -2019, "Margin is insufficient.",
                                           RequestKind::kOrderEntry), before);
  REQUIRE(margin.ok());
  CHECK(margin->reason == CancelReason::kInsufficientBalance);
}

TEST_CASE("order rejections carry cancel reasons", "[aster][errors]") {
  CHECK(ClassifyError(400, -5022, "Due to the order could not be executed as maker, the Post Only "
                                  "order will be rejected.", RequestKind::kOrderEntry).reason ==
        CancelReason::kPostOnlyViolation);
  CHECK(ClassifyError(400, -2010, "Order would immediately match and take.",
                      RequestKind::kOrderEntry).reason == CancelReason::kPostOnlyViolation);
  CHECK(ClassifyError(400, -2010, "Account has insufficient balance for requested action.",
                      RequestKind::kOrderEntry).reason == CancelReason::kInsufficientBalance);
  CHECK(ClassifyError(400, -2022, "ReduceOnly Order is rejected.", RequestKind::kOrderEntry)
            .reason == CancelReason::kReduceOnly);
  CHECK(ClassifyError(400, -2013, "Order does not exist.", RequestKind::kQuery).status_code ==
        StatusCode::kNotFound);
  CHECK(ClassifyError(400, -1125, "This listenKey does not exist.", RequestKind::kQuery).action ==
        ErrorAction::kRenewListenKey);
  CHECK(ClassifyError(400, -1102, "Mandatory parameter was not sent", RequestKind::kQuery)
            .status_code == StatusCode::kInvalidArgument);
  CHECK(ClassifyError(400, -4046, "No need to change margin type.", RequestKind::kQuery)
            .status_code == StatusCode::kAlreadyExists);
  CHECK(ClassifyError(403, 0, "", RequestKind::kOrderEntry).status_code ==
        StatusCode::kPermissionDenied);
}

TEST_CASE("code 200 bodies are success", "[aster][errors]") {
  CHECK(ClassifyResponse(200, ReadData("cancel_all_response.json"), RequestKind::kCancel)
            .status_code == StatusCode::kOk);
  CHECK(ClassifyResponse(200, R"({"code":200,"msg":"success"})", RequestKind::kQuery)
            .status_code == StatusCode::kOk);
  CHECK(ToStatus(ClassifyResponse(200, "{}", RequestKind::kQuery)).ok());
  CHECK(ParseCodeAck(ReadData("cancel_all_response.json")).ok());
  CHECK(ParseCodeAck(R"({"code":200,"msg":"success"})").ok());
  absl::Status s = ParseCodeAck(R"({"code":-2011,"msg":"Unknown order sent."})");
  CHECK(s.code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("rate-limit headers", "[aster][errors]") {
  RateLimitUsage u;
  CHECK(ParseRateLimitHeader("X-MBX-USED-WEIGHT-1M", "123", &u));
  CHECK(ParseRateLimitHeader("x-mbx-used-weight-1m", "130", &u));
  CHECK(ParseRateLimitHeader("X-MBX-ORDER-COUNT-10S", "7", &u));
  CHECK(ParseRateLimitHeader("X-MBX-ORDER-COUNT-1M", " 42 ", &u));
  CHECK(ParseRateLimitHeader("Retry-After", "120", &u));
  CHECK(!ParseRateLimitHeader("Content-Type", "application/json", &u));
  CHECK(!ParseRateLimitHeader("X-MBX-USED-WEIGHT-1M", "abc", &u));
  CHECK(!ParseRateLimitHeader("X-MBX-USED-WEIGHT-1M", "-5", &u));
  CHECK(!ParseRateLimitHeader("X-MBX-USED-WEIGHT-", "5", &u));
  REQUIRE(u.used_weight.size() == 1);
  CHECK(u.used_weight[0].interval == "1M");
  CHECK(u.used_weight[0].value == 130);
  REQUIRE(u.order_count.size() == 2);
  CHECK(u.order_count[0].interval == "10S");
  CHECK(u.order_count[1].value == 42);
  CHECK(u.retry_after_seconds == 120);
}

}  // namespace
}  // namespace perpgw::adapters::aster
