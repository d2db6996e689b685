// ECgFp5 group law (formulas from Pornin's ecgfp5 paper), encoding, scalar multiplication and
// scalar arithmetic mod n for the Lighter signer. Curve constants (a = 2, b = 263*z, generator,
// group order n) are the public parameters of ECgFp5.
#include "adapters/lighter/lighter_ecgfp5.h"

#include <vector>

namespace perpgw::adapters::lighter::internal {
namespace {

using U128 = unsigned __int128;

// ---- scalar constants ----

constexpr std::array<uint64_t, 5> kN = {0xE80FD996948BFFE1ULL, 0xE8885C39D724A09CULL,
                                        0x7FFFFFE6CFB80639ULL, 0x7FFFFFF100000016ULL,
                                        0x7FFFFFFD80000007ULL};

constexpr uint64_t ComputeN0I() {
  // -1/n[0] mod 2^64 by Newton iteration.
  uint64_t inv = kN[0];
  for (int i = 0; i < 6; ++i) inv *= 2 - kN[0] * inv;
  return 0 - inv;
}
constexpr uint64_t kN0I = ComputeN0I();
static_assert(kN0I == 0xD78BEF72057B7BDFULL, "Montgomery constant");

// r - n if no borrow, else r (branch-free).
constexpr std::array<uint64_t, 5> CondSubN(const std::array<uint64_t, 5>& r) {
  std::array<uint64_t, 5> d{};
  uint64_t borrow = 0;
  for (int i = 0; i < 5; ++i) {
    U128 diff = static_cast<U128>(r[i]) - kN[i] - borrow;
    d[i] = static_cast<uint64_t>(diff);
    borrow = static_cast<uint64_t>(diff >> 64) & 1;
  }
  const uint64_t keep = 0 - borrow;  // all ones when r < n
  std::array<uint64_t, 5> out{};
  for (int i = 0; i < 5; ++i) out[i] = (r[i] & keep) | (d[i] & ~keep);
  return out;
}

constexpr std::array<uint64_t, 5> ComputeR2() {
  // 2^640 mod n by doubling 1 640 times (n < 2^319 so 2r never overflows 320 bits).
  std::array<uint64_t, 5> r = {1, 0, 0, 0, 0};
  for (int k = 0; k < 640; ++k) {
    uint64_t carry = 0;
    for (int i = 0; i < 5; ++i) {
      uint64_t nc = r[i] >> 63;
      r[i] = (r[i] << 1) | carry;
      carry = nc;
    }
    r = CondSubN(r);
  }
  return r;
}
constexpr std::array<uint64_t, 5> kR2 = ComputeR2();
static_assert(kR2[0] == 0xA01001DCE33DC739ULL && kR2[4] == 0x4ACA13B28CA251F5ULL, "R2");

// (a*b)/2^320 mod n; a < n, b < 2^320.
std::array<uint64_t, 5> MontyMul(const std::array<uint64_t, 5>& a,
                                 const std::array<uint64_t, 5>& b) {
  std::array<uint64_t, 5> r{};
  for (int i = 0; i < 5; ++i) {
    const uint64_t m = b[i];
    const uint64_t f = (a[0] * m + r[0]) * kN0I;
    uint64_t cc1 = 0, cc2 = 0;
    for (int j = 0; j < 5; ++j) {
      U128 z = static_cast<U128>(a[j]) * m + r[j] + cc1;
      cc1 = static_cast<uint64_t>(z >> 64);
      U128 z2 = static_cast<U128>(f) * kN[j] + static_cast<uint64_t>(z) + cc2;
      cc2 = static_cast<uint64_t>(z2 >> 64);
      if (j > 0) r[j - 1] = static_cast<uint64_t>(z2);
    }
    r[4] = cc1 + cc2;
  }
  return CondSubN(r);
}

// ---- curve constants ----

constexpr uint64_t kB1 = 263;  // b = 263*z
inline Fp5 MulB(const Fp5& a, uint64_t factor) {
  // a * (factor*263*z): multiply by z (shift, with z^5 = 3) then by the small constant.
  Fp5 shifted;
  shifted.c[0] = FpAdd(FpAdd(a.c[4], a.c[4]), a.c[4]);
  shifted.c[1] = a.c[0];
  shifted.c[2] = a.c[1];
  shifted.c[3] = a.c[2];
  shifted.c[4] = a.c[3];
  return Fp5MulSmall(shifted, factor * kB1);
}

constexpr Fp kInv2 = Fp{(kP + 1) / 2};

// ---- signed window recoding (w = 5, digits in [-15, 16]) ----

constexpr int kWindow = 5;
constexpr int kDigits = 64;  // 64 * 5 = 320 bits

void RecodeSigned5(const Scalar& s, int32_t digits[kDigits]) {
  uint32_t carry = 0;
  for (int i = 0; i < kDigits; ++i) {
    const int bit = i * kWindow;
    const int limb = bit >> 6;
    const int off = bit & 63;
    uint64_t bits = s.l[limb] >> off;
    if (off > 64 - kWindow && limb + 1 < 5) bits |= s.l[limb + 1] << (64 - off);
    const uint32_t v = static_cast<uint32_t>(bits & 31) + carry;  // 0..32
    carry = (16 - v) >> 31;                                       // 1 iff v > 16
    digits[i] = static_cast<int32_t>(v) - static_cast<int32_t>(carry << kWindow);
  }
}

// Converts points to affine with one inversion (Montgomery's trick). No input may be neutral
// unless its z*t is nonzero (always true in these coordinates).
std::vector<AffinePoint> BatchToAffine(const std::vector<Point>& src) {
  const size_t n = src.size();
  std::vector<AffinePoint> res(n);
  if (n == 0) return res;
  // prefix[i] = prod_{j<i} z_j t_j
  std::vector<Fp5> prefix(n);
  Fp5 m = Fp5::One();
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = m;
    m = Fp5Mul(m, Fp5Mul(src[i].z, src[i].t));
  }
  Fp5 inv = Fp5InverseOrZero(m);
  for (size_t i = n; i-- > 0;) {
    const Fp5 zt_inv = Fp5Mul(inv, prefix[i]);  // 1/(z_i t_i)
    inv = Fp5Mul(inv, Fp5Mul(src[i].z, src[i].t));
    res[i].x = Fp5Mul(Fp5Mul(src[i].x, src[i].t), zt_inv);
    res[i].u = Fp5Mul(Fp5Mul(src[i].u, src[i].z), zt_inv);
  }
  return res;
}

// Table of j*2^(5i)*G for i in [0, 64), j in [1, 16].
struct GeneratorTable {
  std::vector<AffinePoint> entries;  // [i * 16 + (j - 1)]
  GeneratorTable() : entries(MakeCombTable(Point::Generator())) {}
};

const GeneratorTable& GetGeneratorTable() {
  static const GeneratorTable* table = new GeneratorTable();
  return *table;
}

// Constant-time selection of |d|*entry (d in [-15, 16]); zero (neutral) for d = 0.
AffinePoint LookupCt(const AffinePoint* win, int32_t d) {
  const uint32_t sign = static_cast<uint32_t>(d) >> 31;
  const uint32_t mag = (static_cast<uint32_t>(d) ^ (0 - sign)) + sign;
  AffinePoint r{};
  for (uint32_t j = 0; j < 16; ++j) {
    const uint64_t mask = 0 - static_cast<uint64_t>(((mag ^ (j + 1)) - 1) >> 31 & 1);
    for (int k = 0; k < 5; ++k) {
      r.x.c[k].v |= win[j].x.c[k].v & mask;
      r.u.c[k].v |= win[j].u.c[k].v & mask;
    }
  }
  const Fp5 neg_u = Fp5Neg(r.u);
  const uint64_t smask = 0 - static_cast<uint64_t>(sign);
  for (int k = 0; k < 5; ++k) r.u.c[k].v = (r.u.c[k].v & ~smask) | (neg_u.c[k].v & smask);
  return r;
}

AffinePoint LookupVarTime(const AffinePoint* win, int32_t d) {
  if (d == 0) return AffinePoint{};
  if (d > 0) return win[d - 1];
  AffinePoint r = win[-d - 1];
  r.u = Fp5Neg(r.u);
  return r;
}

Point FromAffine(const AffinePoint& a) {
  return Point{a.x, Fp5::One(), a.u, Fp5::One()};
}

}  // namespace

// ---- scalars ----

std::optional<Scalar> ScalarFromCanonicalBytes(const uint8_t* bytes40) {
  Scalar s;
  for (int i = 0; i < 5; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v |= static_cast<uint64_t>(bytes40[i * 8 + j]) << (8 * j);
    s.l[i] = v;
  }
  // Branch-free range check (the value may be a secret key): s < n iff s - n borrows.
  uint64_t borrow = 0;
  for (int i = 0; i < 5; ++i) {
    const U128 diff = static_cast<U128>(s.l[i]) - kN[i] - borrow;
    borrow = static_cast<uint64_t>(diff >> 64) & 1;
  }
  if (borrow == 0) return std::nullopt;
  return s;
}

Scalar ScalarReduce320(const std::array<uint64_t, 5>& limbs) {
  // 2^320 < 3n, so two conditional subtractions reduce fully.
  return Scalar{CondSubN(CondSubN(limbs))};
}

Scalar ScalarFromFp5(const Fp5& e) {
  return ScalarReduce320({e.c[0].v, e.c[1].v, e.c[2].v, e.c[3].v, e.c[4].v});
}

std::array<uint8_t, 40> ScalarToBytes(const Scalar& s) {
  std::array<uint8_t, 40> out{};
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 8; ++j) out[i * 8 + j] = static_cast<uint8_t>(s.l[i] >> (8 * j));
  }
  return out;
}

bool ScalarIsZero(const Scalar& s) {
  return (s.l[0] | s.l[1] | s.l[2] | s.l[3] | s.l[4]) == 0;
}

bool ScalarEqual(const Scalar& a, const Scalar& b) {
  uint64_t d = 0;
  for (int i = 0; i < 5; ++i) d |= a.l[i] ^ b.l[i];
  return d == 0;
}

Scalar ScalarSub(const Scalar& a, const Scalar& b) {
  std::array<uint64_t, 5> r{};
  uint64_t borrow = 0;
  for (int i = 0; i < 5; ++i) {
    U128 diff = static_cast<U128>(a.l[i]) - b.l[i] - borrow;
    r[i] = static_cast<uint64_t>(diff);
    borrow = static_cast<uint64_t>(diff >> 64) & 1;
  }
  const uint64_t mask = 0 - borrow;  // add n back on borrow
  uint64_t carry = 0;
  for (int i = 0; i < 5; ++i) {
    U128 s = static_cast<U128>(r[i]) + (kN[i] & mask) + carry;
    r[i] = static_cast<uint64_t>(s);
    carry = static_cast<uint64_t>(s >> 64);
  }
  return Scalar{r};
}

Scalar ScalarAdd(const Scalar& a, const Scalar& b) {
  std::array<uint64_t, 5> r{};
  uint64_t carry = 0;
  for (int i = 0; i < 5; ++i) {
    U128 s = static_cast<U128>(a.l[i]) + b.l[i] + carry;
    r[i] = static_cast<uint64_t>(s);
    carry = static_cast<uint64_t>(s >> 64);
  }
  return Scalar{CondSubN(r)};  // a + b < 2n < 2^320
}

Scalar ScalarMul(const Scalar& a, const Scalar& b) {
  return Scalar{MontyMul(MontyMul(a.l, kR2), b.l)};
}

void ScalarWipe(Scalar& s) {
  volatile uint64_t* p = s.l.data();
  for (int i = 0; i < 5; ++i) p[i] = 0;
}

// ---- points ----

Point Point::Neutral() {
  return Point{Fp5::Zero(), Fp5::One(), Fp5::Zero(), Fp5::One()};
}

Point Point::Generator() {
  Fp5 x;
  x.c = {Fp{12883135586176881569ULL}, Fp{4356519642755055268ULL}, Fp{5248930565894896907ULL},
         Fp{2165973894480315022ULL}, Fp{2448410071095648785ULL}};
  return Point{x, Fp5::One(), Fp5::One(), Fp5::FromU64(4)};
}

Point PointAdd(const Point& p, const Point& q) {
  // Complete formulas, cost 10M.
  const Fp5 t1 = Fp5Mul(p.x, q.x);
  const Fp5 t2 = Fp5Mul(p.z, q.z);
  const Fp5 t3 = Fp5Mul(p.u, q.u);
  const Fp5 t4 = Fp5Mul(p.t, q.t);
  const Fp5 t5 = Fp5Sub(Fp5Mul(Fp5Add(p.x, p.z), Fp5Add(q.x, q.z)), Fp5Add(t1, t2));
  const Fp5 t6 = Fp5Sub(Fp5Mul(Fp5Add(p.u, p.t), Fp5Add(q.u, q.t)), Fp5Add(t3, t4));
  const Fp5 t7 = Fp5Add(t1, MulB(t2, 1));
  const Fp5 t8 = Fp5Mul(t4, t7);
  const Fp5 t9 = Fp5Mul(t3, Fp5Add(MulB(t5, 2), Fp5Double(t7)));
  const Fp5 t10 = Fp5Mul(Fp5Add(t4, Fp5Double(t3)), Fp5Add(t5, t7));
  Point r;
  r.x = MulB(Fp5Sub(t10, t8), 1);
  r.z = Fp5Sub(t8, t9);
  r.u = Fp5Mul(t6, Fp5Sub(MulB(t2, 1), t1));
  r.t = Fp5Add(t8, t9);
  return r;
}

Point PointAddAffine(const Point& p, const AffinePoint& q) {
  // Same formulas with z2 = t2 = 1, cost 8M.
  const Fp5 t1 = Fp5Mul(p.x, q.x);
  const Fp5& t2 = p.z;
  const Fp5 t3 = Fp5Mul(p.u, q.u);
  const Fp5& t4 = p.t;
  const Fp5 t5 = Fp5Add(p.x, Fp5Mul(q.x, p.z));
  const Fp5 t6 = Fp5Add(p.u, Fp5Mul(q.u, p.t));
  const Fp5 t7 = Fp5Add(t1, MulB(t2, 1));
  const Fp5 t8 = Fp5Mul(t4, t7);
  const Fp5 t9 = Fp5Mul(t3, Fp5Add(MulB(t5, 2), Fp5Double(t7)));
  const Fp5 t10 = Fp5Mul(Fp5Add(t4, Fp5Double(t3)), Fp5Add(t5, t7));
  Point r;
  r.x = MulB(Fp5Sub(t10, t8), 1);
  r.z = Fp5Sub(t8, t9);
  r.u = Fp5Mul(t6, Fp5Sub(MulB(t2, 1), t1));
  r.t = Fp5Add(t8, t9);
  return r;
}

Point PointDouble(const Point& p) {
  // Cost 4M + 5S.
  const Fp5 t1 = Fp5Mul(p.z, p.t);
  const Fp5 t2 = Fp5Mul(t1, p.t);
  const Fp5 x1 = Fp5Square(t2);
  const Fp5 z1 = Fp5Mul(t1, p.u);
  const Fp5 t3 = Fp5Square(p.u);
  const Fp5 w1 = Fp5Sub(t2, Fp5Mul(t3, Fp5Double(Fp5Add(p.x, p.z))));
  const Fp5 t4 = Fp5Square(z1);
  Point r;
  r.x = MulB(t4, 4);
  r.z = Fp5Square(w1);
  r.u = Fp5Sub(Fp5Square(Fp5Add(w1, z1)), Fp5Add(t4, r.z));
  r.t = Fp5Sub(Fp5Double(x1), Fp5Add(Fp5MulSmall(t4, 4), r.z));
  return r;
}

Point PointMDouble(const Point& p, int n) {
  if (n <= 0) return p;
  if (n == 1) return PointDouble(p);
  // Cost n*(2M + 5S) + 2M + 1S: intermediate doublings stay in (x, w, z) form.
  const Fp5 t1 = Fp5Mul(p.z, p.t);
  const Fp5 t2 = Fp5Mul(t1, p.t);
  const Fp5 x1 = Fp5Square(t2);
  const Fp5 z1 = Fp5Mul(t1, p.u);
  const Fp5 t3 = Fp5Square(p.u);
  const Fp5 w1 = Fp5Sub(t2, Fp5Mul(Fp5Double(Fp5Add(p.x, p.z)), t3));
  Fp5 t4 = Fp5Square(w1);
  Fp5 t5 = Fp5Square(z1);
  Fp5 x = MulB(Fp5Square(t5), 16);
  Fp5 w = Fp5Sub(Fp5Double(x1), Fp5Add(Fp5MulSmall(t5, 4), t4));
  Fp5 z = Fp5Sub(Fp5Square(Fp5Add(w1, z1)), Fp5Add(t4, t5));
  for (int i = 2; i < n; ++i) {
    const Fp5 s1 = Fp5Square(z);
    const Fp5 s2 = Fp5Square(s1);
    const Fp5 s3 = Fp5Square(w);
    const Fp5 s4 = Fp5Square(s3);
    const Fp5 s5 = Fp5Sub(Fp5Square(Fp5Add(w, z)), Fp5Add(s1, s3));
    z = Fp5Mul(s5, Fp5Sub(Fp5Double(Fp5Add(x, s1)), s3));
    x = MulB(Fp5Mul(s2, s4), 16);
    // w = -(s4 + s2*(4b - 4))
    w = Fp5Neg(Fp5Add(s4, Fp5Sub(MulB(s2, 4), Fp5MulSmall(s2, 4))));
  }
  const Fp5 s1 = Fp5Square(w);
  const Fp5 s2 = Fp5Square(z);
  const Fp5 s3 = Fp5Sub(Fp5Square(Fp5Add(w, z)), Fp5Add(s1, s2));
  const Fp5 w2 = Fp5Sub(s1, Fp5Double(Fp5Add(x, s2)));
  Point r;
  r.x = MulB(Fp5Square(s3), 1);
  r.z = Fp5Square(w2);
  r.u = Fp5Mul(s3, w2);
  r.t = Fp5Sub(Fp5Mul(Fp5Double(s1), Fp5Sub(s1, Fp5Double(s2))), r.z);
  return r;
}

bool PointIsNeutral(const Point& p) {
  return p.u.IsZero();
}

Fp5 PointEncode(const Point& p) {
  return Fp5Mul(p.t, Fp5InverseOrZero(p.u));
}

std::optional<Point> PointDecode(const Fp5& w) {
  // y^2 = x(x^2 + a x + b) with w = y/x gives x^2 - (w^2 - a) x + b = 0; of the two roots,
  // exactly one is a non-square, and that one is the group element's x.
  if (w.IsZero()) return Point::Neutral();
  const Fp5 e = Fp5Sub(Fp5Square(w), Fp5::FromU64(2));
  Fp5 b4;
  b4.c[1] = Fp{4 * kB1};
  const Fp5 delta = Fp5Sub(Fp5Square(e), b4);
  std::optional<Fp5> r = Fp5Sqrt(delta);
  if (!r) return std::nullopt;
  const Fp5 x1 = Fp5MulFp(Fp5Add(e, *r), kInv2);
  const Fp5 x2 = Fp5MulFp(Fp5Sub(e, *r), kInv2);
  const Fp5 x = Fp5Legendre(x1).v == 1 ? x2 : x1;
  return Point{x, Fp5::One(), Fp5::One(), w};
}

Point MulGenerator(const Scalar& k) {
  const GeneratorTable& table = GetGeneratorTable();
  int32_t digits[kDigits];
  RecodeSigned5(k, digits);
  Point acc = FromAffine(LookupCt(&table.entries[0], digits[0]));
  for (int i = 1; i < kDigits; ++i) {
    acc = PointAddAffine(acc, LookupCt(&table.entries[i * 16], digits[i]));
  }
  volatile int32_t* vd = digits;
  for (int i = 0; i < kDigits; ++i) vd[i] = 0;
  return acc;
}

namespace {

Point MulWindowVarTime(const std::vector<AffinePoint>& win, const Scalar& k) {
  int32_t digits[kDigits];
  RecodeSigned5(k, digits);
  Point acc = FromAffine(LookupVarTime(win.data(), digits[kDigits - 1]));
  for (int i = kDigits - 2; i >= 0; --i) {
    acc = PointMDouble(acc, kWindow);
    if (digits[i] != 0) acc = PointAddAffine(acc, LookupVarTime(win.data(), digits[i]));
  }
  return acc;
}

Point AddCombVarTime(Point acc, const std::vector<AffinePoint>& comb, const Scalar& k) {
  int32_t digits[kDigits];
  RecodeSigned5(k, digits);
  for (int i = 0; i < kDigits; ++i) {
    if (digits[i] != 0) acc = PointAddAffine(acc, LookupVarTime(&comb[i * 16], digits[i]));
  }
  return acc;
}

}  // namespace

std::vector<AffinePoint> MakeWindow(const Point& p) {
  std::vector<Point> tmp(16);
  tmp[0] = p;
  for (int i = 1; i < 16; ++i) {
    tmp[i] = (i & 1) == 0 ? PointAdd(tmp[i - 1], p) : PointDouble(tmp[i >> 1]);
  }
  return BatchToAffine(tmp);
}

std::vector<AffinePoint> MakeCombTable(const Point& p) {
  std::vector<Point> proj;
  proj.reserve(kDigits * 16);
  Point base = p;
  for (int i = 0; i < kDigits; ++i) {
    Point acc = base;
    for (int j = 1; j <= 16; ++j) {
      proj.push_back(acc);
      if (j < 16) acc = j == 1 ? PointDouble(base) : PointAdd(acc, base);
    }
    base = PointDouble(acc);  // 32 * base
  }
  return BatchToAffine(proj);
}

Point MulVarTime(const Point& p, const Scalar& k) {
  return MulWindowVarTime(MakeWindow(p), k);
}

Point MulAddGeneratorVarTime(const Scalar& s, const Point& p, const Scalar& e) {
  return AddCombVarTime(MulVarTime(p, e), GetGeneratorTable().entries, s);
}

VerifyTables MakeVerifyTables(const Point& p, bool with_comb) {
  VerifyTables t{p, MakeWindow(p), {}};
  if (with_comb) t.comb = MakeCombTable(p);
  return t;
}

Point MulAddGeneratorVarTime(const Scalar& s, const VerifyTables& tables, const Scalar& e) {
  Point acc = tables.comb.empty() ? MulWindowVarTime(tables.window, e)
                                  : AddCombVarTime(Point::Neutral(), tables.comb, e);
  return AddCombVarTime(acc, GetGeneratorTable().entries, s);
}

}  // namespace perpgw::adapters::lighter::internal
