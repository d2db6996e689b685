// TxQueue: one signer per API key. Nonces seeded from nextNonce, one request in flight,
// coalescing into batches of at most 15, re-signing after an invalid nonce, and the outcomes a
// caller sees for every kind of answer. Driven by hand: no I/O.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "adapters/lighter/errors.h"
#include "absl/strings/match.h"
#include "adapters/lighter/tx_queue.h"

namespace {

using namespace perpgw::adapters::lighter;
using Kind = TxOutcome::Kind;

struct Harness {
  struct Sent {
    std::vector<SignedTx> txs;
    std::function<void(TxAnswer)> answer;
  };
  std::vector<Sent> sent;
  std::vector<std::function<void(absl::StatusOr<int64_t>)>> nonce_asks;
  std::map<int, TxOutcome> outcomes;  // by submit order
  TxQueue q{TxQueue::Options{},
            [this](const std::vector<SignedTx>& txs, std::function<void(TxAnswer)> a) {
              sent.push_back({txs, std::move(a)});
            },
            [this](std::function<void(absl::StatusOr<int64_t>)> got) {
              nonce_asks.push_back(std::move(got));
            }};

  // Submits tx number `id`; its signed form names the id and the nonce it got.
  void Submit(int id, bool sign_fails = false) {
    q.Submit(
        [id, sign_fails](int64_t nonce) -> absl::StatusOr<SignedTx> {
          if (sign_fails) return absl::InvalidArgumentError("bad tx");
          SignedTx t;
          t.tx_type = TxType::kCreateOrder;
          t.tx_info = std::to_string(id);
          t.hash_hex = "h" + std::to_string(nonce);
          return t;
        },
        [this, id](TxOutcome o) { outcomes[id] = std::move(o); });
  }
  // Several txs before one flush (PlaceOrders / CancelOrders through TxQueue::SubmitAll).
  void SubmitAll(const std::vector<int>& ids, int failing = -1) {
    std::vector<TxQueue::Job> jobs;
    for (int id : ids) {
      jobs.push_back({[id, failing](int64_t nonce) -> absl::StatusOr<SignedTx> {
                        if (id == failing) return absl::InvalidArgumentError("bad tx");
                        SignedTx t;
                        t.tx_type = TxType::kCreateOrder;
                        t.tx_info = std::to_string(id);
                        t.hash_hex = "h" + std::to_string(nonce);
                        return t;
                      },
                      [this, id](TxOutcome o) { outcomes[id] = std::move(o); }});
    }
    q.SubmitAll(std::move(jobs));
  }
  void GiveNonce(int64_t n) {
    REQUIRE_FALSE(nonce_asks.empty());
    auto f = std::move(nonce_asks.back());
    nonce_asks.pop_back();
    f(n);
  }
  static TxAnswer Accepted(size_t n) {
    TxAnswer a;
    a.answered = true;
    a.http_status = 200;
    a.error.status_code = absl::StatusCode::kOk;
    for (size_t i = 0; i < n; ++i) a.hashes.push_back("venue" + std::to_string(i));
    return a;
  }
  static TxAnswer Refused(int http, const std::string& body) {
    TxAnswer a;
    a.answered = true;
    a.http_status = http;
    a.error = ClassifyApiAnswer(http, body, perpgw::RequestKind::kOrderEntry);
    return a;
  }
  void Answer(size_t i, TxAnswer a) {
    REQUIRE(i < sent.size());
    auto f = std::move(sent[i].answer);
    f(std::move(a));
  }
  static std::vector<std::string> Ids(const Sent& s) {
    std::vector<std::string> ids;
    for (const auto& t : s.txs) ids.push_back(t.tx_info);
    return ids;
  }
};

}  // namespace

TEST_CASE("tx queue: seeded from nextNonce, one request in flight, the rest batched") {
  Harness h;
  h.Submit(1);
  REQUIRE(h.nonce_asks.size() == 1);  // nothing is signed before the nonce is known
  CHECK(h.sent.empty());
  h.GiveNonce(40);
  REQUIRE(h.sent.size() == 1);
  CHECK(h.sent[0].txs[0].hash_hex == "h40");
  for (int i = 2; i <= 21; ++i) h.Submit(i);  // 20 more while the first is in flight
  CHECK(h.sent.size() == 1);
  h.Answer(0, Harness::Accepted(1));
  CHECK(h.outcomes[1].kind == Kind::kAccepted);
  CHECK(h.outcomes[1].nonce == 40);
  CHECK(h.outcomes[1].tx_hash == "venue0");
  REQUIRE(h.sent.size() == 2);
  REQUIRE(h.sent[1].txs.size() == 15);  // the notes' safe batch size
  for (size_t i = 0; i < 15; ++i) CHECK(h.sent[1].txs[i].hash_hex == "h" + std::to_string(41 + i));
  h.Answer(1, Harness::Accepted(15));
  REQUIRE(h.sent.size() == 3);
  CHECK(h.sent[2].txs.size() == 5);
  CHECK(h.sent[2].txs[0].hash_hex == "h56");
  h.Answer(2, Harness::Accepted(5));
  CHECK(h.q.next_nonce() == 61);
  CHECK(h.outcomes.size() == 21);
  for (const auto& [id, o] : h.outcomes) CHECK(o.kind == Kind::kAccepted);
  CHECK(h.q.batches() == 2);
  CHECK(h.nonce_asks.empty());  // seeded once
}

TEST_CASE("tx queue: SubmitAll sends its txs in one request when nothing is in flight") {
  Harness h;
  h.Submit(1);
  h.GiveNonce(7);
  h.Answer(0, Harness::Accepted(1));  // idle, nonce known (8): Submit would send at once
  REQUIRE(h.sent.size() == 1);
  h.SubmitAll({2, 3, 4});
  REQUIRE(h.sent.size() == 2);  // one sendTxBatch, not 2 alone then 3+4 batched
  CHECK(Harness::Ids(h.sent[1]) == std::vector<std::string>{"2", "3", "4"});
  CHECK(h.sent[1].txs[0].hash_hex == "h8");
  CHECK(h.sent[1].txs[2].hash_hex == "h10");
  h.Answer(1, Harness::Accepted(3));
  for (int id : {2, 3, 4}) {
    CHECK(h.outcomes[id].kind == Kind::kAccepted);
    CHECK(h.outcomes[id].batched);
  }
  CHECK(h.outcomes[4].nonce == 10);
  CHECK(h.q.next_nonce() == 11);
  CHECK(h.q.batches() == 1);

  // A tx that fails to sign is answered alone (kNotSent); its nonce goes to the next one.
  h.SubmitAll({5, 6, 7}, /*failing=*/6);
  CHECK(h.outcomes[6].kind == Kind::kNotSent);
  REQUIRE(h.sent.size() == 3);
  CHECK(Harness::Ids(h.sent[2]) == std::vector<std::string>{"5", "7"});
  CHECK(h.sent[2].txs[1].hash_hex == "h12");

  // More than max_batch (15): the first 15 together, the rest in the next request.
  h.Answer(2, Harness::Accepted(2));
  std::vector<int> many;
  for (int i = 100; i < 117; ++i) many.push_back(i);
  h.SubmitAll(many);
  REQUIRE(h.sent.size() == 4);
  CHECK(h.sent[3].txs.size() == 15);
  h.Answer(3, Harness::Accepted(15));
  REQUIRE(h.sent.size() == 5);
  CHECK(Harness::Ids(h.sent[4]) == std::vector<std::string>{"115", "116"});
}

TEST_CASE("tx queue: SubmitAll before the nonce is known waits for it, then one request") {
  Harness h;
  h.SubmitAll({1, 2});
  REQUIRE(h.nonce_asks.size() == 1);
  CHECK(h.sent.empty());
  h.GiveNonce(3);
  REQUIRE(h.sent.size() == 1);
  CHECK(Harness::Ids(h.sent[0]) == std::vector<std::string>{"1", "2"});
}

TEST_CASE("tx queue: an invalid nonce re-reads it and re-signs the same txs first") {
  Harness h;
  h.Submit(1);
  h.GiveNonce(7);
  h.Submit(2);
  h.Submit(3);
  // Another process used the key: 7 is gone.
  h.Answer(0, Harness::Refused(400, R"({"code":21104,"message":"invalid nonce"})"));
  CHECK(h.outcomes.empty());  // nobody is told anything: the txs were not accepted
  REQUIRE(h.nonce_asks.size() == 1);
  h.GiveNonce(9);
  REQUIRE(h.sent.size() == 2);
  // Tx 1 first, then the newer ones, in one batch with fresh nonces.
  CHECK(Harness::Ids(h.sent[1]) == std::vector<std::string>{"1", "2", "3"});
  CHECK(h.sent[1].txs[0].hash_hex == "h9");
  CHECK(h.sent[1].txs[2].hash_hex == "h11");
  h.Answer(1, Harness::Accepted(3));
  CHECK(h.outcomes[1].kind == Kind::kAccepted);
  CHECK(h.outcomes[1].nonce == 9);
  CHECK(h.q.next_nonce() == 12);
}

TEST_CASE("tx queue: invalid nonce forever gives up after the retries, as refused") {
  Harness h;
  h.Submit(1);
  h.GiveNonce(1);
  for (int round = 0; round < 3; ++round) {
    h.Answer(h.sent.size() - 1, Harness::Refused(400, R"({"code":21104,"message":"invalid nonce"})"));
    h.GiveNonce(1);
  }
  h.Answer(h.sent.size() - 1, Harness::Refused(400, R"({"code":21104,"message":"invalid nonce"})"));
  REQUIRE(h.outcomes.count(1));
  CHECK(h.outcomes[1].kind == Kind::kRefused);
  CHECK(h.sent.size() == 4);  // the first try and three retries
}

TEST_CASE("tx queue: outcomes for lost answers, refusals, rate limits and batches") {
  SECTION("no answer: unknown, and the nonce is read again") {
    Harness h;
    h.Submit(1);
    h.GiveNonce(3);
    h.Answer(0, TxAnswer{});
    CHECK(h.outcomes[1].kind == Kind::kUnknown);
    CHECK_FALSE(h.q.nonce_known());
    h.Submit(2);
    CHECK(h.nonce_asks.size() == 1);
  }
  SECTION("a 5xx on order entry: unknown (it may have been accepted)") {
    Harness h;
    h.Submit(1);
    h.GiveNonce(3);
    h.Answer(0, Harness::Refused(502, "bad gateway"));
    CHECK(h.outcomes[1].kind == Kind::kUnknown);
  }
  SECTION("a refused single tx: refused; in a batch: unknown for each") {
    Harness h;
    h.Submit(1);
    h.GiveNonce(3);
    h.Submit(2);
    h.Submit(3);
    h.Answer(0, Harness::Refused(400, R"({"code":21120,"message":"invalid price"})"));
    CHECK(h.outcomes[1].kind == Kind::kRefused);
    CHECK(h.outcomes[1].answer.error.code == "21120");
    h.GiveNonce(3);  // re-read: whether the nonce went is not knowable
    REQUIRE(h.sent.size() == 2);
    h.Answer(1, Harness::Refused(400, R"({"code":21120,"message":"invalid price"})"));
    CHECK(h.outcomes[2].kind == Kind::kUnknown);
    CHECK(h.outcomes[3].kind == Kind::kUnknown);
    CHECK(h.outcomes[3].batched);
  }
  SECTION("rate limited: refused before anything ran, batch or not") {
    Harness h;
    h.Submit(1);
    h.GiveNonce(3);
    h.Submit(2);
    h.Submit(3);
    h.Answer(0, Harness::Accepted(1));
    h.Answer(1, Harness::Refused(429, R"({"code":429,"message":"Too Many Requests"})"));
    CHECK(h.outcomes[2].kind == Kind::kRefused);
    CHECK(h.outcomes[3].kind == Kind::kRefused);
    CHECK(h.outcomes[3].answer.error.rate_limited());
  }
  SECTION("a tx that cannot be signed never leaves and does not use a nonce") {
    Harness h;
    h.Submit(1, /*sign_fails=*/true);
    h.Submit(2);
    h.GiveNonce(5);
    CHECK(h.outcomes[1].kind == Kind::kNotSent);
    REQUIRE(h.sent.size() == 1);
    CHECK(h.sent[0].txs.size() == 1);
    CHECK(h.sent[0].txs[0].hash_hex == "h5");
  }
  SECTION("no nonce: every waiting tx ends unsent with the reason") {
    Harness h;
    h.Submit(1);
    h.Submit(2);
    REQUIRE(h.nonce_asks.size() == 1);
    auto f = std::move(h.nonce_asks.back());
    h.nonce_asks.pop_back();
    f(absl::UnavailableError("connection refused"));
    CHECK(h.outcomes[1].kind == Kind::kNotSent);
    CHECK(h.outcomes[2].kind == Kind::kNotSent);
    CHECK(absl::StrContains(h.outcomes[2].status.message(), "connection refused"));
    CHECK(h.sent.empty());
  }
}

TEST_CASE("tx queue: no two accepted txs ever share a nonce, whatever the answers") {
  // A venue model: strictly sequential nonces; each answer chosen by a fixed pseudo-random
  // sequence among accept / invalid nonce / lost / refused.
  Harness h;
  int64_t venue_next = 100;
  std::set<int64_t> used;
  uint32_t rnd = 12345;
  auto next = [&rnd] {
    rnd = rnd * 1103515245u + 12345u;
    return (rnd >> 16) % 100;
  };
  int submitted = 0;
  for (int step = 0; step < 400; ++step) {
    if (next() < 40) h.Submit(++submitted);
    if (!h.nonce_asks.empty()) {
      h.GiveNonce(venue_next);
      continue;
    }
    // Answer the newest unanswered request.
    for (size_t i = 0; i < h.sent.size(); ++i) {
      if (!h.sent[i].answer) continue;
      const auto& txs = h.sent[i].txs;
      const int64_t first = std::stoll(txs[0].hash_hex.substr(1));
      const uint32_t roll = next();
      if (first != venue_next || roll < 10) {
        h.Answer(i, Harness::Refused(400, R"({"code":21104,"message":"invalid nonce"})"));
      } else if (roll < 80) {
        for (const auto& t : txs) CHECK(used.insert(std::stoll(t.hash_hex.substr(1))).second);
        venue_next += static_cast<int64_t>(txs.size());
        h.Answer(i, Harness::Accepted(txs.size()));
      } else if (roll < 90) {
        // Accepted, but the answer was lost: the venue consumed the nonces.
        for (const auto& t : txs) CHECK(used.insert(std::stoll(t.hash_hex.substr(1))).second);
        venue_next += static_cast<int64_t>(txs.size());
        h.Answer(i, TxAnswer{});
      } else {
        venue_next += 1;  // someone else used a nonce meanwhile
        h.Answer(i, Harness::Refused(400, R"({"code":21104,"message":"invalid nonce"})"));
      }
      break;
    }
  }
  CHECK(submitted > 100);
  CHECK(used.size() > 50);
}
