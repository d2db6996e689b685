// Poseidon2 over Goldilocks (width 12, rate 8, x^7, 8 full + 22 partial rounds) in the
// overwrite-mode, unpadded sponge Lighter uses to hash txs, auth messages and Schnorr challenges.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "adapters/lighter/lighter_goldilocks.h"

namespace perpgw::adapters::lighter::internal {

inline constexpr int kPoseidon2Width = 12;
inline constexpr int kPoseidon2Rate = 8;

void Poseidon2Permute(std::array<Fp, kPoseidon2Width>& state);

// HashNToMNoPad(input, 5): each chunk of <= 8 inputs overwrites state[0..len) then permutes;
// output is state[0..5). An empty input yields zero (no permutation), as in the reference.
Fp5 HashToQuinticExtension(std::span<const Fp> input);

}  // namespace perpgw::adapters::lighter::internal
