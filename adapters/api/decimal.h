// Exact fixed-point decimals: the only number type on order paths (never double).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace perpgw {

// How a value that does not fit the target scale or step is rounded.
enum class Rounding {
  kExact,     // refuse (error) when rounding would be needed
  kDown,      // toward zero
  kUp,        // away from zero
  kFloor,     // toward -infinity
  kCeil,      // toward +infinity
  kHalfEven,  // banker's rounding
};

// value = mantissa * 10^-scale, 0 <= scale <= 18. Immutable value type.
class Decimal {
 public:
  static constexpr int kMaxScale = 18;

  constexpr Decimal() = default;
  static constexpr Decimal FromUnits(int64_t mantissa, int scale) { return Decimal(mantissa, scale); }
  static Decimal FromInt(int64_t v) { return Decimal(v, 0); }

  // Parses "123", "-0.0012", "+5.", "1e-5", "1.5E3". Rejects empty, garbage, NaN/Inf, more than
  // 18 fractional digits after trimming trailing zeros, and values that overflow int64.
  static absl::StatusOr<Decimal> Parse(std::string_view text);

  int64_t mantissa() const { return mantissa_; }
  int scale() const { return scale_; }
  bool IsZero() const { return mantissa_ == 0; }
  bool IsNegative() const { return mantissa_ < 0; }
  bool IsPositive() const { return mantissa_ > 0; }

  // Plain decimal text with exactly scale() fractional digits ("1.500"), no exponent.
  std::string ToString() const;
  // Same value with trailing fractional zeros removed ("1.5", "2").
  Decimal Normalized() const;
  std::string ToNormalizedString() const { return Normalized().ToString(); }

  // The mantissa of this value at `scale`, rounded as asked; errors on overflow or when
  // kExact would lose digits.
  absl::StatusOr<int64_t> ToScaled(int scale, Rounding rounding = Rounding::kExact) const;
  absl::StatusOr<Decimal> Rescale(int scale, Rounding rounding = Rounding::kExact) const;

  // Rounds to an integer multiple of `step` (> 0): tick and lot-size rounding.
  absl::StatusOr<Decimal> RoundToStep(Decimal step, Rounding rounding) const;
  // True when this value is an exact multiple of step (step > 0).
  bool IsMultipleOf(Decimal step) const;

  Decimal Negated() const { return Decimal(-mantissa_, scale_); }
  Decimal Abs() const { return mantissa_ < 0 ? Negated() : *this; }

  static absl::StatusOr<Decimal> Add(Decimal a, Decimal b);
  static absl::StatusOr<Decimal> Sub(Decimal a, Decimal b);
  // Product / quotient at `scale`, rounded as asked.
  static absl::StatusOr<Decimal> Mul(Decimal a, Decimal b, int scale, Rounding rounding);
  static absl::StatusOr<Decimal> Div(Decimal a, Decimal b, int scale, Rounding rounding);

  // For display and analytics only (APR, ranking); never on an order path.
  double ToDouble() const;

  friend bool operator==(Decimal a, Decimal b) { return Compare(a, b) == 0; }
  friend std::strong_ordering operator<=>(Decimal a, Decimal b) {
    int c = Compare(a, b);
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
  }
  static int Compare(Decimal a, Decimal b);

 private:
  constexpr Decimal(int64_t m, int s) : mantissa_(m), scale_(static_cast<int8_t>(s)) {}
  int64_t mantissa_ = 0;
  int8_t scale_ = 0;
};

// Hot-path helpers for codecs and books: a decimal string straight to a mantissa at a fixed
// scale. Extra fractional digits are accepted only when they are zeros.
absl::StatusOr<int64_t> ParseScaled(std::string_view text, int scale);
// Non-allocating variant for the ingest path: plain forms only ([-]digits[.digits], up to 19
// significant digits). False on any error AND on valid forms it leaves to ParseScaled ('+' sign,
// exponents, longer digit runs): callers fall back to ParseScaled when it says false.
bool ParseScaledFast(std::string_view text, int scale, int64_t* out);
// ParseScaledFast, then ParseScaled for the forms it leaves: every form ParseScaled reads, at
// the fast path's cost for plain ones. False on error (no allocation on the fast path).
inline bool ParseScaledAny(std::string_view text, int scale, int64_t* out) {
  if (ParseScaledFast(text, scale, out)) return true;
  auto v = ParseScaled(text, scale);
  if (!v.ok()) return false;
  *out = *v;
  return true;
}
// The same over a JSON string's raw bytes: `raw` points just past the opening quote, in a buffer
// that holds the closing '"' (a document simdjson validated). Exactly the forms ParseScaledFast
// takes, ending at the first '"'; false for anything else, escapes included (a backslash is not
// part of a plain form): callers then unescape and take ParseScaled.
bool ParseScaledQuoted(const char* raw, int scale, int64_t* out);
// Mantissa at `scale` → plain decimal text, trailing zeros trimmed ("0.5", "12").
std::string FormatScaled(int64_t mantissa, int scale);
// Number of fractional digits a decimal needs (Normalized().scale()).
int DecimalPlaces(Decimal d);

}  // namespace perpgw
