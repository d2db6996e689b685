// Instrument resolution and fixed-point helpers for the sim data model.
#include "sim/core/types.h"

#include <cstdlib>

namespace perpgw::sim {
namespace {

__int128 Pow10(int n) {
  __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

// v at scale `from` → scale `to`, half-even when digits are dropped.
__int128 Rescale(__int128 v, int from, int to) {
  if (to >= from) return v * Pow10(to - from);
  __int128 d = Pow10(from - to);
  __int128 q = v / d, r = v % d;
  __int128 twice = (r < 0 ? -r : r) * 2;
  if (twice > d || (twice == d && (q % 2 != 0))) q += (v < 0 ? -1 : 1);
  return q;
}

absl::StatusOr<int64_t> ParseAt(std::string_view text, int scale, const char* what) {
  auto v = ParseScaled(text, scale);
  if (!v.ok()) {
    return absl::InvalidArgumentError(std::string("bad ") + what + " '" + std::string(text) +
                                      "': " + std::string(v.status().message()));
  }
  return *v;
}

}  // namespace

std::string SimInstrument::FormatPrice(int64_t m) const { return FormatScaled(m, price_scale); }
std::string SimInstrument::FormatQty(int64_t m) const { return FormatScaled(m, size_scale); }
absl::StatusOr<int64_t> SimInstrument::ParsePrice(std::string_view t) const {
  return ParseAt(t, price_scale, "price");
}
absl::StatusOr<int64_t> SimInstrument::ParseQty(std::string_view t) const {
  return ParseAt(t, size_scale, "quantity");
}
Money SimInstrument::Notional(int64_t price, int64_t qty) const {
  return static_cast<Money>(
      Rescale(static_cast<__int128>(price) * qty, price_scale + size_scale, kMoneyScale));
}

absl::StatusOr<SimInstrument> ResolveInstrument(const InstrumentSpec& spec, size_t index) {
  if (spec.symbol.empty()) return absl::InvalidArgumentError("instrument without symbol");
  SimInstrument in;
  in.spec = spec;
  in.index = index;
  auto where = [&](const char* key) { return "instrument " + spec.symbol + " key " + key + ": "; };
  auto tick = Decimal::Parse(spec.tick);
  auto step = Decimal::Parse(spec.step);
  if (!tick.ok() || !tick->IsPositive()) return absl::InvalidArgumentError(where("tick") + "must be > 0");
  if (!step.ok() || !step->IsPositive()) return absl::InvalidArgumentError(where("step") + "must be > 0");
  in.price_scale = DecimalPlaces(*tick);
  in.size_scale = DecimalPlaces(*step);
  in.tick = *tick->ToScaled(in.price_scale);
  in.step = *step->ToScaled(in.size_scale);
  auto min_qty = ParseScaled(spec.min_qty.empty() ? "0" : spec.min_qty, in.size_scale);
  if (!min_qty.ok()) return absl::InvalidArgumentError(where("min_qty") + "needs <= step digits");
  in.min_qty = *min_qty;
  auto min_notional = ParseMoney(spec.min_notional.empty() ? "0" : spec.min_notional);
  if (!min_notional.ok()) return absl::InvalidArgumentError(where("min_notional") + "bad decimal");
  in.min_notional = *min_notional;
  auto mid = Decimal::Parse(spec.mid);
  if (!mid.ok() || !mid->IsPositive()) return absl::InvalidArgumentError(where("mid") + "must be > 0");
  auto mid_rounded = mid->RoundToStep(*tick, Rounding::kHalfEven);
  if (!mid_rounded.ok()) return absl::InvalidArgumentError(where("mid") + "out of range");
  in.initial_mid = *mid_rounded->ToScaled(in.price_scale);
  auto rate = ParseRate(spec.funding_rate.empty() ? "0" : spec.funding_rate);
  if (!rate.ok()) return absl::InvalidArgumentError(where("funding_rate") + "bad decimal");
  in.funding_rate = *rate;
  if (spec.max_leverage <= 0) return absl::InvalidArgumentError(where("max_leverage") + "must be > 0");
  if (spec.funding_interval_hours <= 0) {
    return absl::InvalidArgumentError(where("funding_interval_hours") + "must be > 0");
  }
  if (spec.maint_margin_ratio.empty()) {
    in.maint_margin_ratio = Pow10(kRateScale) / (2 * spec.max_leverage);
  } else {
    auto mmr = ParseRate(spec.maint_margin_ratio);
    if (!mmr.ok()) return absl::InvalidArgumentError(where("maint_margin_ratio") + "bad decimal");
    in.maint_margin_ratio = *mmr;
  }
  return in;
}

std::string FormatMoney(Money m) { return FormatScaled(m, kMoneyScale); }
absl::StatusOr<Money> ParseMoney(std::string_view text) { return ParseAt(text, kMoneyScale, "amount"); }
absl::StatusOr<int64_t> ParseRate(std::string_view text) { return ParseAt(text, kRateScale, "rate"); }
std::string FormatRate(int64_t rate) { return FormatScaled(rate, kRateScale); }
Money ApplyRate(Money amount, int64_t rate) {
  return static_cast<Money>(Rescale(static_cast<__int128>(amount) * rate, kMoneyScale + kRateScale,
                                    kMoneyScale));
}

const char* ToString(RejectCode c) {
  switch (c) {
    case RejectCode::kNone: return "none";
    case RejectCode::kUnknownAccount: return "unknown_account";
    case RejectCode::kUnknownSymbol: return "unknown_symbol";
    case RejectCode::kInvalidPrice: return "invalid_price";
    case RejectCode::kInvalidQty: return "invalid_quantity";
    case RejectCode::kMinNotional: return "min_notional";
    case RejectCode::kDuplicateClientId: return "duplicate_client_order_id";
    case RejectCode::kPostOnlyViolation: return "post_only_violation";
    case RejectCode::kReduceOnly: return "reduce_only";
    case RejectCode::kInsufficientMargin: return "insufficient_margin";
    case RejectCode::kNotFound: return "not_found";
    case RejectCode::kAlreadyClosed: return "already_closed";
    case RejectCode::kInvalidLeverage: return "invalid_leverage";
    case RejectCode::kPositionSide: return "position_side";
  }
  return "unknown";
}

const char* ToString(PositionSide s) {
  switch (s) {
    case PositionSide::kBoth: return "BOTH";
    case PositionSide::kLong: return "LONG";
    case PositionSide::kShort: return "SHORT";
  }
  return "BOTH";
}

Decimal SimOrder::AvgPrice() const {
  if (filled == 0 || instrument == nullptr) return Decimal();
  int scale = instrument->price_scale + 4;
  // filled_notional (1e-8) / filled (size_scale) at `scale`.
  __int128 num = Rescale(filled_notional, kMoneyScale, scale + instrument->size_scale);
  return Decimal::FromUnits(static_cast<int64_t>(num / filled), scale).Normalized();
}

Decimal SimPosition::EntryPrice() const {
  if (size == 0 || instrument == nullptr) return Decimal();
  int scale = instrument->price_scale + 4;
  __int128 num = Rescale(entry_notional, kMoneyScale, scale + instrument->size_scale);
  return Decimal::FromUnits(static_cast<int64_t>(num / std::llabs(size)), scale).Normalized();
}

}  // namespace perpgw::sim
