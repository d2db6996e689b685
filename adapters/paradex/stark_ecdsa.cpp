// Internal: StarkWare ECDSA: RFC 6979 deterministic nonces over HMAC-SHA256, sign and verify.
#include "adapters/paradex/stark_ecdsa.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <vector>

namespace perpgw::adapters::paradex::stark {
namespace {

using Bytes32 = std::array<uint8_t, 32>;

const U256 kN = ModulusOf(FnParams::kMod);

void ToBytesBE(const U256& x, uint8_t out[32]) {
  for (int i = 0; i < 32; ++i) out[31 - i] = uint8_t(x.v[i >> 3] >> (8 * (i & 7)));
}

U256 FromBytesBE(const uint8_t* in, size_t len) {  // len <= 32
  U256 x;
  for (size_t i = 0; i < len; ++i) {
    size_t bit = 8 * (len - 1 - i);
    x.v[bit >> 6] |= u64(in[i]) << (bit & 63);
  }
  return x;
}

U256 ShiftRight(const U256& x, int n) {  // 0 < n < 64
  U256 r;
  for (int i = 0; i < 4; ++i) {
    r.v[i] = x.v[i] >> n;
    if (i < 3) r.v[i] |= x.v[i + 1] << (64 - n);
  }
  return r;
}

const EVP_MD* Sha256Md() {
  // Explicit fetch once: EVP_sha256() re-fetches on every init in OpenSSL 3.0.
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// HMAC-SHA256 with a 32-byte key, message given as up to three parts.
class Hmac {
 public:
  Hmac() : ctx_(EVP_MD_CTX_new()) {}
  ~Hmac() { EVP_MD_CTX_free(ctx_); }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;
  bool ok() const { return ctx_ != nullptr && Sha256Md() != nullptr; }

  bool Compute(const Bytes32& key, std::initializer_list<std::pair<const uint8_t*, size_t>> parts,
               Bytes32* out) {
    uint8_t pad[64];
    uint8_t inner[32];
    unsigned int len = 0;
    for (int i = 0; i < 64; ++i) pad[i] = (i < 32 ? key[i] : 0) ^ 0x36;
    bool good =
        EVP_DigestInit_ex(ctx_, Sha256Md(), nullptr) == 1 && EVP_DigestUpdate(ctx_, pad, 64) == 1;
    for (const auto& [p, n] : parts) good = good && EVP_DigestUpdate(ctx_, p, n) == 1;
    good = good && EVP_DigestFinal_ex(ctx_, inner, &len) == 1;
    for (int i = 0; i < 64; ++i) pad[i] = (i < 32 ? key[i] : 0) ^ 0x5c;
    good = good && EVP_DigestInit_ex(ctx_, Sha256Md(), nullptr) == 1 &&
           EVP_DigestUpdate(ctx_, pad, 64) == 1 && EVP_DigestUpdate(ctx_, inner, 32) == 1 &&
           EVP_DigestFinal_ex(ctx_, out->data(), &len) == 1;
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    return good;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// @scure/starknet bits2int: strip leading zero bytes, then keep the top 252 bits.
U256 Bits2Int(const Bytes32& t) {
  size_t start = 0;
  while (start < 32 && t[start] == 0) ++start;
  size_t len = 32 - start;
  U256 num = FromBytesBE(t.data() + start, len);
  int delta = int(len) * 8 - 252;
  return delta > 0 ? ShiftRight(num, delta) : num;
}

Fn ToFn(const U256& x) { return ToMont<FnParams>(x); }  // x < n

}  // namespace

SignResult SignWithNonce(const U256& d, const U256& z, const U256& k, U256* r, U256* s) {
  Affine rp;
  if (!ToAffine(MulGenerator(k), &rp)) return SignResult::kRetry;
  U256 x = FromMont(rp.x);
  if (IsZero(x) || !Below2Pow251(x)) return SignResult::kRetry;
  // x < 2^251 < n, so r = x mod n = x (StarkWare uses x itself).
  Fn sum = Add(ToFn(z), Mul(ToFn(x), ToFn(d)));
  if (IsZero(sum)) return SignResult::kRetry;
  // One inversion for both s = sum / k and w = s^-1 = k / sum: inv = 1 / (k * sum).
  Fn kf = ToFn(k);
  Fn inv = FnInv(Mul(kf, sum));
  Fn sm = Mul(Sqr(sum), inv);
  Fn w = Mul(Sqr(kf), inv);
  U256 wv = FromMont(w);
  if (IsZero(wv) || !Below2Pow251(wv)) return SignResult::kRetry;
  *r = x;
  *s = FromMont(sm);
  return SignResult::kOk;
}

bool SignRfc6979(const U256& d, const U256& z, const uint8_t* extra, size_t extra_len, U256* r,
                 U256* s) {
  Hmac hmac;
  if (!hmac.ok()) return false;
  // seed = int2octets(d) || int2octets(z mod n) || extra; z < 2^251 < n, and the scure
  // 63-hex-digit padding followed by the 4-bit truncation gives z back unchanged.
  std::vector<uint8_t> seed(64 + extra_len);
  ToBytesBE(d, seed.data());
  ToBytesBE(z, seed.data() + 32);
  if (extra_len != 0) std::memcpy(seed.data() + 64, extra, extra_len);
  Bytes32 k{};
  Bytes32 v;
  v.fill(0x01);
  const uint8_t b00 = 0x00, b01 = 0x01;
  bool good = hmac.Compute(k, {{v.data(), 32}, {&b00, 1}, {seed.data(), seed.size()}}, &k) &&
              hmac.Compute(k, {{v.data(), 32}}, &v) &&
              hmac.Compute(k, {{v.data(), 32}, {&b01, 1}, {seed.data(), seed.size()}}, &k) &&
              hmac.Compute(k, {{v.data(), 32}}, &v);
  bool done = false;
  for (int attempt = 0; good && attempt < 1000; ++attempt) {
    good = hmac.Compute(k, {{v.data(), 32}}, &v);
    if (!good) break;
    U256 nonce = Bits2Int(v);
    if (!IsZero(nonce) && Less(nonce, kN) && SignWithNonce(d, z, nonce, r, s) == SignResult::kOk) {
      OPENSSL_cleanse(&nonce, sizeof(nonce));
      done = true;
      break;
    }
    OPENSSL_cleanse(&nonce, sizeof(nonce));
    good =
        hmac.Compute(k, {{v.data(), 32}, {&b00, 1}}, &k) && hmac.Compute(k, {{v.data(), 32}}, &v);
  }
  OPENSSL_cleanse(seed.data(), seed.size());
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(v.data(), v.size());
  return done;
}

U256 PublicKeyX(const U256& d) {
  Affine p;
  if (!ToAffine(MulGenerator(d), &p)) return U256{};
  return FromMont(p.x);
}

bool VerifySignature(const Affine& q, const U256& z, const U256& r, const U256& s) {
  if (!Below2Pow251(z)) return false;
  if (IsZero(r) || !Below2Pow251(r)) return false;
  if (IsZero(s) || !Less(s, kN)) return false;
  Fn w = FnInv(ToFn(s));
  U256 wv = FromMont(w);
  if (IsZero(wv) || !Below2Pow251(wv)) return false;
  U256 u1 = FromMont(Mul(ToFn(z), w));
  U256 u2 = FromMont(Mul(ToFn(r), w));
  Jacobian a = MulGenerator(u1);
  Jacobian b = MulPoint(q, u2);
  Jacobian neg_b = b;
  neg_b.y = Neg(b.y);
  const Fp r_fp = ToMont<FpParams>(r);  // r < 2^251 < p
  for (const Jacobian& sum : {Add(a, b), Add(a, neg_b)}) {
    if (IsInfinity(sum)) continue;
    // x == r  <=>  X == r * Z^2 (no inversion needed).
    if (Equal(sum.x, Mul(r_fp, Sqr(sum.z)))) return true;
  }
  return false;
}

}  // namespace perpgw::adapters::paradex::stark
