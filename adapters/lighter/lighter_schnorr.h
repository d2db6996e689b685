// Schnorr signatures over ECgFp5 with Poseidon2 challenges, as in Lighter's signer:
// r = Encode(k*G), e = H(r || m) mod n, s = k - e*sk. Internal to the signing lib.
#pragma once

#include <optional>

#include "adapters/lighter/lighter_ecgfp5.h"
#include "adapters/lighter/lighter_goldilocks.h"

namespace perpgw::adapters::lighter::internal {

struct SchnorrSig {
  Scalar s;
  Scalar e;
};

// Encode(sk*G); constant time in sk.
Fp5 SchnorrPublicKey(const Scalar& sk);
// e = scalar(Poseidon2(r || m)).
Scalar SchnorrChallenge(const Fp5& r, const Fp5& msg);
// Deterministic core with an explicit nonce k (1 <= k < n); used by Sign and by tests.
SchnorrSig SchnorrSignWithNonce(const Fp5& msg, const Scalar& sk, const Scalar& k);
// Uniform nonce in [1, n) from OpenSSL RAND_bytes; nullopt if the RNG fails.
std::optional<Scalar> SampleNonce();
// Checks Encode(s*G + e*pk) hashes back to e. s and e must already be < n.
bool SchnorrVerify(const VerifyTables& pk, const Fp5& msg, const SchnorrSig& sig);

}  // namespace perpgw::adapters::lighter::internal
