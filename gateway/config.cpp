// YAML config loader with strict keys, typed values and secret indirection (env/file).
#include "gateway/config.h"

#include "gateway/publish/nats_url.h"
#include "gateway/venues.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace perpgw::gateway {
namespace {

// Files named in config are read with a cap, so /dev/zero or a wrong multi-GB path is an error,
// not a hang or an out-of-memory.
constexpr size_t kMaxSecretFileBytes = 64 * 1024;
constexpr size_t kMaxConfigFileBytes = 16 * 1024 * 1024;
constexpr size_t kMaxPemFileBytes = 1024 * 1024;
enum class ReadResult { kOk, kCannotOpen, kTooLarge };
ReadResult ReadFileCapped(const std::string& path, size_t max_bytes, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return ReadResult::kCannotOpen;
  out->clear();
  char buf[8192];
  while (f) {
    f.read(buf, sizeof buf);
    out->append(buf, static_cast<size_t>(f.gcount()));
    if (out->size() > max_bytes) return ReadResult::kTooLarge;
  }
  if (f.bad()) return ReadResult::kCannotOpen;
  return ReadResult::kOk;
}

class Problems {
 public:
  explicit Problems(std::string source) : source_(std::move(source)) {}
  void Add(const std::string& key, const std::string& why) {
    list_.push_back(source_ + ": " + key + ": " + why);
  }
  bool empty() const { return list_.empty(); }
  std::string Join() const {
    std::string out = std::to_string(list_.size()) + " config problem(s):";
    for (const auto& p : list_) out += "\n  " + p;
    return out;
  }

 private:
  std::string source_;
  std::vector<std::string> list_;
};

std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

// Reports keys of `node` not in `allowed`.
void CheckKeys(const YAML::Node& node, const std::string& path,
               const std::set<std::string>& allowed, Problems& p) {
  if (!node.IsMap()) {
    p.Add(path.empty() ? "<root>" : path, "must be a mapping");
    return;
  }
  for (const auto& kv : node) {
    std::string k = kv.first.as<std::string>("");
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      p.Add(Join(path, k), "unknown key (allowed: " + list + ")");
    }
  }
}

bool GetString(const YAML::Node& n, const std::string& path, std::string* out, Problems& p) {
  if (!n) return false;
  if (!n.IsScalar()) {
    p.Add(path, "must be a string");
    return false;
  }
  *out = n.Scalar();
  return true;
}

bool GetBool(const YAML::Node& n, const std::string& path, bool* out, Problems& p) {
  if (!n) return false;
  std::string s;
  if (!n.IsScalar()) {
    p.Add(path, "must be true or false");
    return false;
  }
  s = n.Scalar();
  if (s == "true" || s == "yes" || s == "on") {
    *out = true;
  } else if (s == "false" || s == "no" || s == "off") {
    *out = false;
  } else {
    p.Add(path, "must be true or false, got '" + s + "'");
    return false;
  }
  return true;
}

template <typename T>
bool GetInt(const YAML::Node& n, const std::string& path, T* out, int64_t lo, int64_t hi,
            Problems& p) {
  if (!n) return false;
  if (!n.IsScalar()) {
    p.Add(path, "must be an integer");
    return false;
  }
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0) {
    p.Add(path, "must be an integer, got '" + s + "'");
    return false;
  }
  if (v < lo || v > hi) {
    p.Add(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return false;
  }
  *out = static_cast<T>(v);
  return true;
}

bool GetDecimal(const YAML::Node& n, const std::string& path, Decimal* out, Problems& p) {
  if (!n) return false;
  if (!n.IsScalar()) {
    p.Add(path, "must be a decimal number");
    return false;
  }
  auto d = Decimal::Parse(n.Scalar());
  if (!d.ok()) {
    p.Add(path, "must be a decimal number, got '" + n.Scalar() + "'");
    return false;
  }
  *out = *d;
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A secret: {env: NAME} or {file: PATH} (or a plain string, refused unless allow_inline).
bool GetSecret(const YAML::Node& n, const std::string& path, Secret* out, Problems& p) {
  if (!n) return false;
  if (n.IsScalar()) {
    p.Add(path, "secrets must not be written in the config; use {env: VAR} or {file: PATH}");
    return false;
  }
  CheckKeys(n, path, {"env", "file", "optional"}, p);
  if (!n.IsMap()) return false;
  if (n["env"] && n["file"]) {
    p.Add(path, "give either env or file, not both");
    return false;
  }
  bool optional = false;
  GetBool(n["optional"], Join(path, "optional"), &optional, p);
  std::string name;
  if (GetString(n["env"], Join(path, "env"), &name, p)) {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) {
      if (!optional) p.Add(path, "environment variable " + name + " is not set or empty");
      return false;
    }
    *out = Secret(v);
    return true;
  }
  if (GetString(n["file"], Join(path, "file"), &name, p)) {
    std::string text;
    switch (ReadFileCapped(name, kMaxSecretFileBytes, &text)) {
      case ReadResult::kOk:
        break;
      case ReadResult::kCannotOpen:
        if (!optional) p.Add(path, "cannot read secret file " + name);
        return false;
      case ReadResult::kTooLarge:
        // Never a silent truncation (a cut key signs wrongly) nor an endless read (/dev/zero).
        p.Add(path, "secret file " + name + " is larger than " +
                        std::to_string(kMaxSecretFileBytes) + " bytes");
        return false;
    }
    std::string v = Trim(text);
    if (v.empty()) {
      if (!optional) p.Add(path, "secret file " + name + " is empty");
      return false;
    }
    *out = Secret(v);
    return true;
  }
  p.Add(path, "needs env or file");
  return false;
}

bool ValidUrl(const std::string& u, bool ws) {
  if (ws) return u.rfind("ws://", 0) == 0 || u.rfind("wss://", 0) == 0;
  return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
}

bool ValidListen(const std::string& l) {
  auto colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string port = l.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoi(port) <= 65535;
}

void ParseVenue(const std::string& name, const YAML::Node& n, const std::string& path,
                const VenueDefaults& def, Config& cfg, Problems& p) {
  VenueConfig v;
  v.name = name;
  v.rest_url = def.rest_url;
  v.ws_url = def.ws_url;
  if (!n || n.IsNull()) {
    cfg.venues[name] = v;
    return;
  }
  CheckKeys(n, path,
            {"enabled", "rest_url", "ws_url", "private_ws_url", "tls_verify", "symbols", "fees",
             "stale_after_ms", "options"},
            p);
  if (!n.IsMap()) return;
  GetBool(n["enabled"], Join(path, "enabled"), &v.enabled, p);
  if (GetString(n["rest_url"], Join(path, "rest_url"), &v.rest_url, p) &&
      !ValidUrl(v.rest_url, false)) {
    p.Add(Join(path, "rest_url"), "must start with http:// or https://");
  }
  if (GetString(n["ws_url"], Join(path, "ws_url"), &v.ws_url, p) && !ValidUrl(v.ws_url, true)) {
    p.Add(Join(path, "ws_url"), "must start with ws:// or wss://");
  }
  if (GetString(n["private_ws_url"], Join(path, "private_ws_url"), &v.private_ws_url, p) &&
      !ValidUrl(v.private_ws_url, true)) {
    p.Add(Join(path, "private_ws_url"), "must start with ws:// or wss://");
  }
  GetBool(n["tls_verify"], Join(path, "tls_verify"), &v.tls_verify, p);
  GetInt(n["stale_after_ms"], Join(path, "stale_after_ms"), &v.stale_after_ms, 100, 3600000, p);
  if (auto s = n["symbols"]) {
    if (!s.IsSequence()) {
      p.Add(Join(path, "symbols"), "must be a list of tickers (or [\"*\"])");
    } else {
      for (size_t i = 0; i < s.size(); ++i) {
        std::string sym;
        std::string sp = Join(path, "symbols[" + std::to_string(i) + "]");
        if (GetString(s[i], sp, &sym, p)) {
          if (sym.empty()) p.Add(sp, "empty ticker");
          else v.symbols.push_back(sym);
        }
      }
    }
  }
  if (auto f = n["fees"]) {
    CheckKeys(f, Join(path, "fees"), {"maker", "taker"}, p);
    if (f.IsMap()) {
      GetDecimal(f["maker"], Join(path, "fees.maker"), &v.fees.maker, p);
      GetDecimal(f["taker"], Join(path, "fees.taker"), &v.fees.taker, p);
      if (v.fees.taker.IsNegative()) p.Add(Join(path, "fees.taker"), "must not be negative");
    }
  }
  if (auto o = n["options"]) {
    if (!o.IsMap()) {
      p.Add(Join(path, "options"), "must be a mapping of strings");
    } else {
      for (const auto& kv : o) {
        std::string k = kv.first.as<std::string>("");
        std::string val;
        if (GetString(kv.second, Join(path, "options." + k), &val, p)) v.options[k] = val;
      }
    }
  }
  cfg.venues[name] = v;
}

// One limits mapping (risk.defaults or risk.accounts.<id>); absent keys stay unset.
void GetLimits(const YAML::Node& n, const std::string& path, risk::Limits* l, Problems& p) {
  CheckKeys(n, path,
            {"max_order_notional", "max_open_orders", "max_position_notional",
             "max_total_position_notional", "max_orders_per_second", "max_orders_per_minute",
             "max_cancels_per_second", "max_cancels_per_minute", "price_band_touch_bps",
             "price_band_mark_bps", "reduce_only"},
            p);
  if (!n.IsMap()) return;
  auto dec = [&](const char* key, std::optional<Decimal>* out) {
    Decimal d;
    if (!GetDecimal(n[key], Join(path, key), &d, p)) return;
    if (d.IsNegative()) return p.Add(Join(path, key), "must not be negative");
    *out = d;
  };
  auto count = [&](const char* key, std::optional<int64_t>* out) {
    int64_t v = 0;
    if (GetInt(n[key], Join(path, key), &v, 0, 1000000000, p)) *out = v;
  };
  dec("max_order_notional", &l->max_order_notional);
  count("max_open_orders", &l->max_open_orders);
  dec("max_position_notional", &l->max_position_notional);
  dec("max_total_position_notional", &l->max_total_position_notional);
  count("max_orders_per_second", &l->max_orders_per_second);
  count("max_orders_per_minute", &l->max_orders_per_minute);
  count("max_cancels_per_second", &l->max_cancels_per_second);
  count("max_cancels_per_minute", &l->max_cancels_per_minute);
  dec("price_band_touch_bps", &l->price_band_touch_bps);
  dec("price_band_mark_bps", &l->price_band_mark_bps);
  bool ro = false;
  if (GetBool(n["reduce_only"], Join(path, "reduce_only"), &ro, p)) l->reduce_only = ro;
}

// A NATS subject token (account ids go into subjects): no '.', '*', '>' or whitespace.
bool SubjectSafe(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c == '.' || c == '*' || c == '>' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

// A PEM-armoured file named in the config (certificate, key, NATS .creds), read now with a size
// cap. Problems are reported under `path` and name the file, never its content.
void ReadPemFile(const std::string& file, const std::string& path, std::string* pem,
                 Problems& p) {
  switch (ReadFileCapped(file, kMaxPemFileBytes, pem)) {
    case ReadResult::kOk:
      if (pem->empty()) p.Add(path, file + " is empty");
      break;
    case ReadResult::kCannotOpen:
      p.Add(path, "cannot read " + file);
      break;
    case ReadResult::kTooLarge:
      pem->clear();
      p.Add(path, file + " is larger than " + std::to_string(kMaxPemFileBytes) +
                      " bytes (not a PEM file?)");
      break;
  }
}

// publish.nats.tls and the credentials (one of creds_file, token, user + password).
void ParseNatsSecurity(const YAML::Node& nn, NatsPublishConfig& c, Problems& p) {
  const auto servers = publish::SplitNatsServers(c.url);
  if (auto t = nn["tls"]) {
    CheckKeys(t, "publish.nats.tls", {"ca_file", "cert_file", "key_file", "server_name"}, p);
    if (t.IsMap()) {
      c.tls.enabled = true;
      GetString(t["ca_file"], "publish.nats.tls.ca_file", &c.tls.ca_file, p);
      GetString(t["cert_file"], "publish.nats.tls.cert_file", &c.tls.cert_file, p);
      GetString(t["key_file"], "publish.nats.tls.key_file", &c.tls.key_file, p);
      GetString(t["server_name"], "publish.nats.tls.server_name", &c.tls.server_name, p);
    } else {
      p.Add("publish.nats.tls", "must be a map (ca_file, cert_file, key_file, server_name)");
    }
  } else if (publish::AnyTlsServer(servers)) {
    p.Add("publish.nats.tls", "a tls:// server needs publish.nats.tls.ca_file (the CA that "
                              "signs the servers' certificates)");
  }
  if (c.tls.enabled) {
    // Read now only to check them (the client loads them when it connects).
    std::string pem;
    if (c.tls.ca_file.empty()) {
      p.Add("publish.nats.tls.ca_file",
            "required: the CA that signs the servers' certificates "
            "(/etc/ssl/certs/ca-certificates.crt for a public one)");
    } else {
      ReadPemFile(c.tls.ca_file, "publish.nats.tls.ca_file", &pem, p);
    }
    if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
      p.Add("publish.nats.tls", "cert_file and key_file go together");
    } else if (!c.tls.cert_file.empty()) {
      ReadPemFile(c.tls.cert_file, "publish.nats.tls.cert_file", &pem, p);
      ReadPemFile(c.tls.key_file, "publish.nats.tls.key_file", &pem, p);
    }
    std::fill(pem.begin(), pem.end(), '\0');  // the key's text
    // The name the servers' certificates must carry. Without it libnats checks the chain only,
    // so any certificate of that CA would do: it is always set.
    if (c.tls.server_name.empty()) {
      std::string why;
      c.tls.server_name = publish::DefaultNatsServerName(servers, &why);
      if (!why.empty()) p.Add("publish.nats.tls.server_name", why);
    }
  }

  int methods = 0;
  if (GetString(nn["creds_file"], "publish.nats.creds_file", &c.creds_file, p)) {
    ++methods;
    // libnats reads it at every connect; checked here so a typo is a load error.
    std::string text;
    ReadPemFile(c.creds_file, "publish.nats.creds_file", &text, p);
    if (!text.empty() && (text.find("-----BEGIN NATS USER JWT-----") == std::string::npos ||
                          text.find("-----BEGIN USER NKEY SEED-----") == std::string::npos)) {
      p.Add("publish.nats.creds_file",
            c.creds_file + " is not a NATS credentials file (user JWT + nkey seed)");
    }
    std::fill(text.begin(), text.end(), '\0');
  }
  if (GetSecret(nn["token"], "publish.nats.token", &c.token, p)) ++methods;
  const bool has_user = GetString(nn["user"], "publish.nats.user", &c.user, p);
  const bool has_password = GetSecret(nn["password"], "publish.nats.password", &c.password, p);
  if (has_user || has_password || nn["password"]) {
    ++methods;
    if (!has_user && !nn["user"]) p.Add("publish.nats.user", "required with password");
    if (!nn["password"]) p.Add("publish.nats.password", "required with user");
  }
  if (methods > 1) {
    p.Add("publish.nats", "give one of creds_file, token, or user + password");
  }
}

// publish: {nats: {...}} (gateway/publish/nats_publisher.h). Accounts are checked against the
// configured ones after every account is known (ParseConfig's cross-checks).
void ParsePublish(const YAML::Node& n, Config& cfg, Problems& p) {
  CheckKeys(n, "publish", {"nats"}, p);
  if (!n.IsMap() || !n["nats"]) return;
  const YAML::Node nn = n["nats"];
  NatsPublishConfig& c = cfg.publish.nats;
  CheckKeys(nn, "publish.nats",
            {"url", "stream_prefix", "book_snapshot_interval_ms", "max_age_s", "max_bytes",
             "replicas", "accounts", "market_data", "tls", "creds_file", "token", "user",
             "password"},
            p);
  if (!nn.IsMap()) return;
  c.enabled = true;
  if (!GetString(nn["url"], "publish.nats.url", &c.url, p)) {
    if (!nn["url"]) p.Add("publish.nats.url", "required (nats://host:port)");
  } else {
    // Each entry is checked here (libnats would only say "No server available" at connect).
    const auto servers = publish::SplitNatsServers(c.url);
    for (size_t i = 0; i < servers.size(); ++i) {
      const std::string why = publish::NatsServerProblem(servers[i]);
      if (why.empty()) continue;
      p.Add("publish.nats.url", "server " + std::to_string(i + 1) + " of " +
                                    std::to_string(servers.size()) + " '" +
                                    publish::RedactNatsServer(servers[i]) + "': " + why +
                                    " (each server nats://host:port or tls://host:port, "
                                    "comma-separated)");
    }
  }
  if (GetString(nn["stream_prefix"], "publish.nats.stream_prefix", &c.stream_prefix, p)) {
    bool ok = !c.stream_prefix.empty() && c.stream_prefix.size() <= 32;
    for (unsigned char ch : c.stream_prefix) ok &= std::isalnum(ch) || ch == '_' || ch == '-';
    if (!ok) {
      p.Add("publish.nats.stream_prefix", "must be 1-32 letters, digits, '_' or '-'");
    }
  }
  GetInt(nn["book_snapshot_interval_ms"], "publish.nats.book_snapshot_interval_ms",
         &c.book_snapshot_interval_ms, 0, 3600000, p);
  if (c.book_snapshot_interval_ms > 0 && c.book_snapshot_interval_ms < 50) {
    p.Add("publish.nats.book_snapshot_interval_ms", "must be 0 (off) or at least 50");
  }
  GetInt(nn["max_age_s"], "publish.nats.max_age_s", &c.max_age_s, 1, 365LL * 86400, p);
  GetInt(nn["max_bytes"], "publish.nats.max_bytes", &c.max_bytes, 1LL << 20, 1LL << 50, p);
  GetInt(nn["replicas"], "publish.nats.replicas", &c.replicas, 1, 5, p);
  GetBool(nn["market_data"], "publish.nats.market_data", &c.market_data, p);
  ParseNatsSecurity(nn, c, p);
  if (auto a = nn["accounts"]) {
    if (!a.IsSequence()) {
      p.Add("publish.nats.accounts", "must be a list of account ids (or [\"*\"])");
    } else {
      for (size_t i = 0; i < a.size(); ++i) {
        std::string id;
        const std::string ap = "publish.nats.accounts[" + std::to_string(i) + "]";
        if (GetString(a[i], ap, &id, p)) c.accounts.push_back(id);
      }
    }
  }
}

}  // namespace

const std::vector<VenueDefaults>& KnownVenues() {
  // Real mainnet endpoints (see shared/protocols/<venue>.md §1). Override for testnet or the sim.
  static const std::vector<VenueDefaults> kVenues = {
      {"aster", "https://fapi.asterdex.com", "wss://fstream.asterdex.com"},
      {"backpack", "https://api.backpack.exchange", "wss://ws.backpack.exchange"},
      {"lighter", "https://mainnet.zklighter.elliot.ai", "wss://mainnet.zklighter.elliot.ai/stream"},
      {"paradex", "https://api.prod.paradex.trade/v1", "wss://ws.api.prod.paradex.trade/v1"},
  };
  return kVenues;
}

bool IsLoopbackListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1" ||
         host.rfind("127.", 0) == 0 || host.rfind("unix:", 0) == 0;
}

absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, const std::string& source) {
  Problems p(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(source + ": invalid YAML at line " +
                                      std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Config cfg;
  cfg.source = source;
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  CheckKeys(root, "",
            {"listen", "listen_share_port", "insecure", "log_level", "metrics", "tls", "limits",
             "orders", "risk", "auth", "venues", "accounts", "publish"},
            p);
  if (!root.IsMap()) return absl::InvalidArgumentError(p.Join());

  if (GetString(root["listen"], "listen", &cfg.listen, p) && !ValidListen(cfg.listen)) {
    p.Add("listen", "must be host:port (port 0-65535), got '" + cfg.listen + "'");
  }
  GetBool(root["insecure"], "insecure", &cfg.insecure, p);
  GetBool(root["listen_share_port"], "listen_share_port", &cfg.listen_share_port, p);
  if (GetString(root["log_level"], "log_level", &cfg.log_level, p)) {
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!kLevels.count(cfg.log_level)) {
      p.Add("log_level", "must be one of trace, debug, info, warn, error, off");
    }
  }
  if (auto m = root["metrics"]) {
    CheckKeys(m, "metrics", {"listen"}, p);
    if (m.IsMap() && GetString(m["listen"], "metrics.listen", &cfg.metrics_listen, p) &&
        !ValidListen(cfg.metrics_listen)) {
      p.Add("metrics.listen", "must be host:port");
    }
  }
  if (auto t = root["tls"]) {
    CheckKeys(t, "tls", {"cert_file", "key_file", "client_ca_file"}, p);
    if (t.IsMap()) {
      GetString(t["cert_file"], "tls.cert_file", &cfg.tls.cert_file, p);
      GetString(t["key_file"], "tls.key_file", &cfg.tls.key_file, p);
      GetString(t["client_ca_file"], "tls.client_ca_file", &cfg.tls.client_ca_file, p);
      if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty()) {
        p.Add("tls", "cert_file and key_file go together");
      }
      std::string key_pem;
      const std::pair<const std::string*, std::string*> files[] = {
          {&cfg.tls.cert_file, &cfg.tls.cert_pem},
          {&cfg.tls.key_file, &key_pem},
          {&cfg.tls.client_ca_file, &cfg.tls.client_ca_pem}};
      for (const auto& [file, pem] : files) {
        if (!file->empty()) ReadPemFile(*file, "tls", pem, p);
      }
      cfg.tls.key_pem = Secret(std::move(key_pem));
    }
  }
  if (auto l = root["limits"]) {
    CheckKeys(l, "limits",
              {"book_mailbox", "book_max_lag_ms", "conflated_mailbox", "order_mailbox",
               "replay_buffer", "max_book_depth", "request_timeout_ms", "shutdown_timeout_ms",
               "max_markets_per_stream", "max_streams_per_token"},
              p);
    if (l.IsMap()) {
      GetInt(l["book_mailbox"], "limits.book_mailbox", &cfg.limits.book_mailbox, 2, 10000000, p);
      GetInt(l["book_max_lag_ms"], "limits.book_max_lag_ms", &cfg.limits.book_max_lag_ms, 0,
             600000, p);
      GetInt(l["conflated_mailbox"], "limits.conflated_mailbox", &cfg.limits.conflated_mailbox, 1,
             10000000, p);
      GetInt(l["order_mailbox"], "limits.order_mailbox", &cfg.limits.order_mailbox, 1, 10000000,
             p);
      GetInt(l["replay_buffer"], "limits.replay_buffer", &cfg.limits.replay_buffer, 0, 10000000,
             p);
      GetInt(l["max_book_depth"], "limits.max_book_depth", &cfg.limits.max_book_depth, 1, 100000,
             p);
      GetInt(l["request_timeout_ms"], "limits.request_timeout_ms",
             &cfg.limits.request_timeout_ms, 100, 600000, p);
      GetInt(l["shutdown_timeout_ms"], "limits.shutdown_timeout_ms",
             &cfg.limits.shutdown_timeout_ms, 100, 60000, p);
      GetInt(l["max_markets_per_stream"], "limits.max_markets_per_stream",
             &cfg.limits.max_markets_per_stream, 1, 100000, p);
      GetInt(l["max_streams_per_token"], "limits.max_streams_per_token",
             &cfg.limits.max_streams_per_token, 1, 1000000, p);
    }
  }
  if (auto o = root["orders"]) {
    CheckKeys(o, "orders", {"journal_dir", "fsync"}, p);
    if (o.IsMap()) {
      GetString(o["journal_dir"], "orders.journal_dir", &cfg.orders.journal_dir, p);
      if (GetString(o["fsync"], "orders.fsync", &cfg.orders.fsync, p) &&
          cfg.orders.fsync != "always" && cfg.orders.fsync != "never") {
        p.Add("orders.fsync", "must be always or never");
      }
    }
  }
  if (auto r = root["risk"]) {
    CheckKeys(r, "risk", {"defaults", "accounts", "tokens", "state_file"}, p);
    if (r.IsMap()) {
      if (r["defaults"]) GetLimits(r["defaults"], "risk.defaults", &cfg.risk.defaults, p);
      GetString(r["state_file"], "risk.state_file", &cfg.risk.state_file, p);
      if (auto toks = r["tokens"]) {
        if (!toks.IsMap()) {
          p.Add("risk.tokens", "must be a mapping token name → limits");
        } else {
          for (const auto& kv : toks) {
            const std::string name = kv.first.as<std::string>("");
            GetLimits(kv.second, "risk.tokens." + name, &cfg.risk.tokens[name], p);
          }
        }
      }
      if (auto accs = r["accounts"]) {
        if (!accs.IsMap()) {
          p.Add("risk.accounts", "must be a mapping account id → limits");
        } else {
          for (const auto& kv : accs) {
            const std::string id = kv.first.as<std::string>("");
            GetLimits(kv.second, "risk.accounts." + id, &cfg.risk.accounts[id], p);
          }
        }
      }
    }
  }
  if (auto a = root["auth"]) {
    CheckKeys(a, "auth", {"tokens"}, p);
    if (a.IsMap() && a["tokens"]) {
      auto ts = a["tokens"];
      if (!ts.IsSequence()) {
        p.Add("auth.tokens", "must be a list");
      } else {
        std::set<std::string> names;
        for (size_t i = 0; i < ts.size(); ++i) {
          std::string tp = "auth.tokens[" + std::to_string(i) + "]";
          CheckKeys(ts[i], tp, {"name", "token", "scopes"}, p);
          if (!ts[i].IsMap()) continue;
          TokenConfig tc;
          if (!GetString(ts[i]["name"], tp + ".name", &tc.name, p)) p.Add(tp + ".name", "required");
          if (!names.insert(tc.name).second) p.Add(tp + ".name", "duplicate token name");
          const bool have_token = GetSecret(ts[i]["token"], tp + ".token", &tc.token, p);
          if (!have_token && !ts[i]["token"]) {
            p.Add(tp + ".token", "required ({env: VAR} or {file: PATH})");
          }
          auto sc = ts[i]["scopes"];
          if (!sc || !sc.IsSequence() || sc.size() == 0) {
            p.Add(tp + ".scopes", "required: a non-empty list (read, trade:<account>, trade:*)");
          } else {
            for (size_t j = 0; j < sc.size(); ++j) {
              std::string s;
              std::string sp = tp + ".scopes[" + std::to_string(j) + "]";
              if (!GetString(sc[j], sp, &s, p)) continue;
              if (s != "read" && s != "admin" && s.rfind("trade:", 0) != 0) {
                p.Add(sp, "unknown scope '" + s + "' (read, admin, trade:<account>, trade:*)");
              }
              tc.scopes.push_back(s);
            }
          }
          // An optional token whose secret is absent is not configured (it must not satisfy
          // the "non-loopback needs tokens" rule while nobody could authenticate).
          if (have_token) cfg.tokens.push_back(std::move(tc));
        }
      }
    }
  }
  if (auto pub = root["publish"]) ParsePublish(pub, cfg, p);
  if (auto vs = root["venues"]) {
    if (!vs.IsMap()) {
      p.Add("venues", "must be a mapping venue-name → settings");
    } else {
      for (const auto& kv : vs) {
        std::string name = kv.first.as<std::string>("");
        const VenueDefaults* def = nullptr;
        for (const auto& d : KnownVenues()) {
          if (name == d.name) def = &d;
        }
        if (!def) {
          p.Add("venues." + name, "unknown venue (known: aster, backpack, lighter, paradex)");
          continue;
        }
        ParseVenue(name, kv.second, "venues." + name, *def, cfg, p);
      }
    }
  }
  if (auto as = root["accounts"]) {
    if (!as.IsSequence()) {
      p.Add("accounts", "must be a list");
    } else {
      std::set<std::string> ids;
      for (size_t i = 0; i < as.size(); ++i) {
        std::string ap = "accounts[" + std::to_string(i) + "]";
        CheckKeys(as[i], ap, {"id", "venue", "credentials", "options"}, p);
        if (!as[i].IsMap()) continue;
        AccountConfig ac;
        if (!GetString(as[i]["id"], ap + ".id", &ac.id, p) || ac.id.empty()) {
          p.Add(ap + ".id", "required");
        } else if (!ids.insert(ac.id).second) {
          p.Add(ap + ".id", "duplicate account id '" + ac.id + "'");
        }
        if (!GetString(as[i]["venue"], ap + ".venue", &ac.venue, p)) {
          p.Add(ap + ".venue", "required");
        } else if (!cfg.venues.count(ac.venue)) {
          p.Add(ap + ".venue", "venue '" + ac.venue + "' is not configured under venues");
        }
        if (auto cr = as[i]["credentials"]) {
          if (!cr.IsMap()) {
            p.Add(ap + ".credentials", "must be a mapping name → {env|file}");
          } else {
            for (const auto& c : cr) {
              std::string k = c.first.as<std::string>("");
              Secret s;
              if (GetSecret(c.second, ap + ".credentials." + k, &s, p)) ac.credentials[k] = s;
            }
          }
        }
        if (auto op = as[i]["options"]) {
          if (op.IsMap()) {
            for (const auto& o : op) {
              std::string val;
              std::string k = o.first.as<std::string>("");
              if (GetString(o.second, ap + ".options." + k, &val, p)) ac.options[k] = val;
            }
          } else {
            p.Add(ap + ".options", "must be a mapping");
          }
        }
        if (cfg.venues.count(ac.venue)) cfg.venues[ac.venue].accounts.push_back(ac);
      }
    }
  }
  bool any_accounts = false;
  for (const auto& [n, v] : cfg.venues) any_accounts |= v.enabled && !v.accounts.empty();
  if (any_accounts && cfg.orders.journal_dir.empty()) {
    p.Add("orders.journal_dir",
          "required when accounts are configured: the order journal keeps client_order_id "
          "idempotent across a restart (use 'none' to run without one, knowing that a retry "
          "after a restart can execute twice)");
  }
  if (cfg.orders.journal_dir != "none" && !cfg.orders.journal_dir.empty()) {
    for (auto& [n, v] : cfg.venues) {
      if (v.accounts.empty()) continue;
      v.journal_path = cfg.orders.journal_dir + "/" + n + ".journal";
      v.journal_fsync = cfg.orders.fsync == "always";
    }
  }
  for (const auto& [id, l] : cfg.risk.accounts) {
    bool found = false;
    for (const auto& [n, v] : cfg.venues) {
      for (const auto& a : v.accounts) found |= a.id == id;
    }
    if (!found) p.Add("risk.accounts." + id, "names an unknown account");
  }
  for (const auto& [name, l] : cfg.risk.tokens) {
    bool found = false;
    for (const auto& t : cfg.tokens) found |= t.name == name;
    if (!found) p.Add("risk.tokens." + name, "names an unknown auth token");
  }
  if (cfg.risk.state_file.empty() && !cfg.orders.journal_dir.empty() &&
      cfg.orders.journal_dir != "none") {
    cfg.risk.state_file = cfg.orders.journal_dir + "/risk.state";
  }
  // Each enabled venue checks what only it understands: option and credential names, numbers,
  // and that every account's credentials can sign (a typo is an error here, not a stream of
  // OUTCOME_UNKNOWN later).
  for (const auto& [n, v] : cfg.venues) {
    if (!v.enabled) continue;
    if (auto st = ValidateVenueConfig(v); !st.ok()) p.Add("venues." + n, std::string(st.message()));
  }
  for (const auto& t : cfg.tokens) {
    for (const auto& s : t.scopes) {
      if (s.rfind("trade:", 0) == 0 && s != "trade:*") {
        std::string acc = s.substr(6);
        bool found = false;
        for (const auto& [n, v] : cfg.venues) {
          for (const auto& a : v.accounts) found |= a.id == acc;
        }
        if (!found) p.Add("auth.tokens." + t.name, "scope " + s + " names an unknown account");
      }
    }
  }
  // publish.nats.accounts: configured accounts (their ids go into subjects), or "*" alone.
  auto& pub_accounts = cfg.publish.nats.accounts;
  for (size_t i = 0; i < pub_accounts.size(); ++i) {
    const std::string ap = "publish.nats.accounts[" + std::to_string(i) + "]";
    const std::string& id = pub_accounts[i];
    if (id == "*") {
      if (pub_accounts.size() > 1) p.Add(ap, "\"*\" (every account) must be the only entry");
      continue;
    }
    bool found = false;
    for (const auto& [n, v] : cfg.venues) {
      for (const auto& a : v.accounts) found |= a.id == id;
    }
    if (!found) {
      p.Add(ap, "names an unknown account '" + id + "'");
    } else if (!SubjectSafe(id)) {
      p.Add(ap,
            "account id '" + id + "' cannot be a NATS subject token (no '.', '*', '>', spaces)");
    }
  }
  if (pub_accounts.size() == 1 && pub_accounts[0] == "*") {
    for (const auto& [n, v] : cfg.venues) {
      for (const auto& a : v.accounts) {
        if (!SubjectSafe(a.id)) {
          p.Add("publish.nats.accounts", "account id '" + a.id +
                                             "' cannot be a NATS subject token (no '.', '*', '>', "
                                             "spaces); list the accounts to publish instead");
        }
      }
    }
  }
  // publish.nats.market_data: false (an orders-only shard) with no account to publish would
  // publish nothing at all: a config mistake, not a silent no-op.
  if (cfg.publish.nats.enabled && !cfg.publish.nats.market_data) {
    size_t n = 0;
    for (const auto& id : pub_accounts) {
      if (id != "*") {
        ++n;
        continue;
      }
      for (const auto& [name, v] : cfg.venues) n += v.accounts.size();
    }
    if (n == 0) {
      p.Add("publish.nats.market_data",
            "false (order events only) needs publish.nats.accounts naming at least one "
            "configured account; this gateway would publish nothing");
    }
  }
  if (!cfg.insecure && cfg.tokens.empty() && !IsLoopbackListen(cfg.listen)) {
    p.Add("listen",
          "refusing to listen on non-loopback " + cfg.listen +
              " without auth.tokens; add tokens or set insecure: true explicitly");
  }
  if (!p.empty()) return absl::InvalidArgumentError(p.Join());
  return cfg;
}

absl::Status ValidateListen(const Config& cfg) {
  if (!ValidListen(cfg.listen)) {
    return absl::InvalidArgumentError("listen: must be host:port (port 0-65535), got '" +
                                      cfg.listen + "'");
  }
  if (!cfg.insecure && cfg.tokens.empty() && !IsLoopbackListen(cfg.listen)) {
    return absl::InvalidArgumentError("listen: refusing to listen on non-loopback " + cfg.listen +
                                      " without auth.tokens; add tokens or set insecure: true");
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::string text;
  switch (ReadFileCapped(path, kMaxConfigFileBytes, &text)) {
    case ReadResult::kOk:
      break;
    case ReadResult::kCannotOpen:
      return absl::NotFoundError(path + ": cannot open config file");
    case ReadResult::kTooLarge:
      return absl::InvalidArgumentError(path + ": config file is larger than " +
                                        std::to_string(kMaxConfigFileBytes) + " bytes");
  }
  return ParseConfig(text, path);
}

}  // namespace perpgw::gateway
