// Config validation: every problem names the key and why; secrets come from env/files only.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gateway/config.h"

using perpgw::gateway::ParseConfig;

static std::string Err(const std::string& yaml) {
  auto c = ParseConfig(yaml, "test.yaml");
  REQUIRE_FALSE(c.ok());
  return std::string(c.status().message());
}

TEST_CASE("empty config gives loopback defaults and mainnet URLs", "[config]") {
  auto c = ParseConfig("venues: {aster: {}}", "t.yaml");
  REQUIRE(c.ok());
  CHECK(c->listen == "127.0.0.1:50051");
  CHECK(c->venues.at("aster").rest_url == "https://fapi.asterdex.com");
  CHECK(c->venues.at("aster").enabled);
}

TEST_CASE("unknown keys and bad values are errors naming file and key", "[config]") {
  CHECK_THAT(Err("listn: 1"), Catch::Contains("test.yaml: listn: unknown key"));
  CHECK_THAT(Err("venues: {aster: {rest_ur: x}}"),
             Catch::Contains("venues.aster.rest_ur: unknown key"));
  CHECK_THAT(Err("venues: {kraken: {}}"), Catch::Contains("venues.kraken: unknown venue"));
  CHECK_THAT(Err("venues: {aster: {ws_url: http://x}}"),
             Catch::Contains("venues.aster.ws_url: must start with ws:// or wss://"));
  CHECK_THAT(Err("listen: nohost"), Catch::Contains("listen: must be host:port"));
  CHECK_THAT(Err("insecure: maybe"), Catch::Contains("insecure: must be true or false"));
  CHECK_THAT(Err("limits: {book_mailbox: -3}"), Catch::Contains("limits.book_mailbox"));
  CHECK_THAT(Err("venues: {aster: {fees: {taker: abc}}}"),
             Catch::Contains("venues.aster.fees.taker: must be a decimal number"));
  CHECK_THAT(Err("log_level: loud"), Catch::Contains("log_level: must be one of"));
  CHECK_THAT(Err(": : :"), Catch::Contains("test.yaml"));
  // Several problems are all reported.
  auto e = Err("listn: 1\nlog_level: loud\n");
  CHECK_THAT(e, Catch::Contains("2 config problem(s)"));
}

TEST_CASE("non-loopback listen requires tokens unless insecure", "[config]") {
  CHECK_THAT(Err("listen: 0.0.0.0:50051"), Catch::Contains("refusing to listen on non-loopback"));
  CHECK(ParseConfig("listen: 0.0.0.0:50051\ninsecure: true", "t").ok());
  setenv("PERPGW_TEST_TOKEN", "tok-123", 1);
  CHECK(ParseConfig("listen: 0.0.0.0:50051\nauth: {tokens: [{name: a, token: {env: "
                    "PERPGW_TEST_TOKEN}, scopes: [read]}]}",
                    "t")
            .ok());
}

TEST_CASE("secrets: inline refused, env and file resolved, values never echoed", "[config]") {
  auto e = Err(
      "venues: {aster: {}}\naccounts: [{id: a1, venue: aster, credentials: {api_secret: "
      "s3cr3t-inline}}]");
  CHECK_THAT(e, Catch::Contains("secrets must not be written in the config"));
  CHECK_THAT(e, !Catch::Contains("s3cr3t-inline"));
  unsetenv("PERPGW_MISSING_ENV");
  CHECK_THAT(Err("venues: {aster: {}}\naccounts: [{id: a1, venue: aster, credentials: "
                 "{api_key: {env: PERPGW_MISSING_ENV}}}]"),
             Catch::Contains("environment variable PERPGW_MISSING_ENV is not set"));
  setenv("PERPGW_TEST_SECRET", "very-secret-value", 1);
  std::ofstream("/tmp/perpgw_test_secret_file") << "file-secret\n";
  auto c = ParseConfig(
      "venues: {aster: {}}\naccounts: [{id: a1, venue: aster, credentials: {api_key: {env: "
      "PERPGW_TEST_SECRET}, api_secret: {file: /tmp/perpgw_test_secret_file}}}]\n"
      "orders: {journal_dir: none}",
      "t");
  REQUIRE(c.ok());
  const auto& acc = c->venues.at("aster").accounts.at(0);
  CHECK(acc.credentials.at("api_key").Reveal() == "very-secret-value");
  CHECK(acc.credentials.at("api_secret").Reveal() == "file-secret");
  CHECK_THAT(Err("accounts: [{id: a1, venue: nope}]"),
             Catch::Contains("venue 'nope' is not configured"));
  CHECK_THAT(Err("venues: {aster: {}}\naccounts: [{id: a, venue: aster}, {id: a, venue: aster}]"),
             Catch::Contains("duplicate account id"));
}

// Found while writing the config fuzz target: a secret or config path naming an endless file
// (/dev/zero) was read to the end — the daemon never started and ate all memory.
TEST_CASE("files named in config are read with a cap: endless or huge files are errors",
          "[config]") {
  auto e = Err(
      "venues: {aster: {}}\naccounts: [{id: a1, venue: aster, credentials: {api_key: {file: "
      "/dev/zero}}}]\norders: {journal_dir: none}");
  CHECK_THAT(e, Catch::Contains("secret file /dev/zero is larger than 65536 bytes"));
  auto c = perpgw::gateway::LoadConfig("/dev/zero");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::Contains("larger than"));
  CHECK(perpgw::gateway::LoadConfig("/nonexistent/perpgw.yaml").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("TLS files are read at load with a cap: /dev/zero is a config problem, not a hang",
          "[config]") {
  // Before: only "can it be opened" was checked at load, and perpgwd read the whole file at
  // start: tls.cert_file: /dev/zero hung the daemon with memory growing without bound.
  CHECK_THAT(Err("tls: {cert_file: /dev/zero, key_file: /dev/zero}"),
             Catch::Contains("tls: /dev/zero is larger than 1048576 bytes"));
  CHECK_THAT(Err("tls: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}"),
             Catch::Contains("cannot read /nonexistent/c.pem"));
  char dir_tmpl[] = "/tmp/perpgw-tls-XXXXXX";
  REQUIRE(mkdtemp(dir_tmpl) != nullptr);
  const std::string dir = dir_tmpl;
  std::ofstream(dir + "/cert.pem") << "-----BEGIN CERTIFICATE-----\nAAAA\n";
  std::ofstream(dir + "/key.pem") << "-----BEGIN PRIVATE KEY-----\nBBBB\n";
  std::ofstream(dir + "/empty.pem").flush();
  auto c = ParseConfig("tls: {cert_file: " + dir + "/cert.pem, key_file: " + dir + "/key.pem}", "t");
  REQUIRE(c.ok());
  CHECK(c->tls.cert_pem == "-----BEGIN CERTIFICATE-----\nAAAA\n");
  CHECK(c->tls.key_pem.Reveal() == "-----BEGIN PRIVATE KEY-----\nBBBB\n");
  CHECK(c->tls.client_ca_pem.empty());
  CHECK_THAT(Err("tls: {cert_file: " + dir + "/cert.pem, key_file: " + dir +
                 "/key.pem, client_ca_file: " + dir + "/empty.pem}"),
             Catch::Contains(dir + "/empty.pem is empty"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("orders.journal_dir is required with accounts and sets each venue's journal",
          "[config]") {
  setenv("PERPGW_TEST_SECRET", "very-secret-value", 1);
  const std::string acc =
      "venues: {aster: {}, backpack: {}}\naccounts: [{id: a1, venue: aster, credentials: "
      "{api_key: {env: PERPGW_TEST_SECRET}, api_secret: {env: PERPGW_TEST_SECRET}}}]\n";
  CHECK_THAT(Err(acc), Catch::Contains("orders.journal_dir"));
  CHECK_THAT(Err(acc + "orders: {journal_dir: /j, fsync: sometimes}"),
             Catch::Contains("orders.fsync"));
  CHECK_THAT(Err(acc + "orders: {journal_dri: /j}"), Catch::Contains("unknown key"));
  auto c = ParseConfig(acc + "orders: {journal_dir: /var/j, fsync: never}", "t");
  REQUIRE(c.ok());
  CHECK(c->venues.at("aster").journal_path == "/var/j/aster.journal");
  CHECK(!c->venues.at("aster").journal_fsync);
  CHECK(c->venues.at("backpack").journal_path.empty());  // no accounts there
  auto none = ParseConfig(acc + "orders: {journal_dir: none}", "t");
  REQUIRE(none.ok());
  CHECK(none->venues.at("aster").journal_path.empty());
  CHECK(ParseConfig("venues: {aster: {}}", "t").ok());  // market data only: no journal needed
}

TEST_CASE("token scopes must name known accounts", "[config]") {
  setenv("PERPGW_TEST_TOKEN", "tok-123", 1);
  CHECK_THAT(Err("auth: {tokens: [{name: t, token: {env: PERPGW_TEST_TOKEN}, scopes: "
                 "[trade:ghost]}]}"),
             Catch::Contains("names an unknown account"));
  CHECK_THAT(Err("auth: {tokens: [{name: t, token: {env: PERPGW_TEST_TOKEN}, scopes: [write]}]}"),
             Catch::Contains("unknown scope 'write'"));
}

// Defect: `api_kee:` or `auth_sceme:` passed --check-config and startup, then every order
// answered OUTCOME_UNKNOWN. Each venue now checks its own keys, numbers and credentials.
TEST_CASE("venue options and credentials: unknown keys, bad numbers and unsignable keys",
          "[config]") {
  setenv("PERPGW_TEST_KEY", "key-value", 1);
  setenv("PERPGW_TEST_SECRET", "very-secret-value", 1);
  setenv("PERPGW_TEST_PK", "0x1111111111111111111111111111111111111111111111111111111111111111", 1);
  setenv("PERPGW_TEST_BP", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1);
  setenv("PERPGW_TEST_BAD_BP", "not base64!", 1);
  const std::string tail = "orders: {journal_dir: none}\n";
  auto aster = [&](const std::string& creds, const std::string& opts = "{}",
                   const std::string& venue_opts = "{}") {
    return "venues: {aster: {options: " + venue_opts + "}}\naccounts: [{id: a1, venue: aster, "
           "credentials: " + creds + ", options: " + opts + "}]\n" + tail;
  };
  const std::string v1 = "{api_key: {env: PERPGW_TEST_KEY}, api_secret: {env: PERPGW_TEST_SECRET}}";
  CHECK(ParseConfig(aster(v1), "t").ok());
  CHECK_THAT(Err(aster("{api_kee: {env: PERPGW_TEST_KEY}, api_secret: {env: PERPGW_TEST_SECRET}}")),
             Catch::Contains("accounts.a1.credentials.api_kee: unknown key"));
  CHECK_THAT(Err(aster(v1, "{auth_sceme: v1}")),
             Catch::Contains("accounts.a1.options.auth_sceme: unknown key"));
  CHECK_THAT(Err(aster(v1, "{auth_scheme: v2}")), Catch::Contains("auth_scheme must be v1 or v3"));
  CHECK_THAT(Err(aster("{api_secret: {env: PERPGW_TEST_SECRET}}")),
             Catch::Contains("needs credentials api_key and api_secret"));
  CHECK_THAT(Err(aster(v1, "{}", "{recv_window_ms: 5s}")),
             Catch::Contains("venues.aster.options.recv_window_ms: must be a whole number"));
  CHECK_THAT(Err(aster(v1, "{}", "{recv_window: 5000}")),
             Catch::Contains("venues.aster.options.recv_window: unknown key"));
  CHECK_THAT(Err(aster(v1, "{}", "{chain_id: abc}")), Catch::Contains("chain_id: must be a whole"));
  CHECK(ParseConfig(aster(v1, "{}", "{recv_window_ms: 3000, chain_id: 714}"), "t").ok());
  CHECK(ParseConfig(aster(v1, "{}", "{bbo_source: ticker}"), "t").ok());
  CHECK(ParseConfig(aster(v1, "{}", "{bbo_source: book}"), "t").ok());
  CHECK_THAT(Err(aster(v1, "{}", "{bbo_source: depth}")),
             Catch::Contains("venues.aster.options.bbo_source: must be book or ticker, got 'depth'"));
  const std::string v3 = "{private_key: {env: PERPGW_TEST_PK}}";
  CHECK(ParseConfig(aster(v3), "t").ok());
  CHECK_THAT(Err(aster(v3, "{user: 0x12}")), Catch::Contains("options.user: must be a 0x-prefixed"));
  CHECK_THAT(Err(aster(v3, "{signer: '0x0000000000000000000000000000000000000001'}")),
             Catch::Contains("is not the address of credentials.private_key"));

  auto backpack = [&](const std::string& creds, const std::string& opts = "{}") {
    return "venues: {backpack: {}}\naccounts: [{id: b1, venue: backpack, credentials: " + creds +
           ", options: " + opts + "}]\n" + tail;
  };
  const std::string bp = "{api_secret: {env: PERPGW_TEST_BP}}";
  CHECK(ParseConfig(backpack(bp), "t").ok());
  CHECK(ParseConfig(backpack(bp, "{window_ms: 5000}"), "t").ok());
  CHECK_THAT(Err(backpack(bp, "{window_ms: 10x}")), Catch::Contains("window_ms: must be a whole number"));
  CHECK_THAT(Err(backpack(bp, "{window_ms: 0}")), Catch::Contains("window_ms: must be a whole number"));
  CHECK_THAT(Err(backpack("{api_secret: {env: PERPGW_TEST_BAD_BP}}")),
             Catch::Contains("not a valid base64 Ed25519 seed"));
  CHECK_THAT(Err(backpack("{api_secret: {env: PERPGW_TEST_BP}, api_key: {env: PERPGW_TEST_KEY}}")),
             Catch::Contains("api_key does not match"));
  CHECK_THAT(Err(backpack(bp, "{windw_ms: 5000}")), Catch::Contains("options.windw_ms: unknown key"));
  CHECK_THAT(Err("venues: {backpack: {options: {x: y}}}"),
             Catch::Contains("venues.backpack.options.x: unknown key (known: none)"));
  // Secret values never appear in these errors.
  CHECK_THAT(Err(backpack("{api_secret: {env: PERPGW_TEST_BP}, api_key: {env: PERPGW_TEST_KEY}}")),
             !Catch::Contains("key-value"));
}

TEST_CASE("risk: limits from config, per account, validated; state file beside the journal",
          "[config][risk]") {
  setenv("PERPGW_TEST_SECRET", "very-secret-value", 1);
  std::ofstream("/tmp/perpgw_test_secret_file") << "file-secret\n";
  const std::string base =
      "venues: {aster: {}}\naccounts: [{id: a1, venue: aster, credentials: {api_key: {env: "
      "PERPGW_TEST_SECRET}, api_secret: {file: /tmp/perpgw_test_secret_file}}}]\n";
  auto c = ParseConfig(base +
                           "orders: {journal_dir: /tmp/j}\n"
                           "risk:\n  defaults: {max_order_notional: \"5000.5\", "
                           "max_orders_per_second: 10, price_band_touch_bps: \"50\"}\n"
                           "  accounts:\n    a1: {reduce_only: true, max_open_orders: 3}\n",
                       "t");
  REQUIRE(c.ok());
  CHECK(c->risk.defaults.max_order_notional->ToString() == "5000.5");
  CHECK(*c->risk.defaults.max_orders_per_second == 10);
  CHECK_FALSE(c->risk.defaults.max_open_orders.has_value());
  CHECK(*c->risk.accounts.at("a1").reduce_only);
  CHECK(*c->risk.accounts.at("a1").max_open_orders == 3);
  CHECK(c->risk.state_file == "/tmp/j/risk.state");
  CHECK_THAT(Err(base + "orders: {journal_dir: none}\nrisk: {defaults: {max_order_notional: \"-1\"}}"),
             Catch::Contains("risk.defaults.max_order_notional: must not be negative"));
  CHECK_THAT(Err(base + "orders: {journal_dir: none}\nrisk: {defaults: {max_open_order: 1}}"),
             Catch::Contains("risk.defaults.max_open_order: unknown key"));
  CHECK_THAT(Err(base + "orders: {journal_dir: none}\nrisk: {accounts: {nope: {reduce_only: true}}}"),
             Catch::Contains("risk.accounts.nope: names an unknown account"));
  CHECK_THAT(Err(base + "orders: {journal_dir: none}\nrisk: {defaults: {price_band_mark_bps: x}}"),
             Catch::Contains("risk.defaults.price_band_mark_bps: must be a decimal number"));
}

TEST_CASE("risk: token limits name a configured auth token", "[config][risk]") {
  setenv("PERPGW_TEST_TOKEN", "tok-value", 1);
  const std::string base =
      "auth: {tokens: [{name: grid, token: {env: PERPGW_TEST_TOKEN}, scopes: [read]}]}\n";
  auto c = ParseConfig(base + "risk: {tokens: {grid: {max_orders_per_second: 5}}}", "t");
  REQUIRE(c.ok());
  CHECK(*c->risk.tokens.at("grid").max_orders_per_second == 5);
  CHECK_THAT(Err(base + "risk: {tokens: {nope: {max_open_orders: 1}}}"),
             Catch::Contains("risk.tokens.nope: names an unknown auth token"));
}
