// Crypto and encoding primitives over OpenSSL 3: hex, base64, SHA-256, HMAC-SHA256, Ed25519.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace perpgw::crypto {

using Bytes = std::vector<uint8_t>;

std::string HexEncode(const uint8_t* data, size_t n);
inline std::string HexEncode(const Bytes& b) { return HexEncode(b.data(), b.size()); }
// Accepts an optional 0x prefix, either case; rejects odd length and non-hex characters.
absl::StatusOr<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(const uint8_t* data, size_t n);
inline std::string Base64Encode(const Bytes& b) { return Base64Encode(b.data(), b.size()); }
// Standard alphabet with padding; whitespace is not accepted.
absl::StatusOr<Bytes> Base64Decode(std::string_view b64);

std::array<uint8_t, 32> Sha256(std::string_view data);
std::array<uint8_t, 32> HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Ed25519 from a 32-byte seed (RFC 8032). The seed never appears in errors.
class Ed25519Key {
 public:
  static absl::StatusOr<Ed25519Key> FromSeed(const Bytes& seed32);
  static absl::StatusOr<Ed25519Key> FromSeedBase64(std::string_view seed_b64);
  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;
  ~Ed25519Key();

  const std::array<uint8_t, 32>& public_key() const { return public_key_; }
  std::string PublicKeyBase64() const;
  std::array<uint8_t, 64> Sign(std::string_view message) const;

 private:
  Ed25519Key() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  std::array<uint8_t, 32> public_key_{};
};

bool Ed25519Verify(const std::array<uint8_t, 32>& public_key, std::string_view message,
                   const uint8_t* sig64);

// Wipes a secret buffer (not optimized away).
void SecureWipe(void* p, size_t n);

}  // namespace perpgw::crypto
