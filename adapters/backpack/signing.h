// Backpack Ed25519 request signing: canonical signing strings, auth headers, WS subscribe
// signature, and the server-side verifier the sim uses. Time and window are parameters.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/common/crypto.h"

namespace perpgw::adapters::backpack {

inline constexpr int64_t kDefaultWindowMs = 5000;
inline constexpr int64_t kMaxWindowMs = 60000;

// One request parameter, value already rendered the way it is signed (and sent): strings raw,
// integers in decimal, booleans "true"/"false". Absent/null parameters are simply not added.
struct SignParam {
  std::string key;
  std::string value;
};

// Small builder so call sites cannot get the boolean/integer rendering wrong.
class ParamList {
 public:
  ParamList& Add(std::string_view key, std::string_view value);
  ParamList& AddBool(std::string_view key, bool value);
  ParamList& AddInt(std::string_view key, int64_t value);
  ParamList& AddUint(std::string_view key, uint64_t value);
  const std::vector<SignParam>& params() const { return params_; }
  std::vector<SignParam>&& Take() && { return std::move(params_); }

 private:
  std::vector<SignParam> params_;
};

// "instruction=<name>&<sorted k=v>&timestamp=<ms>&window=<ms>". Params are sorted by key
// (byte-wise); values are not URL-encoded.
std::string BuildSigningString(std::string_view instruction, std::vector<SignParam> params,
                               int64_t timestamp_ms, int64_t window_ms);
// Batch orders: one "instruction=<name>&<sorted fields>" segment per item joined with '&', then
// "&timestamp=..&window=.." once.
std::string BuildBatchSigningString(std::string_view instruction,
                                    std::vector<std::vector<SignParam>> items, int64_t timestamp_ms,
                                    int64_t window_ms);

// The four auth headers (values only; names are kHeader*).
inline constexpr std::string_view kHeaderApiKey = "X-API-Key";
inline constexpr std::string_view kHeaderSignature = "X-Signature";
inline constexpr std::string_view kHeaderTimestamp = "X-Timestamp";
inline constexpr std::string_view kHeaderWindow = "X-Window";

struct AuthHeaders {
  std::string api_key;         // X-API-Key: base64 public key
  std::string signature;       // X-Signature: base64 Ed25519 signature
  std::string timestamp;       // X-Timestamp: ms
  std::string window;          // X-Window: ms
  std::string signing_string;  // what was signed (no secret in it; handy for debugging)
};

// The private-stream subscribe signature: [api key, signature, timestamp, window], all strings.
struct WsSignature {
  std::string api_key, signature, timestamp, window;
};

// Holds the API secret. Accepts the base64 32-byte seed the UI hands out, or a 64-byte
// seed||public blob (first 32 bytes used; the public half must match). Errors never echo it.
class Signer {
 public:
  static absl::StatusOr<Signer> FromSecretBase64(std::string_view secret_b64);

  const std::string& api_key() const { return api_key_b64_; }

  // Window must be in [1, 60000] ms; timestamp > 0.
  absl::StatusOr<AuthHeaders> Sign(std::string_view instruction, std::vector<SignParam> params,
                                   int64_t timestamp_ms,
                                   int64_t window_ms = kDefaultWindowMs) const;
  absl::StatusOr<AuthHeaders> SignBatch(std::string_view instruction,
                                        std::vector<std::vector<SignParam>> items,
                                        int64_t timestamp_ms,
                                        int64_t window_ms = kDefaultWindowMs) const;
  // Signs "instruction=subscribe&timestamp=..&window=..".
  absl::StatusOr<WsSignature> SignWsSubscribe(int64_t timestamp_ms,
                                              int64_t window_ms = kDefaultWindowMs) const;
  // Raw signature over an already-built signing string, base64.
  std::string SignStringBase64(std::string_view signing_string) const;

 private:
  explicit Signer(crypto::Ed25519Key key);
  crypto::Ed25519Key key_;
  std::string api_key_b64_;
};

// Instruction name for a REST call (method upper case, path without query), e.g.
// ("POST", "/api/v1/order") -> "orderExecute". NotFound for unsigned/unknown routes.
absl::StatusOr<std::string> InstructionFor(std::string_view method, std::string_view path);

// Request parameters as the server rebuilds them. Object body -> one list; array body (batch)
// -> one list per element. Strings raw, numbers as their JSON text, booleans lower-case, null
// skipped; nested objects/arrays are rejected (Backpack bodies are flat).
absl::StatusOr<std::vector<SignParam>> ParamsFromJsonObject(std::string_view json);
absl::StatusOr<std::vector<std::vector<SignParam>>> ParamsFromJsonArray(std::string_view json);
// "a=1&b=x%20y" -> params, percent-decoded ('+' stays '+').
absl::StatusOr<std::vector<SignParam>> ParamsFromQueryString(std::string_view query);

// Server-side check for the sim. Header values as received. `now_ms` (optional) enables the
// expiry check (rejects when now > timestamp + window, or timestamp too far in the future).
// Errors carry the venue's messages: "Invalid signature", "Request has expired", "Invalid
// X-Window header", ... (status code kUnauthenticated / kInvalidArgument).
struct SignedRequestView {
  std::string_view api_key, signature, timestamp, window;  // window empty -> 5000
};
absl::Status VerifyRequest(const SignedRequestView& headers, std::string_view instruction,
                           const std::vector<SignParam>& params,
                           std::optional<int64_t> now_ms = std::nullopt);
absl::Status VerifyBatchRequest(const SignedRequestView& headers, std::string_view instruction,
                                const std::vector<std::vector<SignParam>>& items,
                                std::optional<int64_t> now_ms = std::nullopt);
// Private WS subscribe: the frame's signature array.
absl::Status VerifyWsSubscribe(const WsSignature& sig,
                               std::optional<int64_t> now_ms = std::nullopt);

}  // namespace perpgw::adapters::backpack
