// Paradex error classification: what a failed call means for retries and the order desk.
#include "adapters/paradex/errors.h"

#include <catch2/catch.hpp>

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
