// Paradex error classification: what a failed call means for retries and the order desk.
#include "adapters/paradex/errors.h"

#include <catch2/catch.hpp>

#include "adapters/api/reason.h"
#include "test_util.h"

namespace px = perpgw::adapters::paradex;
using perpgw::CancelReason;
using perpgw::ErrorAction;
using perpgw::RequestKind;
using perpgw::RetryClass;

TEST_CASE("paradex errors: status, retry class and reason") {
  // The recorded error body.
  auto e = px::ClassifyHttpError(
      400, px::testing::SplitArray(px::testing::ReadData("rest_error.json"))[0],
      RequestKind::kOrderEntry);
  CHECK(e.code == "NOT_ONBOARDED");
  CHECK(e.status_code == absl::StatusCode::kFailedPrecondition);
  CHECK(e.retry == RetryClass::kNotRetryable);
  CHECK(std::string(px::ToStatus(e).message()).find("NOT_ONBOARDED (HTTP 400)") !=
        std::string::npos);

  // A refused JWT: nothing ran; refresh and retry.
  auto jwt = px::ClassifyHttpError(401, R"({"error":"INVALID_TOKEN","message":"expired"})",
                                   RequestKind::kOrderEntry);
  CHECK(jwt.status_code == absl::StatusCode::kUnauthenticated);
  CHECK(jwt.retry == RetryClass::kRetryable);

  auto limited = px::ClassifyHttpError(429, "", RequestKind::kOrderEntry);
  CHECK(limited.rate_limited());
  CHECK(limited.retry == RetryClass::kRetryable);

  // Server trouble on order entry: it may have executed.
  auto down = px::ClassifyHttpError(500, "oops", RequestKind::kOrderEntry);
  CHECK(down.retry == RetryClass::kUnknownOutcome);
  CHECK(down.reason == CancelReason::kUnknown);
  auto down_query = px::ClassifyHttpError(503, "", RequestKind::kQuery);
  CHECK(down_query.retry == RetryClass::kRetryable);
  CHECK(down_query.action == ErrorAction::kBackOff);

  auto dup = px::ClassifyHttpError(400, R"({"error":"DUPLICATED_CLIENT_ID","message":"x"})",
                                   RequestKind::kOrderEntry);
  CHECK(dup.duplicate_client_id);
  CHECK(dup.status_code == absl::StatusCode::kAlreadyExists);

  auto clock = px::ClassifyHttpError(400, R"({"error":"INVALID_TIMESTAMP","message":"x"})",
                                     RequestKind::kOrderEntry);
  CHECK(clock.action == ErrorAction::kResyncClock);
  CHECK(clock.retry == RetryClass::kRetryable);

  auto closed = px::ClassifyHttpError(400, R"({"error":"ORDER_IS_CLOSED","message":"x"})",
                                      RequestKind::kCancel);
  CHECK(closed.status_code == absl::StatusCode::kFailedPrecondition);
  auto missing =
      px::ClassifyHttpError(404, R"({"error":"CLIENT_ORDER_ID_NOT_FOUND"})", RequestKind::kCancel);
  CHECK(missing.status_code == absl::StatusCode::kNotFound);

  auto transport = px::ClassifyTransportError("connection reset", RequestKind::kOrderEntry);
  CHECK(transport.retry == RetryClass::kUnknownOutcome);
  CHECK(transport.http_status == 0);
  // A huge body is bounded in the message.
  auto big = px::ClassifyHttpError(400, std::string(100000, 'x'), RequestKind::kQuery);
  CHECK(big.message.size() <= 512);
}

TEST_CASE("paradex errors: a failed modify as AmendOrder's answer") {
  perpgw::Order before;
  before.order_id = "1681462103821101699438490000";
  before.client_order_id = "grid-1";
  before.price = perpgw::Decimal::FromInt(1500);
  // No such open order: NOT_FOUND / order_not_found, whichever way the venue says it.
  for (const char* body : {R"({"error":"ORDER_ID_NOT_FOUND","message":"order not found"})",
                           R"({"error":"ORDER_IS_CLOSED","message":"order is closed"})",
                           R"({"error":"ORDER_IS_NOT_OPEN","message":"not open"})"}) {
    INFO(body);
    const int http = std::string_view(body).find("NOT_FOUND") != std::string_view::npos ? 404 : 400;
    auto r = px::AmendFailure(px::ClassifyHttpError(http, body, RequestKind::kOrderEntry), before);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kNotFound);
    CHECK(perpgw::reason::Of(r.status()).reason == "order_not_found");
  }
  // A refusal: REJECTED, the order as it was, the venue's reason.
  auto refused = px::AmendFailure(
      px::ClassifyHttpError(400, R"({"error":"INVALID_ORDER_SIZE","message":"too small"})",
                            RequestKind::kOrderEntry),
      before);
  REQUIRE(refused.ok());
  CHECK(refused->outcome == perpgw::AckOutcome::kRejected);
  CHECK(refused->order.price == before.price);
  CHECK(refused->message.find("INVALID_ORDER_SIZE") != std::string::npos);
  auto post_only = px::AmendFailure(
      px::ClassifyHttpError(400, R"({"error":"VALIDATION_ERROR","message":"post only would cross"})",
                            RequestKind::kOrderEntry),
      before);
  REQUIRE(post_only.ok());
  CHECK(post_only->outcome == perpgw::AckOutcome::kRejected);
  CHECK(post_only->reason == CancelReason::kPostOnlyViolation);
  // A 5xx or no answer: it may have applied.
  for (const auto& e : {px::ClassifyHttpError(502, "", RequestKind::kOrderEntry),
                        px::ClassifyTransportError("timed out", RequestKind::kOrderEntry)}) {
    auto r = px::AmendFailure(e, before);
    REQUIRE(r.ok());
    CHECK(r->outcome == perpgw::AckOutcome::kOutcomeUnknown);
    CHECK(r->retryable);
    CHECK(r->order.order_id == before.order_id);
  }
}
