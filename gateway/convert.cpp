// Field-by-field conversions; decimals go out as normalized strings.
#include "gateway/convert.h"

#include "adapters/api/reason.h"

namespace perpgw::gateway {

v1::Side ToProto(Side s) {
  return s == Side::kBuy ? v1::SIDE_BUY : v1::SIDE_SELL;
}

v1::BookStatus ToProto(BookStatus s) {
  switch (s) {
    case BookStatus::kLive: return v1::BOOK_STATUS_LIVE;
    case BookStatus::kResyncing: return v1::BOOK_STATUS_RESYNCING;
    case BookStatus::kStale: return v1::BOOK_STATUS_STALE;
  }
  return v1::BOOK_STATUS_UNSPECIFIED;
}

v1::OrderStatus ToProto(OrderStatus s) {
  switch (s) {
    case OrderStatus::kPendingNew: return v1::ORDER_STATUS_PENDING_NEW;
    case OrderStatus::kOpen: return v1::ORDER_STATUS_OPEN;
    case OrderStatus::kPartiallyFilled: return v1::ORDER_STATUS_PARTIALLY_FILLED;
    case OrderStatus::kFilled: return v1::ORDER_STATUS_FILLED;
    case OrderStatus::kCanceled: return v1::ORDER_STATUS_CANCELED;
    case OrderStatus::kRejected: return v1::ORDER_STATUS_REJECTED;
    case OrderStatus::kExpired: return v1::ORDER_STATUS_EXPIRED;
  }
  return v1::ORDER_STATUS_UNSPECIFIED;
}

std::optional<OrderStatus> FromProto(v1::OrderStatus s) {
  switch (s) {
    case v1::ORDER_STATUS_PENDING_NEW: return OrderStatus::kPendingNew;
    case v1::ORDER_STATUS_OPEN: return OrderStatus::kOpen;
    case v1::ORDER_STATUS_PARTIALLY_FILLED: return OrderStatus::kPartiallyFilled;
    case v1::ORDER_STATUS_FILLED: return OrderStatus::kFilled;
    case v1::ORDER_STATUS_CANCELED: return OrderStatus::kCanceled;
    case v1::ORDER_STATUS_REJECTED: return OrderStatus::kRejected;
    case v1::ORDER_STATUS_EXPIRED: return OrderStatus::kExpired;
    default: return std::nullopt;
  }
}

v1::CancelReason ToProto(CancelReason r) {
  switch (r) {
    case CancelReason::kNone: return v1::CANCEL_REASON_UNSPECIFIED;
    case CancelReason::kUserCanceled: return v1::CANCEL_REASON_USER_CANCELED;
    case CancelReason::kTimeout: return v1::CANCEL_REASON_TIMEOUT;
    case CancelReason::kExpired: return v1::CANCEL_REASON_EXPIRED;
    case CancelReason::kPostOnlyViolation: return v1::CANCEL_REASON_POST_ONLY_VIOLATION;
    case CancelReason::kInsufficientBalance: return v1::CANCEL_REASON_INSUFFICIENT_BALANCE;
    case CancelReason::kRejected: return v1::CANCEL_REASON_REJECTED;
    case CancelReason::kReduceOnly: return v1::CANCEL_REASON_REDUCE_ONLY;
    case CancelReason::kSelfTrade: return v1::CANCEL_REASON_SELF_TRADE;
    case CancelReason::kLiquidation: return v1::CANCEL_REASON_LIQUIDATION;
    case CancelReason::kUnknown: return v1::CANCEL_REASON_UNKNOWN;
    case CancelReason::kRiskLimit: return v1::CANCEL_REASON_RISK_LIMIT;
    case CancelReason::kKillSwitch: return v1::CANCEL_REASON_KILL_SWITCH;
    case CancelReason::kRateLimited: return v1::CANCEL_REASON_RATE_LIMITED;
  }
  return v1::CANCEL_REASON_UNKNOWN;
}

v1::AckOutcome ToProto(AckOutcome o) {
  switch (o) {
    case AckOutcome::kAccepted: return v1::ACK_OUTCOME_ACCEPTED;
    case AckOutcome::kRejected: return v1::ACK_OUTCOME_REJECTED;
    case AckOutcome::kOutcomeUnknown: return v1::ACK_OUTCOME_OUTCOME_UNKNOWN;
  }
  return v1::ACK_OUTCOME_OUTCOME_UNKNOWN;
}

v1::OrderType ToProto(OrderType t) {
  return t == OrderType::kLimit ? v1::ORDER_TYPE_LIMIT : v1::ORDER_TYPE_MARKET;
}

v1::TimeInForce ToProto(TimeInForce t) {
  switch (t) {
    case TimeInForce::kGtc: return v1::TIME_IN_FORCE_GTC;
    case TimeInForce::kIoc: return v1::TIME_IN_FORCE_IOC;
    case TimeInForce::kPostOnly: return v1::TIME_IN_FORCE_POST_ONLY;
    case TimeInForce::kFok: return v1::TIME_IN_FORCE_FOK;
  }
  return v1::TIME_IN_FORCE_UNSPECIFIED;
}

v1::ConnectionState ToProto(ConnState s) {
  switch (s) {
    case ConnState::kDisconnected: return v1::CONNECTION_STATE_DISCONNECTED;
    case ConnState::kConnecting: return v1::CONNECTION_STATE_CONNECTING;
    case ConnState::kConnected: return v1::CONNECTION_STATE_CONNECTED;
    case ConnState::kDegraded: return v1::CONNECTION_STATE_DEGRADED;
  }
  return v1::CONNECTION_STATE_UNSPECIFIED;
}

std::string Str(Decimal d) {
  return d.ToNormalizedString();
}

std::string Str(const OptDecimal& d) { return d ? d->ToNormalizedString() : std::string(); }

// For values that are never 0 when known (prices, leverage): a 0 is the venue's "none".
static OptDecimal Positive(const OptDecimal& d) {
  return d && d->IsPositive() ? d : std::nullopt;
}

static void Market(const std::string& venue, const std::string& symbol, v1::MarketRef* m) {
  m->set_venue(venue);
  m->set_symbol(symbol);
}

void Fill(const Instrument& in, v1::Instrument* out) {
  out->set_venue(in.venue);
  out->set_symbol(in.symbol);
  out->set_venue_symbol(in.venue_symbol);
  out->set_base(in.base);
  out->set_quote(in.quote);
  out->set_tick_size(Str(in.tick_size));
  out->set_step_size(Str(in.step_size));
  out->set_min_size(Str(in.min_size));
  out->set_max_size(Str(Positive(in.max_size)));
  out->set_min_notional(Str(Positive(in.min_notional)));
  out->set_quantity_multiplier(in.quantity_multiplier);
  out->set_max_leverage(Str(Positive(in.max_leverage)));
  out->set_tradeable(in.tradeable);
  // Whole hours (every venue's interval is); a fractional one would be rounded to nearest.
  out->set_funding_interval_hours(static_cast<int32_t>(in.funding_interval_hours + 0.5));
  out->set_unified_symbol(UnifiedSymbol(in));
  out->set_settle(in.settle.empty() ? in.quote : in.settle);
  out->set_venue_market_id(in.venue_market_id);
}

void Fill(const Funding& in, v1::FundingRate* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_rate(Str(in.rate));
  {
    // Whole hours on the wire (issue 19: one numeric type per concept); 0 = unknown.
    auto h = in.interval_hours.ToScaled(0, Rounding::kHalfEven);
    out->set_interval_hours(h.ok() && *h > 0 && *h < 1000 ? static_cast<int32_t>(*h) : 0);
  }
  out->set_rate_8h(Str(in.rate_8h));
  out->set_rate_1h(Str(in.rate_1h));
  out->set_apr(Str(in.apr));
  out->set_next_funding_time_ns(in.next_funding_time);
  out->set_mark_price(Str(Positive(in.mark_price)));
  out->set_index_price(Str(Positive(in.index_price)));
  out->set_volume_24h_usd(Str(in.volume_24h_usd));
  out->set_open_interest_usd(Str(in.open_interest_usd));
  out->set_as_of_ns(in.as_of);
}

void Fill(const Order& in, v1::Order* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_account(in.account);
  out->set_order_id(in.order_id);
  out->set_client_order_id(in.client_order_id);
  out->set_side(ToProto(in.side));
  out->set_type(ToProto(in.type));
  out->set_time_in_force(ToProto(in.tif));
  out->set_price(Str(in.price));
  out->set_size(Str(in.size));
  out->set_filled_size(Str(in.filled_size));
  out->set_avg_fill_price(Str(Positive(in.avg_fill_price)));
  out->set_reduce_only(in.reduce_only);
  out->set_status(ToProto(in.status));
  out->set_cancel_reason(ToProto(in.reason));
  out->set_reason_text(in.reason_text);
  // The documented reason of an order that ended without filling completely (README "Errors").
  if (in.status == OrderStatus::kCanceled || in.status == OrderStatus::kRejected ||
      in.status == OrderStatus::kExpired) {
    out->set_reason(std::string(
        reason::ReasonCode(in.reason == CancelReason::kNone
                               ? (in.status == OrderStatus::kExpired    ? CancelReason::kExpired
                                  : in.status == OrderStatus::kRejected ? CancelReason::kRejected
                                                                        : CancelReason::kUnknown)
                               : in.reason)));
  }
  out->set_created_time_ns(in.created_time);
  out->set_updated_time_ns(in.updated_time);
}

void Fill(const perpgw::Fill& in, v1::Fill* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_account(in.account);
  out->set_order_id(in.order_id);
  out->set_client_order_id(in.client_order_id);
  out->set_trade_id(in.trade_id);
  out->set_side(ToProto(in.side));
  out->set_price(Str(in.price));
  out->set_size(Str(in.size));
  out->set_fee(Str(in.fee));
  out->set_fee_asset(in.fee_asset);
  out->set_maker(in.maker);
  out->set_liquidation(in.liquidation);
  out->set_exchange_time_ns(in.exchange_time);
}

void Fill(const Position& in, v1::Position* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_account(in.account);
  out->set_size(Str(in.size));
  out->set_side(in.size.IsNegative() ? v1::SIDE_SELL
                                     : (in.size.IsZero() ? v1::SIDE_UNSPECIFIED : v1::SIDE_BUY));
  out->set_entry_price(Str(in.entry_price));
  out->set_mark_price(Str(Positive(in.mark_price)));
  out->set_exposure_usd(Str(in.exposure_usd));
  out->set_unrealized_pnl(Str(in.unrealized_pnl));
  out->set_realized_pnl(Str(in.realized_pnl));
  out->set_funding_accrued(Str(in.funding_accrued));
  out->set_margin(Str(in.margin));
  out->set_leverage(Str(Positive(in.leverage)));
  // A liquidation price of 0 (Backpack's estLiquidationPrice "0", Lighter's "0") means the
  // position has none the venue can compute: absent, never a price of 0 a strategy could read
  // as a number.
  out->set_liquidation_price(Str(Positive(in.liquidation_price)));
  out->set_update_time_ns(in.update_time);
}

void Fill(const Balance& in, v1::Balance* out) {
  out->set_account(in.account);
  out->set_venue(in.venue);
  out->set_asset(in.asset);
  out->set_available(Str(in.available));
  out->set_equity(Str(in.equity));
  out->set_unrealized_pnl(Str(in.unrealized_pnl));
  out->set_margin_used(Str(in.margin_used));
  out->set_update_time_ns(in.update_time);
}

void Fill(const LeverageInfo& in, v1::LeverageInfo* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_account(in.account);
  out->set_leverage(Str(Positive(in.leverage)));
  out->set_max_leverage(Str(Positive(in.max_leverage)));
  out->set_max_notional(Str(Positive(in.max_notional)));
  out->set_initial_margin_ratio(Str(in.initial_margin_ratio));
  out->set_maint_margin_ratio(Str(in.maint_margin_ratio));
  for (const auto& b : in.brackets) {
    auto* o = out->add_brackets();
    o->set_notional_floor(Str(b.notional_floor));
    o->set_notional_cap(Str(b.notional_cap));
    o->set_max_leverage(Str(b.max_leverage));
    o->set_maint_margin_ratio(Str(b.maint_margin_ratio));
  }
}

void Fill(const Liquidation& in, v1::Liquidation* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_account(in.account);
  out->set_side(ToProto(in.side));
  out->set_price(Str(in.price));
  out->set_size(Str(in.size));
  out->set_order_id(in.order_id);
  out->set_exchange_time_ns(in.exchange_time);
}

void Fill(const Bbo& in, v1::BboUpdate* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  // An empty side (no price: a book with no bids, or the venue's 0 placeholder) has no price and
  // no size: both "", never "0" read as a quote.
  const bool bid = in.bid_price.IsPositive(), ask = in.ask_price.IsPositive();
  out->set_bid_price(bid ? Str(in.bid_price) : std::string());
  out->set_bid_size(bid ? Str(in.bid_size) : std::string());
  out->set_ask_price(ask ? Str(in.ask_price) : std::string());
  out->set_ask_size(ask ? Str(in.ask_size) : std::string());
  out->set_status(ToProto(in.status));
  out->set_sequence(in.venue_seq);
  out->set_exchange_time_ns(in.exchange_time);
  out->set_receive_time_ns(in.receive_time);
}

void Fill(const Trade& in, v1::TradeUpdate* out) {
  Market(in.venue, in.symbol, out->mutable_market());
  out->set_trade_id(in.trade_id);
  out->set_price(Str(in.price));
  out->set_size(Str(in.size));
  out->set_taker_side(ToProto(in.taker_side));
  out->set_exchange_time_ns(in.exchange_time);
  out->set_receive_time_ns(in.receive_time);
}

void Fill(const Capabilities& in, v1::VenueCapabilities* out) {
  out->set_market_data(in.market_data);
  out->set_trading(in.trading);
  out->set_set_leverage(in.set_leverage);
  out->set_liquidation_stream(in.liquidation_stream);
  out->set_fill_history(in.fill_history);
  out->set_funding_history(in.funding_history);
  out->set_market_orders(in.market_orders);
  out->set_post_only(in.post_only);
  out->set_reduce_only(in.reduce_only);
  out->set_balance_stream(in.balance_stream);
  if (in.trading) {
    out->set_amend(in.native_amend ? "native" : "cancel_replace");
    out->set_batch_orders(in.native_batch > 1 ? "native" : "fanout");
    out->set_batch_cancels(in.native_cancel_batch > 1 ? "native" : "fanout");
    out->set_fill_cursor(in.fill_page_size > 0);
  }
}

void AddLevels(const std::vector<Level>& levels, int price_scale, int size_scale,
               google::protobuf::RepeatedPtrField<v1::PriceLevel>* out) {
  out->Reserve(static_cast<int>(levels.size()));
  for (const Level& l : levels) {
    auto* pl = out->Add();
    pl->set_price(FormatScaled(l.price, price_scale));
    pl->set_size(FormatScaled(l.size, size_scale));
  }
}

}  // namespace perpgw::gateway
