// Order journal: line codec round trip, damaged and torn lines skipped, lock, compaction.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "adapters/runtime/order_journal.h"

namespace perpgw::runtime {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("perpgw_journal_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  return (dir / "venue.journal").string();
}

JournalEntry Sample(const std::string& cid) {
  JournalEntry e;
  e.account = "acct\tone";
  e.client_order_id = cid;
  e.symbol = "BTC";
  e.side = Side::kSell;
  e.type = OrderType::kMarket;
  e.tif = TimeInForce::kIoc;
  e.price = *Decimal::Parse("97000.5");
  e.size = *Decimal::Parse("0.003");
  e.max_slippage_bps = *Decimal::Parse("25");
  e.reduce_only = true;
  e.state = EntryState::kUnknown;
  e.venue_order_id = "12345";
  e.venue_client_id = 4000000000u;
  e.sent_time = 1700000000000000000;
  e.expires = 1700000007000000000;
  e.status = OrderStatus::kPartiallyFilled;
  e.filled_size = *Decimal::Parse("0.001");
  e.avg_fill_price = *Decimal::Parse("97001");
  e.reason = CancelReason::kPostOnlyViolation;
  e.message = "line1\nline2 \\ tab\t";
  e.updated = 1700000001000000000;
  return e;
}

TEST_CASE("journal line round-trips every field, escapes included", "[runtime][journal]") {
  JournalEntry e = Sample("cid-1");
  std::string line = EncodeJournalLine(e);
  REQUIRE(line.back() == '\n');
  REQUIRE(std::count(line.begin(), line.end(), '\n') == 1);
  auto d = DecodeJournalLine(line);
  REQUIRE(d.ok());
  CHECK(d->account == e.account);
  CHECK(d->client_order_id == "cid-1");
  CHECK(d->side == Side::kSell);
  CHECK(d->type == OrderType::kMarket);
  CHECK(d->tif == TimeInForce::kIoc);
  CHECK(d->price == e.price);
  CHECK(d->size == e.size);
  CHECK(d->max_slippage_bps == e.max_slippage_bps);
  CHECK(d->reduce_only);
  CHECK(d->state == EntryState::kUnknown);
  CHECK(d->venue_order_id == "12345");
  CHECK(d->venue_client_id == 4000000000u);
  CHECK(d->expires == e.expires);
  CHECK(d->status == OrderStatus::kPartiallyFilled);
  CHECK(d->filled_size == e.filled_size);
  CHECK(d->reason == CancelReason::kPostOnlyViolation);
  CHECK(d->message == e.message);
}

TEST_CASE("journal line with a flipped byte is refused", "[runtime][journal]") {
  std::string line = EncodeJournalLine(Sample("cid-2"));
  line[20] = line[20] == 'x' ? 'y' : 'x';
  CHECK(!DecodeJournalLine(line).ok());
  CHECK(!DecodeJournalLine("").ok());
  CHECK(!DecodeJournalLine("00000000 v9\ta=1").ok());
}

TEST_CASE("journal replays the last state per key, skipping damaged and torn lines",
          "[runtime][journal]") {
  const std::string path = TempPath("replay");
  {
    auto j = OrderJournal::Open({path, true}, nullptr);
    REQUIRE(j.ok());
    JournalEntry a = Sample("a");
    REQUIRE((*j)->Append(a, true).ok());
    a.state = EntryState::kAccepted;
    REQUIRE((*j)->Append(a, false).ok());
    REQUIRE((*j)->Append(Sample("b"), true).ok());
  }
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "deadbeef v1\tgarbage\n";  // damaged
    std::string torn = EncodeJournalLine(Sample("c"));
    out << torn.substr(0, torn.size() / 2);  // torn last write (crash)
  }
  OrderJournal::Replay r;
  auto j = OrderJournal::Open({path, true}, &r);
  REQUIRE(j.ok());
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].client_order_id == "a");
  CHECK(r.entries[0].state == EntryState::kAccepted);
  CHECK(r.entries[1].client_order_id == "b");
  CHECK(r.skipped == 2);

  SECTION("a second opener is refused while the first holds the lock") {
    auto second = OrderJournal::Open({path, true}, nullptr);
    REQUIRE(!second.ok());
    CHECK(std::string(second.status().message()).find("locked") != std::string::npos);
  }
  SECTION("compaction keeps exactly the live entries and appends continue") {
    JournalEntry b = r.entries[1];
    REQUIRE((*j)->Compact({&b}).ok());
    JournalEntry d = Sample("d");
    REQUIRE((*j)->Append(d, true).ok());
    j->reset();
    OrderJournal::Replay r2;
    auto j2 = OrderJournal::Open({path, true}, &r2);
    REQUIRE(j2.ok());
    REQUIRE(r2.entries.size() == 2);
    CHECK(r2.entries[0].client_order_id == "b");
    CHECK(r2.entries[1].client_order_id == "d");
    CHECK(r2.skipped == 0);
  }
}

}  // namespace
}  // namespace perpgw::runtime
