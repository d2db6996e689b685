// Exact fixed-point decimal arithmetic with explicit rounding (int128 intermediates).
#include "adapters/api/decimal.h"

#include <cstdlib>
#include <limits>


namespace perpgw {
namespace {

using i128 = __int128;

constexpr int64_t kPow10[19] = {1LL,
                                10LL,
                                100LL,
                                1000LL,
                                10000LL,
                                100000LL,
                                1000000LL,
                                10000000LL,
                                100000000LL,
                                1000000000LL,
                                10000000000LL,
                                100000000000LL,
                                1000000000000LL,
                                10000000000000LL,
                                100000000000000LL,
                                1000000000000000LL,
                                10000000000000000LL,
                                100000000000000000LL,
                                1000000000000000000LL};

i128 Pow10(int n) {
  i128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

bool FitsInt64(i128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}

// Divides n by d (d > 0) rounding as asked. Returns false when kExact would lose digits.
bool DivRound(i128 n, i128 d, Rounding r, i128* out) {
  i128 q = n / d;  // truncates toward zero
  i128 rem = n % d;
  if (rem == 0) {
    *out = q;
    return true;
  }
  const bool neg = n < 0;
  switch (r) {
    case Rounding::kExact:
      return false;
    case Rounding::kDown:
      break;
    case Rounding::kUp:
      q += neg ? -1 : 1;
      break;
    case Rounding::kFloor:
      if (neg) q -= 1;
      break;
    case Rounding::kCeil:
      if (!neg) q += 1;
      break;
    case Rounding::kHalfEven: {
      i128 twice = (rem < 0 ? -rem : rem) * 2;
      if (twice > d || (twice == d && (q % 2 != 0))) q += neg ? -1 : 1;
      break;
    }
  }
  *out = q;
  return true;
}

absl::Status Overflow(std::string_view what) {
  return absl::OutOfRangeError("decimal overflow in " + std::string(what));
}

// Shared parser: digits with optional sign, point and exponent → (mantissa, scale), trimmed.
bool ParseParts(std::string_view s, i128* mant, int* scale, std::string* err) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  i128 m = 0;
  int digits = 0, frac = 0;
  bool seen_point = false, any_digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (m == 0 && c == '0') {
        if (seen_point) ++frac;
        continue;
      }
      if (digits >= 36) {
        *err = "too many digits";
        return false;
      }
      m = m * 10 + (c - '0');
      ++digits;
      if (seen_point) ++frac;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) {
    *err = "no digits";
    return false;
  }
  int exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      eneg = s[i] == '-';
      ++i;
    }
    if (i >= s.size()) {
      *err = "empty exponent";
      return false;
    }
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') break;
      exp = exp * 10 + (s[i] - '0');
      if (exp > 60) {
        *err = "exponent out of range";
        return false;
      }
    }
    if (eneg) exp = -exp;
  }
  if (i != s.size()) {
    *err = "unexpected character";
    return false;
  }
  int sc = frac - exp;
  while (sc > 0 && m != 0 && m % 10 == 0) {
    m /= 10;
    --sc;
  }
  if (m == 0) sc = sc < 0 ? 0 : sc;
  while (sc < 0) {
    m *= 10;
    ++sc;
    if (m > Pow10(36)) {
      *err = "value out of range";
      return false;
    }
  }
  *mant = neg ? -m : m;
  *scale = sc;
  return true;
}

}  // namespace

absl::StatusOr<Decimal> Decimal::Parse(std::string_view text) {
  i128 m;
  int sc;
  std::string err;
  if (!ParseParts(text, &m, &sc, &err)) {
    return absl::InvalidArgumentError("not a decimal number (" + err + ")");
  }
  if (m == 0) sc = 0;
  if (sc > kMaxScale) {
    return absl::InvalidArgumentError("decimal has more than 18 fractional digits");
  }
  if (!FitsInt64(m)) return absl::OutOfRangeError("decimal out of range");
  return Decimal(static_cast<int64_t>(m), sc);
}

std::string Decimal::ToString() const {
  // |mantissa| in uint64 (exact for INT64_MIN too), digits written backwards into a buffer:
  // scale_ fraction digits, the point, at least one integer digit, the sign. No 128-bit
  // division per digit (this runs for every price and size of every book message).
  uint64_t v = mantissa_ < 0 ? 0 - static_cast<uint64_t>(mantissa_) : static_cast<uint64_t>(mantissa_);
  char buf[20 + kMaxScale + 2];
  char* const end = buf + sizeof buf;
  char* p = end;
  for (int i = 0; i < scale_; ++i) {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  if (scale_ > 0) *--p = '.';
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (mantissa_ < 0) *--p = '-';
  return std::string(p, end);
}

Decimal Decimal::Normalized() const {
  int64_t m = mantissa_;
  int s = scale_;
  while (s > 0 && m % 10 == 0) {
    m /= 10;
    --s;
  }
  if (m == 0) s = 0;
  return Decimal(m, s);
}

int DecimalPlaces(Decimal d) { return d.Normalized().scale(); }

absl::StatusOr<int64_t> Decimal::ToScaled(int scale, Rounding rounding) const {
  if (scale < 0 || scale > kMaxScale) return absl::InvalidArgumentError("scale out of range");
  i128 v = mantissa_;
  if (scale >= scale_) {
    v *= kPow10[scale - scale_];
  } else if (!DivRound(v, kPow10[scale_ - scale], rounding, &v)) {
    return absl::InvalidArgumentError("value " + ToString() + " has more than " +
                                       std::to_string(scale) + " decimals");
  }
  if (!FitsInt64(v)) return Overflow("rescale");
  return static_cast<int64_t>(v);
}

absl::StatusOr<Decimal> Decimal::Rescale(int scale, Rounding rounding) const {
  auto m = ToScaled(scale, rounding);
  if (!m.ok()) return m.status();
  return Decimal(*m, scale);
}

absl::StatusOr<Decimal> Decimal::RoundToStep(Decimal step, Rounding rounding) const {
  if (step.mantissa_ <= 0) return absl::InvalidArgumentError("step must be positive");
  const int sc = std::max<int>(scale_, step.scale_);
  i128 v = static_cast<i128>(mantissa_) * kPow10[sc - scale_];
  i128 st = static_cast<i128>(step.mantissa_) * kPow10[sc - step.scale_];
  i128 q;
  if (!DivRound(v, st, rounding, &q)) {
    return absl::InvalidArgumentError(ToString() + " is not a multiple of " +
                                       step.ToNormalizedString());
  }
  i128 r = q * st;
  if (!FitsInt64(r)) return Overflow("round to step");
  return Decimal(static_cast<int64_t>(r), sc).Rescale(step.scale_, Rounding::kExact);
}

bool Decimal::IsMultipleOf(Decimal step) const {
  auto r = RoundToStep(step, Rounding::kExact);
  return r.ok();
}

int Decimal::Compare(Decimal a, Decimal b) {
  const int sc = std::max<int>(a.scale_, b.scale_);
  i128 x = static_cast<i128>(a.mantissa_) * kPow10[sc - a.scale_];
  i128 y = static_cast<i128>(b.mantissa_) * kPow10[sc - b.scale_];
  return x < y ? -1 : (x > y ? 1 : 0);
}

absl::StatusOr<Decimal> Decimal::Add(Decimal a, Decimal b) {
  const int sc = std::max<int>(a.scale_, b.scale_);
  i128 v = static_cast<i128>(a.mantissa_) * kPow10[sc - a.scale_] +
           static_cast<i128>(b.mantissa_) * kPow10[sc - b.scale_];
  if (!FitsInt64(v)) return Overflow("add");
  return Decimal(static_cast<int64_t>(v), sc);
}

absl::StatusOr<Decimal> Decimal::Sub(Decimal a, Decimal b) { return Add(a, b.Negated()); }

absl::StatusOr<Decimal> Decimal::Mul(Decimal a, Decimal b, int scale, Rounding rounding) {
  if (scale < 0 || scale > kMaxScale) return absl::InvalidArgumentError("scale out of range");
  i128 p = static_cast<i128>(a.mantissa_) * b.mantissa_;  // at scale a+b (<= 36)
  const int ps = a.scale_ + b.scale_;
  i128 v;
  if (scale >= ps) {
    // The result must fit int64; checking first keeps p * 10^k inside int128 (|p| <= 2^63
    // and 10^k <= 10^18), where an unchecked product overflowed (UB; found by fuzz_decimal).
    if (!FitsInt64(p)) return Overflow("multiply");
    v = p * Pow10(scale - ps);
  } else if (!DivRound(p, Pow10(ps - scale), rounding, &v)) {
    return absl::InvalidArgumentError("product needs more decimals than allowed");
  }
  if (!FitsInt64(v)) return Overflow("multiply");
  return Decimal(static_cast<int64_t>(v), scale);
}

absl::StatusOr<Decimal> Decimal::Div(Decimal a, Decimal b, int scale, Rounding rounding) {
  if (b.mantissa_ == 0) return absl::InvalidArgumentError("division by zero");
  if (scale < 0 || scale > kMaxScale) return absl::InvalidArgumentError("scale out of range");
  // a/b at scale s: (ma * 10^(s + sb - sa)) / mb
  int shift = scale + b.scale_ - a.scale_;
  i128 n = a.mantissa_;
  i128 d = b.mantissa_;
  if (shift >= 0) {
    if (shift > 36) return Overflow("divide");
    // |n| * 10^shift beyond int128 means a quotient beyond int64 (|d| < 2^63): overflow, checked
    // before multiplying (the unchecked product was UB; found by fuzz_decimal).
    // (numeric_limits<__int128> is not specialized in strict C++20: spelled out.)
    const i128 kI128Max = static_cast<i128>((static_cast<unsigned __int128>(1) << 127) - 1);
    const i128 limit = kI128Max / Pow10(shift);
    if (n > limit || n < -limit) return Overflow("divide");
    n *= Pow10(shift);
  } else {
    d *= Pow10(-shift);
  }
  if (d < 0) {
    n = -n;
    d = -d;
  }
  i128 q;
  if (!DivRound(n, d, rounding, &q)) {
    return absl::InvalidArgumentError("quotient needs more decimals than allowed");
  }
  if (!FitsInt64(q)) return Overflow("divide");
  return Decimal(static_cast<int64_t>(q), scale);
}

double Decimal::ToDouble() const {
  return static_cast<double>(mantissa_) / static_cast<double>(kPow10[scale_]);
}

namespace {

// v * 10^exp as an int64 mantissa (the sign applied), false when it does not fit.
inline bool ScaleUp(uint64_t v, int exp, bool neg, int64_t* out) {
  uint64_t m;
  if (__builtin_mul_overflow(v, static_cast<uint64_t>(kPow10[exp]), &m) ||
      m > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return false;
  }
  *out = neg ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
  return true;
}

// The plain-form parser behind ParseScaledFast and ParseScaledQuoted: [-]digits[.digits] with at
// most 19 significant digits kept, digits past `scale` only if zeros, at least one digit.
// kQuoted reads up to the closing '"' (which must be there: no bounds check, the quote stops
// every loop); otherwise up to `end`. One pass, no division, no allocation. (Eight characters
// at a time with SWAR was measured slower on venue prices and sizes of 5-8 characters: its
// multiply chain is longer than the scalar loop's.)
template <bool kQuoted>
inline bool ParsePlain(const char* p, const char* end, int scale, int64_t* out) {
  if (scale < 0 || scale > Decimal::kMaxScale) return false;
  auto more = [end](const char* q) {
    if constexpr (kQuoted) {
      (void)end;
      (void)q;
      return true;
    } else {
      return q != end;
    }
  };
  auto digit = [](char c) { return static_cast<unsigned>(c - '0') < 10u; };
  bool neg = false;
  if (more(p) && *p == '-') {
    neg = true;
    ++p;
  }
  uint64_t v = 0;
  const char* const int_start = p;
  while (more(p) && digit(*p)) v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  const int int_digits = static_cast<int>(p - int_start);
  // 19 digits fit uint64 (the loop may wrap on more; the result is refused then).
  if (int_digits > 19) return false;
  int frac = 0;
  bool any_digit = int_digits > 0;
  if (more(p) && *p == '.') {
    ++p;
    const char* const frac_start = p;
    while (frac < scale && more(p) && digit(*p)) {
      v = v * 10 + static_cast<uint64_t>(*p++ - '0');
      ++frac;
    }
    if (int_digits + frac > 19) return false;  // the slow path handles (or rejects) it
    while (more(p) && *p == '0') ++p;           // zeros past the scale are harmless
    if (more(p) && digit(*p)) return false;     // more precision than the scale holds
    any_digit = any_digit || p != frac_start;
  }
  if (!any_digit) return false;
  if constexpr (kQuoted) {
    if (*p != '"') return false;
  } else {
    if (p != end) return false;
  }
  return ScaleUp(v, scale - frac, neg, out);
}

}  // namespace

bool ParseScaledFast(std::string_view s, int scale, int64_t* out) {
  return ParsePlain<false>(s.data(), s.data() + s.size(), scale, out);
}

bool ParseScaledQuoted(const char* raw, int scale, int64_t* out) {
  return ParsePlain<true>(raw, nullptr, scale, out);
}

absl::StatusOr<int64_t> ParseScaled(std::string_view text, int scale) {
  int64_t v;
  if (ParseScaledFast(text, scale, &v)) return v;
  auto d = Decimal::Parse(text);
  if (!d.ok()) return d.status();
  return d->ToScaled(scale, Rounding::kExact);
}

std::string FormatScaled(int64_t mantissa, int scale) {
  return Decimal::FromUnits(mantissa, scale).ToNormalizedString();
}

}  // namespace perpgw
