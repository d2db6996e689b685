// ECgFp5 (T. Pornin): the prime-order group over Fp5 used by Lighter's Schnorr signatures,
// plus scalars mod its order n. Internal to the signing lib.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "adapters/lighter/lighter_goldilocks.h"

namespace perpgw::adapters::lighter::internal {

// ---- Scalars mod n (n ~ 2^319, prime) ----

// Five 64-bit little-endian limbs, always < n unless stated otherwise.
struct Scalar {
  std::array<uint64_t, 5> l{};
};

// 40 bytes little-endian; nullopt if the value is >= n.
std::optional<Scalar> ScalarFromCanonicalBytes(const uint8_t* bytes40);
// Any 320-bit value (limbs little-endian) reduced mod n.
Scalar ScalarReduce320(const std::array<uint64_t, 5>& limbs);
// The 5 canonical limbs of an Fp5 element as a 320-bit integer, reduced mod n.
Scalar ScalarFromFp5(const Fp5& e);
std::array<uint8_t, 40> ScalarToBytes(const Scalar& s);
bool ScalarIsZero(const Scalar& s);
bool ScalarEqual(const Scalar& a, const Scalar& b);
Scalar ScalarSub(const Scalar& a, const Scalar& b);
Scalar ScalarAdd(const Scalar& a, const Scalar& b);
Scalar ScalarMul(const Scalar& a, const Scalar& b);
// Constant-time overwrite of the limbs (secrets).
void ScalarWipe(Scalar& s);

// ---- Points ----

// Fractional (x, u) coordinates: x = X/Z, u = x/y = U/T; the neutral has u = 0.
struct Point {
  Fp5 x, z, u, t;
  static Point Neutral();
  static Point Generator();
};

struct AffinePoint {
  Fp5 x, u;
};

Point PointAdd(const Point& p, const Point& q);
Point PointAddAffine(const Point& p, const AffinePoint& q);
Point PointDouble(const Point& p);
// 2^n * p.
Point PointMDouble(const Point& p, int n);
bool PointIsNeutral(const Point& p);
// w = y/x = t/u (0 for the neutral).
Fp5 PointEncode(const Point& p);
// Inverse of PointEncode; nullopt if w is not the encoding of a group element.
std::optional<Point> PointDecode(const Fp5& w);

// k*G with the precomputed generator table; constant time in k.
Point MulGenerator(const Scalar& k);
// k*p, variable time (public inputs only).
Point MulVarTime(const Point& p, const Scalar& k);
// s*G + e*p, variable time (signature verification).
Point MulAddGeneratorVarTime(const Scalar& s, const Point& p, const Scalar& e);

// Affine multiples (1..16)*p for 5-bit signed windows.
std::vector<AffinePoint> MakeWindow(const Point& p);
// Fixed-base comb: entry [i*16 + j-1] = j * 2^(5i) * p for i < 64, j in 1..16 (80 KB).
std::vector<AffinePoint> MakeCombTable(const Point& p);

// Precomputed data for verifying many signatures under one public key.
struct VerifyTables {
  Point point;
  std::vector<AffinePoint> window;  // MakeWindow(point)
  std::vector<AffinePoint> comb;    // MakeCombTable(point), optional (empty if absent)
};
VerifyTables MakeVerifyTables(const Point& p, bool with_comb);
// s*G + e*P using the tables (comb when present: no doublings at all). Variable time.
Point MulAddGeneratorVarTime(const Scalar& s, const VerifyTables& tables, const Scalar& e);

}  // namespace perpgw::adapters::lighter::internal
