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


// --- Variable-time inversion (Bernstein-Yang safegcd, 62 divsteps per round) ----------------
// Signed radix-2^62 integers: limbs 0..3 in [0, 2^62), limb 4 signed.
using i64 = int64_t;
using i128 = __int128;
constexpr u64 kM62 = ~u64(0) >> 2;
// p in radix 2^62: 1 + 1088 * 2^186 + 8 * 2^248; p^-1 mod 2^62 is 1 since p = 1 mod 2^62.
constexpr i64 kP62[5] = {1, 0, 0, 1088, 8};

struct Trans {
  i64 u, v, q, r;
};

// Runs divsteps on the low 62 bits of f (odd) and g; returns the new eta (= -delta).
i64 DivSteps62Var(i64 eta, u64 f0, u64 g0, Trans* t) {
  u64 u = 1, v = 0, q = 0, r = 1, f = f0, g = g0, m, w;
  int i = 62;
  for (;;) {
    int zeros = __builtin_ctzll(g | (~u64(0) << i));
    g >>= zeros;
    u <<= zeros;
    v <<= zeros;
    eta -= zeros;
    i -= zeros;
    if (i == 0) break;
    int limit;
    if (eta < 0) {
      u64 tmp;
      eta = -eta;
      tmp = f, f = g, g = 0 - tmp;
      tmp = u, u = q, q = 0 - tmp;
      tmp = v, v = r, r = 0 - tmp;
      limit = (int(eta) + 1) > i ? i : (int(eta) + 1);
      m = (~u64(0) >> (64 - limit)) & 63u;
      w = (f * g * (f * f - 2)) & m;
    } else {
      limit = (int(eta) + 1) > i ? i : (int(eta) + 1);
      m = (~u64(0) >> (64 - limit)) & 15u;
      w = f + (((f + 1) & 4) << 1);
      w = (0 - w * g) & m;
    }
    g += f * w;
    q += u * w;
    r += v * w;
  }
  t->u = i64(u);
  t->v = i64(v);
  t->q = i64(q);
  t->r = i64(r);
  return eta;
}

// (d, e) <- t * (d, e) / 2^62 mod p, adding multiples of p to make the division exact.
void UpdateDe62(i64 d[5], i64 e[5], const Trans& t) {
  const i64 u = t.u, v = t.v, q = t.q, r = t.r;
  const i64 sd = d[4] >> 63, se = e[4] >> 63;
  i64 md = (u & sd) + (v & se);
  i64 me = (q & sd) + (r & se);
  i128 cd = (i128)u * d[0] + (i128)v * e[0];
  i128 ce = (i128)q * d[0] + (i128)r * e[0];
  // p^-1 mod 2^62 == 1.
  md -= i64((u64(cd) + u64(md)) & kM62);
  me -= i64((u64(ce) + u64(me)) & kM62);
  cd += (i128)kP62[0] * md;
  ce += (i128)kP62[0] * me;
  cd >>= 62;
  ce >>= 62;
  for (int i = 1; i < 5; ++i) {
    cd += (i128)u * d[i] + (i128)v * e[i];
    ce += (i128)q * d[i] + (i128)r * e[i];
    if (kP62[i] != 0) {
      cd += (i128)kP62[i] * md;
      ce += (i128)kP62[i] * me;
    }
    d[i - 1] = i64(u64(cd) & kM62);
    cd >>= 62;
    e[i - 1] = i64(u64(ce) & kM62);
    ce >>= 62;
  }
  d[4] = i64(cd);
  e[4] = i64(ce);
}

void UpdateFg62Var(int len, i64 f[5], i64 g[5], const Trans& t) {
  const i64 u = t.u, v = t.v, q = t.q, r = t.r;
  i128 cf = (i128)u * f[0] + (i128)v * g[0];
  i128 cg = (i128)q * f[0] + (i128)r * g[0];
  cf >>= 62;
  cg >>= 62;
  for (int i = 1; i < len; ++i) {
    cf += (i128)u * f[i] + (i128)v * g[i];
    cg += (i128)q * f[i] + (i128)r * g[i];
    f[i - 1] = i64(u64(cf) & kM62);
    cf >>= 62;
    g[i - 1] = i64(u64(cg) & kM62);
    cg >>= 62;
  }
  f[len - 1] = i64(cf);
  g[len - 1] = i64(cg);
}

// Plain (non-Montgomery) inverse of x in [1, p); x == 0 gives 0.
U256 InvPlainVar(const U256& x) {
  i64 d[5] = {0, 0, 0, 0, 0}, e[5] = {1, 0, 0, 0, 0};
  i64 f[5] = {kP62[0], kP62[1], kP62[2], kP62[3], kP62[4]};
  i64 g[5] = {i64(x.v[0] & kM62), i64(((x.v[0] >> 62) | (x.v[1] << 2)) & kM62),
              i64(((x.v[1] >> 60) | (x.v[2] << 4)) & kM62),
              i64(((x.v[2] >> 58) | (x.v[3] << 6)) & kM62), i64(x.v[3] >> 56)};
  int len = 5;
  i64 eta = -1;
  for (;;) {
    Trans t;
    eta = DivSteps62Var(eta, u64(f[0]), u64(g[0]), &t);
    UpdateDe62(d, e, t);
    UpdateFg62Var(len, f, g, t);
    if (g[0] == 0) {
      i64 cond = 0;
      for (int j = 1; j < len; ++j) cond |= g[j];
      if (cond == 0) break;
    }
    i64 fn = f[len - 1], gn = g[len - 1];
    i64 cond = (i64(len) - 2) >> 63;
    cond |= fn ^ (fn >> 63);
    cond |= gn ^ (gn >> 63);
    if (cond == 0) {
      f[len - 2] = i64(u64(f[len - 2]) | (u64(fn) << 62));
      g[len - 2] = i64(u64(g[len - 2]) | (u64(gn) << 62));
      --len;
    }
  }
  // f is now +-1 (gcd with the prime p) and d in (-2p, p) is the signed inverse times f.
  const bool neg = f[len - 1] < 0;
  // value = sign * d + 2p, which lies in (0, 4p) before the final reduction.
  i128 c = 0;
  u64 out[5];
  for (int i = 0; i < 5; ++i) {
    c += (neg ? -(i128)d[i] : (i128)d[i]) + 2 * (i128)kP62[i];
    out[i] = u64(c) & kM62;
    c >>= 62;
  }
  out[4] |= u64(c) << 62;  // c is zero for values < 2^310
  U256 r{{out[0] | (out[1] << 62), (out[1] >> 2) | (out[2] << 60), (out[2] >> 4) | (out[3] << 58),
          (out[3] >> 6) | (out[4] << 56)}};
  return ReduceOnce<FpParams>(r);
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

Fp FpInvVar(const Fp& a) {
  if (IsZero(a)) return Fp{};
  // a = x * R; plain inverse gives x^-1 * R^-1; two Montgomery products by R^2 give x^-1 * R.
  static const Fp r2{{FpParams::kR2[0], FpParams::kR2[1], FpParams::kR2[2], FpParams::kR2[3]}};
  const U256 inv = InvPlainVar(U256{{a.v[0], a.v[1], a.v[2], a.v[3]}});
  return Mul(Mul(Fp{{inv.v[0], inv.v[1], inv.v[2], inv.v[3]}}, r2), r2);
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
