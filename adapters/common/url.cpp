// URL parsing, percent-encoding and query building (pure; no I/O).
#include "adapters/common/url.h"

#include <cctype>
#include <charconv>

namespace perpgw::common {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

bool IsIpv4(std::string_view h) {
  int parts = 0;
  size_t i = 0;
  while (i <= h.size()) {
    size_t j = h.find('.', i);
    if (j == std::string_view::npos) j = h.size();
    std::string_view part = h.substr(i, j - i);
    if (part.empty() || part.size() > 3) return false;
    int v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

}  // namespace

bool IsIpLiteral(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6 literal
  return IsIpv4(host);
}

std::string Url::HostHeader() const {
  // Appends instead of operator+ chains: GCC 12 emits a false -Wrestrict on "[" + host.
  std::string h;
  bool v6 = host.find(':') != std::string::npos;
  if (v6) h.push_back('[');
  h.append(host);
  if (v6) h.push_back(']');
  if (!IsDefaultPort()) {
    h.push_back(':');
    h.append(std::to_string(port));
  }
  return h;
}

std::string Url::ToString() const { return scheme + "://" + HostHeader() + target; }

absl::StatusOr<Url> ParseUrl(std::string_view text) {
  const std::string err_prefix = "invalid url '" + std::string(text) + "': ";
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return absl::InvalidArgumentError(err_prefix + "no scheme");
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme == "ws" || url.scheme == "http") {
    url.tls = false;
  } else if (url.scheme == "wss" || url.scheme == "https") {
    url.tls = true;
  } else {
    return absl::InvalidArgumentError(err_prefix + "unsupported scheme '" + url.scheme + "'");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t frag = rest.find('#');
  if (frag != std::string_view::npos) rest = rest.substr(0, frag);
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(err_prefix + "user-info is not supported");
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(err_prefix + "unterminated IPv6 literal");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return absl::InvalidArgumentError(err_prefix + "bad port");
      port_text = after.substr(1);
      if (port_text.empty()) return absl::InvalidArgumentError(err_prefix + "empty port");
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return absl::InvalidArgumentError(err_prefix + "empty port");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError(err_prefix + "empty host");
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '?') {
      return absl::InvalidArgumentError(err_prefix + "bad character in host");
    }
  }
  url.host = Lower(host);
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v == 0 || v > 65535) {
      return absl::InvalidArgumentError(err_prefix + "bad port '" + std::string(port_text) + "'");
    }
    url.port = static_cast<uint16_t>(v);
  } else {
    url.port = url.tls ? 443 : 80;
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(err_prefix + "unencoded space or control in path");
    }
  }
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  return url;
}

void AppendPercentEncoded(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  AppendPercentEncoded(&out, s);
  return out;
}

QueryBuilder& QueryBuilder::Add(std::string_view key, std::string_view value) {
  params_.emplace_back(PercentEncode(key), PercentEncode(value));
  return *this;
}

QueryBuilder& QueryBuilder::Add(std::string_view key, int64_t value) {
  params_.emplace_back(PercentEncode(key), std::to_string(value));
  return *this;
}

QueryBuilder& QueryBuilder::AddRaw(std::string_view key, std::string_view value) {
  params_.emplace_back(std::string(key), std::string(value));
  return *this;
}

std::string QueryBuilder::Build() const {
  std::string out;
  for (const auto& [k, v] : params_) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string QueryBuilder::BuildTarget(std::string_view path) const {
  std::string out(path);
  if (!params_.empty()) {
    out.push_back('?');
    out += Build();
  }
  return out;
}

}  // namespace perpgw::common
