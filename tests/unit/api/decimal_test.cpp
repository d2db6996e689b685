// Decimal parsing, formatting, rounding, overflow and bad input.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "adapters/api/decimal.h"

using perpgw::Decimal;
using perpgw::Rounding;

static Decimal D(const char* s) {
  auto d = Decimal::Parse(s);
  REQUIRE(d.ok());
  return *d;
}

TEST_CASE("decimal parses and prints exactly", "[decimal]") {
  CHECK(D("123.4500").ToNormalizedString() == "123.45");
  CHECK(D("-0.00012").ToString() == "-0.00012");
  CHECK(D("0").ToString() == "0");
  CHECK(D("-0.000").ToString() == "0");
  CHECK(D("+5.").ToString() == "5");
  CHECK(D(".5").ToString() == "0.5");
  CHECK(D("1e-5").ToString() == "0.00001");
  CHECK(D("1.5E3").ToString() == "1500");
  CHECK(D("0.000000000000000001").mantissa() == 1);
  CHECK(D("9223372036854775807").mantissa() == INT64_MAX);
  CHECK(D("100").scale() == 0);
  CHECK(D("1.10").Normalized().scale() == 1);
}

TEST_CASE("decimal rejects garbage and overflow", "[decimal]") {
  for (const char* bad : {"", "-", ".", "abc", "1.2.3", "1e", "1e+", "NaN", "inf", "1,5", " 1",
                          "1 ", "0x10", "--1", "1e99", "99999999999999999999",
                          "0.0000000000000000001", "1.5x"}) {
    INFO(bad);
    CHECK_FALSE(Decimal::Parse(bad).ok());
  }
}

TEST_CASE("decimal comparisons across scales", "[decimal]") {
  CHECK(D("1.50") == D("1.5"));
  CHECK(D("1.5") < D("1.51"));
  CHECK(D("-2") < D("-1.999"));
  CHECK(D("0.1") > D("0.09999999"));
}

TEST_CASE("decimal rescale and rounding modes", "[decimal]") {
  CHECK(*D("1.25").ToScaled(1, Rounding::kHalfEven) == 12);
  CHECK(*D("1.35").ToScaled(1, Rounding::kHalfEven) == 14);
  CHECK(*D("1.21").ToScaled(1, Rounding::kUp) == 13);
  CHECK(*D("-1.21").ToScaled(1, Rounding::kUp) == -13);
  CHECK(*D("-1.21").ToScaled(1, Rounding::kFloor) == -13);
  CHECK(*D("-1.29").ToScaled(1, Rounding::kCeil) == -12);
  CHECK(*D("1.29").ToScaled(1, Rounding::kDown) == 12);
  CHECK_FALSE(D("1.21").ToScaled(1, Rounding::kExact).ok());
  CHECK(*D("1.20").ToScaled(1, Rounding::kExact) == 12);
  CHECK(*D("3").ToScaled(8) == 300000000);
  CHECK_FALSE(D("92233720368").ToScaled(9).ok());  // overflow
}

TEST_CASE("decimal tick/step rounding", "[decimal]") {
  CHECK(D("100.07").RoundToStep(D("0.05"), Rounding::kFloor)->ToNormalizedString() == "100.05");
  CHECK(D("100.07").RoundToStep(D("0.05"), Rounding::kCeil)->ToNormalizedString() == "100.1");
  CHECK(D("0.0123").RoundToStep(D("0.001"), Rounding::kDown)->ToNormalizedString() == "0.012");
  CHECK_FALSE(D("0.0123").RoundToStep(D("0.001"), Rounding::kExact).ok());
  CHECK(D("5").IsMultipleOf(D("0.5")));
  CHECK_FALSE(D("5.25").IsMultipleOf(D("0.5")));
  CHECK_FALSE(D("1").RoundToStep(D("0"), Rounding::kDown).ok());
}

TEST_CASE("decimal arithmetic", "[decimal]") {
  CHECK(Decimal::Add(D("1.1"), D("2.22"))->ToNormalizedString() == "3.32");
  CHECK(Decimal::Sub(D("1"), D("2.5"))->ToNormalizedString() == "-1.5");
  CHECK(Decimal::Mul(D("1.5"), D("2.25"), 4, Rounding::kExact)->ToNormalizedString() == "3.375");
  CHECK_FALSE(Decimal::Mul(D("1.5"), D("2.25"), 2, Rounding::kExact).ok());
  CHECK(Decimal::Div(D("1"), D("3"), 6, Rounding::kHalfEven)->ToString() == "0.333333");
  CHECK(Decimal::Div(D("-2"), D("3"), 3, Rounding::kHalfEven)->ToString() == "-0.667");
  CHECK_FALSE(Decimal::Div(D("1"), D("0"), 6, Rounding::kHalfEven).ok());
  CHECK_FALSE(Decimal::Add(D("9223372036854775807"), D("1")).ok());
  CHECK_FALSE(Decimal::Mul(D("9223372036854775807"), D("10"), 0, Rounding::kExact).ok());
}

// Found by fuzz_decimal: the product scaled up to the target scale overflowed int128 unchecked.
// 2^55 * 2^55 * 10^18 wraps to exactly 0 in int128, so the old code returned "0" as the product
// of two 3.6e16 values. The division case overflowed the same way (UB, caught by UBSan).
TEST_CASE("decimal multiply and divide overflow is an error, never a wrapped value", "[decimal]") {
  auto p = Decimal::Mul(D("36028797018963968"), D("36028797018963968"), 18, Rounding::kExact);
  CHECK_FALSE(p.ok());
  auto q = Decimal::Div(D("9223372036854775807"), D("0.000000000000000001"), 18,
                        Rounding::kExact);
  CHECK_FALSE(q.ok());
  // Large but representable results still work at both ends.
  CHECK(Decimal::Mul(D("3037000499"), D("3037000499"), 0, Rounding::kExact)->ToString() ==
        "9223372030926249001");
  CHECK(Decimal::Div(D("9"), D("0.000000000000000001"), 0, Rounding::kExact)->ToString() ==
        "9000000000000000000");
}

TEST_CASE("scaled hot-path parsing", "[decimal]") {
  int64_t v = 0;
  CHECK(perpgw::ParseScaledFast("123.45", 2, &v));
  CHECK(v == 12345);
  CHECK(perpgw::ParseScaledFast("123.4500", 2, &v));
  CHECK(v == 12345);
  CHECK_FALSE(perpgw::ParseScaledFast("123.451", 2, &v));
  CHECK(perpgw::ParseScaledFast("7", 3, &v));
  CHECK(v == 7000);
  CHECK(perpgw::ParseScaledFast("-0.5", 1, &v));
  CHECK(v == -5);
  CHECK(perpgw::ParseScaledFast("0", 8, &v));
  CHECK(v == 0);
  for (const char* bad : {"", "-", ".", "1.2.3", "abc", "1e5", "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(perpgw::ParseScaledFast(bad, 2, &v));
  }
  CHECK(*perpgw::ParseScaled("1e-2", 2) == 1);  // slow path
  CHECK(perpgw::FormatScaled(12345, 2) == "123.45");
  CHECK(perpgw::FormatScaled(12300, 2) == "123");
  CHECK(perpgw::FormatScaled(-5, 3) == "-0.005");
}

TEST_CASE("ParseScaledQuoted (in place, up to the closing quote) reads exactly what "
          "ParseScaledFast reads",
          "[decimal]") {
  // `s` as a JSON string's raw bytes: then the closing quote, then bytes the parser may load
  // but must not take (digits, to catch a run read past the quote).
  auto quoted = [](const std::string& s, int scale, int64_t* v) {
    std::string buf = s + "\"" + "1234567890123456";
    return perpgw::ParseScaledQuoted(buf.data(), scale, v);
  };
  auto same = [&](const std::string& s, int scale) {
    INFO(s << " scale " << scale);
    int64_t fast = -7, in_place = -7;
    const std::string upto = s.substr(0, s.find('"'));
    const bool fast_ok = perpgw::ParseScaledFast(upto, scale, &fast);
    REQUIRE(quoted(s, scale, &in_place) == fast_ok);
    if (fast_ok) {
      REQUIRE(in_place == fast);
      auto slow = perpgw::ParseScaled(upto, scale);
      REQUIRE(slow.ok());
      REQUIRE(*slow == fast);
    }
  };
  int64_t v = 0;
  CHECK(quoted("115001.3", 1, &v));
  CHECK(v == 1150013);
  CHECK(quoted("0.43174", 5, &v));
  CHECK(v == 43174);
  CHECK(quoted("0.00000", 5, &v));
  CHECK(v == 0);
  CHECK(quoted("123.4500", 2, &v));
  CHECK(v == 12345);
  CHECK_FALSE(quoted("123.451", 2, &v));
  CHECK(quoted("9223372036854775807", 0, &v));
  CHECK(v == INT64_MAX);
  CHECK_FALSE(quoted("9223372036854775808", 0, &v));
  CHECK_FALSE(quoted("-9223372036854775808", 0, &v));  // left to ParseScaled
  CHECK(quoted("12345678.12345678", 8, &v));
  CHECK(v == 1234567812345678);
  CHECK(quoted("1.000000000000000000000000", 2, &v));
  CHECK(v == 100);
  CHECK_FALSE(quoted("1.000000000000000000000001", 2, &v));
  for (const char* bad : {"", "-", ".", "-.", "1.2.3", "abc", "1e5", "+1", "1\\u0030", " 1",
                          "1 ", "99999999999999999999", "1234567890123456789.1"}) {
    INFO(bad);
    CHECK_FALSE(quoted(bad, 2, &v));
  }
  for (const char* s : {"1", "-1", "0", "5.", ".5", "-.5", "0.0", ".0", "00001.10000", "1.5",
                        "1234567890123456789", "123456789012345678.9", "12345678", "123456789",
                        "0.12345678", "0.123456789", "1\"2", "\"", "99999999.99999999"}) {
    for (int scale = 0; scale <= 18; ++scale) same(s, scale);
  }
  // Random plain forms (runs across every 8-byte boundary, zeros past the scale) and random
  // junk, every scale.
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::string junk = "0123456789000..--+e\"\\ x:/";
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    if (next() % 3 == 0) {
      const size_t n = next() % 28;
      for (size_t k = 0; k < n; ++k) s += junk[next() % junk.size()];
    } else {
      if (next() % 4 == 0) s += '-';
      const size_t int_len = next() % 21, frac_len = next() % 21;
      for (size_t k = 0; k < int_len; ++k) s += static_cast<char>('0' + next() % 10);
      if (next() % 4 != 0) {
        s += '.';
        const size_t zeros_from = next() % (frac_len + 1);
        for (size_t k = 0; k < frac_len; ++k) {
          s += k >= zeros_from && next() % 8 != 0 ? '0' : static_cast<char>('0' + next() % 10);
        }
      }
    }
    same(s, static_cast<int>(next() % 19));
  }
}

TEST_CASE("decimal prints every int64 mantissa at every scale, the int64 edges included",
          "[decimal]") {
  CHECK(Decimal::FromUnits(INT64_MIN, 0).ToString() == "-9223372036854775808");
  CHECK(Decimal::FromUnits(INT64_MIN, 18).ToString() == "-9.223372036854775808");
  CHECK(Decimal::FromUnits(INT64_MAX, 18).ToString() == "9.223372036854775807");
  CHECK(Decimal::FromUnits(INT64_MAX, 0).ToString() == "9223372036854775807");
  CHECK(Decimal::FromUnits(1, 18).ToString() == "0.000000000000000001");
  CHECK(Decimal::FromUnits(-1, 3).ToString() == "-0.001");
  CHECK(Decimal::FromUnits(0, 8).ToString() == "0.00000000");
  CHECK(Decimal::FromUnits(10000000012000000, 8).ToNormalizedString() == "100000000.12");
  // Against the digit-by-digit reference (sign, integer part, point, zero-padded fraction).
  uint64_t x = 0x2545F4914F6CDD1DULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const int64_t m = static_cast<int64_t>(x) >> (x % 64);
    const int scale = static_cast<int>(x % 19);
    const unsigned __int128 mag = m < 0 ? -static_cast<__int128>(m) : m;
    unsigned __int128 pow = 1;
    for (int k = 0; k < scale; ++k) pow *= 10;
    auto digits = [](unsigned __int128 v) {
      std::string s;
      do {
        s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
        v /= 10;
      } while (v != 0);
      return s;
    };
    std::string want = (m < 0 ? "-" : "") + digits(mag / pow);
    if (scale > 0) {
      std::string frac = digits(mag % pow);
      want += "." + std::string(static_cast<size_t>(scale) - frac.size(), '0') + frac;
    }
    REQUIRE(Decimal::FromUnits(m, scale).ToString() == want);
  }
}
