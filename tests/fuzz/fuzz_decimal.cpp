// libFuzzer target: exact money arithmetic (adapters/api/decimal). Every price and size on the
// order path goes through these functions, so beyond "no crash, no UB" the target checks
// properties that must hold for any input:
//   - Parse → ToString → Parse gives the same value; ToNormalizedString is a fixed point;
//   - what the hot-path ParseScaledFast accepts, ParseScaled accepts with the same mantissa, and
//     FormatScaled reads back to the same mantissa;
//   - checked Add/Sub invert each other (or the inverse overflows at the finer scale); Compare is
//   antisymmetric; Rescale/RoundToStep results
//     compare as their rounding mode promises.
// Input: first byte = scale and rounding selector; the rest is "a\nb".
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/api/decimal.h"

namespace {

using perpgw::Decimal;
using perpgw::Rounding;

void Require(bool ok) {
  if (!ok) std::abort();
}

void OneString(std::string_view s, int scale) {
  auto d = Decimal::Parse(s);
  if (d.ok()) {
    auto again = Decimal::Parse(d->ToString());
    Require(again.ok() && *again == *d && again->scale() == d->scale());
    std::string norm = d->ToNormalizedString();
    auto n = Decimal::Parse(norm);
    Require(n.ok() && *n == *d && n->ToNormalizedString() == norm);
  }
  auto slow = perpgw::ParseScaled(s, scale);
  int64_t fast = 0;
  bool fast_ok = perpgw::ParseScaledFast(s, scale, &fast);
  // The hot path takes the common forms and leaves the rest ('+', exponents, 19+ digits) to
  // ParseScaled: whatever it accepts, ParseScaled accepts with the same mantissa.
  if (fast_ok) Require(slow.ok() && *slow == fast);
  if (slow.ok()) {
    auto back = perpgw::ParseScaled(perpgw::FormatScaled(*slow, scale), scale);
    Require(back.ok() && *back == *slow);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int scale = data[0] % (Decimal::kMaxScale + 1);
  const Rounding rounding = static_cast<Rounding>((data[0] / (Decimal::kMaxScale + 1)) % 6);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nl = rest.find('\n');
  std::string_view sa = rest.substr(0, nl);
  std::string_view sb = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  OneString(sa, scale);
  OneString(sb, scale);
  auto a = Decimal::Parse(sa);
  auto b = Decimal::Parse(sb);
  if (!a.ok()) return 0;
  if (auto r = a->Rescale(scale, rounding); r.ok()) {
    if (rounding == Rounding::kExact) Require(*r == *a);
    if (rounding == Rounding::kDown) Require(r->Abs() <= a->Abs());
    if (rounding == Rounding::kUp) Require(r->Abs() >= a->Abs());
    if (rounding == Rounding::kFloor) Require(*r <= *a);
    if (rounding == Rounding::kCeil) Require(*r >= *a);
  }
  if (!b.ok()) return 0;
  Require(Decimal::Compare(*a, *b) == -Decimal::Compare(*b, *a));
  if (auto sum = Decimal::Add(*a, *b); sum.ok()) {
    // The inverse may overflow where the sum did not: a itself at the sum's (finer) scale need
    // not fit int64 ("-13366066666" + "6666833310.000000003"). Then that is why, and only then.
    auto diff = Decimal::Sub(*sum, *b);
    if (diff.ok()) {
      Require(*diff == *a);
    } else {
      Require(!a->Rescale(sum->scale(), Rounding::kExact).ok());
    }
  }
  (void)Decimal::Mul(*a, *b, scale, rounding);
  (void)Decimal::Div(*a, *b, scale, rounding);
  if (b->IsPositive()) {
    if (auto r = a->RoundToStep(*b, rounding); r.ok()) {
      Require(r->IsMultipleOf(*b));
      if (rounding == Rounding::kExact) Require(*r == *a);
    }
  }
  return 0;
}
