// Names of enum values and funding normalization.
#include "adapters/api/types.h"

#include "adapters/api/feed.h"
#include "adapters/api/venue.h"

namespace perpgw {

const char* ToString(Side s) { return s == Side::kBuy ? "buy" : "sell"; }

const char* ToString(BookStatus s) {
  switch (s) {
    case BookStatus::kLive: return "live";
    case BookStatus::kResyncing: return "resyncing";
    case BookStatus::kStale: return "stale";
  }
  return "unknown";
}

bool IsCrossed(const Bbo& b) {
  if (b.bid_price.IsZero() || b.ask_price.IsZero() || b.bid_size.IsZero() || b.ask_size.IsZero()) {
    return false;
  }
  return b.bid_price >= b.ask_price;
}

const char* ToString(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPendingNew: return "pending_new";
    case OrderStatus::kOpen: return "open";
    case OrderStatus::kPartiallyFilled: return "partially_filled";
    case OrderStatus::kFilled: return "filled";
    case OrderStatus::kCanceled: return "canceled";
    case OrderStatus::kRejected: return "rejected";
    case OrderStatus::kExpired: return "expired";
  }
  return "unknown";
}

const char* ToString(CancelReason r) {
  switch (r) {
    case CancelReason::kNone: return "";
    case CancelReason::kUserCanceled: return "user_canceled";
    case CancelReason::kTimeout: return "timeout";
    case CancelReason::kExpired: return "expired";
    case CancelReason::kPostOnlyViolation: return "post_only_violation";
    case CancelReason::kInsufficientBalance: return "insufficient_balance";
    case CancelReason::kRejected: return "rejected";
    case CancelReason::kReduceOnly: return "reduce_only";
    case CancelReason::kSelfTrade: return "self_trade";
    case CancelReason::kLiquidation: return "liquidation";
    case CancelReason::kUnknown: return "unknown";
    case CancelReason::kRiskLimit: return "risk_limit";
    case CancelReason::kKillSwitch: return "kill_switch";
    case CancelReason::kRateLimited: return "rate_limited";
  }
  return "unknown";
}

bool IsTerminal(OrderStatus s) {
  return s == OrderStatus::kFilled || s == OrderStatus::kCanceled ||
         s == OrderStatus::kRejected || s == OrderStatus::kExpired;
}

const char* ToString(ConnState s) {
  switch (s) {
    case ConnState::kDisconnected: return "disconnected";
    case ConnState::kConnecting: return "connecting";
    case ConnState::kConnected: return "connected";
    case ConnState::kDegraded: return "degraded";
  }
  return "unknown";
}

void WidenBookScales(Instrument* in) {
  if (in->price_scale < kMinBookScale) in->price_scale = kMinBookScale;
  if (in->size_scale < kMinBookScale) in->size_scale = kMinBookScale;
}

absl::Status NormalizeFunding(Funding* f) {
  if (!f->interval_hours.IsPositive()) {
    return absl::FailedPreconditionError("funding interval unknown or not positive");
  }
  constexpr int kScale = 12;
  auto per_hour = Decimal::Div(f->rate, f->interval_hours, kScale, Rounding::kHalfEven);
  if (!per_hour.ok()) return per_hour.status();
  auto r8 = Decimal::Mul(f->rate, Decimal::FromInt(8), kScale, Rounding::kHalfEven);
  if (!r8.ok()) return r8.status();
  auto r8n = Decimal::Div(*r8, f->interval_hours, kScale, Rounding::kHalfEven);
  if (!r8n.ok()) return r8n.status();
  auto apr = Decimal::Mul(*per_hour, Decimal::FromInt(24 * 365), kScale, Rounding::kHalfEven);
  if (!apr.ok()) return apr.status();
  f->rate_1h = per_hour->Normalized();
  f->rate_8h = r8n->Normalized();
  f->apr = apr->Normalized();
  return absl::OkStatus();
}

// Default: the venue has not implemented the call yet (never a fake success).
namespace {
template <typename T>
void Unimplemented(const VenueAdapter& a, const char* what, const Callback<T>& done) {
  done(absl::UnimplementedError(std::string(what) + " is not implemented for venue " + a.name()));
}
}  // namespace

void VenueAdapter::FetchBook(std::string, int, Callback<BookUpdate> done) {
  Unimplemented(*this, "FetchBook", done);
}
void VenueAdapter::FetchFunding(std::string, Callback<Funding> done) {
  Unimplemented(*this, "FetchFunding", done);
}
void VenueAdapter::ListFundingHistory(FundingHistoryQuery, Callback<std::vector<Funding>> done) {
  Unimplemented(*this, "ListFundingHistory", done);
}
void VenueAdapter::PlaceOrder(OrderRequest, Callback<OrderAck> done) {
  Unimplemented(*this, "PlaceOrder", done);
}
void VenueAdapter::CancelOrder(CancelRequest, Callback<CancelResult> done) {
  Unimplemented(*this, "CancelOrder", done);
}
void VenueAdapter::AmendOrder(AmendRequest, Callback<OrderAck> done) {
  Unimplemented(*this, "AmendOrder", done);
}
void VenueAdapter::CancelAll(std::string, std::string, Callback<std::vector<Order>> done) {
  Unimplemented(*this, "CancelAll", done);
}
void VenueAdapter::GetOrder(CancelRequest, bool, Callback<Order> done) {
  Unimplemented(*this, "GetOrder", done);
}
void VenueAdapter::ListOpenOrders(std::string, std::string, Callback<std::vector<Order>> done) {
  Unimplemented(*this, "ListOpenOrders", done);
}
void VenueAdapter::ListFills(FillQuery, Callback<std::vector<Fill>> done) {
  Unimplemented(*this, "ListFills", done);
}
void VenueAdapter::GetBalance(std::string, Callback<Balance> done) {
  Unimplemented(*this, "GetBalance", done);
}
void VenueAdapter::GetPositions(std::string, Callback<std::vector<Position>> done) {
  Unimplemented(*this, "GetPositions", done);
}
void VenueAdapter::GetLeverageInfo(std::string, std::string, Callback<LeverageInfo> done) {
  Unimplemented(*this, "GetLeverageInfo", done);
}
void VenueAdapter::SetLeverage(std::string, std::string, Decimal, Callback<LeverageInfo> done) {
  Unimplemented(*this, "SetLeverage", done);
}

}  // namespace perpgw

namespace perpgw {

const char* ToString(FeedKind k) {
  switch (k) {
    case FeedKind::kIgnored:
      return "ignored";
    case FeedKind::kDepthDelta:
      return "depth_delta";
    case FeedKind::kDepthSnapshot:
      return "depth_snapshot";
    case FeedKind::kBbo:
      return "bbo";
    case FeedKind::kTrade:
      return "trade";
    case FeedKind::kFunding:
      return "funding";
    case FeedKind::kLiquidation:
      return "liquidation";
    case FeedKind::kVenue:
      return "venue";
    case FeedKind::kVenueError:
      return "venue_error";
  }
  return "?";
}

Order OrderOf(const OrderRequest& r, const std::string& venue, OrderStatus status,
              UnixNanos now) {
  Order o;
  o.venue = venue;
  o.account = r.account;
  o.symbol = r.symbol;
  o.client_order_id = r.client_order_id;
  o.side = r.side;
  o.type = r.type;
  o.tif = r.tif;
  o.price = r.price;
  o.size = r.size;
  o.reduce_only = r.reduce_only;
  o.status = status;
  o.created_time = o.updated_time = now;
  return o;
}

std::string UnifiedSymbol(const Instrument& in) {
  const std::string& base = in.base.empty() ? in.symbol : in.base;
  return base + "/" + in.quote + ":" + (in.settle.empty() ? in.quote : in.settle);
}

}  // namespace perpgw
