// publish.nats.url: one NATS server or a comma-separated list of them (a cluster's seeds).
// libnats 3.4's natsOptions_SetURL takes one URL only (a list gives "No server available"), so
// the publisher and the consumers (bench/nats_book.cpp) split the list with SplitNatsServers and
// pass it to natsOptions_SetServers. Header-only and without libnats: the config (gateway/config)
// validates the list with the same code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace perpgw::gateway::publish {

// The entries of a comma-separated list, each trimmed of spaces and tabs (empty entries kept,
// so the validator can name them).
inline std::vector<std::string> SplitNatsServers(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    std::string_view one = list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// The host of a server entry that NatsServerProblem accepts ("a", "10.0.0.5", "::1").
inline std::string_view NatsServerHost(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  if (!rest.empty() && rest.front() == '[') return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

// Whether any server of the list is tls:// (then TLS settings are required).
inline bool AnyTlsServer(const std::vector<std::string>& servers) {
  for (const auto& one : servers) {
    if (one.rfind("tls://", 0) == 0) return true;
  }
  return false;
}

// The name the servers' TLS certificates must carry when none is configured: their common
// host, unless it is an IP address (libnats checks a name, never an address). "" with *why set
// when there is none to take.
inline std::string DefaultNatsServerName(const std::vector<std::string>& servers,
                                         std::string* why) {
  if (servers.empty()) return "";
  const std::string_view host = NatsServerHost(servers[0]);
  for (const auto& one : servers) {
    if (NatsServerHost(one) != host) {
      *why = "required when the servers' hosts differ: the name in their certificates";
      return "";
    }
  }
  const bool ip = host.find(':') != std::string_view::npos ||
                  host.find_first_not_of("0123456789.") == std::string_view::npos;
  if (ip || host.empty()) {
    *why = "required when the server is an IP address: the name in its certificate";
    return "";
  }
  return std::string(host);
}

// `url` with anything before an '@' of its authority replaced by "***" (for messages).
inline std::string RedactNatsServer(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(url);
  }
  return std::string(url.substr(0, scheme + 3)) + "***" + std::string(url.substr(at));
}

// Empty when `url` is a server libnats can connect to: nats://host[:port] or tls://... (no
// port: 4222; host a name, IPv4 or [IPv6]; nothing after the port). Else why not. A bare
// host:port is accepted by libnats too, but the README documents the scheme: required.
// user[:password]@ (or token@) is refused: a secret written in the config, and the URL is
// logged; publish.nats takes user/password, token or creds_file from the environment or files.
inline std::string NatsServerProblem(std::string_view url) {
  if (url.empty()) return "empty entry";
  std::string_view rest;
  if (url.substr(0, 7) == "nats://") {
    rest = url.substr(7);
  } else if (url.substr(0, 6) == "tls://") {
    rest = url.substr(6);
  } else {
    return "must be nats://host:port or tls://host:port";
  }
  if (rest.find('@') != std::string_view::npos) {
    return "no credentials in the URL (user:password@ or token@): use publish.nats.user + "
           "password, token or creds_file";
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return "unclosed '[' in the IPv6 address";
    host = rest.substr(0, close + 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "expected ':port' after the IPv6 address";
      port = after.substr(1);
      if (port.empty()) return "empty port";
    }
  } else if (const size_t colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return "empty port";
  }
  if (host.empty() || host == "[]") return "no host";
  for (unsigned char c : host) {
    if (c <= ' ' || c == '/' || c == '?' || c == '#' || c == 0x7f) return "bad character in host";
  }
  if (!port.empty()) {
    for (char c : port) {
      if (c < '0' || c > '9') return "port must be a number (1-65535), nothing after it";
    }
    if (port.size() > 5) return "port must be 1-65535";
    int v = 0;
    for (char c : port) v = v * 10 + (c - '0');
    if (v < 1 || v > 65535) return "port must be 1-65535";
  }
  return {};
}

}  // namespace perpgw::gateway::publish
