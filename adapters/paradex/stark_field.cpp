// Internal: out-of-line Stark field routines (inversion, square root) on the Montgomery types.
#include "adapters/paradex/stark_field.h"

#include <array>

namespace perpgw::adapters::paradex::stark {
namespace {

template <class P>
Mont<P> SqrN(Mont<P> a, int n) {
  for (int i = 0; i < n; ++i) a = Sqr(a);
  return a;
}

// Left-to-right 4-bit fixed-window exponentiation (exponents here are public constants).
template <class P>
Mont<P> Pow(const Mont<P>& a, const U256& e) {
  Mont<P> tbl[16];
  tbl[0] = One<P>();
  tbl[1] = a;
  for (int i = 2; i < 16; ++i) tbl[i] = Mul(tbl[i - 1], a);
  Mont<P> r = One<P>();
  bool started = false;
  for (int i = 63; i >= 0; --i) {
    if (started) r = SqrN(r, 4);
    unsigned nib = (e.v[i / 16] >> (4 * (i % 16))) & 15;
    if (nib != 0) {
      r = started ? Mul(r, tbl[nib]) : tbl[nib];
      started = true;
    }
  }
  return r;
}

// Tonelli-Shanks constants: p - 1 = 2^192 * q with q = 2^59 + 17; c = 3^q (3 is a non-residue).
constexpr int kTwoAdicity = 192;
constexpr u64 kQ = 0x0800000000000011ULL;
constexpr U256 kC{
    {0x6070024f42f8ef94ULL, 0xad187148e11a6161ULL, 0x3f0464519c8b0fa5ULL, 0x005282db87529cfaULL}};

struct SqrtTable {
  std::array<Fp, kTwoAdicity> c_pow2;  // c^(2^j)
  SqrtTable() {
    Fp c = ToMont<FpParams>(kC);
    for (int j = 0; j < kTwoAdicity; ++j) {
      c_pow2[j] = c;
      c = Sqr(c);
    }
  }
};

const SqrtTable& GetSqrtTable() {
  static const SqrtTable* table = new SqrtTable();
  return *table;
}

}  // namespace

Fp FpInv(const Fp& a) {
  // p - 2 = 2^251 + 2^196 + (2^192 - 1): top part by square-and-multiply, the run of 192 ones
  // in 32 chunks of six (a^63).
  Fp x2 = Mul(Sqr(a), a);        // a^3
  Fp x3 = Mul(Sqr(x2), a);       // a^7
  Fp x6 = Mul(SqrN(x3, 3), x3);  // a^63
  Fp r = Mul(SqrN(a, 55), a);
  r = SqrN(r, 4);
  for (int i = 0; i < 32; ++i) r = Mul(SqrN(r, 6), x6);
  return r;
}

Fn FnInv(const Fn& a) {
  U256 e = ModulusOf(FnParams::kMod);
  e.v[0] -= 2;  // low limb of n is far above 2: no borrow
  return Pow(a, e);
}

bool FpIsSquare(const Fp& a) {
  if (IsZero(a)) return true;
  // (p - 1) / 2 = 2^250 + 17 * 2^191
  U256 e{{0, 0, 0x8000000000000000ULL, 0x0400000000000008ULL}};
  return Equal(Pow(a, e), One<FpParams>());
}

bool FpSqrt(const Fp& a, Fp* out) {
  if (IsZero(a)) {
    *out = Fp{};
    return true;
  }
  const SqrtTable& tbl = GetSqrtTable();
  const Fp one = One<FpParams>();
  Fp x = Pow(a, U256{{(kQ + 1) / 2, 0, 0, 0}});
  Fp b = Pow(a, U256{{kQ, 0, 0, 0}});
  int m = kTwoAdicity;
  int k = 0;  // current z = c^(2^k)
  while (!Equal(b, one)) {
    int i = 0;
    Fp t = b;
    while (!Equal(t, one)) {
      t = Sqr(t);
      if (++i == m) return false;  // not a quadratic residue
    }
    int idx = k + m - i - 1;
    Fp bb = tbl.c_pow2[idx];
    x = Mul(x, bb);
    Fp z = Sqr(bb);
    b = Mul(b, z);
    k = idx + 1;
    m = i;
  }
  *out = x;
  return true;
}

}  // namespace perpgw::adapters::paradex::stark
