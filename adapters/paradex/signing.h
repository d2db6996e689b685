// Paradex signing stack (pure): Stark felts, Pedersen hash, typed-data rev 0 message hashes,
// StarkWare ECDSA (RFC 6979 k), and the POST /auth header / order signature builders.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace perpgw::adapters::paradex {

namespace stark {
struct FeltAccess;
}

// Starknet field element, always canonical (< p = 2^251 + 17*2^192 + 1).
class Felt {
 public:
  Felt() = default;
  static Felt FromU64(uint64_t v) { return Felt({v, 0, 0, 0}); }
  // Little-endian 64-bit limbs; rejects values >= p.
  static absl::StatusOr<Felt> FromLimbs(const std::array<uint64_t, 4>& limbs);
  // Big-endian bytes (at most 32); rejects values >= p.
  static absl::StatusOr<Felt> FromBytesBE(std::span<const uint8_t> bytes);

  const std::array<uint64_t, 4>& limbs() const { return limbs_; }
  std::array<uint8_t, 32> ToBytesBE() const;
  std::string ToHex() const;  // "0x" + lowercase hex without leading zeros ("0x0" for zero)
  std::string ToDec() const;  // decimal, no sign, no leading zeros
  bool IsZero() const { return (limbs_[0] | limbs_[1] | limbs_[2] | limbs_[3]) == 0; }

  friend bool operator==(const Felt& a, const Felt& b) { return a.limbs_ == b.limbs_; }
  friend bool operator!=(const Felt& a, const Felt& b) { return !(a == b); }

 private:
  friend struct stark::FeltAccess;
  explicit Felt(const std::array<uint64_t, 4>& limbs) : limbs_(limbs) {}
  std::array<uint64_t, 4> limbs_{};
};

// "0x"/"0X" + hex digits (1..64), or decimal digits; must be < p.
absl::StatusOr<Felt> ParseFelt(std::string_view hex_or_dec);

// Cairo short string: ASCII bytes read big-endian, at most 31 chars; "" -> 0.
absl::StatusOr<Felt> ShortString(std::string_view s);

// Typed-data value encoding used by starknet.js for `felt` fields: 0x-hex and all-digit
// strings are numbers, anything else is a short string.
absl::StatusOr<Felt> EncodeTypedValue(std::string_view v);

// Exact decimal string -> integer * 10^8 ("0.1" -> 10000000). Accepts digits with an optional
// '.' and up to 8 fractional digits; rejects signs, exponents, whitespace, more than 8
// decimals (never rounds) and results >= 2^128 (far above any Paradex size or price).
absl::StatusOr<Felt> ScaleDecimal8(std::string_view decimal);

// --- Pedersen ---------------------------------------------------------------------------
Felt PedersenHash(const Felt& a, const Felt& b);
// h(...h(h(0, x1), x2)..., xn), n)
Felt HashOnElements(std::span<const Felt> elements);

// --- Typed data, revision 0 (Pedersen) ----------------------------------------------------
// starknet_keccak of the type strings, hard-coded (OpenSSL 3.0 has no Keccak-256).
Felt TypeHashStarkNetDomain();  // StarkNetDomain(name:felt,chainId:felt,version:felt)
// Order(timestamp:felt,market:felt,side:felt,orderType:felt,size:felt,price:felt)
Felt TypeHashOrder();
Felt TypeHashModifyOrder();  // ModifyOrder(...Order fields...,id:felt)
Felt TypeHashRequest();   // Request(method:felt,path:felt,body:felt,timestamp:felt,expiration:felt)
Felt TypeHashConstant();  // Constant(action:felt)

// hash_on_elements([type_hash, fields...])
Felt StructHash(const Felt& type_hash, std::span<const Felt> fields);
// StarkNetDomain{name:"Paradex", chainId:<chain_id>, version:1}; chain_id like
// "PRIVATE_SN_PARACLEAR_MAINNET" (or its 0x felt form).
absl::StatusOr<Felt> DomainHash(std::string_view chain_id);
// hash_on_elements(["StarkNet Message", domain_hash, account, struct_hash])
Felt MessageHash(const Felt& domain_hash, const Felt& account, const Felt& struct_hash);

enum class OrderSide : uint8_t { kBuy = 1, kSell = 2 };

struct OrderFields {
  uint64_t timestamp_ms = 0;  // signature_timestamp, milliseconds
  std::string market;         // "ETH-USD-PERP"
  OrderSide side = OrderSide::kBuy;
  std::string order_type;  // "LIMIT", "MARKET", "STOP_LIMIT", ...
  std::string size;        // decimal string, scaled by 10^8
  std::string price;       // decimal string; ignored (signed as 0) for *MARKET types
};

struct ModifyOrderFields {
  OrderFields order;
  std::string id;  // numeric order id (decimal, or 0x hex)
};

// True for order types whose signed price is 0 (MARKET, STOP_MARKET, TAKE_PROFIT_MARKET, ...).
bool IsMarketOrderType(std::string_view order_type);

// Struct hashes (no domain/account).
absl::StatusOr<Felt> OrderStructHash(const OrderFields& order);
absl::StatusOr<Felt> ModifyOrderStructHash(const ModifyOrderFields& modify);
absl::StatusOr<Felt> AuthRequestStructHash(std::string_view method, std::string_view path,
                                           std::string_view body, uint64_t timestamp_s,
                                           uint64_t expiration_s);

// Full message hashes (what is signed).
absl::StatusOr<Felt> AuthMessageHash(std::string_view chain_id, const Felt& account,
                                     std::string_view method, std::string_view path,
                                     std::string_view body, uint64_t timestamp_s,
                                     uint64_t expiration_s);
absl::StatusOr<Felt> OrderMessageHash(std::string_view chain_id, const Felt& account,
                                      const OrderFields& order);
absl::StatusOr<Felt> ModifyOrderMessageHash(std::string_view chain_id, const Felt& account,
                                            const ModifyOrderFields& modify);
// Constant{action:"Onboarding"}
absl::StatusOr<Felt> OnboardingMessageHash(std::string_view chain_id, const Felt& account);

// Per-(chain, account) hasher: caches the domain hash and the first three chain links of the
// message hash, so an order hash costs 9 Pedersen hashes instead of 15. Immutable and
// thread-safe once created.
class MessageHasher {
 public:
  static absl::StatusOr<MessageHasher> Create(std::string_view chain_id, const Felt& account);
  const Felt& domain_hash() const { return domain_hash_; }
  const Felt& account() const { return account_; }
  Felt ForStruct(const Felt& struct_hash) const;
  absl::StatusOr<Felt> Order(const OrderFields& order) const;
  absl::StatusOr<Felt> ModifyOrder(const ModifyOrderFields& modify) const;
  absl::StatusOr<Felt> Auth(uint64_t timestamp_s, uint64_t expiration_s) const;  // POST /v1/auth
  Felt Onboarding() const;

 private:
  MessageHasher() = default;
  Felt domain_hash_;
  Felt account_;
  Felt prefix_;  // pedersen(pedersen(pedersen(0, "StarkNet Message"), domain), account)
};

// --- ECDSA (StarkWare variant) --------------------------------------------------------------
// (r, s) exactly as the API wants them: s is never low-s normalized and never inverted.
struct Signature {
  Felt r;
  Felt s;
  friend bool operator==(const Signature& a, const Signature& b) {
    return a.r == b.r && a.s == b.s;
  }
};

class StarkKey {
 public:
  // Hex private key (0x optional), 1 <= d < n. The key never appears in errors.
  static absl::StatusOr<StarkKey> FromPrivateHex(std::string_view hex);
  StarkKey(const StarkKey&) = default;
  StarkKey& operator=(const StarkKey&) = default;
  ~StarkKey();

  // x coordinate of d*G (the "stark key").
  const Felt& public_key() const { return public_key_; }

  // RFC 6979 (HMAC-SHA256, qlen 252, 63-hex-digit quirk), no extra entropy; msg_hash < 2^251.
  absl::StatusOr<Signature> Sign(const Felt& msg_hash) const;
  // RFC 6979 with extra data k' appended to the seed (@scure/noble `extraEntropy`).
  absl::StatusOr<Signature> SignWithExtraEntropy(const Felt& msg_hash,
                                                 std::span<const uint8_t> extra) const;
  // Explicit nonce (test vectors); fails instead of retrying if k gives an out-of-range r/s.
  absl::StatusOr<Signature> SignWithK(const Felt& msg_hash, const Felt& k) const;

 private:
  StarkKey() = default;
  std::array<uint64_t, 4> d_{};  // private scalar, little-endian limbs
  Felt public_key_;
};

// w = s^-1 mod n (what StarkWare crypto-cpp returns instead of s).
absl::StatusOr<Felt> InverseModOrder(const Felt& s);

// Public key with the y coordinate recovered once (a square root), for repeated verification.
class StarkPublicKey {
 public:
  // Fails if x is not the x coordinate of a curve point.
  static absl::StatusOr<StarkPublicKey> FromX(const Felt& x);
  const Felt& x() const { return x_; }
  // StarkWare check: 0 <= hash < 2^251, 1 <= r < 2^251, 1 <= s < n, 1 <= s^-1 < 2^251 and
  // x(z*w*G + r*w*Q) == r for either y of Q.
  bool Verify(const Felt& msg_hash, const Signature& sig) const;

 private:
  StarkPublicKey() = default;
  Felt x_;
  std::array<uint64_t, 4> y_mont_{};  // one of the two roots, Montgomery form
};

// Convenience: recovers y every call (~0.1 ms extra); prefer StarkPublicKey for repeated use.
bool Verify(const Felt& public_key_x, const Felt& msg_hash, const Signature& sig);

// --- Builders -----------------------------------------------------------------------------
// `["<r decimal>","<s decimal>"]` (the PARADEX-STARKNET-SIGNATURE header value and the
// order's "signature" field, which the JSON writer must then embed as a string).
std::string SignatureJson(const Signature& sig);
// Inverse of SignatureJson; also accepts 0x-hex elements and whitespace around tokens.
absl::StatusOr<Signature> ParseSignatureJson(std::string_view text);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Headers for POST /auth (timestamps in unix seconds; the caller supplies the clock).
// `account` is sent verbatim and parsed as a felt for the message hash.
absl::StatusOr<HeaderList> AuthHeaders(const StarkKey& key, std::string_view chain_id,
                                       std::string_view account, uint64_t timestamp_s,
                                       uint64_t expiration_s);
// Same, from an already computed signature (e.g. a sim building expected requests).
HeaderList AuthHeadersFromSignature(std::string_view account, const Signature& sig,
                                    uint64_t timestamp_s, uint64_t expiration_s);

}  // namespace perpgw::adapters::paradex
