// Secret wipes its bytes when destroyed.
#include "adapters/api/venue_config.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

namespace perpgw {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

template <typename V>
absl::Status CheckOptionKeys(const std::map<std::string, V>& m,
                             const std::vector<std::string>& allowed, const std::string& what) {
  for (const auto& [k, v] : m) {
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    std::string known;
    for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
    return absl::InvalidArgumentError(what + "." + k.substr(0, 64) + ": unknown key (known: " +
                                      (known.empty() ? "none" : known) + ")");
  }
  return absl::OkStatus();
}
template absl::Status CheckOptionKeys(const std::map<std::string, std::string>&,
                                      const std::vector<std::string>&, const std::string&);
template absl::Status CheckOptionKeys(const std::map<std::string, Secret>&,
                                      const std::vector<std::string>&, const std::string&);

absl::StatusOr<int64_t> ParseIntOption(const std::string& text, int64_t min, int64_t max,
                                       const std::string& what) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < min || v > max) {
    return absl::InvalidArgumentError(what + ": must be a whole number in [" +
                                      std::to_string(min) + ", " + std::to_string(max) +
                                      "], got '" + text.substr(0, 32) + "'");
  }
  return v;
}

}  // namespace perpgw
