// Goldilocks field Fp (p = 2^64 - 2^32 + 1) and its quintic extension Fp5 = Fp[z]/(z^5 - 3),
// the arithmetic under Lighter's Poseidon2 hash and ECgFp5 curve. Internal to the signing lib.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace perpgw::adapters::lighter::internal {

inline constexpr uint64_t kP = 0xFFFFFFFF00000001ULL;
// 2^64 mod p; also the correction added when a 64-bit addition wraps.
inline constexpr uint64_t kEpsilon = 0xFFFFFFFFULL;

// Always canonical (v < p). Operations are branch-free so they are safe on secret data.
struct Fp {
  uint64_t v = 0;

  static constexpr Fp Zero() { return Fp{0}; }
  static constexpr Fp One() { return Fp{1}; }
  // Plain uint64 cast semantics (values >= p wrap), as Lighter's hash inputs do.
  static constexpr Fp FromU64(uint64_t x) { return Fp{x >= kP ? x - kP : x}; }

  constexpr bool IsZero() const { return v == 0; }
  friend constexpr bool operator==(Fp a, Fp b) { return a.v == b.v; }
};

constexpr Fp FpAdd(Fp a, Fp b) {
  // a + b < 2p; compute a + b - p without branches.
  uint64_t s = a.v + b.v;
  uint64_t carry = s < a.v;  // wrapped: true sum = s + 2^64 = s + eps (mod p)
  uint64_t t = s + (kEpsilon & (0 - carry));
  // With a, b < p, after adding eps on wrap the value is < p + eps, fix once more.
  uint64_t ge = (t >= kP);
  return Fp{t - (kP & (0 - ge))};
}

constexpr Fp FpSub(Fp a, Fp b) {
  uint64_t d = a.v - b.v;
  uint64_t borrow = a.v < b.v;
  return Fp{d + (kP & (0 - borrow))};
}

constexpr Fp FpNeg(Fp a) {
  return FpSub(Fp{0}, a);
}

// Reduces a 128-bit value: x = lo + 2^64*(hh*2^32 + hl), 2^64 = eps, 2^96 = -1 (mod p).
constexpr Fp FpReduce128(unsigned __int128 x) {
  uint64_t lo = static_cast<uint64_t>(x);
  uint64_t hi = static_cast<uint64_t>(x >> 64);
  uint64_t hh = hi >> 32;
  uint64_t hl = hi & kEpsilon;
  uint64_t t0 = lo - hh;
  uint64_t borrow = lo < hh;
  t0 -= kEpsilon & (0 - borrow);  // borrowed 2^64 = eps
  uint64_t t1 = hl * kEpsilon;    // < 2^64
  uint64_t r = t0 + t1;
  uint64_t carry = r < t0;
  r += kEpsilon & (0 - carry);
  uint64_t ge = (r >= kP);
  return Fp{r - (kP & (0 - ge))};
}

constexpr Fp FpMul(Fp a, Fp b) {
  return FpReduce128(static_cast<unsigned __int128>(a.v) * b.v);
}
constexpr Fp FpSquare(Fp a) {
  return FpMul(a, a);
}

// Fixed exponent, so run time does not depend on the base.
constexpr Fp FpPow(Fp base, uint64_t e) {
  Fp r = Fp::One();
  for (int i = 63; i >= 0; --i) {
    r = FpSquare(r);
    Fp m = FpMul(r, base);
    uint64_t bit = (e >> i) & 1;
    r.v = (m.v & (0 - bit)) | (r.v & (bit - 1));
  }
  return r;
}

// a^(p-2); zero maps to zero.
constexpr Fp FpInverseOrZero(Fp a) {
  return FpPow(a, kP - 2);
}

// Euler criterion result: 1, p-1, or 0.
Fp FpLegendre(Fp a);
// Square root (Tonelli-Shanks, variable time: only used on public data).
std::optional<Fp> FpSqrt(Fp a);

// ---- Fp5 ----

struct Fp5 {
  std::array<Fp, 5> c{};

  static constexpr Fp5 Zero() { return Fp5{}; }
  static constexpr Fp5 One() { return Fp5{{Fp{1}, Fp{0}, Fp{0}, Fp{0}, Fp{0}}}; }
  static constexpr Fp5 FromU64(uint64_t x) {
    return Fp5{{Fp::FromU64(x), Fp{0}, Fp{0}, Fp{0}, Fp{0}}};
  }
  bool IsZero() const { return (c[0].v | c[1].v | c[2].v | c[3].v | c[4].v) == 0; }
  friend bool operator==(const Fp5& a, const Fp5& b) {
    return ((a.c[0].v ^ b.c[0].v) | (a.c[1].v ^ b.c[1].v) | (a.c[2].v ^ b.c[2].v) |
            (a.c[3].v ^ b.c[3].v) | (a.c[4].v ^ b.c[4].v)) == 0;
  }
};

inline Fp5 Fp5Add(const Fp5& a, const Fp5& b) {
  Fp5 r;
  for (int i = 0; i < 5; ++i) r.c[i] = FpAdd(a.c[i], b.c[i]);
  return r;
}
inline Fp5 Fp5Sub(const Fp5& a, const Fp5& b) {
  Fp5 r;
  for (int i = 0; i < 5; ++i) r.c[i] = FpSub(a.c[i], b.c[i]);
  return r;
}
inline Fp5 Fp5Neg(const Fp5& a) {
  return Fp5Sub(Fp5{}, a);
}
inline Fp5 Fp5Double(const Fp5& a) {
  return Fp5Add(a, a);
}
inline Fp5 Fp5MulFp(const Fp5& a, Fp s) {
  Fp5 r;
  for (int i = 0; i < 5; ++i) r.c[i] = FpMul(a.c[i], s);
  return r;
}
// Multiplies by a small constant (< 2^32) with one reduction per limb.
inline Fp5 Fp5MulSmall(const Fp5& a, uint64_t k) {
  Fp5 r;
  for (int i = 0; i < 5; ++i) r.c[i] = FpReduce128(static_cast<unsigned __int128>(a.c[i].v) * k);
  return r;
}

Fp5 Fp5Mul(const Fp5& a, const Fp5& b);
Fp5 Fp5Square(const Fp5& a);
// x^(p^count): limb i times omega^(i*count), omega = 3^((p-1)/5).
Fp5 Fp5Frobenius(const Fp5& a, int count);
Fp5 Fp5InverseOrZero(const Fp5& a);
// Legendre symbol of a in Fp5 (via the norm): 1, p-1 or 0.
Fp Fp5Legendre(const Fp5& a);
// Some square root (sign unspecified: the curve decoder does not depend on it).
std::optional<Fp5> Fp5Sqrt(const Fp5& a);

// 40-byte little-endian canonical encoding.
std::array<uint8_t, 40> Fp5ToBytes(const Fp5& a);
// Rejects limbs >= p (non-canonical).
std::optional<Fp5> Fp5FromCanonicalBytes(const uint8_t* bytes40);

}  // namespace perpgw::adapters::lighter::internal
