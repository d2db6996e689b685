// Aster request signing: V1 HMAC-SHA256, V3 EIP-712 (secp256k1, r||s||v) and the legacy V3 ABI
// scheme. Pure: nonce and timestamp are parameters; private keys never appear in errors.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace perpgw::adapters::aster {

using Hash32 = std::array<uint8_t, 32>;

inline constexpr char kApiKeyHeader[] = "X-MBX-APIKEY";
inline constexpr uint64_t kMainnetChainId = 1666;
inline constexpr uint64_t kTestnetChainId = 714;
inline constexpr int64_t kDefaultRecvWindowMs = 5000;
inline constexpr int64_t kMaxRecvWindowMs = 60000;

// ---------------------------------------------------------------------------------------------
// V1: HMAC-SHA256 over totalParams = query string immediately followed by the form body (no '&'
// between them), lower-case hex. Both inputs must be the exact, already percent-encoded bytes.
std::string HmacSignatureV1(std::string_view secret, std::string_view query,
                            std::string_view body = {});
// `params` (percent-encoded, may be empty) + "&recvWindow=.." (only when recv_window_ms > 0) +
// "&timestamp=..", then "&signature=<hex>" last, as the venue requires.
absl::StatusOr<std::string> SignV1Params(std::string_view secret, std::string_view params,
                                         int64_t timestamp_ms, int64_t recv_window_ms = 0);

// ---------------------------------------------------------------------------------------------
// V3 EIP-712: domain {name "AsterSignTransaction", version "1", chainId, verifyingContract 0x0},
// primary type Message(string msg), msg = the exact parameter string that is sent.
Hash32 Eip712DomainSeparator(uint64_t chain_id);
Hash32 Eip712MessageStructHash(std::string_view msg);
Hash32 Eip712MessageDigest(std::string_view msg, uint64_t chain_id);

// A secp256k1 key (API wallet / agent). Move-only; the key bytes are wiped on destruction.
class EvmSigner {
 public:
  // 32-byte key as hex, with or without 0x.
  static absl::StatusOr<EvmSigner> FromPrivateKeyHex(std::string_view hex);
  EvmSigner(EvmSigner&& other) noexcept;
  EvmSigner& operator=(EvmSigner&& other) noexcept;
  EvmSigner(const EvmSigner&) = delete;
  EvmSigner& operator=(const EvmSigner&) = delete;
  ~EvmSigner();

  // EIP-55 checksummed address derived from the key ("0x21cF8Ae1...").
  const std::string& address() const { return address_; }
  // RFC 6979 deterministic, low-s; r(32) || s(32) || v(1) with v = 27 + recovery id.
  absl::StatusOr<std::array<uint8_t, 65>> SignDigest(const Hash32& digest) const;
  // The same as "0x" + lower-case hex.
  absl::StatusOr<std::string> SignDigestHex(const Hash32& digest) const;

 private:
  EvmSigner() = default;
  std::array<uint8_t, 32> key_{};
  std::string address_;
};

// EIP-55 form of a 20-byte address given as hex (with or without 0x, any case).
absl::StatusOr<std::string> ChecksumAddress(std::string_view address_hex);
// ecrecover: the checksummed signer address. Accepts the signature with or without 0x and
// v as 27/28 or 0/1 (both appear in the wild).
absl::StatusOr<std::string> RecoverAddress(const Hash32& digest, std::string_view signature_hex);

enum class AuthPlacement : uint8_t {
  kLast,   // business params, then nonce/user/signer (docs)
  kFirst,  // nonce/user/signer, then business params (ccxt)
};

struct V3Auth {
  std::string user;    // main account address
  std::string signer;  // API wallet (agent) address; may equal user
  uint64_t chain_id = kMainnetChainId;
  AuthPlacement placement = AuthPlacement::kLast;
  bool include_user = true;  // the docs' Python demo omits it; production clients send it
};

// The string that is signed: `params` (already percent-encoded, may be empty) joined with
// nonce/user/signer in the configured order.
std::string BuildV3Message(std::string_view params, const V3Auth& auth, uint64_t nonce_us);
// The full string to send: BuildV3Message(...) + "&signature=0x<r||s||v>".
absl::StatusOr<std::string> SignV3Params(const EvmSigner& key, const V3Auth& auth,
                                         std::string_view params, uint64_t nonce_us);

// ccxt's builder-fee approval: ApproveBuilder{Builder, MaxFeeRate, BuilderName, AsterChain,
// User: string, Nonce: uint256} under the same domain (values exactly as sent).
struct ApproveBuilderMessage {
  std::string builder, max_fee_rate, builder_name, aster_chain, user;
  uint64_t nonce = 0;
};
Hash32 ApproveBuilderDigest(const ApproveBuilderMessage& m, uint64_t chain_id);

// Strictly increasing microsecond nonces shared by every thread that uses one signer:
// max(now_us, last + 1). `now_us` is passed in (no clock here).
class NonceSequence {
 public:
  uint64_t Next(uint64_t now_us);

 private:
  std::atomic<uint64_t> last_{0};
};

// ---------------------------------------------------------------------------------------------
// Legacy V3 (docs until 2026-01): JSON of the params with ASCII-sorted keys, all values strings,
// no spaces; ABI-encode (string json, address user, address signer, uint256 nonce); keccak; sign
// as an EIP-191 personal message of the 32-byte hash.
std::string LegacyJsonString(std::vector<std::pair<std::string, std::string>> params);
absl::StatusOr<std::vector<uint8_t>> LegacyAbiEncode(std::string_view json, std::string_view user,
                                                     std::string_view signer, uint64_t nonce);
// keccak256("\x19Ethereum Signed Message:\n32" || hash)
Hash32 PersonalMessageDigest(const Hash32& hash);
// Returns "0x" + r||s||v over PersonalMessageDigest(keccak(abi)).
absl::StatusOr<std::string> SignLegacyV3(const EvmSigner& key, std::string_view json,
                                         std::string_view user, std::string_view signer,
                                         uint64_t nonce);

}  // namespace perpgw::adapters::aster
