// Keccak-256 (the original Keccak padding used by Ethereum, not NIST SHA3-256); OpenSSL 3.0 lacks it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace perpgw::crypto {

std::array<uint8_t, 32> Keccak256(std::string_view data);
std::array<uint8_t, 32> Keccak256(const uint8_t* data, size_t n);

// Incremental form for hashing concatenations (EIP-712 struct encodings) without copies.
class Keccak256Hasher {
 public:
  Keccak256Hasher();
  void Update(const uint8_t* data, size_t n);
  void Update(std::string_view data) {
    Update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::array<uint8_t, 32> Finish();  // the hasher is spent afterwards

 private:
  static constexpr size_t kRate = 136;  // bytes absorbed per permutation for a 256-bit output
  uint64_t state_[25];
  uint8_t buf_[kRate];
  size_t buf_len_ = 0;
};

}  // namespace perpgw::crypto
