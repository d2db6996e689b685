// PlaceOrder request → the normalized OrderRequest a venue adapter sends. Pure: no I/O, clock,
// logging or gateway state; every rule a strategy can hit before the venue is here and tested.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/decimal.h"
#include "adapters/api/types.h"
#include "perpgw/v1/trading.pb.h"

namespace perpgw::gateway::orders {

// 1-36 characters of [A-Za-z0-9_-] (the intersection every venue accepts).
bool ValidClientOrderId(const std::string& s);

// A required decimal field; `positive` rejects zero and negatives. Errors name the field.
absl::StatusOr<Decimal> ParseField(const std::string& text, const std::string& field,
                                   bool positive);

// price * size exactly, at the operands' own scale (<= 18; rounded down only beyond that).
// Checked: an overflow is an error, never a wrapped value. (A fixed scale of 12 overflowed
// int64 above ~$9.2M notional.)
absl::StatusOr<Decimal> Notional(Decimal price, Decimal size);

// Validates and rounds one order against its instrument: side, size (step, min, max), type,
// time in force, price (tick) and min notional for limits (reduce-only exempt). A market order
// comes back with max_slippage_bps set (default 50, at most 5000) and no worst price yet.
absl::StatusOr<OrderRequest> BuildOrder(const v1::PlaceOrderRequest& req, const Instrument& in);

// A market order's worst acceptable price: `reference` (the best opposite level) moved by
// max_slippage_bps against the taker, rounded to the tick toward the reference (never worse
// than asked). Then the min-notional check at that price (reduce-only exempt). Sets
// o->worst_price.
absl::Status BoundMarketOrder(Decimal reference, const Instrument& in, OrderRequest* o);

// Clamps a market order's worst price into the venue's own limit-price band
// (in.price_band_up/down) around each known reference (`references`: the mark and the touch; the
// tighter wins, rounded inward to the tick). Outside the band the venue refuses the order
// (Aster -4016/-4024, Backpack, Paradex); clamped, the IOC fills what the band allows. No band or
// no reference: unchanged. Sets *clamped when it moved the price.
void ClampToVenueBand(const std::vector<Decimal>& references, const Instrument& in, OrderRequest* o,
                      bool* clamped = nullptr);

}  // namespace perpgw::gateway::orders
