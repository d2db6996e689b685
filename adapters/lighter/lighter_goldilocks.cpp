// Goldilocks Fp / Fp5 arithmetic for the Lighter signer (see lighter_goldilocks.h).
#include "adapters/lighter/lighter_goldilocks.h"

namespace perpgw::adapters::lighter::internal {
namespace {

using U128 = unsigned __int128;

// Sum of up to 5 128-bit products plus the count of 2^128 overflows (lazy reduction).
struct Acc {
  U128 lo = 0;
  uint64_t top = 0;
  inline void MulAdd(uint64_t a, uint64_t b) {
    top += __builtin_add_overflow(lo, static_cast<U128>(a) * b, &lo);
  }
  // lo + top*2^128 with 2^128 = -2^32 (mod p); top <= 4.
  inline Fp Reduce() const { return FpSub(FpReduce128(lo), Fp{top << 32}); }
};

inline Fp Times2(Fp a) {
  return FpAdd(a, a);
}
inline Fp Times3(Fp a) {
  return FpAdd(FpAdd(a, a), a);
}

constexpr uint64_t kFp5W = 3;  // z^5 = 3
// omega = 3^((p-1)/5), a primitive 5th root of unity; z^p = omega * z.
constexpr Fp kOmega = FpPow(Fp{kFp5W}, (kP - 1) / 5);
static_assert(kOmega.v == 1041288259238279555ULL, "Fp5 Frobenius constant");

struct FrobTable {
  Fp w[5][5];  // w[k][i] = omega^(i*k)
};
constexpr FrobTable MakeFrobTable() {
  FrobTable t{};
  for (int k = 0; k < 5; ++k) {
    Fp ok = FpPow(kOmega, static_cast<uint64_t>(k));
    Fp acc = Fp::One();
    for (int i = 0; i < 5; ++i) {
      t.w[k][i] = acc;
      acc = FpMul(acc, ok);
    }
  }
  return t;
}
constexpr FrobTable kFrob = MakeFrobTable();

// 2^32-th primitive root of unity: 7^(2^32 - 1) (7 generates Fp*).
constexpr Fp kRootOfUnity32 = FpPow(Fp{7}, 0xFFFFFFFFULL);

Fp Fp5Norm0(const Fp5& a, const Fp5& f) {
  // Component 0 of a*f, used when the product is known to lie in Fp.
  Acc acc;
  acc.MulAdd(a.c[0].v, f.c[0].v);
  acc.MulAdd(a.c[1].v, Times3(f.c[4]).v);
  acc.MulAdd(a.c[2].v, Times3(f.c[3]).v);
  acc.MulAdd(a.c[3].v, Times3(f.c[2]).v);
  acc.MulAdd(a.c[4].v, Times3(f.c[1]).v);
  return acc.Reduce();
}

}  // namespace

Fp FpLegendre(Fp a) {
  return FpPow(a, (kP - 1) / 2);
}

std::optional<Fp> FpSqrt(Fp a) {
  if (a.IsZero()) return Fp::Zero();
  if (FpLegendre(a).v != 1) return std::nullopt;
  // Tonelli-Shanks with p - 1 = 2^32 * q.
  constexpr uint64_t kQ = 0xFFFFFFFFULL;
  int m = 32;
  Fp c = kRootOfUnity32;
  Fp t = FpPow(a, kQ);
  Fp r = FpPow(a, (kQ + 1) / 2);
  while (t.v != 1) {
    int i = 0;
    Fp t2 = t;
    while (t2.v != 1) {
      t2 = FpSquare(t2);
      ++i;
      if (i >= m) return std::nullopt;  // cannot happen for a residue
    }
    Fp b = c;
    for (int j = 0; j < m - i - 1; ++j) b = FpSquare(b);
    m = i;
    c = FpSquare(b);
    t = FpMul(t, c);
    r = FpMul(r, b);
  }
  return r;
}

// Each coefficient is accumulated and reduced on its own to keep register pressure low.
Fp5 Fp5Mul(const Fp5& a, const Fp5& b) {
  const uint64_t a0 = a.c[0].v, a1 = a.c[1].v, a2 = a.c[2].v, a3 = a.c[3].v, a4 = a.c[4].v;
  const uint64_t b0 = b.c[0].v, b1 = b.c[1].v, b2 = b.c[2].v, b3 = b.c[3].v, b4 = b.c[4].v;
  // z^5 = 3: the wrapped-around terms use 3*b_j.
  const uint64_t t1 = Times3(b.c[1]).v, t2 = Times3(b.c[2]).v, t3 = Times3(b.c[3]).v,
                 t4 = Times3(b.c[4]).v;
  Fp5 r;
  {
    Acc c;
    c.MulAdd(a0, b0);
    c.MulAdd(a1, t4);
    c.MulAdd(a2, t3);
    c.MulAdd(a3, t2);
    c.MulAdd(a4, t1);
    r.c[0] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(a0, b1);
    c.MulAdd(a1, b0);
    c.MulAdd(a2, t4);
    c.MulAdd(a3, t3);
    c.MulAdd(a4, t2);
    r.c[1] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(a0, b2);
    c.MulAdd(a1, b1);
    c.MulAdd(a2, b0);
    c.MulAdd(a3, t4);
    c.MulAdd(a4, t3);
    r.c[2] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(a0, b3);
    c.MulAdd(a1, b2);
    c.MulAdd(a2, b1);
    c.MulAdd(a3, b0);
    c.MulAdd(a4, t4);
    r.c[3] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(a0, b4);
    c.MulAdd(a1, b3);
    c.MulAdd(a2, b2);
    c.MulAdd(a3, b1);
    c.MulAdd(a4, b0);
    r.c[4] = c.Reduce();
  }
  return r;
}

Fp5 Fp5Square(const Fp5& a) {
  const uint64_t a0 = a.c[0].v, a1 = a.c[1].v, a2 = a.c[2].v, a3 = a.c[3].v, a4 = a.c[4].v;
  const Fp a3x3 = Times3(a.c[3]), a4x3 = Times3(a.c[4]);
  const uint64_t d0 = Times2(a.c[0]).v, d1 = Times2(a.c[1]).v;
  const uint64_t a3t = a3x3.v, a4t = a4x3.v, a3s = Times2(a3x3).v, a4s = Times2(a4x3).v;
  Fp5 r;
  {
    Acc c;
    c.MulAdd(a0, a0);
    c.MulAdd(a1, a4s);
    c.MulAdd(a2, a3s);
    r.c[0] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(d0, a1);
    c.MulAdd(a2, a4s);
    c.MulAdd(a3, a3t);
    r.c[1] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(d0, a2);
    c.MulAdd(a1, a1);
    c.MulAdd(a3, a4s);
    r.c[2] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(d0, a3);
    c.MulAdd(d1, a2);
    c.MulAdd(a4, a4t);
    r.c[3] = c.Reduce();
  }
  {
    Acc c;
    c.MulAdd(d0, a4);
    c.MulAdd(d1, a3);
    c.MulAdd(a2, a2);
    r.c[4] = c.Reduce();
  }
  return r;
}

Fp5 Fp5Frobenius(const Fp5& a, int count) {
  const int k = ((count % 5) + 5) % 5;
  Fp5 r;
  for (int i = 0; i < 5; ++i) r.c[i] = FpMul(a.c[i], kFrob.w[k][i]);
  return r;
}

Fp5 Fp5InverseOrZero(const Fp5& a) {
  // a^-1 = f / N(a) with f = a^(p + p^2 + p^3 + p^4) and N(a) = a*f in Fp.
  const Fp5 d = Fp5Frobenius(a, 1);
  const Fp5 e = Fp5Mul(d, Fp5Frobenius(d, 1));
  const Fp5 f = Fp5Mul(e, Fp5Frobenius(e, 2));
  const Fp g = Fp5Norm0(a, f);
  return Fp5MulFp(f, FpInverseOrZero(g));
}

Fp Fp5Legendre(const Fp5& a) {
  const Fp5 f1 = Fp5Frobenius(a, 1);
  const Fp5 f2 = Fp5Frobenius(f1, 1);
  const Fp5 f12 = Fp5Mul(f1, f2);
  const Fp5 f34 = Fp5Frobenius(f12, 2);
  return FpLegendre(Fp5Norm0(a, Fp5Mul(f12, f34)));
}

std::optional<Fp5> Fp5Sqrt(const Fp5& x) {
  // Pornin's method: d = x^((p+1)/2), e = (d * d^(p^2))^p, then x*e^2 lies in Fp and
  // sqrt(x) = sqrt(x*e^2) / e.
  Fp5 v = x;
  for (int i = 0; i < 31; ++i) v = Fp5Square(v);
  Fp5 v32 = v;
  for (int i = 0; i < 32; ++i) v32 = Fp5Square(v32);
  const Fp5 d = Fp5Mul(Fp5Mul(x, v32), Fp5InverseOrZero(v));
  const Fp5 e = Fp5Frobenius(Fp5Mul(d, Fp5Frobenius(d, 2)), 1);
  const Fp g = Fp5Norm0(x, Fp5Square(e));
  std::optional<Fp> s = FpSqrt(g);
  if (!s) return std::nullopt;
  Fp5 r = Fp5MulFp(Fp5InverseOrZero(e), *s);
  if (!(Fp5Square(r) == x)) return std::nullopt;
  return r;
}

std::array<uint8_t, 40> Fp5ToBytes(const Fp5& a) {
  std::array<uint8_t, 40> out{};
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 8; ++j) out[i * 8 + j] = static_cast<uint8_t>(a.c[i].v >> (8 * j));
  }
  return out;
}

std::optional<Fp5> Fp5FromCanonicalBytes(const uint8_t* bytes40) {
  Fp5 r;
  for (int i = 0; i < 5; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v |= static_cast<uint64_t>(bytes40[i * 8 + j]) << (8 * j);
    if (v >= kP) return std::nullopt;
    r.c[i] = Fp{v};
  }
  return r;
}

}  // namespace perpgw::adapters::lighter::internal
