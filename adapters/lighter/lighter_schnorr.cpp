// Schnorr sign/verify over ECgFp5 for the Lighter signer (see lighter_schnorr.h).
#include "adapters/lighter/lighter_schnorr.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>

#include "adapters/lighter/lighter_poseidon2.h"

namespace perpgw::adapters::lighter::internal {

Fp5 SchnorrPublicKey(const Scalar& sk) {
  return PointEncode(MulGenerator(sk));
}

Scalar SchnorrChallenge(const Fp5& r, const Fp5& msg) {
  std::array<Fp, 10> pre;
  for (int i = 0; i < 5; ++i) {
    pre[i] = r.c[i];
    pre[5 + i] = msg.c[i];
  }
  return ScalarFromFp5(HashToQuinticExtension(pre));
}

SchnorrSig SchnorrSignWithNonce(const Fp5& msg, const Scalar& sk, const Scalar& k) {
  const Fp5 r = PointEncode(MulGenerator(k));
  const Scalar e = SchnorrChallenge(r, msg);
  Scalar es = ScalarMul(e, sk);
  SchnorrSig sig{ScalarSub(k, es), e};
  ScalarWipe(es);
  return sig;
}

std::optional<Scalar> SampleNonce() {
  // Rejection sampling on 319-bit values: n > 2^319 * (1 - 2^-30), so a retry is
  // astronomically rare and the result is exactly uniform in [1, n).
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::array<uint8_t, 40> buf;
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) return std::nullopt;
    buf[39] &= 0x7F;
    std::optional<Scalar> k = ScalarFromCanonicalBytes(buf.data());
    OPENSSL_cleanse(buf.data(), buf.size());
    if (k && !ScalarIsZero(*k)) return k;
  }
  return std::nullopt;
}

bool SchnorrVerify(const VerifyTables& pk, const Fp5& msg, const SchnorrSig& sig) {
  const Fp5 r = PointEncode(MulAddGeneratorVarTime(sig.s, pk, sig.e));
  return ScalarEqual(SchnorrChallenge(r, msg), sig.e);
}

}  // namespace perpgw::adapters::lighter::internal
