// Internal: 4x64-bit Montgomery arithmetic for the Stark field Fp and the curve order Fn.
// Included only by the paradex signing .cpp files (hot inline code, not a public header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace perpgw::adapters::paradex::stark {

using std::size_t;
using u64 = uint64_t;
using u128 = unsigned __int128;

// Plain 256-bit unsigned integer, little-endian limbs (v[0] least significant).
struct U256 {
  u64 v[4] = {0, 0, 0, 0};
};

inline bool IsZero(const U256& a) { return (a.v[0] | a.v[1] | a.v[2] | a.v[3]) == 0; }
inline bool Equal(const U256& a, const U256& b) {
  return ((a.v[0] ^ b.v[0]) | (a.v[1] ^ b.v[1]) | (a.v[2] ^ b.v[2]) | (a.v[3] ^ b.v[3])) == 0;
}
// a < b
inline bool Less(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; --i) {
    if (a.v[i] != b.v[i]) return a.v[i] < b.v[i];
  }
  return false;
}
// Bit length (0 for zero).
inline int BitLength(const U256& a) {
  for (int i = 3; i >= 0; --i) {
    if (a.v[i] != 0) return 64 * i + 64 - __builtin_clzll(a.v[i]);
  }
  return 0;
}
inline bool Below2Pow251(const U256& a) { return (a.v[3] >> 59) == 0; }

// Modulus parameter sets. kInv = -m^-1 mod 2^64; kR2 = 2^512 mod m; kOne = 2^256 mod m.
struct FpParams {
  // p = 2^251 + 17*2^192 + 1: limbs 1 and 2 are zero and limb 0 is one, which the compiler
  // folds out of the reduction (one multiply per round instead of four).
  static constexpr u64 kMod[4] = {0x0000000000000001ULL, 0x0000000000000000ULL,
                                  0x0000000000000000ULL, 0x0800000000000011ULL};
  static constexpr u64 kInv = 0xffffffffffffffffULL;
  static constexpr u64 kR2[4] = {0xfffffd737e000401ULL, 0x00000001330fffffULL,
                                 0xffffffffff6f8000ULL, 0x07ffd4ab5e008810ULL};
  static constexpr u64 kOne[4] = {0xffffffffffffffe1ULL, 0xffffffffffffffffULL,
                                  0xffffffffffffffffULL, 0x07fffffffffffdf0ULL};
};
struct FnParams {
  static constexpr u64 kMod[4] = {0x1e66a241adc64d2fULL, 0xb781126dcae7b232ULL,
                                  0xffffffffffffffffULL, 0x0800000000000010ULL};
  static constexpr u64 kInv = 0xbb6b3c4ce8bde631ULL;
  static constexpr u64 kR2[4] = {0x6021b3f1ea1c688dULL, 0x509cf64d14ce60b9ULL,
                                 0xbaf0ab4cf78bbabbULL, 0x07d9e57c2333766eULL};
  static constexpr u64 kOne[4] = {0x51925a0bf4fca74fULL, 0xc75ec4b46df16beeULL,
                                  0x0000000000000008ULL, 0x07fffffffffffdf1ULL};
};

inline U256 ModulusOf(const u64 (&m)[4]) { return U256{{m[0], m[1], m[2], m[3]}}; }

// Element in Montgomery form (value * 2^256 mod m), always fully reduced.
template <class P>
struct Mont {
  u64 v[4] = {0, 0, 0, 0};
};

using Fp = Mont<FpParams>;
using Fn = Mont<FnParams>;

// a + b + c with carry out; on x86-64 a chain of these compiles to add/adc.
__attribute__((always_inline)) inline unsigned char AddC(unsigned char c, u64 a, u64 b, u64* out) {
#if defined(__x86_64__)
  unsigned long long o;  // u64 is unsigned long: go through the intrinsic's own type
  c = _addcarry_u64(c, a, b, &o);
  *out = o;
  return c;
#else
  u128 s = (u128)a + b + c;
  *out = (u64)s;
  return (unsigned char)(s >> 64);
#endif
}

// r = t - m if t >= m (t given with a fifth carry word t4), else t.
template <class P>
inline void CondSubMod(u64 r[4], const u64 t[4], u64 t4) {
  u64 d[4];
  u128 b = 0;
  for (int i = 0; i < 4; ++i) {
    u128 x = (u128)t[i] - P::kMod[i] - (u64)b;
    d[i] = (u64)x;
    b = (x >> 64) & 1;
  }
  // Borrow out of the subtraction is absorbed by t4 when t >= m.
  bool ge = t4 != 0 || b == 0;
  for (int i = 0; i < 4; ++i) r[i] = ge ? d[i] : t[i];
}

// One row a * b[0..3] as five words; the four rows of a product are independent, so the CPU
// overlaps them instead of serialising on a single three-word accumulator.
__attribute__((always_inline)) inline void MulRow(u64 a, const u64 b[4], u64 r[5]) {
  u128 p0 = (u128)a * b[0], p1 = (u128)a * b[1], p2 = (u128)a * b[2], p3 = (u128)a * b[3];
  r[0] = (u64)p0;
  unsigned char c = AddC(0, (u64)p1, (u64)(p0 >> 64), &r[1]);
  c = AddC(c, (u64)p2, (u64)(p1 >> 64), &r[2]);
  c = AddC(c, (u64)p3, (u64)(p2 >> 64), &r[3]);
  r[4] = (u64)(p3 >> 64) + c;
}

// Full 512-bit product.
__attribute__((always_inline)) inline void Mul512(const u64 a[4], const u64 b[4], u64 t[8]) {
  u64 r0[5], r1[5], r2[5], r3[5];
  MulRow(a[0], b, r0);
  MulRow(a[1], b, r1);
  MulRow(a[2], b, r2);
  MulRow(a[3], b, r3);
  // (r0 + r1 << 64) and (r2 + r3 << 64) in parallel, then combine at offset 128.
  u64 s[6], u[6];
  s[0] = r0[0];
  unsigned char c = AddC(0, r0[1], r1[0], &s[1]);
  c = AddC(c, r0[2], r1[1], &s[2]);
  c = AddC(c, r0[3], r1[2], &s[3]);
  c = AddC(c, r0[4], r1[3], &s[4]);
  s[5] = r1[4] + c;  // a * b < 2^512: no carry out of the top word
  u[0] = r2[0];
  c = AddC(0, r2[1], r3[0], &u[1]);
  c = AddC(c, r2[2], r3[1], &u[2]);
  c = AddC(c, r2[3], r3[2], &u[3]);
  c = AddC(c, r2[4], r3[3], &u[4]);
  u[5] = r3[4] + c;
  t[0] = s[0];
  t[1] = s[1];
  c = AddC(0, s[2], u[0], &t[2]);
  c = AddC(c, s[3], u[1], &t[3]);
  c = AddC(c, s[4], u[2], &t[4]);
  c = AddC(c, s[5], u[3], &t[5]);
  c = AddC(c, 0, u[4], &t[6]);
  t[7] = u[5] + c;
}

// Full 512-bit square: the six cross products once, doubled by a shift, plus the diagonal.
__attribute__((always_inline)) inline void Sqr512(const u64 a[4], u64 t[8]) {
  // Cross terms sum a_i * a_j (i < j), x[k] holding word k (a_i * a_j lands at word i + j).
  u128 p01 = (u128)a[0] * a[1], p02 = (u128)a[0] * a[2], p03 = (u128)a[0] * a[3];
  u128 p12 = (u128)a[1] * a[2], p13 = (u128)a[1] * a[3], p23 = (u128)a[2] * a[3];
  u64 x[7];
  x[1] = (u64)p01;
  unsigned char c = AddC(0, (u64)p02, (u64)(p01 >> 64), &x[2]);
  c = AddC(c, (u64)p03, (u64)(p02 >> 64), &x[3]);
  x[4] = (u64)(p03 >> 64) + c;
  // + a1*a2 at word 3, a1*a3 at word 4
  u64 y3 = (u64)p12, y4, y5;
  c = AddC(0, (u64)p13, (u64)(p12 >> 64), &y4);
  y5 = (u64)(p13 >> 64) + c;
  c = AddC(0, x[3], y3, &x[3]);
  c = AddC(c, x[4], y4, &x[4]);
  x[5] = y5 + c;
  x[6] = 0;
  // + a2*a3 at word 5
  c = AddC(0, x[5], (u64)p23, &x[5]);
  c = AddC(c, x[6], (u64)(p23 >> 64), &x[6]);
  // Double (2x <= a^2 < 2^512 fits in words 1..7) and add the squares a_i^2 at word 2i.
  u64 d[8];
  d[0] = 0;
  d[1] = x[1] << 1;
  d[2] = (x[2] << 1) | (x[1] >> 63);
  d[3] = (x[3] << 1) | (x[2] >> 63);
  d[4] = (x[4] << 1) | (x[3] >> 63);
  d[5] = (x[5] << 1) | (x[4] >> 63);
  d[6] = (x[6] << 1) | (x[5] >> 63);
  d[7] = x[6] >> 63;
  u128 q0 = (u128)a[0] * a[0], q1 = (u128)a[1] * a[1], q2 = (u128)a[2] * a[2],
       q3 = (u128)a[3] * a[3];
  t[0] = (u64)q0;
  c = AddC(0, d[1], (u64)(q0 >> 64), &t[1]);
  c = AddC(c, d[2], (u64)q1, &t[2]);
  c = AddC(c, d[3], (u64)(q1 >> 64), &t[3]);
  c = AddC(c, d[4], (u64)q2, &t[4]);
  c = AddC(c, d[5], (u64)(q2 >> 64), &t[5]);
  c = AddC(c, d[6], (u64)q3, &t[6]);
  t[7] = d[7] + (u64)(q3 >> 64) + c;
}

// Montgomery reduction t * 2^-256 mod m of a 512-bit t < m * 2^256.
template <class P>
inline Mont<P> Redc(u64 t[8]) {
  u64 extra = 0;
  for (int i = 0; i < 4; ++i) {
    u64 m = t[i] * P::kInv;
    u128 c = 0;
    for (int j = 0; j < 4; ++j) {
      c += (u128)m * P::kMod[j] + t[i + j];
      t[i + j] = (u64)c;
      c >>= 64;
    }
    for (int j = i + 4; j < 8 && c != 0; ++j) {
      c += t[j];
      t[j] = (u64)c;
      c >>= 64;
    }
    extra += (u64)c;
  }
  Mont<P> r;
  CondSubMod<P>(r.v, t + 4, extra);
  return r;
}

// Specialised reduction for p = 1 + p3 * 2^192: p^-1 = 1 - p3 * 2^192 (mod 2^256), so the
// whole Montgomery quotient is q = (t0 * p3) * 2^192 - t_low (mod 2^256), and
// (t + q * p) / 2^256 = t_high + borrow + (t0 * p3 + q * p3) / 2^64.
__attribute__((always_inline)) inline Mont<FpParams> RedcP(const u64 t[8]) {
  constexpr u64 p3 = FpParams::kMod[3];
  const u64 c = t[0] * p3;
  u64 q[4];
  u128 d = (u128)0 - t[0];
  q[0] = (u64)d;
  d = (u128)0 - t[1] - (u64)((d >> 64) & 1);
  q[1] = (u64)d;
  d = (u128)0 - t[2] - (u64)((d >> 64) & 1);
  q[2] = (u64)d;
  d = (u128)c - t[3] - (u64)((d >> 64) & 1);
  q[3] = (u64)d;
  const u64 borrow = (u64)((d >> 64) & 1);
  u128 s = (u128)q[0] * p3 + c;  // low word is zero by construction
  u64 w[4];
  s = (u128)q[1] * p3 + (u64)(s >> 64);
  w[0] = (u64)s;
  s = (u128)q[2] * p3 + (u64)(s >> 64);
  w[1] = (u64)s;
  s = (u128)q[3] * p3 + (u64)(s >> 64);
  w[2] = (u64)s;
  w[3] = (u64)(s >> 64);
  u64 r[4];
  u128 a = (u128)t[4] + w[0] + borrow;
  r[0] = (u64)a;
  a = (u128)t[5] + w[1] + (u64)(a >> 64);
  r[1] = (u64)a;
  a = (u128)t[6] + w[2] + (u64)(a >> 64);
  r[2] = (u64)a;
  a = (u128)t[7] + w[3] + (u64)(a >> 64);
  r[3] = (u64)a;
  Mont<FpParams> out;
  CondSubMod<FpParams>(out.v, r, 0);  // result < 2p < 2^256
  return out;
}

template <class P>
inline Mont<P> Mul(const Mont<P>& a, const Mont<P>& b) {
  u64 t[8];
  Mul512(a.v, b.v, t);
  if constexpr (std::is_same_v<P, FpParams>) {
    return RedcP(t);
  } else {
    return Redc<P>(t);
  }
}

template <class P>
inline Mont<P> Sqr(const Mont<P>& a) {
  u64 t[8];
  Sqr512(a.v, t);
  if constexpr (std::is_same_v<P, FpParams>) {
    return RedcP(t);
  } else {
    return Redc<P>(t);
  }
}

template <class P>
inline Mont<P> Add(const Mont<P>& a, const Mont<P>& b) {
  u64 t[4];
  u128 c = 0;
  for (int i = 0; i < 4; ++i) {
    c += (u128)a.v[i] + b.v[i];
    t[i] = (u64)c;
    c >>= 64;
  }
  Mont<P> r;
  CondSubMod<P>(r.v, t, (u64)c);
  return r;
}

template <class P>
inline Mont<P> Sub(const Mont<P>& a, const Mont<P>& b) {
  u64 t[4];
  u128 bw = 0;
  for (int i = 0; i < 4; ++i) {
    u128 x = (u128)a.v[i] - b.v[i] - (u64)bw;
    t[i] = (u64)x;
    bw = (x >> 64) & 1;
  }
  // On borrow add the modulus back (mask avoids a branch).
  u64 mask = 0 - (u64)bw;
  u128 c = 0;
  Mont<P> r;
  for (int i = 0; i < 4; ++i) {
    c += (u128)t[i] + (P::kMod[i] & mask);
    r.v[i] = (u64)c;
    c >>= 64;
  }
  return r;
}

template <class P>
inline Mont<P> Neg(const Mont<P>& a) {
  return Sub(Mont<P>{}, a);
}

template <class P>
inline Mont<P> Dbl(const Mont<P>& a) {
  return Add(a, a);
}

template <class P>
inline bool IsZero(const Mont<P>& a) {
  return (a.v[0] | a.v[1] | a.v[2] | a.v[3]) == 0;
}

template <class P>
inline bool Equal(const Mont<P>& a, const Mont<P>& b) {
  return ((a.v[0] ^ b.v[0]) | (a.v[1] ^ b.v[1]) | (a.v[2] ^ b.v[2]) | (a.v[3] ^ b.v[3])) == 0;
}

template <class P>
inline Mont<P> One() {
  return Mont<P>{{P::kOne[0], P::kOne[1], P::kOne[2], P::kOne[3]}};
}

// x must be < m.
template <class P>
inline Mont<P> ToMont(const U256& x) {
  Mont<P> a{{x.v[0], x.v[1], x.v[2], x.v[3]}};
  Mont<P> r2{{P::kR2[0], P::kR2[1], P::kR2[2], P::kR2[3]}};
  return Mul(a, r2);
}

template <class P>
inline U256 FromMont(const Mont<P>& a) {
  Mont<P> one{{1, 0, 0, 0}};
  Mont<P> r = Mul(a, one);
  return U256{{r.v[0], r.v[1], r.v[2], r.v[3]}};
}

// Reduces an arbitrary 256-bit value modulo m (m > 2^251 so x < 32m: a short subtract loop).
template <class P>
inline U256 ReduceOnce(U256 x) {
  const U256 m = ModulusOf(P::kMod);
  while (!Less(x, m)) {
    u128 b = 0;
    for (int i = 0; i < 4; ++i) {
      u128 d = (u128)x.v[i] - m.v[i] - (u64)b;
      x.v[i] = (u64)d;
      b = (d >> 64) & 1;
    }
  }
  return x;
}

// Out-of-line field routines (stark_field.cpp).
Fp FpInv(const Fp& a);              // a^(p-2); a == 0 gives 0
// Variable-time (safegcd) inverse, ~5x faster than FpInv: only for public values.
Fp FpInvVar(const Fp& a);  // a == 0 gives 0
bool FpSqrt(const Fp& a, Fp* out);  // false if a is not a square
bool FpIsSquare(const Fp& a);
Fn FnInv(const Fn& a);  // a^(n-2); a == 0 gives 0

}  // namespace perpgw::adapters::paradex::stark
