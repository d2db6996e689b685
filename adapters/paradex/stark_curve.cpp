// Internal: Stark curve group law, fixed-base comb tables and the Pedersen hash.
#include "adapters/paradex/stark_curve.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace perpgw::adapters::paradex::stark {
namespace {

// Public curve constants (StarkWare stark-curve spec; decimal forms in @scure/starknet).
constexpr U256 kBeta{
    {0xf4cdfcb99cee9e89ULL, 0x609ad26c15c915c1ULL, 0x150e596d72f7a8c5ULL, 0x06f21413efbe40deULL}};
constexpr U256 kGx{
    {0x3d723d8bc943cfcaULL, 0xdeacfd9b0d1819e0ULL, 0x7beced415a40f0c7ULL, 0x01ef15c18599971bULL}};
constexpr U256 kGy{
    {0x2873000c36e8dc1fULL, 0xde53ecd11abe43a3ULL, 0xb7be4801df46ec62ULL, 0x005668060aa49730ULL}};
// Pedersen shift point and P0..P3 (nothing-up-my-sleeve points from the digits of pi).
constexpr U256 kShiftX{
    {0x551fde4050ca6804ULL, 0x716b0b1022947733ULL, 0x00ee1b87eb599f16ULL, 0x049ee3eba8c16007ULL}};
constexpr U256 kShiftY{
    {0xd0405d266e10268aULL, 0x4e621062c0e056c1ULL, 0xf346d49d06ea0ed3ULL, 0x03ca0cfe4b3bc6ddULL}};
constexpr U256 kP0X{
    {0x1080d17957ebe47bULL, 0x8fa8120b6d56eb0cULL, 0x969c748655fca9e5ULL, 0x0234287dcbaffe7fULL}};
constexpr U256 kP0Y{
    {0x6ed0268ee89e5615ULL, 0x940135dd7a6c94ccULL, 0x1e889527d41f4e39ULL, 0x03b056f100f96fb2ULL}};
constexpr U256 kP1X{
    {0xb7a6932dba8aa378ULL, 0x99099ec1de5e3018ULL, 0x3f9dab2656558f33ULL, 0x04fa56f376c83db3ULL}};
constexpr U256 kP1Y{
    {0x5168f4e80ff5b54dULL, 0x562761f92a7a23b4ULL, 0x8113e0c0e47e4401ULL, 0x03fa0984c931c9e3ULL}};
constexpr U256 kP2X{
    {0x3aa372f0bd2d6997ULL, 0x40c690c74709e90fULL, 0x764910f75b45f74bULL, 0x04ba4cc166be8decULL}};
constexpr U256 kP2Y{
    {0x48151f27b24b219cULL, 0xcac5c59a5ce5ae7cULL, 0x4b971e46c4ede85fULL, 0x0040301cf5c1751fULL}};
constexpr U256 kP3X{
    {0xd36ff12c49a58202ULL, 0x2ca65048d53fb325ULL, 0x6e44cca8f61a63bbULL, 0x054302dcb0e6cc1cULL}};
constexpr U256 kP3Y{
    {0x879dcc77e99c2426ULL, 0xce98ad783c25561aULL, 0xb348046268d8ae25ULL, 0x01b77b3e37d13504ULL}};

Affine MakeAffine(const U256& x, const U256& y) {
  return Affine{ToMont<FpParams>(x), ToMont<FpParams>(y)};
}

inline unsigned ByteAt(const U256& k, int i) { return (k.v[i >> 3] >> (8 * (i & 7))) & 0xff; }

// Montgomery's trick: one inversion for the whole batch. No input may be at infinity.
void BatchToAffine(const std::vector<Jacobian>& in, Affine* out) {
  size_t n = in.size();
  std::vector<Fp> prefix(n);
  Fp acc = One<FpParams>();
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = acc;
    acc = Mul(acc, in[i].z);
  }
  Fp inv = FpInvVar(acc);  // table points are public
  for (size_t i = n; i-- > 0;) {
    Fp zi = Mul(inv, prefix[i]);
    inv = Mul(inv, in[i].z);
    Fp zi2 = Sqr(zi);
    out[i].x = Mul(in[i].x, zi2);
    out[i].y = Mul(in[i].y, Mul(zi2, zi));
  }
}

// Bits [pos, pos + len) of k (len <= 16); zero past bit 255.
inline unsigned BitsAt(const U256& k, int pos, int len) {
  if (pos >= 256) return 0;
  int limb = pos >> 6, off = pos & 63;
  u64 v = k.v[limb] >> off;
  if (off + len > 64 && limb < 3) v |= k.v[limb + 1] << (64 - off);
  return unsigned(v & ((u64(1) << len) - 1));
}

// Fixed-base comb with signed digits: the scalar is cut into `width`-bit windows recoded to
// digits in [-2^(width-1), 2^(width-1)], so each window costs at most one mixed addition and
// the table only holds d * 2^(width*i) * base for d in [1, 2^(width-1)] (negation is free).
class CombTable {
 public:
  static constexpr int kMaxWindows = 72;  // windows_ <= (256 + 4) / 4 = 65 for every table here

  CombTable(const Affine& base, int bits, int width)
      : bits_(bits),
        width_(width),
        half_(1u << (width - 1)),
        windows_((bits + width) / width),  // ceil((bits + 1) / width): room for the last carry
        points_(size_t(windows_) * half_) {
    Affine b = base;
    std::vector<Jacobian> jac(half_);
    for (int w = 0; w < windows_; ++w) {
      jac[0] = FromAffine(b);
      for (unsigned d = 1; d < half_; ++d) jac[d] = AddMixed(jac[d - 1], b);
      BatchToAffine(jac, &points_[size_t(w) * half_]);
      ToAffine(Double(jac[half_ - 1]), &b);  // 2^width * b
    }
  }

  // acc + k * base, using only the low bits_ bits of k.
  Jacobian Accumulate(Jacobian acc, const U256& k) const {
    // Recode first and prefetch every table entry, so the (L2/L3) loads overlap the additions.
    const Affine* pts[kMaxWindows];
    bool negs[kMaxWindows];
    int count = 0;
    unsigned carry = 0;
    const unsigned full = 1u << width_;
    for (int w = 0; w < windows_; ++w) {
      int pos = w * width_;
      int len = std::min(width_, bits_ - pos);
      unsigned raw = (len > 0 ? BitsAt(k, pos, len) : 0) + carry;
      unsigned idx;
      bool neg = raw > half_;
      if (neg) {
        carry = 1;
        idx = full - raw;  // digit = raw - 2^width < 0
      } else {
        carry = 0;
        idx = raw;
      }
      if (idx == 0) continue;
      const Affine* p = &points_[size_t(w) * half_ + idx - 1];
      __builtin_prefetch(p);
      __builtin_prefetch(reinterpret_cast<const char*>(p) + sizeof(Affine) - 1);
      pts[count] = p;
      negs[count] = neg;
      ++count;
    }
    for (int i = 0; i < count; ++i) {
      acc = AddMixed(acc, negs[i] ? NegateAffine(*pts[i]) : *pts[i]);
    }
    return acc;
  }

 private:
  int bits_;
  int width_;
  unsigned half_;
  int windows_;
  std::vector<Affine> points_;
};

// Window widths: 8 bits for G (32 windows, 256 KB; scalars < n < 2^252); 12 bits for the two
// 248-bit Pedersen bases (21 windows of 2048 points, 2.6 MiB each), because every hash-chain
// link multiplies a full-width felt. With the prefetch in Accumulate, 12 bits beat 10 by ~6%
// per order sign (10 bits used to win on cache misses); 10 bits for G gained only ~1.5 us.
constexpr int kGeneratorWidth = 8;
constexpr int kPedersenWidth = 12;

struct Tables {
  Affine g;
  Affine shift;
  CombTable g_comb;
  CombTable p0, p1, p2, p3;
  Tables()
      : g(MakeAffine(kGx, kGy)),
        shift(MakeAffine(kShiftX, kShiftY)),
        g_comb(g, 252, kGeneratorWidth),
        p0(MakeAffine(kP0X, kP0Y), 248, kPedersenWidth),
        p1(MakeAffine(kP1X, kP1Y), 4, 5),
        p2(MakeAffine(kP2X, kP2Y), 248, kPedersenWidth),
        p3(MakeAffine(kP3X, kP3Y), 4, 5) {}
};

const Tables& GetTables() {
  // Built once (thread-safe static init, ~5.8 MB, ~55 ms); never freed.
  static const Tables* tables = new Tables();
  return *tables;
}

}  // namespace

Jacobian Double(const Jacobian& p) {
  // dbl-2007-bl with a = 1.
  Fp xx = Sqr(p.x), yy = Sqr(p.y), yyyy = Sqr(yy), zz = Sqr(p.z);
  Fp s = Dbl(Sub(Sub(Sqr(Add(p.x, yy)), xx), yyyy));
  Fp m = Add(Add(Dbl(xx), xx), Sqr(zz));
  Fp t = Sub(Sqr(m), Dbl(s));
  Jacobian r;
  r.x = t;
  Fp y8 = Dbl(Dbl(Dbl(yyyy)));
  r.y = Sub(Mul(m, Sub(s, t)), y8);
  r.z = Sub(Sub(Sqr(Add(p.y, p.z)), yy), zz);
  return r;
}

Jacobian AddMixed(const Jacobian& p, const Affine& q) {
  // madd-2004-hmv (8M + 3S): one multiplication more than madd-2007-bl but four fewer field
  // additions, which cost about half a multiplication each here.
  if (IsInfinity(p)) return FromAffine(q);
  Fp z1z1 = Sqr(p.z);
  Fp u2 = Mul(q.x, z1z1);
  Fp s2 = Mul(q.y, Mul(p.z, z1z1));
  Fp h = Sub(u2, p.x);
  Fp r = Sub(s2, p.y);
  if (IsZero(h)) {
    if (IsZero(r)) return Double(p);
    return Jacobian{};
  }
  Fp hh = Sqr(h);
  Fp hhh = Mul(h, hh);
  Fp v = Mul(p.x, hh);
  Jacobian out;
  out.x = Sub(Sub(Sqr(r), hhh), Dbl(v));
  out.y = Sub(Mul(r, Sub(v, out.x)), Mul(p.y, hhh));
  out.z = Mul(p.z, h);
  return out;
}

Jacobian Add(const Jacobian& p, const Jacobian& q) {
  // add-2007-bl.
  if (IsInfinity(p)) return q;
  if (IsInfinity(q)) return p;
  Fp z1z1 = Sqr(p.z), z2z2 = Sqr(q.z);
  Fp u1 = Mul(p.x, z2z2), u2 = Mul(q.x, z1z1);
  Fp s1 = Mul(p.y, Mul(q.z, z2z2)), s2 = Mul(q.y, Mul(p.z, z1z1));
  Fp h = Sub(u2, u1);
  Fp rr = Sub(s2, s1);
  if (IsZero(h)) {
    if (IsZero(rr)) return Double(p);
    return Jacobian{};
  }
  Fp i = Sqr(Dbl(h));
  Fp j = Mul(h, i);
  Fp r = Dbl(rr);
  Fp v = Mul(u1, i);
  Jacobian out;
  out.x = Sub(Sub(Sqr(r), j), Dbl(v));
  out.y = Sub(Mul(r, Sub(v, out.x)), Dbl(Mul(s1, j)));
  out.z = Mul(Sub(Sub(Sqr(Add(p.z, q.z)), z1z1), z2z2), h);
  return out;
}

bool ToAffine(const Jacobian& p, Affine* out) {
  if (IsInfinity(p)) return false;
  Fp zi = FpInv(p.z);
  Fp zi2 = Sqr(zi);
  out->x = Mul(p.x, zi2);
  out->y = Mul(p.y, Mul(zi2, zi));
  return true;
}

const Affine& Generator() { return GetTables().g; }

Fp CurveRhs(const Fp& x) {
  static const Fp beta = ToMont<FpParams>(kBeta);
  return Add(Mul(Add(Sqr(x), One<FpParams>()), x), beta);
}

Jacobian MulGenerator(const U256& k) { return GetTables().g_comb.Accumulate(Jacobian{}, k); }

Jacobian MulPoint(const Affine& q, const U256& k) {
  Jacobian tbl[16];
  tbl[1] = FromAffine(q);
  for (int i = 2; i < 16; ++i) tbl[i] = AddMixed(tbl[i - 1], q);
  Jacobian acc{};
  for (int i = 63; i >= 0; --i) {
    if (!IsInfinity(acc)) {
      for (int j = 0; j < 4; ++j) acc = Double(acc);
    }
    unsigned nib = (k.v[i / 16] >> (4 * (i % 16))) & 15;
    if (nib != 0) acc = Add(acc, tbl[nib]);
  }
  return acc;
}

U256 Pedersen(const U256& a, const U256& b) {
  const Tables& t = GetTables();
  // Callers pass felts (< p < 2^252); anything wider would index past the 4-bit tables.
  if (ByteAt(a, 31) > 15 || ByteAt(b, 31) > 15) return U256{};
  // Low 248 bits through the big tables, the high nibble (byte 31) through the small ones.
  U256 a_low = a, b_low = b;
  a_low.v[3] &= 0x00ffffffffffffffULL;
  b_low.v[3] &= 0x00ffffffffffffffULL;
  U256 a_high{{ByteAt(a, 31), 0, 0, 0}}, b_high{{ByteAt(b, 31), 0, 0, 0}};
  Jacobian acc = FromAffine(t.shift);
  acc = t.p0.Accumulate(acc, a_low);
  acc = t.p1.Accumulate(acc, a_high);
  acc = t.p2.Accumulate(acc, b_low);
  acc = t.p3.Accumulate(acc, b_high);
  if (IsInfinity(acc)) return U256{};  // unreachable for inputs < p by construction
  // Variable time is fine: the table lookups above already depend on the (public) inputs.
  Fp zi = FpInvVar(acc.z);
  return FromMont(Mul(acc.x, Sqr(zi)));
}

void WarmUpTables() { (void)GetTables(); }

}  // namespace perpgw::adapters::paradex::stark
