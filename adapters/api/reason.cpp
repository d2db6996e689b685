#include "adapters/api/reason.h"

#include <charconv>
#include <vector>

namespace perpgw::reason {
namespace {
constexpr std::string_view kReasonKey = "perpgw.reason";
constexpr std::string_view kMetaPrefix = "perpgw.meta.";
constexpr std::string_view kRetryKey = "perpgw.retry_ms";
}  // namespace

const std::vector<std::string_view>& All() {
  static const std::vector<std::string_view> all = {kInvalidArgument,
                                                    kUnknownVenue,
                                                    kUnknownMarket,
                                                    kUnknownAccount,
                                                    kOrderNotFound,
                                                    kNotFound,
                                                    kUnauthenticated,
                                                    kPermissionDenied,
                                                    kUnsupported,
                                                    kFailedPrecondition,
                                                    kDuplicateClientOrderId,
                                                    kStreamQuota,
                                                    kSlowConsumer,
                                                    kReplayUnavailable,
                                                    kNoLiveBook,
                                                    kVenueUnavailable,
                                                    kVenueTimeout,
                                                    kVenueError,
                                                    kOutcomeUnknown,
                                                    kRateLimited,
                                                    kUserCanceled,
                                                    kExpired,
                                                    kPostOnlyViolation,
                                                    kInsufficientMargin,
                                                    kOrderRejected,
                                                    kReduceOnly,
                                                    kSelfTrade,
                                                    kLiquidation,
                                                    kRiskLimit,
                                                    kKillSwitch,
                                                    kUnknown,
                                                    kCancelled,
                                                    kInternal,
                                                    kUnimplemented};
  return all;
}

std::string_view ReasonCode(CancelReason r) {
  switch (r) {
    case CancelReason::kNone: return "";
    case CancelReason::kUserCanceled: return kUserCanceled;
    case CancelReason::kTimeout: return kVenueTimeout;
    case CancelReason::kExpired: return kExpired;
    case CancelReason::kPostOnlyViolation: return kPostOnlyViolation;
    case CancelReason::kInsufficientBalance: return kInsufficientMargin;
    case CancelReason::kRejected: return kOrderRejected;
    case CancelReason::kReduceOnly: return kReduceOnly;
    case CancelReason::kSelfTrade: return kSelfTrade;
    case CancelReason::kLiquidation: return kLiquidation;
    case CancelReason::kUnknown: return kUnknown;
    case CancelReason::kRiskLimit: return kRiskLimit;
    case CancelReason::kKillSwitch: return kKillSwitch;
    case CancelReason::kRateLimited: return kRateLimited;
  }
  return kUnknown;
}

std::string_view DefaultFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return "";
    case absl::StatusCode::kInvalidArgument: return kInvalidArgument;
    case absl::StatusCode::kNotFound: return kNotFound;
    case absl::StatusCode::kAlreadyExists: return kDuplicateClientOrderId;
    case absl::StatusCode::kUnauthenticated: return kUnauthenticated;
    case absl::StatusCode::kPermissionDenied: return kPermissionDenied;
    case absl::StatusCode::kResourceExhausted: return kRateLimited;
    case absl::StatusCode::kFailedPrecondition: return kFailedPrecondition;
    case absl::StatusCode::kUnavailable: return kVenueUnavailable;
    case absl::StatusCode::kDeadlineExceeded: return kVenueTimeout;
    case absl::StatusCode::kOutOfRange: return kReplayUnavailable;
    case absl::StatusCode::kUnimplemented: return kUnimplemented;
    case absl::StatusCode::kCancelled: return kCancelled;
    default: return kInternal;
  }
}

bool Has(const absl::Status& s) {
  return s.GetPayload(std::string(kReasonKey)).has_value();
}

absl::Status With(absl::Status s, std::string_view reason) {
  if (!s.ok()) s.SetPayload(std::string(kReasonKey), absl::Cord(std::string(reason)));
  return s;
}

absl::Status WithMeta(absl::Status s, std::string_view key, std::string_view value) {
  if (!s.ok())
    s.SetPayload(std::string(kMetaPrefix) + std::string(key), absl::Cord(std::string(value)));
  return s;
}

absl::Status WithRetryAfterMs(absl::Status s, int64_t ms) {
  if (!s.ok()) s.SetPayload(std::string(kRetryKey), absl::Cord(std::to_string(ms)));
  return s;
}

Details Of(const absl::Status& s) {
  Details d;
  // absl's string_view may not be std::string_view (Debian's build): copy the key.
  s.ForEachPayload([&d](absl::string_view key_view, const absl::Cord& value) {
    const std::string key_str(key_view.data(), key_view.size());
    const std::string_view key = key_str;
    std::string v(value);
    if (key == kReasonKey) {
      d.reason = v;
    } else if (key.substr(0, kMetaPrefix.size()) == kMetaPrefix) {
      d.metadata[std::string(key.substr(kMetaPrefix.size()))] = v;
    } else if (key == kRetryKey) {
      int64_t ms = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
      if (ec == std::errc() && p == v.data() + v.size() && ms >= 0) d.retry_after_ms = ms;
    }
  });
  if (d.reason.empty()) d.reason = std::string(DefaultFor(s.code()));
  if (!d.retry_after_ms) {
    if (d.reason == kRateLimited) {
      d.retry_after_ms = 1000;
    } else if (d.reason == kVenueUnavailable || d.reason == kVenueTimeout ||
               d.reason == kNoLiveBook) {
      d.retry_after_ms = 500;
    }
  }
  return d;
}

}  // namespace perpgw::reason
