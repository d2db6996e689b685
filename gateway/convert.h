// Domain types (adapters/api) → perpgw.v1 protobuf messages. Pure.
#pragma once

#include <optional>

#include "adapters/api/order_book.h"
#include "adapters/api/types.h"
#include "perpgw/v1/account.pb.h"
#include "perpgw/v1/funding.pb.h"
#include "perpgw/v1/gateway.pb.h"
#include "perpgw/v1/market_data.pb.h"
#include "perpgw/v1/trading.pb.h"

namespace perpgw::gateway {

v1::Side ToProto(Side s);
v1::BookStatus ToProto(BookStatus s);
v1::OrderStatus ToProto(OrderStatus s);
std::optional<OrderStatus> FromProto(v1::OrderStatus s);
v1::CancelReason ToProto(CancelReason r);
v1::AckOutcome ToProto(AckOutcome o);
v1::OrderType ToProto(OrderType t);
v1::TimeInForce ToProto(TimeInForce t);
v1::ConnectionState ToProto(ConnState s);

// Empty decimals (never set) print as "0".
std::string Str(Decimal d);
// Absent → "" (the documented "unknown"; never "0").
std::string Str(const OptDecimal& d);

void Fill(const Instrument& in, v1::Instrument* out);
void Fill(const Funding& in, v1::FundingRate* out);
void Fill(const Order& in, v1::Order* out);
void Fill(const perpgw::Fill& in, v1::Fill* out);
void Fill(const Position& in, v1::Position* out);
void Fill(const Balance& in, v1::Balance* out);
void Fill(const LeverageInfo& in, v1::LeverageInfo* out);
void Fill(const Liquidation& in, v1::Liquidation* out);
void Fill(const Bbo& in, v1::BboUpdate* out);
void Fill(const Trade& in, v1::TradeUpdate* out);
void Fill(const Capabilities& in, v1::VenueCapabilities* out);
void AddLevels(const std::vector<Level>& levels, int price_scale, int size_scale,
               google::protobuf::RepeatedPtrField<v1::PriceLevel>* out);

}  // namespace perpgw::gateway
