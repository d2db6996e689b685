// publish.nats (issue 18): its config section, subject names, and the NATS consumer's book
// rules (bench/nats_book.h), which must be the gRPC client's: sequence +1, gaps wait for a
// snapshot, periodic snapshots only when newer.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bench/nats_book.h"
#include "gateway/config.h"
#include "gateway/publish/nats_publisher.h"
#include "gateway/publish/nats_url.h"

using perpgw::gateway::ParseConfig;

namespace {
std::string Err(const std::string& yaml) {
  auto c = ParseConfig(yaml, "test.yaml");
  REQUIRE_FALSE(c.ok());
  return std::string(c.status().message());
}

const char* kAccounts =
    "venues: {aster: {}}\norders: {journal_dir: none}\naccounts: [{id: a1, venue: aster, "
    "credentials: {api_key: {env: PERPGW_NATS_TEST_SECRET}, api_secret: {env: "
    "PERPGW_NATS_TEST_SECRET}}}]\n";
}  // namespace

TEST_CASE("publish.nats: off by default, parsed and validated naming the key", "[config][nats]") {
  auto off = ParseConfig("venues: {aster: {}}", "t.yaml");
  REQUIRE(off.ok());
  CHECK_FALSE(off->publish.nats.enabled);

  auto on = ParseConfig(
      "publish: {nats: {url: \"nats://127.0.0.1:4222,nats://10.0.0.2:4222\", stream_prefix: "
      "DESK_A, "
      "book_snapshot_interval_ms: 500, max_age_s: 3600, max_bytes: 10485760}}",
      "t.yaml");
  REQUIRE(on.ok());
  CHECK(on->publish.nats.enabled);
  CHECK(on->publish.nats.url == "nats://127.0.0.1:4222,nats://10.0.0.2:4222");
  CHECK(on->publish.nats.stream_prefix == "DESK_A");
  CHECK(on->publish.nats.book_snapshot_interval_ms == 500);
  CHECK(on->publish.nats.max_age_s == 3600);
  CHECK(on->publish.nats.max_bytes == 10485760);
  CHECK(on->publish.nats.replicas == 1);  // the default
  CHECK(on->publish.nats.accounts.empty());

  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, urll: x}}"),
             Catch::Contains("test.yaml: publish.nats.urll: unknown key"));
  CHECK_THAT(Err("publish: {kafka: {}}"), Catch::Contains("publish.kafka: unknown key"));
  CHECK_THAT(Err("publish: {nats: {stream_prefix: P}}"),
             Catch::Contains("publish.nats.url: required"));
  CHECK_THAT(Err("publish: {nats: {url: http://h:4222}}"),
             Catch::Contains("publish.nats.url: server 1 of 1 'http://h:4222': must be nats://"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, stream_prefix: \"a.b\"}}"),
             Catch::Contains("publish.nats.stream_prefix"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, book_snapshot_interval_ms: 10}}"),
             Catch::Contains("publish.nats.book_snapshot_interval_ms"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, max_bytes: 12}}"),
             Catch::Contains("publish.nats.max_bytes"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, accounts: a1}}"),
             Catch::Contains("publish.nats.accounts: must be a list"));
}

TEST_CASE("publish.nats.accounts name configured accounts, or \"*\" alone", "[config][nats]") {
  setenv("PERPGW_NATS_TEST_SECRET", "s3cr3t-value", 1);
  const std::string acc = kAccounts;
  auto ok = ParseConfig(acc + "publish: {nats: {url: nats://h:4222, accounts: [a1]}}", "t");
  REQUIRE(ok.ok());
  CHECK(ok->publish.nats.accounts == std::vector<std::string>{"a1"});
  CHECK(ParseConfig(acc + "publish: {nats: {url: nats://h:4222, accounts: [\"*\"]}}", "t").ok());
  CHECK_THAT(Err(acc + "publish: {nats: {url: nats://h:4222, accounts: [ghost]}}"),
             Catch::Contains("publish.nats.accounts[0]: names an unknown account 'ghost'"));
  CHECK_THAT(Err(acc + "publish: {nats: {url: nats://h:4222, accounts: [a1, \"*\"]}}"),
             Catch::Contains("publish.nats.accounts[1]: \"*\" (every account) must be the only"));
}

TEST_CASE("NATS subjects: one token per name, the documented scheme", "[nats]") {
  using namespace perpgw::gateway::publish;
  CHECK(SubjectToken("BTC") == "BTC");
  CHECK(SubjectToken("BTC/USDT:USDT") == "BTC/USDT:USDT");
  CHECK(SubjectToken("1000.PEPE*>x y") == "1000_PEPE__x_y");
  CHECK(MarketSubject("aster", "BTC", "book") == "perpgw.aster.BTC.book");
  CHECK(MarketSubject("aster", "a.b", "snapshot") == "perpgw.aster.a_b.snapshot");
  CHECK(StatusSubject("lighter") == "perpgw.lighter.status");
  CHECK(OrdersSubject("acct-1") == "perpgw.account.acct-1.orders");
  CHECK(OrdersStream("PERPGW") == "PERPGW_ORDERS");
  CHECK(BooksStream("DESK") == "DESK_BOOKS");
}

namespace {
perpgw::v1::OrderBookUpdate U(uint64_t seq, bool snapshot,
                              std::vector<std::pair<const char*, const char*>> bids,
                              bool resync = false) {
  perpgw::v1::OrderBookUpdate u;
  u.set_sequence(seq);
  u.set_is_snapshot(snapshot);
  u.set_resync(resync);
  u.set_status(perpgw::v1::BOOK_STATUS_LIVE);
  for (auto [p, q] : bids) {
    auto* l = u.add_bids();
    l->set_price(p);
    l->set_size(q);
  }
  return u;
}
}  // namespace

TEST_CASE("NATS book consumer: the gRPC client's sequence, gap and resync rules", "[nats]") {
  perpgw::natsbook::BookRebuilder b;
  // Deltas before any snapshot wait (buffered).
  b.OnMessage(U(11, false, {{"100.0", "1"}}), false);
  CHECK_FALSE(b.synced());
  // A periodic snapshot at 10 starts the book; the buffered delta 11 follows it.
  b.OnMessage(U(10, true, {{"99", "2"}}), true);
  REQUIRE(b.synced());
  CHECK(b.sequence() == 11);
  CHECK(b.bids() == perpgw::natsbook::Side{{"99", "2"}, {"100", "1"}});
  CHECK(b.live());
  // An older periodic snapshot is ignored; the next delta applies; size 0 removes.
  b.OnMessage(U(11, true, {{"1", "1"}}), true);
  CHECK(b.bids().size() == 2);
  b.OnMessage(U(12, false, {{"99", "0"}}), false);
  CHECK(b.bids() == perpgw::natsbook::Side{{"100", "1"}});
  // A jump is a gap: unsynced until a snapshot, later deltas buffered.
  b.OnMessage(U(14, false, {{"101", "1"}}), false);
  CHECK_FALSE(b.synced());
  CHECK(b.gaps == 1);
  b.OnMessage(U(15, false, {{"102", "1"}}), false);
  // The resync snapshot at 14 (the book stream's) holds 14; 15 applies after it.
  b.OnMessage(U(14, true, {{"101", "1"}}, true), false);
  REQUIRE(b.synced());
  CHECK(b.resyncs == 1);
  CHECK(b.sequence() == 15);
  CHECK(b.bids() == perpgw::natsbook::Side{{"101", "1"}, {"102", "1"}});
  // A periodic snapshot newer than the book (deltas missed without a later one) replaces it.
  b.OnMessage(U(20, true, {{"50", "5"}}), true);
  CHECK(b.sequence() == 20);
  CHECK(b.bids() == perpgw::natsbook::Side{{"50", "5"}});
  // Duplicates (older deltas) are ignored, never applied twice.
  b.OnMessage(U(19, false, {{"1", "1"}}), false);
  CHECK(b.bids().size() == 1);
  CHECK(b.gaps == 1);
}

TEST_CASE("NATS book consumer: a late start waits for a snapshot newer than its first delta",
          "[nats]") {
  perpgw::natsbook::BookRebuilder late;
  late.OnMessage(U(30, false, {{"1", "1"}}), false);  // the first delta it sees
  late.OnMessage(U(25, true, {{"2", "1"}}), true);    // JetStream's last snapshot is older
  CHECK_FALSE(late.synced());
  CHECK(late.waits == 1);
  CHECK(late.gaps == 0);  // nothing was lost on the wire
  late.OnMessage(U(31, false, {{"3", "1"}}), false);
  late.OnMessage(U(31, true, {{"4", "1"}}), true);  // the next periodic one holds 30 and 31
  REQUIRE(late.synced());
  CHECK(late.sequence() == 31);
  CHECK(late.bids() == perpgw::natsbook::Side{{"4", "1"}});
  late.OnMessage(U(32, false, {{"5", "1"}}), false);
  CHECK(late.bids().size() == 2);
  CHECK(late.gaps == 0);

  // JetStream's snapshot taken before any delta arrived, then a delta that does not chain: the
  // snapshot was old, not a loss.
  perpgw::natsbook::BookRebuilder early;
  early.OnMessage(U(40, true, {{"1", "1"}}), true);
  REQUIRE(early.synced());
  early.OnMessage(U(44, false, {{"2", "1"}}), false);
  CHECK_FALSE(early.synced());
  CHECK(early.waits == 1);
  CHECK(early.gaps == 0);
}

TEST_CASE("publish.nats.url: a comma-separated list, each entry validated by name",
          "[config][nats]") {
  using perpgw::gateway::publish::NatsServerProblem;
  using perpgw::gateway::publish::SplitNatsServers;
  CHECK(SplitNatsServers("nats://a:4222") == std::vector<std::string>{"nats://a:4222"});
  CHECK(SplitNatsServers("nats://a:4222, nats://b:4222 ,tls://c") ==
        std::vector<std::string>{"nats://a:4222", "nats://b:4222", "tls://c"});
  CHECK(SplitNatsServers("nats://a:1,") == std::vector<std::string>{"nats://a:1", ""});
  for (const char* ok : {"nats://a:4222", "tls://nats.example.com:4443", "nats://10.0.0.5",
                         "nats://[::1]:4222", "nats://[fe80::1]"}) {
    INFO(ok);
    CHECK(NatsServerProblem(ok).empty());
  }
  CHECK(NatsServerProblem("") == "empty entry");
  CHECK(NatsServerProblem("h:4222") == "must be nats://host:port or tls://host:port");
  CHECK(NatsServerProblem("nats://:4222") == "no host");
  CHECK(NatsServerProblem("nats://h:") == "empty port");
  CHECK(NatsServerProblem("nats://h:70000") == "port must be 1-65535");
  CHECK(NatsServerProblem("nats://h:0") == "port must be 1-65535");
  CHECK(NatsServerProblem("nats://h:4222/x").find("port must be a number") == 0);
  CHECK(NatsServerProblem("nats://[::1") == "unclosed '[' in the IPv6 address");
  // Credentials in a URL are a secret written in the config (and logged with the URL).
  for (const char* bad : {"nats://user:p@ss@h:4222", "nats://tok@h:4222", "tls://u:pw@h"}) {
    INFO(bad);
    CHECK(NatsServerProblem(bad).find("no credentials in the URL") == 0);
  }

  auto two = ParseConfig("publish: {nats: {url: \"nats://a:4222, nats://b:4443\"}}", "t.yaml");
  REQUIRE(two.ok());
  CHECK(two->publish.nats.url == "nats://a:4222, nats://b:4443");  // split at connect
  // The bad entry is named (position and text), the good ones are not.
  const std::string e = Err("publish: {nats: {url: \"nats://a:4222,nats://b:42x2\"}}");
  CHECK_THAT(e, Catch::Contains("publish.nats.url: server 2 of 2 'nats://b:42x2': port must be"));
  CHECK_THAT(e, !Catch::Contains("'nats://a:4222'"));
  CHECK_THAT(Err("publish: {nats: {url: \"nats://a:4222,\"}}"),
             Catch::Contains("publish.nats.url: server 2 of 2 '': empty entry"));
  CHECK_THAT(Err("publish: {nats: {url: \"\"}}"),
             Catch::Contains("publish.nats.url: server 1 of 1 '': empty entry"));
  CHECK_THAT(Err("publish: {nats: {url: \"nats://a:4222;nats://b:4222\"}}"),
             Catch::Contains("publish.nats.url: server 1 of 1"));
}

TEST_CASE("publish.nats.replicas: 1 by default, 1..5", "[config][nats]") {
  auto three = ParseConfig("publish: {nats: {url: nats://h:4222, replicas: 3}}", "t.yaml");
  REQUIRE(three.ok());
  CHECK(three->publish.nats.replicas == 3);
  CHECK(ParseConfig("publish: {nats: {url: nats://h:4222, replicas: 5}}", "t").ok());
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, replicas: 0}}"),
             Catch::Contains("publish.nats.replicas: must be between 1 and 5"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, replicas: 6}}"),
             Catch::Contains("publish.nats.replicas: must be between 1 and 5"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, replicas: three}}"),
             Catch::Contains("publish.nats.replicas: must be an integer"));
}

// Sharding by venue and account (issue 18): a second gateway on a venue (another account) must
// not publish that venue's market data too (competing sequences and status on the same
// subjects). publish.nats.market_data: false makes it an orders-only shard.
TEST_CASE("publish.nats.market_data: false is an orders-only shard, validated", "[config][nats]") {
  setenv("PERPGW_NATS_TEST_SECRET", "s3cr3t-value", 1);
  const std::string acc = kAccounts;
  using perpgw::gateway::publish::StreamsFor;

  auto def = ParseConfig(acc + "publish: {nats: {url: nats://h:4222, accounts: [a1]}}", "t");
  REQUIRE(def.ok());
  CHECK(def->publish.nats.market_data);  // the default: market data and order events
  auto both = StreamsFor(def->publish.nats);
  REQUIRE(both.size() == 2);
  CHECK(both[0].name == "PERPGW_ORDERS");
  CHECK(both[0].subjects == "perpgw.account.*.orders");
  CHECK(both[0].max_msgs_per_subject == -1);
  CHECK(both[1].name == "PERPGW_BOOKS");
  CHECK(both[1].subjects == "perpgw.*.*.snapshot");
  CHECK(both[1].max_msgs_per_subject == 1);

  auto shard = ParseConfig(
      acc + "publish: {nats: {url: nats://h:4222, accounts: [a1], market_data: false}}", "t");
  REQUIRE(shard.ok());
  CHECK_FALSE(shard->publish.nats.market_data);
  // No books stream: the venue's market-data gateway owns it.
  auto orders_only = StreamsFor(shard->publish.nats);
  REQUIRE(orders_only.size() == 1);
  CHECK(orders_only[0].name == "PERPGW_ORDERS");
  CHECK(ParseConfig(acc + "publish: {nats: {url: nats://h:4222, accounts: [\"*\"], market_data: "
                          "false}}",
                    "t")
            .ok());
  // No snapshots configured: no books stream either way.
  auto nosnap =
      ParseConfig("publish: {nats: {url: nats://h:4222, book_snapshot_interval_ms: 0}}", "t");
  REQUIRE(nosnap.ok());
  CHECK(StreamsFor(nosnap->publish.nats).size() == 1);

  // An orders-only gateway without an account to publish would publish nothing.
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, market_data: false}}"),
             Catch::Contains("publish.nats.market_data: false (order events only) needs "
                             "publish.nats.accounts"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, accounts: [\"*\"], market_data: false}}"),
             Catch::Contains("publish.nats.market_data: false"));
  CHECK_THAT(Err("publish: {nats: {url: nats://h:4222, market_data: maybe}}"),
             Catch::Contains("publish.nats.market_data"));
  // market_data: true without accounts stays valid (a market-data-only gateway).
  CHECK(ParseConfig("publish: {nats: {url: nats://h:4222, market_data: true}}", "t").ok());
}

TEST_CASE("NATS order-event consumer: per-epoch sequence continuity, gaps never silent", "[nats]") {
  using perpgw::natsbook::OrderSequenceCheck;
  OrderSequenceCheck c;
  // The first event sets the base (a resumed durable consumer starts mid-stream).
  CHECK(c.OnEvent(7, 41) == OrderSequenceCheck::kFirst);
  CHECK(c.OnEvent(7, 42) == OrderSequenceCheck::kNext);
  // A redelivery (acked too late before a crash) is not passed on twice.
  CHECK(c.OnEvent(7, 42) == OrderSequenceCheck::kDuplicate);
  CHECK(c.OnEvent(7, 40) == OrderSequenceCheck::kDuplicate);
  CHECK(c.duplicates == 2);
  // A jump within an epoch: reported with what is missing.
  CHECK(c.OnEvent(7, 45) == OrderSequenceCheck::kGap);
  CHECK(c.gap_from() == 43);
  CHECK(c.gap_count() == 2);
  CHECK(c.OnEvent(7, 46) == OrderSequenceCheck::kNext);
  // A new epoch continuing the sequence (order-event log on) or restarting at 1 (no log).
  CHECK(c.OnEvent(8, 47) == OrderSequenceCheck::kNewEpoch);
  CHECK(c.OnEvent(9, 1) == OrderSequenceCheck::kNewEpoch);
  CHECK(c.OnEvent(9, 2) == OrderSequenceCheck::kNext);
  // A new epoch that neither continues nor starts at 1: its start was missed.
  CHECK(c.OnEvent(10, 1) == OrderSequenceCheck::kNewEpoch);
  CHECK(c.OnEvent(11, 5) == OrderSequenceCheck::kGap);
  CHECK(c.gap_count() == 3);  // 2, 3, 4 (continuing from 1)
  CHECK(c.OnEvent(12, 3) == OrderSequenceCheck::kGap);
  CHECK(c.gap_from() == 1);
  CHECK(c.gap_count() == 2);  // restarted: 1 and 2 missed
  CHECK(c.gaps == 3);
  CHECK(c.missing == 7);
  CHECK(c.events == 10);  // duplicates not counted as events
  CHECK(c.epochs == 6);
  CHECK(c.epoch() == 12);
  CHECK(c.sequence() == 3);
}

TEST_CASE("NATS order-event consumer: one JSON line per event", "[nats]") {
  perpgw::v1::OrderEvent e;
  e.set_account("aster-2");
  e.set_epoch(3);
  e.set_sequence(9);
  auto* o = e.mutable_order();
  o->mutable_market()->set_venue("aster");
  o->mutable_market()->set_symbol("BTC");
  o->set_client_order_id("c\"1");
  o->set_side(perpgw::v1::SIDE_BUY);
  o->set_status(perpgw::v1::ORDER_STATUS_OPEN);
  o->set_price("100.5");
  o->set_size("0.01");
  const std::string line = perpgw::natsbook::OrderEventLine(e);
  CHECK_THAT(line, Catch::StartsWith("{\"order_event\":{\"account\":\"aster-2\",\"epoch\":3,"
                                     "\"sequence\":9,\"venue\":\"aster\",\"symbol\":\"BTC\","
                                     "\"client_order_id\":\"c\\\"1\""));
  CHECK_THAT(line, Catch::Contains("\"status\":\"ORDER_STATUS_OPEN\""));
  CHECK_THAT(line, Catch::Contains("\"side\":\"SIDE_BUY\""));
  CHECK_THAT(line, !Catch::Contains("\"fill\""));
  CHECK(line.back() == '}');
}

// publish.nats.tls and credentials: files read at load, secrets only from env or files, one
// auth method, and no secret in a URL or in any message.
TEST_CASE("publish.nats: TLS and credentials, secrets never in the config or a message",
          "[config][nats]") {
  const std::string dir = "/tmp/perpgw-nats-sec-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  const std::string ca = write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const std::string cert = write("c.pem", "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
  const std::string key = write("c.key", "-----BEGIN PRIVATE KEY-----\nSECRETKEY\n-----END PRIVATE KEY-----\n");
  const std::string creds = write("u.creds",
                                  "-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n"
                                  "-----BEGIN USER NKEY SEED-----\nSUAM\n------END USER NKEY SEED------\n");
  ::setenv("PERPGW_NATS_TEST_PW", "hunter2-pw", 1);

  auto ok = ParseConfig("publish: {nats: {url: \"tls://nats.internal:4443\", tls: {ca_file: " + ca +
                            ", cert_file: " + cert + ", key_file: " + key +
                            "}, user: desk, password: {env: PERPGW_NATS_TEST_PW}}}",
                        "t.yaml");
  REQUIRE(ok.ok());
  const auto& n = ok->publish.nats;
  CHECK(n.tls.enabled);
  CHECK(n.tls.server_name == "nats.internal");  // the servers' common host
  CHECK(n.tls.ca_file == ca);
  CHECK(n.tls.cert_file == cert);
  CHECK(n.tls.key_file == key);
  CHECK(n.user == "desk");
  CHECK(n.password.Reveal() == "hunter2-pw");

  auto with_creds = ParseConfig("publish: {nats: {url: nats://h:4222, creds_file: " + creds + "}}",
                                "t.yaml");
  REQUIRE(with_creds.ok());
  CHECK(with_creds->publish.nats.creds_file == creds);
  CHECK_FALSE(with_creds->publish.nats.tls.enabled);
  auto with_token = ParseConfig(
      "publish: {nats: {url: nats://h:4222, token: {env: PERPGW_NATS_TEST_PW}}}", "t.yaml");
  REQUIRE(with_token.ok());
  CHECK(with_token->publish.nats.token.Reveal() == "hunter2-pw");

  struct Bad {
    std::string yaml, key, says;
  };
  const std::vector<Bad> bad = {
      {"publish: {nats: {url: \"nats://desk:hunter2-pw@h:4222\"}}", "publish.nats.url",
       "no credentials in the URL"},
      {"publish: {nats: {url: nats://h, password: hunter2-pw, user: desk}}",
       "publish.nats.password", "secrets must not be written in the config"},
      {"publish: {nats: {url: nats://h, token: hunter2-pw}}", "publish.nats.token",
       "secrets must not be written in the config"},
      {"publish: {nats: {url: nats://h, user: desk}}", "publish.nats.password",
       "required with user"},
      {"publish: {nats: {url: nats://h, creds_file: " + creds +
           ", token: {env: PERPGW_NATS_TEST_PW}}}",
       "publish.nats", "give one of creds_file, token, or user + password"},
      {"publish: {nats: {url: nats://h, creds_file: " + ca + "}}", "publish.nats.creds_file",
       "is not a NATS credentials file"},
      {"publish: {nats: {url: nats://h, creds_file: " + dir + "/none.creds}}",
       "publish.nats.creds_file", "cannot read"},
      {"publish: {nats: {url: \"tls://h:4443\"}}", "publish.nats.tls", "needs publish.nats.tls.ca_file"},
      {"publish: {nats: {url: nats://h, tls: {cert_file: " + cert + ", key_file: " + key + "}}}",
       "publish.nats.tls.ca_file", "required"},
      {"publish: {nats: {url: nats://h, tls: {ca_file: " + ca + ", cert_file: " + cert + "}}}",
       "publish.nats.tls", "cert_file and key_file go together"},
      {"publish: {nats: {url: \"tls://10.0.0.5:4443\", tls: {ca_file: " + ca + "}}}",
       "publish.nats.tls.server_name", "required when the server is an IP address"},
      {"publish: {nats: {url: \"tls://a:4443,tls://b:4443\", tls: {ca_file: " + ca + "}}}",
       "publish.nats.tls.server_name", "required when the servers' hosts differ"},
      {"publish: {nats: {url: nats://h, tls: {ca_file: " + dir + "/none.pem}}}",
       "publish.nats.tls.ca_file", "cannot read"},
  };
  for (const auto& b : bad) {
    INFO(b.yaml);
    const std::string e = Err(b.yaml);
    INFO(e);
    CHECK(e.find(b.key + ": ") != std::string::npos);
    CHECK(e.find(b.says) != std::string::npos);
    CHECK(e.find("hunter2-pw") == std::string::npos);  // never echoed
    CHECK(e.find("SECRETKEY") == std::string::npos);
  }
  // An IP server with server_name set is fine (the name its certificate carries).
  CHECK(ParseConfig("publish: {nats: {url: \"tls://10.0.0.5:4443\", tls: {ca_file: " + ca +
                        ", server_name: nats.internal}}}",
                    "t.yaml")
            .ok());
  ::unsetenv("PERPGW_NATS_TEST_PW");
  std::filesystem::remove_all(dir);
}
