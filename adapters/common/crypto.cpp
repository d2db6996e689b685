// OpenSSL-backed implementations of the primitives in crypto.h.
#include "adapters/common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace perpgw::crypto {
namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string HexEncode(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

absl::StatusOr<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.size() % 2 != 0) return absl::InvalidArgumentError("hex string has odd length");
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("hex string has a non-hex character");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(const uint8_t* d, size_t n) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = d[i] << 16 | d[i + 1] << 8 | d[i + 2];
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == n) {
    uint32_t v = d[i] << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == n) {
    uint32_t v = d[i] << 16 | d[i + 1] << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

absl::StatusOr<Bytes> Base64Decode(std::string_view s) {
  if (s.size() % 4 != 0) return absl::InvalidArgumentError("base64 length is not a multiple of 4");
  Bytes out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = s[i + j];
      int x;
      if (c >= 'A' && c <= 'Z') x = c - 'A';
      else if (c >= 'a' && c <= 'z') x = c - 'a' + 26;
      else if (c >= '0' && c <= '9') x = c - '0' + 52;
      else if (c == '+') x = 62;
      else if (c == '/') x = 63;
      else if (c == '=' && i + 4 == s.size() && j >= 2) {
        x = 0;
        ++pad;
      } else {
        return absl::InvalidArgumentError("invalid base64 character");
      }
      if (pad > 0 && c != '=') return absl::InvalidArgumentError("invalid base64 padding");
      v = v << 6 | static_cast<uint32_t>(x);
    }
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(v >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), out.data());
  return out;
}

std::array<uint8_t, 32> HmacSha256(std::string_view key, std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const uint8_t*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  auto mac = HmacSha256(key, data);
  return HexEncode(mac.data(), mac.size());
}

absl::StatusOr<Ed25519Key> Ed25519Key::FromSeed(const Bytes& seed) {
  if (seed.size() != 32) return absl::InvalidArgumentError("ed25519 seed must be 32 bytes");
  EVP_PKEY* pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), 32);
  if (!pk) return absl::InvalidArgumentError("ed25519 seed rejected");
  Ed25519Key k;
  k.pkey_ = pk;
  size_t len = 32;
  if (EVP_PKEY_get_raw_public_key(pk, k.public_key_.data(), &len) != 1 || len != 32) {
    return absl::InternalError("ed25519 public key derivation failed");
  }
  return k;
}

absl::StatusOr<Ed25519Key> Ed25519Key::FromSeedBase64(std::string_view seed_b64) {
  auto seed = Base64Decode(seed_b64);
  if (!seed.ok()) return absl::InvalidArgumentError("ed25519 secret is not valid base64");
  auto k = FromSeed(*seed);
  SecureWipe(seed->data(), seed->size());
  return k;
}

Ed25519Key::Ed25519Key(Ed25519Key&& o) noexcept : pkey_(o.pkey_), public_key_(o.public_key_) {
  o.pkey_ = nullptr;
}
Ed25519Key& Ed25519Key::operator=(Ed25519Key&& o) noexcept {
  if (this != &o) {
    if (pkey_) EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_));
    pkey_ = o.pkey_;
    public_key_ = o.public_key_;
    o.pkey_ = nullptr;
  }
  return *this;
}
Ed25519Key::~Ed25519Key() {
  if (pkey_) EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_));
}

std::string Ed25519Key::PublicKeyBase64() const { return Base64Encode(public_key_.data(), 32); }

std::array<uint8_t, 64> Ed25519Key::Sign(std::string_view message) const {
  std::array<uint8_t, 64> sig{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = sig.size();
  if (EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(pkey_)) == 1) {
    EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const uint8_t*>(message.data()),
                   message.size());
  }
  EVP_MD_CTX_free(ctx);
  return sig;
}

bool Ed25519Verify(const std::array<uint8_t, 32>& public_key, std::string_view message,
                   const uint8_t* sig64) {
  EVP_PKEY* pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), 32);
  if (!pk) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk) == 1 &&
            EVP_DigestVerify(ctx, sig64, 64, reinterpret_cast<const uint8_t*>(message.data()),
                             message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pk);
  return ok;
}

void SecureWipe(void* p, size_t n) { OPENSSL_cleanse(p, n); }

}  // namespace perpgw::crypto
