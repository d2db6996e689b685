// Internal: Stark curve points (y^2 = x^3 + x + beta over Fp), fixed-base comb tables for G and
// the Pedersen points, variable-base multiplication and the Pedersen hash core.
#pragma once

#include "adapters/paradex/stark_field.h"

namespace perpgw::adapters::paradex::stark {

struct Affine {
  Fp x, y;
};

// Jacobian (X/Z^2, Y/Z^3); Z == 0 is the point at infinity.
struct Jacobian {
  Fp x, y, z;
};

inline bool IsInfinity(const Jacobian& p) { return IsZero(p.z); }
inline Jacobian FromAffine(const Affine& a) { return Jacobian{a.x, a.y, One<FpParams>()}; }

Jacobian Double(const Jacobian& p);
Jacobian AddMixed(const Jacobian& p, const Affine& q);
Jacobian Add(const Jacobian& p, const Jacobian& q);
inline Affine NegateAffine(const Affine& a) { return Affine{a.x, Neg(a.y)}; }
// false for the point at infinity.
bool ToAffine(const Jacobian& p, Affine* out);

const Affine& Generator();
Fp CurveRhs(const Fp& x);  // x^3 + x + beta

// k * G for any 256-bit k (fixed-base comb, 8-bit windows, tables built once on first use).
Jacobian MulGenerator(const U256& k);
// k * q for a variable point (4-bit fixed window).
Jacobian MulPoint(const Affine& q, const U256& k);

// StarkWare Pedersen hash: x(S + a_low*P0 + a_high*P1 + b_low*P2 + b_high*P3), a, b < p.
U256 Pedersen(const U256& a, const U256& b);

// Forces the lazily built tables (for benchmarks that want to exclude first-use cost).
void WarmUpTables();

}  // namespace perpgw::adapters::paradex::stark
