// Internal: StarkWare ECDSA core on raw 256-bit integers (RFC 6979 nonces, sign, verify).
#pragma once

#include <cstddef>
#include <cstdint>

#include "adapters/paradex/stark_curve.h"

namespace perpgw::adapters::paradex::stark {

enum class SignResult { kOk, kRetry };

// r = x(k*G), s = k^-1 (z + r*d) mod n with StarkWare range checks (1 <= r < 2^251,
// s != 0, 1 <= s^-1 < 2^251). Preconditions: 1 <= d < n, 1 <= k < n, z < 2^251.
SignResult SignWithNonce(const U256& d, const U256& z, const U256& k, U256* r, U256* s);

// RFC 6979 (HMAC-SHA256, as @noble/curves + @scure/starknet: 32-byte int2octets of d and z,
// optional extra data appended to the seed, bits2int that strips leading zero bytes before
// the 4-bit truncation). Retries with the next DRBG output on out-of-range k/r/s.
// Returns false only if no valid nonce was found in 1000 attempts (never in practice).
bool SignRfc6979(const U256& d, const U256& z, const uint8_t* extra, size_t extra_len, U256* r,
                 U256* s);

U256 PublicKeyX(const U256& d);

// q is an affine point on the curve; either y of q is accepted (StarkWare check).
bool VerifySignature(const Affine& q, const U256& z, const U256& r, const U256& s);

}  // namespace perpgw::adapters::paradex::stark
