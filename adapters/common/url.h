// URL parsing (ws/wss/http/https), RFC 3986 percent-encoding and an ordered query-string builder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace perpgw::common {

struct Url {
  std::string scheme;  // lower-case: "ws", "wss", "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit port, or 80/443 by scheme
  std::string target;  // path + optional "?query"; always starts with '/'
  bool tls = false;    // wss or https

  bool IsDefaultPort() const { return port == (tls ? 443 : 80); }
  // Value for the HTTP Host header: host, "[v6]" brackets restored, ":port" only if not default.
  std::string HostHeader() const;
  // scheme://host[:port]target
  std::string ToString() const;
};

// Accepts ws://, wss://, http://, https:// (scheme case-insensitive). Rejects user-info,
// fragments are dropped, an empty path becomes "/". Ports must be 1..65535.
absl::StatusOr<Url> ParseUrl(std::string_view text);

// True for a dotted IPv4 or an IPv6 literal (no brackets): such hosts get no SNI.
bool IsIpLiteral(std::string_view host);

// Percent-encodes every byte outside the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~),
// upper-case hex ("a b" -> "a%20b"). Suitable for query keys and values and path segments.
std::string PercentEncode(std::string_view s);
void AppendPercentEncoded(std::string* out, std::string_view s);

// Builds "k1=v1&k2=v2" in insertion order (venue signatures are over the exact string sent).
class QueryBuilder {
 public:
  QueryBuilder& Add(std::string_view key, std::string_view value);
  QueryBuilder& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  QueryBuilder& Add(std::string_view key, int64_t value);
  // Adds the value as-is (caller guarantees it needs no encoding, e.g. already encoded).
  QueryBuilder& AddRaw(std::string_view key, std::string_view value);

  bool empty() const { return params_.empty(); }
  size_t size() const { return params_.size(); }
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }

  // Encoded query string without a leading '?'.
  std::string Build() const;
  // path + "?" + query, or just path when there are no parameters.
  std::string BuildTarget(std::string_view path) const;

 private:
  // Stored already encoded.
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace perpgw::common
