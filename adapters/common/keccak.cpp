// Keccak-f[1600] sponge with the 0x01 domain padding (Ethereum's keccak256).
#include "adapters/common/keccak.h"

#include <cstring>

namespace perpgw::crypto {
namespace {

constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
// Rotation offsets and lane permutation of the rho/pi steps, in pi's visiting order.
constexpr int kRho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                          27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

inline uint64_t Rotl(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

void KeccakF(uint64_t s[25]) {
  for (int round = 0; round < 24; ++round) {
    uint64_t c[5];
    for (int x = 0; x < 5; ++x) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
    for (int x = 0; x < 5; ++x) {
      uint64_t d = c[(x + 4) % 5] ^ Rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) s[y + x] ^= d;
    }
    uint64_t t = s[1];
    for (int i = 0; i < 24; ++i) {
      int j = kPi[i];
      uint64_t tmp = s[j];
      s[j] = Rotl(t, kRho[i]);
      t = tmp;
    }
    for (int y = 0; y < 25; y += 5) {
      uint64_t row[5];
      for (int x = 0; x < 5; ++x) row[x] = s[y + x];
      for (int x = 0; x < 5; ++x) s[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    s[0] ^= kRoundConstants[round];
  }
}

// Lanes are little-endian regardless of the host.
inline uint64_t Load64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void Absorb(uint64_t s[25], const uint8_t* block, size_t rate) {
  for (size_t i = 0; i < rate / 8; ++i) s[i] ^= Load64(block + 8 * i);
  KeccakF(s);
}

}  // namespace

Keccak256Hasher::Keccak256Hasher() { std::memset(state_, 0, sizeof(state_)); }

void Keccak256Hasher::Update(const uint8_t* data, size_t n) {
  if (buf_len_ > 0) {
    size_t take = std::min(n, kRate - buf_len_);
    std::memcpy(buf_ + buf_len_, data, take);
    buf_len_ += take;
    data += take;
    n -= take;
    if (buf_len_ < kRate) return;
    Absorb(state_, buf_, kRate);
    buf_len_ = 0;
  }
  while (n >= kRate) {
    Absorb(state_, data, kRate);
    data += kRate;
    n -= kRate;
  }
  if (n > 0) {
    std::memcpy(buf_, data, n);
    buf_len_ = n;
  }
}

std::array<uint8_t, 32> Keccak256Hasher::Finish() {
  std::memset(buf_ + buf_len_, 0, kRate - buf_len_);
  buf_[buf_len_] ^= 0x01;  // Keccak padding (SHA3 would use 0x06)
  buf_[kRate - 1] ^= 0x80;
  Absorb(state_, buf_, kRate);
  std::array<uint8_t, 32> out;
  for (size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(state_[i / 8] >> (8 * (i % 8)));
  buf_len_ = 0;
  return out;
}

std::array<uint8_t, 32> Keccak256(const uint8_t* data, size_t n) {
  Keccak256Hasher h;
  h.Update(data, n);
  return h.Finish();
}

std::array<uint8_t, 32> Keccak256(std::string_view data) {
  return Keccak256(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

}  // namespace perpgw::crypto
