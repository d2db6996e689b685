// ClientIdMap: deterministic, collision-free mapping of string client ids onto a numeric range.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "adapters/common/client_ids.h"

using perpgw::common::ClientIdMap;

TEST_CASE("client ids: canonical decimals map to themselves, others hash into range") {
  ClientIdMap m("lighter", (uint64_t{1} << 48) - 1);
  CHECK(*m.Assign("12345") == 12345u);
  CHECK(*m.Assign("12345") == 12345u);  // the same id again: the same index
  auto a = m.Assign("grid-7-buy");
  REQUIRE(a.ok());
  CHECK(*a >= 1);
  CHECK(*a <= m.max_id());
  CHECK(*m.Assign("grid-7-buy") == *a);
  // Not canonical: leading zero, sign, out of range -> hashed, never the literal.
  CHECK(*m.Assign("0123") != 123u);
  auto big = m.Assign("281474976710656");  // 2^48: out of range
  REQUIRE(big.ok());
  CHECK(*big <= m.max_id());
  CHECK(m.Resolve(12345) == std::optional<std::string>("12345"));
  CHECK(m.ResolveText(std::to_string(*a)) == "grid-7-buy");
  CHECK(m.ResolveText("999") == "999");  // never assigned here
  CHECK(m.ResolveText("abc") == "abc");
  CHECK_FALSE(m.Assign("").ok());
}

TEST_CASE("client ids: a deterministic map, the same across instances (restarts)") {
  ClientIdMap a("lighter", (uint64_t{1} << 48) - 1), b("lighter", (uint64_t{1} << 48) - 1);
  for (int i = 0; i < 100; ++i) {
    const std::string id = "ord-" + std::to_string(i);
    CHECK(*a.Assign(id) == *b.Assign(id));
  }
}

TEST_CASE("client ids: collisions probe on, a full range is an error, never a shared index") {
  ClientIdMap m("tiny", 5);
  std::set<uint64_t> seen;
  for (int i = 0; i < 5; ++i) {
    auto id = m.Assign("id-" + std::to_string(i));
    REQUIRE(id.ok());
    CHECK(*id >= 1);
    CHECK(*id <= 5);
    CHECK(seen.insert(*id).second);
  }
  auto full = m.Assign("one-more");
  CHECK(full.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(m.collisions() >= 64);  // every hashed candidate was taken before the probe
  // "3" is canonical but taken by another id: it hashes instead (and here finds no room).
  CHECK_FALSE(m.Assign("3").ok());
}

TEST_CASE("client ids: restore re-adds persisted pairs and refuses conflicts") {
  ClientIdMap m("lighter", 1000);
  CHECK(m.Restore("a", 10).ok());
  CHECK(m.Restore("a", 10).ok());  // idempotent
  CHECK(m.Restore("a", 11).code() == absl::StatusCode::kAlreadyExists);
  CHECK(m.Restore("b", 10).code() == absl::StatusCode::kAlreadyExists);
  CHECK(m.Restore("c", 1001).code() == absl::StatusCode::kInvalidArgument);
  CHECK(*m.Assign("a") == 10u);
  // A canonical id whose number another id holds does not take it.
  CHECK(*m.Assign("10") != 10u);
  m.Release("a");
  CHECK_FALSE(m.Find("a").has_value());
}
