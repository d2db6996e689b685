// perpgwd configuration: YAML → validated structs; every problem names file, key and reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/risk/risk.h"
#include "adapters/api/venue_config.h"

namespace perpgw::gateway {

struct TokenConfig {
  std::string name;
  Secret token;
  std::vector<std::string> scopes;  // "read", "trade:<account>", "trade:*", "admin"
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set = require client certificates (mTLS)
  // The files' contents, read once at load with a size cap (a PEM bigger than 1 MiB, or
  // /dev/zero, is a config problem, not a hang at start). The key is a secret: never logged.
  std::string cert_pem;
  Secret key_pem;
  std::string client_ca_pem;
};

struct LimitsConfig {
  size_t book_mailbox = 4096;          // queued book messages per subscriber before resync
  int64_t book_max_lag_ms = 1000;      // oldest queued book message older than this: resync (0 = off)
  size_t conflated_mailbox = 100000;   // distinct keys for BBO/funding per subscriber
  size_t order_mailbox = 65536;        // queued order events before RESOURCE_EXHAUSTED
  size_t replay_buffer = 100000;       // order events kept per account for resume
  int max_book_depth = 1000;
  int64_t request_timeout_ms = 10000;  // unary calls that wait on a venue
  // SIGTERM/SIGINT: every call is finished (streams get UNAVAILABLE) within this; 2 s past it
  // the process exits anyway with status 1 (default: gone within 5 s whatever clients do).
  int64_t shutdown_timeout_ms = 3000;
  int max_markets_per_stream = 1000;  // markets named in one stream request
  int max_streams_per_token = 1000;   // open streams per auth token (all clients without auth)
};

// The order desk's journal (client order ids idempotent across restarts).
struct OrdersConfig {
  std::string journal_dir;  // required when accounts exist; "none" = no journal (memory only)
  std::string fsync = "always";  // always: fdatasync before every order leaves | never
};

// Pre-trade risk (gateway/risk/risk.h): limits for every account, per-account overrides, and
// where the kill switch's state is kept across restarts.
struct RiskConfig {
  risk::Limits defaults;
  std::map<std::string, risk::Limits> accounts;  // by account id
  std::map<std::string, risk::Limits> tokens;    // by auth token name (a strategy's own)
  // Default <orders.journal_dir>/risk.state; "none" (or no journal dir) = not persisted.
  std::string state_file;
};

// publish.nats (gateway/publish/nats_publisher.h): market data and order events to NATS
// JetStream. Absent = off (no connection, no thread, no bus subscriber).
struct NatsPublishConfig {
  bool enabled = false;          // the publish.nats section is present
  // nats://host:port or tls://host:port; a comma-separated list for a cluster's seed nodes
  // (required; each entry validated at load, gateway/publish/nats_url.h)
  std::string url;
  std::string stream_prefix = "PERPGW";  // JetStream streams <prefix>_ORDERS, <prefix>_BOOKS
  int64_t book_snapshot_interval_ms = 1000;  // full books into <prefix>_BOOKS (0 = none)
  int64_t max_age_s = 86400;     // both streams' retention by age
  int64_t max_bytes = 1LL << 30;  // and by size (each stream)
  // JetStream replicas of both streams (1-5; 3 on a 3-node cluster survives one node). More
  // replicas than the cluster has nodes: the server refuses the stream (logged, retried).
  int64_t replicas = 1;
  std::vector<std::string> accounts;  // order events of these ("*" = every configured one)
  // Sharding by venue and account: two gateways on one venue (different accounts) must not both
  // publish perpgw.<venue>.<symbol>.* (competing sequences and status). false = this gateway
  // publishes only its accounts' order events: no books, BBO, trades, funding, snapshots or
  // status, and no <prefix>_BOOKS stream (accounts must then name at least one account).
  bool market_data = true;
  // TLS to the servers (publish.nats.tls; required by a tls:// server): ca_file verifies their
  // certificates and server_name is the name they must carry (default: the servers' common
  // host, unless an IP address); cert_file + key_file: a client certificate, for servers that
  // verify clients. The files are checked at load and read by the client when it connects
  // (gateway/publish/nats_security.h).
  struct Tls {
    bool enabled = false;
    std::string ca_file, cert_file, key_file, server_name;
  } tls;
  // Authentication, at most one of: creds_file (a NATS .creds file: user JWT + nkey seed, read
  // by the client at each connect), token, or user + password (secrets: {env} or {file}).
  std::string creds_file;
  Secret token;
  std::string user;
  Secret password;
};

struct PublishConfig {
  NatsPublishConfig nats;
};

struct Config {
  std::string source;  // file name or "<embedded demo>"
  std::string listen = "127.0.0.1:50051";
  bool insecure = false;
  // false (default): starting on an address another process listens on is an error. true:
  // SO_REUSEPORT, several perpgwd share the port (the kernel spreads connections).
  bool listen_share_port = false;
  std::string log_level = "info";
  std::string metrics_listen;  // empty = off
  TlsConfig tls;
  LimitsConfig limits;
  OrdersConfig orders;
  RiskConfig risk;
  std::vector<TokenConfig> tokens;
  std::map<std::string, VenueConfig> venues;  // by venue name
  PublishConfig publish;
};

// Known venues and their default (real mainnet) endpoints.
struct VenueDefaults {
  const char* name;
  const char* rest_url;
  const char* ws_url;
};
const std::vector<VenueDefaults>& KnownVenues();

// Parses and validates. All problems are collected: the error message lists each one as
// "<file>: <key.path>: <problem>". Secrets are read from env vars / files named in the config
// (their values never appear in messages).
absl::StatusOr<Config> LoadConfig(const std::string& path);
absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, const std::string& source);

bool IsLoopbackListen(const std::string& listen);
// Re-checks `listen` after a command-line override: format and the non-loopback token rule.
absl::Status ValidateListen(const Config& cfg);

}  // namespace perpgw::gateway
