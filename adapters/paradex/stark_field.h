// Internal: 4x64-bit Montgomery arithmetic for the Stark field Fp and the curve order Fn.
// Included only by the paradex signing .cpp files (hot inline code, not a public header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

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

// Full 512-bit product, product scanning with a three-word accumulator.
__attribute__((always_inline)) inline void Mul512(const u64 a[4], const u64 b[4], u64 t[8]) {
  u64 c0 = 0, c1 = 0, c2 = 0;
  auto mac = [&](u64 x, u64 y) {
    u128 p = (u128)x * y;
    u128 s = (u128)c0 + (u64)p;
    c0 = (u64)s;
    s = (u128)c1 + (u64)(p >> 64) + (u64)(s >> 64);
    c1 = (u64)s;
    c2 += (u64)(s >> 64);
  };
  auto shift = [&](u64* out) {
    *out = c0;
    c0 = c1;
    c1 = c2;
    c2 = 0;
  };
  mac(a[0], b[0]);
  shift(&t[0]);
  mac(a[0], b[1]), mac(a[1], b[0]);
  shift(&t[1]);
  mac(a[0], b[2]), mac(a[1], b[1]), mac(a[2], b[0]);
  shift(&t[2]);
  mac(a[0], b[3]), mac(a[1], b[2]), mac(a[2], b[1]), mac(a[3], b[0]);
  shift(&t[3]);
  mac(a[1], b[3]), mac(a[2], b[2]), mac(a[3], b[1]);
  shift(&t[4]);
  mac(a[2], b[3]), mac(a[3], b[2]);
  shift(&t[5]);
  mac(a[3], b[3]);
  t[6] = c0;
  t[7] = c1;
}

// Full 512-bit square: off-diagonal products once, doubled.
__attribute__((always_inline)) inline void Sqr512(const u64 a[4], u64 t[8]) {
  u64 c0 = 0, c1 = 0, c2 = 0;
  auto mac = [&](u64 x, u64 y) {
    u128 p = (u128)x * y;
    u128 s = (u128)c0 + (u64)p;
    c0 = (u64)s;
    s = (u128)c1 + (u64)(p >> 64) + (u64)(s >> 64);
    c1 = (u64)s;
    c2 += (u64)(s >> 64);
  };
  auto mac2 = [&](u64 x, u64 y) {  // adds 2*x*y
    mac(x, y);
    mac(x, y);
  };
  auto shift = [&](u64* out) {
    *out = c0;
    c0 = c1;
    c1 = c2;
    c2 = 0;
  };
  mac(a[0], a[0]);
  shift(&t[0]);
  mac2(a[0], a[1]);
  shift(&t[1]);
  mac2(a[0], a[2]), mac(a[1], a[1]);
  shift(&t[2]);
  mac2(a[0], a[3]), mac2(a[1], a[2]);
  shift(&t[3]);
  mac2(a[1], a[3]), mac(a[2], a[2]);
  shift(&t[4]);
  mac2(a[2], a[3]);
  shift(&t[5]);
  mac(a[3], a[3]);
  t[6] = c0;
  t[7] = c1;
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
bool FpSqrt(const Fp& a, Fp* out);  // false if a is not a square
bool FpIsSquare(const Fp& a);
Fn FnInv(const Fn& a);  // a^(n-2); a == 0 gives 0

}  // namespace perpgw::adapters::paradex::stark
