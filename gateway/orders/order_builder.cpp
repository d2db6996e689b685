#include "gateway/orders/order_builder.h"

#include <algorithm>
#include <cctype>

#include "gateway/convert.h"

namespace perpgw::gateway::orders {

bool ValidClientOrderId(const std::string& s) {
  if (s.empty() || s.size() > 36) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

absl::StatusOr<Decimal> ParseField(const std::string& text, const std::string& field,
                                   bool positive) {
  if (text.empty()) return absl::InvalidArgumentError(field + " is required");
  auto d = Decimal::Parse(text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(field + " '" + text + "' is not a decimal number");
  }
  if (positive && !d->IsPositive()) {
    return absl::InvalidArgumentError(field + " must be greater than zero");
  }
  return *d;
}

absl::StatusOr<Decimal> Notional(Decimal price, Decimal size) {
  return Decimal::Mul(price, size, std::min(Decimal::kMaxScale, price.scale() + size.scale()),
                      Rounding::kDown);
}

namespace {

absl::Status CheckMinNotional(const OrderRequest& o, Decimal price, const Instrument& in,
                              const char* exempt_note) {
  if (o.reduce_only || !in.min_notional || !in.min_notional->IsPositive()) {
    return absl::OkStatus();
  }
  auto notional = Notional(price, o.size);
  if (!notional.ok()) return absl::InvalidArgumentError("size: notional overflows");
  if (*notional < *in.min_notional) {
    return absl::InvalidArgumentError("size: notional " + Str(*notional) +
                                      " is below min_notional " + Str(in.min_notional) +
                                      exempt_note);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OrderRequest> BuildOrder(const v1::PlaceOrderRequest& req, const Instrument& in) {
  OrderRequest o;
  o.account = req.account();
  o.symbol = in.symbol;  // the ticker, whichever spelling the request used
  if (!ValidClientOrderId(req.client_order_id())) {
    return absl::InvalidArgumentError(
        "client_order_id is required: 1-36 characters of [A-Za-z0-9_-]");
  }
  o.client_order_id = req.client_order_id();
  if (req.side() == v1::SIDE_BUY) {
    o.side = Side::kBuy;
  } else if (req.side() == v1::SIDE_SELL) {
    o.side = Side::kSell;
  } else {
    return absl::InvalidArgumentError("side is required (SIDE_BUY or SIDE_SELL)");
  }
  o.reduce_only = req.reduce_only();
  if (!v1::PlaceOrderRequest::Rounding_IsValid(req.rounding())) {
    return absl::InvalidArgumentError("rounding " + std::to_string(req.rounding()) +
                                      " is not valid (ROUNDING_REJECT or ROUNDING_PASSIVE)");
  }
  const bool passive = req.rounding() == v1::PlaceOrderRequest::ROUNDING_PASSIVE;
  auto size = ParseField(req.size(), "size", true);
  if (!size.ok()) return size.status();
  auto sz = size->RoundToStep(in.step_size, passive ? Rounding::kDown : Rounding::kExact);
  if (!sz.ok()) {
    return absl::InvalidArgumentError("size " + req.size() + " is not a multiple of step " +
                                      Str(in.step_size));
  }
  o.size = *sz;
  if (!o.size.IsPositive()) return absl::InvalidArgumentError("size rounds to zero");
  if (in.min_size.IsPositive() && o.size < in.min_size) {
    return absl::InvalidArgumentError("size " + Str(o.size) + " is below min_size " +
                                      Str(in.min_size));
  }
  if (in.max_size && in.max_size->IsPositive() && o.size > *in.max_size) {
    return absl::InvalidArgumentError("size " + Str(o.size) + " is above max_size " +
                                      Str(*in.max_size));
  }
  switch (req.type()) {
    case v1::ORDER_TYPE_LIMIT: {
      o.type = OrderType::kLimit;
      switch (req.time_in_force()) {
        case v1::TIME_IN_FORCE_UNSPECIFIED:
        case v1::TIME_IN_FORCE_GTC: o.tif = TimeInForce::kGtc; break;
        case v1::TIME_IN_FORCE_IOC: o.tif = TimeInForce::kIoc; break;
        case v1::TIME_IN_FORCE_POST_ONLY: o.tif = TimeInForce::kPostOnly; break;
        case v1::TIME_IN_FORCE_FOK: o.tif = TimeInForce::kFok; break;
        default: return absl::InvalidArgumentError("time_in_force is not valid");
      }
      auto price = ParseField(req.price(), "price", true);
      if (!price.ok()) return price.status();
      auto px = price->RoundToStep(
          in.tick_size,
          passive ? (o.side == Side::kBuy ? Rounding::kFloor : Rounding::kCeil) : Rounding::kExact);
      if (!px.ok()) {
        return absl::InvalidArgumentError("price " + req.price() + " is not on tick " +
                                          Str(in.tick_size));
      }
      o.price = *px;
      if (!o.price.IsPositive()) return absl::InvalidArgumentError("price rounds to zero");
      if (auto st = CheckMinNotional(o, o.price, in, " (reduce-only orders are exempt)");
          !st.ok()) {
        return st;
      }
      break;
    }
    case v1::ORDER_TYPE_MARKET: {
      o.type = OrderType::kMarket;
      o.tif = TimeInForce::kIoc;
      if (req.time_in_force() == v1::TIME_IN_FORCE_POST_ONLY) {
        return absl::InvalidArgumentError("time_in_force POST_ONLY is not valid for market orders");
      }
      if (!req.price().empty()) {
        return absl::InvalidArgumentError(
            "price must be empty for market orders (use max_slippage_bps)");
      }
      o.max_slippage_bps = Decimal::FromInt(50);
      if (!req.max_slippage_bps().empty()) {
        auto bps = ParseField(req.max_slippage_bps(), "max_slippage_bps", true);
        if (!bps.ok()) return bps.status();
        if (*bps > Decimal::FromInt(5000)) {
          return absl::InvalidArgumentError("max_slippage_bps must be at most 5000");
        }
        o.max_slippage_bps = *bps;
      }
      break;
    }
    default:
      return absl::InvalidArgumentError("type is required (ORDER_TYPE_LIMIT or ORDER_TYPE_MARKET)");
  }
  return o;
}

absl::Status BoundMarketOrder(Decimal reference, const Instrument& in, OrderRequest* o) {
  if (!reference.IsPositive()) return absl::InvalidArgumentError("no reference price");
  auto frac = Decimal::Div(o->max_slippage_bps, Decimal::FromInt(10000), 12, Rounding::kHalfEven);
  if (!frac.ok()) return absl::InvalidArgumentError("cannot compute a worst price");
  auto mult = Decimal::Add(Decimal::FromInt(1), o->side == Side::kBuy ? *frac : frac->Negated());
  if (!mult.ok()) return absl::InvalidArgumentError("cannot compute a worst price");
  auto worst = Decimal::Mul(reference, *mult, 12, Rounding::kHalfEven);
  if (!worst.ok()) return absl::InvalidArgumentError("cannot compute a worst price");
  auto rounded =
      worst->RoundToStep(in.tick_size, o->side == Side::kBuy ? Rounding::kFloor : Rounding::kCeil);
  if (!rounded.ok() || !rounded->IsPositive()) {
    return absl::InvalidArgumentError("cannot compute a worst price");
  }
  o->worst_price = *rounded;
  return CheckMinNotional(*o, o->worst_price, in, "");
}

void ClampToVenueBand(const std::vector<Decimal>& references, const Instrument& in, OrderRequest* o,
                      bool* clamped) {
  if (clamped) *clamped = false;
  const bool buy = o->side == Side::kBuy;
  const Decimal mult = buy ? in.price_band_up : in.price_band_down;
  if (!mult.IsPositive() || !in.tick_size.IsPositive()) return;
  for (const Decimal& ref : references) {
    if (!ref.IsPositive()) continue;
    auto edge = Decimal::Mul(ref, mult, 12, buy ? Rounding::kFloor : Rounding::kCeil);
    if (!edge.ok()) continue;
    auto tick = edge->RoundToStep(in.tick_size, buy ? Rounding::kFloor : Rounding::kCeil);
    if (!tick.ok() || !tick->IsPositive()) continue;
    if (buy ? o->worst_price > *tick : o->worst_price < *tick) {
      o->worst_price = *tick;
      if (clamped) *clamped = true;
    }
  }
}

}  // namespace perpgw::gateway::orders
