// Aster V1 (HMAC) and V3 (EIP-712 / legacy ABI) signing over libsecp256k1 and our Keccak-256.
#include "adapters/aster/signing.h"

#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <cstring>

#include "adapters/common/crypto.h"
#include "adapters/common/keccak.h"

namespace perpgw::adapters::aster {
namespace {

using crypto::Keccak256;
using crypto::Keccak256Hasher;

// One signing context for the process. Randomization only blinds the key against side
// channels; signatures stay RFC 6979 deterministic either way.
const secp256k1_context* Context() {
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    unsigned char seed[32];
    if (RAND_bytes(seed, sizeof(seed)) == 1) {
      if (!secp256k1_context_randomize(c, seed)) {
        // Unblinded context still signs correctly.
      }
    }
    crypto::SecureWipe(seed, sizeof(seed));
    return c;
  }();
  return ctx;
}

void PutUint256(uint64_t v, uint8_t out[32]) {
  std::memset(out, 0, 32);
  for (int i = 0; i < 8; ++i) out[31 - i] = static_cast<uint8_t>(v >> (8 * i));
}

// "0x" + 40 hex digits → 20 bytes.
absl::StatusOr<std::array<uint8_t, 20>> ParseAddress(std::string_view hex) {
  if (hex.size() != 42 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X')) {
    return absl::InvalidArgumentError("address must be 0x followed by 40 hex digits");
  }
  auto bytes = crypto::HexDecode(hex);
  if (!bytes.ok()) return absl::InvalidArgumentError("address has a non-hex character");
  std::array<uint8_t, 20> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

std::string ChecksumFromBytes(const uint8_t* addr20) {
  std::string lower = crypto::HexEncode(addr20, 20);
  Hash32 h = Keccak256(lower);
  std::string out = "0x";
  for (size_t i = 0; i < 40; ++i) {
    char c = lower[i];
    int nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 15);
    if (c >= 'a' && c <= 'f' && nibble >= 8) c = static_cast<char>(c - 'a' + 'A');
    out += c;
  }
  return out;
}

Hash32 KeccakOfHashes(std::initializer_list<const uint8_t*> words) {
  Keccak256Hasher h;
  for (const uint8_t* w : words) h.Update(w, 32);
  return h.Finish();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
std::string HmacSignatureV1(std::string_view secret, std::string_view query,
                            std::string_view body) {
  if (body.empty()) return crypto::HmacSha256Hex(secret, query);
  std::string total;
  total.reserve(query.size() + body.size());
  total.append(query).append(body);
  return crypto::HmacSha256Hex(secret, total);
}

absl::StatusOr<std::string> SignV1Params(std::string_view secret, std::string_view params,
                                         int64_t timestamp_ms, int64_t recv_window_ms) {
  if (secret.empty()) return absl::InvalidArgumentError("V1 secret key is empty");
  if (timestamp_ms <= 0) return absl::InvalidArgumentError("V1 timestamp must be positive");
  if (recv_window_ms < 0 || recv_window_ms > kMaxRecvWindowMs) {
    return absl::InvalidArgumentError("recvWindow must be within 0..60000 ms");
  }
  std::string out(params);
  if (recv_window_ms > 0) {
    if (!out.empty()) out += '&';
    out += "recvWindow=" + std::to_string(recv_window_ms);
  }
  if (!out.empty()) out += '&';
  out += "timestamp=" + std::to_string(timestamp_ms);
  std::string sig = HmacSignatureV1(secret, out);
  out += "&signature=" + sig;
  return out;
}

// ---------------------------------------------------------------------------------------------
Hash32 Eip712DomainSeparator(uint64_t chain_id) {
  static const Hash32 kDomainType = Keccak256(
      "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
  static const Hash32 kName = Keccak256("AsterSignTransaction");
  static const Hash32 kVersion = Keccak256("1");
  uint8_t chain[32];
  PutUint256(chain_id, chain);
  uint8_t zero_address[32] = {};
  return KeccakOfHashes({kDomainType.data(), kName.data(), kVersion.data(), chain, zero_address});
}

Hash32 Eip712MessageStructHash(std::string_view msg) {
  static const Hash32 kMessageType = Keccak256("Message(string msg)");
  Hash32 msg_hash = Keccak256(msg);
  return KeccakOfHashes({kMessageType.data(), msg_hash.data()});
}

namespace {
Hash32 TypedDataDigest(const Hash32& domain, const Hash32& struct_hash) {
  Keccak256Hasher h;
  const uint8_t prefix[2] = {0x19, 0x01};
  h.Update(prefix, 2);
  h.Update(domain.data(), 32);
  h.Update(struct_hash.data(), 32);
  return h.Finish();
}
}  // namespace

Hash32 Eip712MessageDigest(std::string_view msg, uint64_t chain_id) {
  return TypedDataDigest(Eip712DomainSeparator(chain_id), Eip712MessageStructHash(msg));
}

Hash32 ApproveBuilderDigest(const ApproveBuilderMessage& m, uint64_t chain_id) {
  static const Hash32 kType = Keccak256(
      "ApproveBuilder(string Builder,string MaxFeeRate,string BuilderName,string AsterChain,"
      "string User,uint256 Nonce)");
  Hash32 builder = Keccak256(m.builder), fee = Keccak256(m.max_fee_rate),
         name = Keccak256(m.builder_name), chain = Keccak256(m.aster_chain),
         user = Keccak256(m.user);
  uint8_t nonce[32];
  PutUint256(m.nonce, nonce);
  Hash32 s = KeccakOfHashes(
      {kType.data(), builder.data(), fee.data(), name.data(), chain.data(), user.data(), nonce});
  return TypedDataDigest(Eip712DomainSeparator(chain_id), s);
}

// ---------------------------------------------------------------------------------------------
absl::StatusOr<EvmSigner> EvmSigner::FromPrivateKeyHex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.size() != 64) return absl::InvalidArgumentError("private key must be 32 bytes of hex");
  auto bytes = crypto::HexDecode(hex);
  if (!bytes.ok()) return absl::InvalidArgumentError("private key is not valid hex");
  EvmSigner s;
  std::copy(bytes->begin(), bytes->end(), s.key_.begin());
  crypto::SecureWipe(bytes->data(), bytes->size());
  const secp256k1_context* ctx = Context();
  if (!secp256k1_ec_seckey_verify(ctx, s.key_.data())) {
    return absl::InvalidArgumentError("private key is out of range for secp256k1");
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(ctx, &pub, s.key_.data())) {
    return absl::InternalError("could not derive the public key");
  }
  uint8_t ser[65];
  size_t len = sizeof(ser);
  secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  Hash32 h = Keccak256(ser + 1, 64);
  s.address_ = ChecksumFromBytes(h.data() + 12);
  return s;
}

EvmSigner::EvmSigner(EvmSigner&& other) noexcept
    : key_(other.key_), address_(std::move(other.address_)) {
  crypto::SecureWipe(other.key_.data(), other.key_.size());
}

EvmSigner& EvmSigner::operator=(EvmSigner&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    address_ = std::move(other.address_);
    crypto::SecureWipe(other.key_.data(), other.key_.size());
  }
  return *this;
}

EvmSigner::~EvmSigner() { crypto::SecureWipe(key_.data(), key_.size()); }

absl::StatusOr<std::array<uint8_t, 65>> EvmSigner::SignDigest(const Hash32& digest) const {
  if (address_.empty()) return absl::FailedPreconditionError("signer has no key");
  const secp256k1_context* ctx = Context();
  secp256k1_ecdsa_recoverable_signature sig;
  if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest.data(), key_.data(), nullptr,
                                        nullptr)) {
    return absl::InternalError("secp256k1 signing failed");
  }
  std::array<uint8_t, 65> out;
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out.data(), &recid, &sig);
  out[64] = static_cast<uint8_t>(27 + recid);
  return out;
}

absl::StatusOr<std::string> EvmSigner::SignDigestHex(const Hash32& digest) const {
  auto sig = SignDigest(digest);
  if (!sig.ok()) return sig.status();
  return "0x" + crypto::HexEncode(sig->data(), sig->size());
}

absl::StatusOr<std::string> ChecksumAddress(std::string_view address_hex) {
  auto a = ParseAddress(address_hex);
  if (!a.ok()) return a.status();
  return ChecksumFromBytes(a->data());
}

absl::StatusOr<std::string> RecoverAddress(const Hash32& digest, std::string_view signature_hex) {
  auto bytes = crypto::HexDecode(signature_hex);
  if (!bytes.ok() || bytes->size() != 65) {
    return absl::InvalidArgumentError("signature must be 65 bytes of hex");
  }
  int v = (*bytes)[64];
  if (v >= 27) v -= 27;
  if (v != 0 && v != 1) return absl::InvalidArgumentError("signature v must be 27/28 or 0/1");
  const secp256k1_context* ctx = Context();
  secp256k1_ecdsa_recoverable_signature sig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, bytes->data(), v)) {
    return absl::InvalidArgumentError("signature r/s out of range");
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(ctx, &pub, &sig, digest.data())) {
    return absl::InvalidArgumentError("signature does not recover to a public key");
  }
  uint8_t ser[65];
  size_t len = sizeof(ser);
  secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  Hash32 h = Keccak256(ser + 1, 64);
  return ChecksumFromBytes(h.data() + 12);
}

std::string BuildV3Message(std::string_view params, const V3Auth& auth, uint64_t nonce_us) {
  std::string auth_part = "nonce=" + std::to_string(nonce_us);
  if (auth.include_user) auth_part += "&user=" + auth.user;
  auth_part += "&signer=" + auth.signer;
  if (params.empty()) return auth_part;
  std::string out;
  out.reserve(params.size() + auth_part.size() + 1);
  if (auth.placement == AuthPlacement::kFirst) {
    out.append(auth_part).append("&").append(params);
  } else {
    out.append(params).append("&").append(auth_part);
  }
  return out;
}

absl::StatusOr<std::string> SignV3Params(const EvmSigner& key, const V3Auth& auth,
                                         std::string_view params, uint64_t nonce_us) {
  if (nonce_us == 0) return absl::InvalidArgumentError("V3 nonce must be positive");
  if (auto s = ParseAddress(auth.signer); !s.ok()) {
    return absl::InvalidArgumentError("V3 signer: " + std::string(s.status().message()));
  }
  if (auth.include_user) {
    if (auto u = ParseAddress(auth.user); !u.ok()) {
      return absl::InvalidArgumentError("V3 user: " + std::string(u.status().message()));
    }
  }
  std::string msg = BuildV3Message(params, auth, nonce_us);
  auto sig = key.SignDigestHex(Eip712MessageDigest(msg, auth.chain_id));
  if (!sig.ok()) return sig.status();
  msg += "&signature=";
  msg += *sig;
  return msg;
}

uint64_t NonceSequence::Next(uint64_t now_us) {
  uint64_t last = last_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next = std::max(now_us, last + 1);
    if (last_.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
  }
}

// ---------------------------------------------------------------------------------------------
std::string LegacyJsonString(std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto append_escaped = [](std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
  };
  std::string out = "{";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out += ',';
    append_escaped(out, params[i].first);
    out += ':';
    append_escaped(out, params[i].second);
  }
  out += '}';
  return out;
}

absl::StatusOr<std::vector<uint8_t>> LegacyAbiEncode(std::string_view json, std::string_view user,
                                                     std::string_view signer, uint64_t nonce) {
  auto u = ParseAddress(user);
  if (!u.ok()) return absl::InvalidArgumentError("legacy user: " + std::string(u.status().message()));
  auto s = ParseAddress(signer);
  if (!s.ok()) {
    return absl::InvalidArgumentError("legacy signer: " + std::string(s.status().message()));
  }
  // Head: offset of the dynamic string (4 words = 0x80), user, signer, nonce; tail: length, data
  // right-padded to a word boundary.
  size_t padded = (json.size() + 31) / 32 * 32;
  std::vector<uint8_t> out(32 * 5 + padded, 0);
  PutUint256(0x80, out.data());
  std::copy(u->begin(), u->end(), out.begin() + 32 + 12);
  std::copy(s->begin(), s->end(), out.begin() + 64 + 12);
  PutUint256(nonce, out.data() + 96);
  PutUint256(json.size(), out.data() + 128);
  std::memcpy(out.data() + 160, json.data(), json.size());
  return out;
}

Hash32 PersonalMessageDigest(const Hash32& hash) {
  Keccak256Hasher h;
  h.Update("\x19" "Ethereum Signed Message:\n32");
  h.Update(hash.data(), hash.size());
  return h.Finish();
}

absl::StatusOr<std::string> SignLegacyV3(const EvmSigner& key, std::string_view json,
                                         std::string_view user, std::string_view signer,
                                         uint64_t nonce) {
  auto abi = LegacyAbiEncode(json, user, signer, nonce);
  if (!abi.ok()) return abi.status();
  Hash32 h = Keccak256(abi->data(), abi->size());
  return key.SignDigestHex(PersonalMessageDigest(h));
}

}  // namespace perpgw::adapters::aster
