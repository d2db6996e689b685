// Lighter L2 signing: Poseidon2 tx hashes, Schnorr/ECgFp5 keys and signatures, tx_info JSON
// and auth tokens. Pure code (no I/O, no clock): times, deadlines and nonces are parameters.
//
// Nonces: every tx carries an explicit `nonce`. Lighter wants one strictly sequential nonce per
// (account_index, api_key_index); the caller owns that counter and re-syncs it on "invalid
// nonce". Units: expired_at / order_expiry / Time are milliseconds, auth deadlines are seconds.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace perpgw::adapters::lighter {

namespace internal {
struct Scalar;
struct VerifyTables;
}  // namespace internal

inline constexpr uint32_t kMainnetChainId = 304;
inline constexpr uint32_t kTestnetChainId = 300;

inline constexpr size_t kTxHashSize = 40;
inline constexpr size_t kPublicKeySize = 40;
inline constexpr size_t kPrivateKeySize = 40;
inline constexpr size_t kSignatureSize = 80;

// 5 canonical Goldilocks limbs, little-endian (what the API returns as tx_hash, in hex).
using TxHash = std::array<uint8_t, kTxHashSize>;
using PublicKeyBytes = std::array<uint8_t, kPublicKeySize>;
// s (40 bytes LE) || e (40 bytes LE).
using Signature = std::array<uint8_t, kSignatureSize>;

enum class TxType : uint8_t {
  kCreateOrder = 14,
  kCancelOrder = 15,
  kCancelAllOrders = 16,
  kModifyOrder = 17,
  kUpdateLeverage = 20,
};

enum class MarginMode : uint8_t {
  kCross = 0,
  kIsolated = 1,
};

enum class OrderType : uint8_t {
  kLimit = 0,
  kMarket = 1,
  kStopLoss = 2,
  kStopLossLimit = 3,
  kTakeProfit = 4,
  kTakeProfitLimit = 5,
  kTwap = 6,
};

enum class TimeInForce : uint8_t {
  kImmediateOrCancel = 0,
  kGoodTillTime = 1,
  kPostOnly = 2,
};

enum class CancelAllTimeInForce : uint8_t {
  kImmediate = 0,
  kScheduled = 1,  // dead-man switch at `time`
  kAbortScheduled = 2,
};

// Optional L2TxAttributes (type ids 1..7). Unset fields are omitted from tx_info; set fields equal
// to the type's nil value are serialized but do not change the hash (as in the official SDK).
struct TxAttributes {
  std::optional<int64_t> integrator_account_index;  // 1
  std::optional<int64_t> integrator_taker_fee;      // 2, units of 1e-6
  std::optional<int64_t> integrator_maker_fee;      // 3, units of 1e-6
  std::optional<int64_t> skip_nonce;                // 4, only 1 allowed
  std::optional<int64_t> cancel_all_market_index;   // 5, 0..254 (255 = all)
  std::optional<int64_t> self_trade_behavior;       // 6, 0 expire maker .. 3 reduce
  std::optional<int64_t> self_trade_equality;       // 7, 0 account, 1 master account
};

struct CreateOrderTx {
  int64_t account_index = 0;
  uint8_t api_key_index = 0;
  int16_t market_index = 0;
  int64_t client_order_index = 0;  // 0 = none, else 1 .. 2^48-1
  int64_t base_amount = 0;         // size * 10^size_decimals
  uint32_t price = 0;              // price * 10^price_decimals (worst price for market orders)
  bool is_ask = false;
  OrderType type = OrderType::kLimit;
  TimeInForce time_in_force = TimeInForce::kGoodTillTime;
  bool reduce_only = false;
  uint32_t trigger_price = 0;
  int64_t order_expiry = 0;  // ms; 0 for IOC/market, required for GTT/post-only
  int64_t expired_at = 0;    // ms; tx must land before it
  int64_t nonce = 0;
  TxAttributes attributes;
};

struct CancelOrderTx {
  int64_t account_index = 0;
  uint8_t api_key_index = 0;
  int16_t market_index = 0;
  int64_t index = 0;  // client order index (< 2^48) or exchange order index (>= 2^48)
  int64_t expired_at = 0;
  int64_t nonce = 0;
  TxAttributes attributes;
};

struct CancelAllOrdersTx {
  int64_t account_index = 0;
  uint8_t api_key_index = 0;
  CancelAllTimeInForce time_in_force = CancelAllTimeInForce::kImmediate;
  int64_t time = 0;  // ms timestamp for kScheduled, else 0
  int64_t expired_at = 0;
  int64_t nonce = 0;
  TxAttributes attributes;  // cancel_all_market_index limits an immediate cancel-all
};

struct ModifyOrderTx {
  int64_t account_index = 0;
  uint8_t api_key_index = 0;
  int16_t market_index = 0;
  int64_t index = 0;  // client order index or exchange order index
  int64_t base_amount = 0;
  uint32_t price = 0;
  uint32_t trigger_price = 0;
  int64_t expired_at = 0;
  int64_t nonce = 0;
  TxAttributes attributes;
};

// Sets the account's initial margin fraction on one market (leverage = 10 000 / IMF) and its
// margin mode. Not in the signer vectors: the field order and JSON keys follow the official Go
// signer's L2UpdateLeverageTxInfo (types/txtypes/update_leverage.go): hash = chain id, 20,
// nonce, expired_at, account, api key, market, IMF, margin mode.
struct UpdateLeverageTx {
  int64_t account_index = 0;
  uint8_t api_key_index = 0;
  int16_t market_index = 0;
  uint16_t initial_margin_fraction = 0;  // 1 .. 10 000 (units of 0.01 %)
  MarginMode margin_mode = MarginMode::kCross;
  int64_t expired_at = 0;
  int64_t nonce = 0;
  TxAttributes attributes;
};

inline constexpr uint16_t kMarginFractionTick = 10000;

class PublicKey;

// Secret scalar (1 <= sk < n). Move-only; wiped on destruction; never printed.
class PrivateKey {
 public:
  // 80 hex chars (optional 0x) = 40 bytes little-endian, as in the SDK config.
  static absl::StatusOr<PrivateKey> FromHex(std::string_view hex);
  static absl::StatusOr<PrivateKey> FromBytes(std::span<const uint8_t> bytes40);
  // SDK seed derivation: sk = SHA256(0x01||seed) || SHA256(0x02||seed)[0..8] read big-endian,
  // mod n. The seed must be at least 32 bytes (hex, optional 0x).
  static absl::StatusOr<PrivateKey> FromSeedHex(std::string_view seed_hex);

  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  const PublicKeyBytes& public_key() const { return public_key_; }
  std::string PublicKeyHex() const;
  // Little-endian secret bytes (for key export; handle with care).
  std::array<uint8_t, kPrivateKeySize> ToBytes() const;

  // Schnorr signature of a 40-byte hash with a fresh uniform nonce (OpenSSL RAND_bytes).
  absl::StatusOr<Signature> Sign(const TxHash& hash) const;
  // Deterministic variant for tests only: `nonce` must be canonical and nonzero.
  absl::StatusOr<Signature> SignWithNonceForTesting(const TxHash& hash,
                                                    std::span<const uint8_t> nonce40) const;

 private:
  explicit PrivateKey(const internal::Scalar& sk);
  std::unique_ptr<internal::Scalar> sk_;
  PublicKeyBytes public_key_{};
};

// Decoded, validated public key (a non-neutral ECgFp5 point). Cheap to copy.
class PublicKey {
 public:
  // Rejects non-canonical limbs, encodings that are not a curve point, and the neutral element.
  static absl::StatusOr<PublicKey> FromBytes(std::span<const uint8_t> bytes40);
  static absl::StatusOr<PublicKey> FromHex(std::string_view hex);

  const PublicKeyBytes& bytes() const { return bytes_; }
  std::string Hex() const;

  // Copy with an 80 KB fixed-base table for this key (~1 ms to build) that makes Verify about
  // 3x faster; for verifiers that check many signatures under one key (perpgw-sim).
  PublicKey WithPrecomputation() const;

  // OK iff `sig` is a valid signature of `hash`. Errors say why (out-of-range scalar,
  // non-canonical hash, mismatch).
  absl::Status Verify(const TxHash& hash, const Signature& sig) const;

 private:
  PublicKey() = default;
  std::shared_ptr<const internal::VerifyTables> tables_;
  PublicKeyBytes bytes_{};
};

// ---- tx hashing / tx_info ----

// Field checks mirroring the official SDK's Validate(); HashTx and SignTx call them.
absl::Status ValidateTx(const CreateOrderTx& tx);
absl::Status ValidateTx(const CancelOrderTx& tx);
absl::Status ValidateTx(const CancelAllOrdersTx& tx);
absl::Status ValidateTx(const ModifyOrderTx& tx);
absl::Status ValidateTx(const UpdateLeverageTx& tx);
absl::Status ValidateAttributes(const TxAttributes& attributes);

// The signed message: Poseidon2(chain_id, tx_type, nonce, expired_at, account, api key, fields...)
// combined with the attribute hash when any attribute is non-nil.
absl::StatusOr<TxHash> HashTx(const CreateOrderTx& tx, uint32_t chain_id);
absl::StatusOr<TxHash> HashTx(const CancelOrderTx& tx, uint32_t chain_id);
absl::StatusOr<TxHash> HashTx(const CancelAllOrdersTx& tx, uint32_t chain_id);
absl::StatusOr<TxHash> HashTx(const ModifyOrderTx& tx, uint32_t chain_id);
absl::StatusOr<TxHash> HashTx(const UpdateLeverageTx& tx, uint32_t chain_id);

// tx_info exactly as the official Go signer marshals it (key order, Sig as padded base64,
// L2TxAttributes as {"5":1} or null). No validation.
std::string TxInfoJson(const CreateOrderTx& tx, const Signature& sig);
std::string TxInfoJson(const CancelOrderTx& tx, const Signature& sig);
std::string TxInfoJson(const CancelAllOrdersTx& tx, const Signature& sig);
std::string TxInfoJson(const ModifyOrderTx& tx, const Signature& sig);
std::string TxInfoJson(const UpdateLeverageTx& tx, const Signature& sig);

struct SignedTx {
  TxType tx_type;
  TxHash hash;
  std::string hash_hex;  // 80 lowercase hex chars, matches the API's tx_hash
  Signature signature;
  std::string tx_info;  // the JSON string to POST as tx_info
};

absl::StatusOr<SignedTx> SignTx(const CreateOrderTx& tx, uint32_t chain_id, const PrivateKey& key);
absl::StatusOr<SignedTx> SignTx(const CancelOrderTx& tx, uint32_t chain_id, const PrivateKey& key);
absl::StatusOr<SignedTx> SignTx(const CancelAllOrdersTx& tx, uint32_t chain_id,
                                const PrivateKey& key);
absl::StatusOr<SignedTx> SignTx(const ModifyOrderTx& tx, uint32_t chain_id, const PrivateKey& key);
absl::StatusOr<SignedTx> SignTx(const UpdateLeverageTx& tx, uint32_t chain_id,
                                const PrivateKey& key);

// ---- auth token ----

// "<deadline_s>:<account_index>:<api_key_index>"
std::string AuthMessage(int64_t deadline_unix_s, int64_t account_index, uint8_t api_key_index);
// ASCII in 8-byte little-endian chunks (last zero-padded) -> Poseidon2 to Fp5.
absl::StatusOr<TxHash> HashAuthMessage(std::string_view message);
// "<message>:<sig lowercase hex>"
absl::StatusOr<std::string> MakeAuthToken(int64_t deadline_unix_s, int64_t account_index,
                                          uint8_t api_key_index, const PrivateKey& key);

struct AuthToken {
  int64_t deadline_unix_s = 0;
  int64_t account_index = 0;
  uint8_t api_key_index = 0;
  std::string message;
  Signature signature{};
};
// Parses the token format (no signature check, no clock).
absl::StatusOr<AuthToken> ParseAuthToken(std::string_view token);
// Parses and checks the signature; the caller checks the deadline against its clock.
absl::StatusOr<AuthToken> VerifyAuthToken(std::string_view token, const PublicKey& key);

// ---- encodings ----

std::string ToHex(std::span<const uint8_t> bytes);  // lowercase, no 0x
absl::StatusOr<TxHash> TxHashFromHex(std::string_view hex);
absl::StatusOr<Signature> SignatureFromHex(std::string_view hex);
std::string SignatureToBase64(const Signature& sig);
absl::StatusOr<Signature> SignatureFromBase64(std::string_view b64);

// ---- integer scaling (exact decimal strings, no floating point) ----

// "12.345" with decimals 3 -> 12345. Rejects signs, exponents, excess precision, overflow.
absl::StatusOr<int64_t> ScaleDecimal(std::string_view decimal, int decimals);
// Price = price * 10^price_decimals, must be in [1, 2^32 - 1].
absl::StatusOr<uint32_t> ScalePrice(std::string_view price, int price_decimals);
// BaseAmount = size * 10^size_decimals, must be in [0, 2^48 - 1].
absl::StatusOr<int64_t> ScaleBaseAmount(std::string_view size, int size_decimals);

}  // namespace perpgw::adapters::lighter
