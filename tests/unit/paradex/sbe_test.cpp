// Paradex SBE decoder on every recorded frame (tests/data/paradex/sbe/, values from frames.json),
// the versioning rules (absent fields, appended fields skipped, unknown templates), every
// truncation and single-byte corruption of every frame, and the feed over them.
#include "adapters/paradex/sbe.h"

#include <catch2/catch.hpp>

#include "adapters/api/order_book.h"
#include "adapters/paradex/codec.h"
#include "adapters/paradex/feed.h"
#include "test_util.h"

namespace px = perpgw::adapters::paradex;
namespace sbe = perpgw::adapters::paradex::sbe;
using px::testing::D;
using px::testing::Frame;
using px::testing::FromHex;
using px::testing::ReadData;

namespace {

// frames.json: name -> {hex, decoded} (the notes' own encoder/decoder output).
struct Expected {
  std::string name, message, hex;
  simdjson::dom::element decoded;
};

class FrameSet {
 public:
  FrameSet() {
    json_ = ReadData("sbe/frames.json");
    simdjson::dom::array frames = parser_.parse(json_)["frames"].get_array().value();
    for (simdjson::dom::element f : frames) {
      Expected e;
      e.name = std::string(f["name"].get_string().value());
      e.message = std::string(f["message"].get_string().value());
      e.hex = std::string(f["hex"].get_string().value());
      e.decoded = f["decoded"].value();
      all.push_back(e);
    }
  }
  std::vector<Expected> all;

 private:
  simdjson::dom::parser parser_;
  std::string json_;
};

// "67629.70000000" (or null) vs a decoded field.
void CheckDec(simdjson::dom::element decoded, const char* key, sbe::Dec got, int scale = 8) {
  INFO(key);
  simdjson::dom::element v = decoded[key].value();
  if (v.is_null()) {
    CHECK(got.null());
    return;
  }
  REQUIRE_FALSE(got.null());
  CHECK(got.value(scale) == D(std::string(v.get_string().value()).c_str()));
}

int64_t Int(simdjson::dom::element decoded, const char* key) {
  return decoded[key].get_int64().value();
}

std::string Str(simdjson::dom::element decoded, const char* key) {
  return std::string(decoded[key].get_string().value());
}

perpgw::Instrument Btc() {
  perpgw::Instrument i;
  i.venue = "paradex";
  i.venue_symbol = "BTC-USD-PERP";
  i.symbol = "BTC";
  i.base = "BTC";
  i.tick_size = D("0.1");
  i.step_size = D("0.001");
  i.price_scale = 1;
  i.size_scale = 3;
  perpgw::WidenBookScales(&i);
  return i;
}

}  // namespace

TEST_CASE("paradex sbe: every recorded frame decodes to the notes' values") {
  FrameSet set;
  REQUIRE(set.all.size() == 12);
  for (const Expected& e : set.all) {
    INFO(e.name);
    std::string frame = FromHex(e.hex);
    CHECK(frame == Frame(e.name));  // the .hex files and frames.json agree
    sbe::Header h;
    REQUIRE(sbe::ReadHeader(frame, &h).ok());
    simdjson::dom::element hd = e.decoded["_header"].value();
    CHECK(h.block_length == Int(hd, "blockLength"));
    CHECK(h.template_id == Int(hd, "templateId"));
    CHECK(h.version == Int(hd, "version"));
    CHECK(std::string(sbe::TemplateName(h.template_id)) == e.message);
    simdjson::dom::element d = e.decoded;
    if (e.message == "BookEvent") {
      sbe::BookEvent b;
      REQUIRE(sbe::Decode(frame, h, &b).ok());
      CHECK(b.ts_us == Int(d, "ts"));
      CHECK(b.seq == Int(d, "seq"));
      CHECK(b.pkg_type == (Str(d, "pkgType") == "SNAPSHOT" ? 0 : 1));
      CHECK(b.market == Str(d, "market"));
      CheckDec(d, "bestBidPrice", b.best_bid_price);
      CheckDec(d, "bestAskApiSize", b.best_ask_api_size);
      for (auto [group, key] : {std::pair{&b.bids, "bids"}, std::pair{&b.asks, "asks"}}) {
        simdjson::dom::array levels = d[key].get_array().value();
        REQUIRE(group->size() == levels.size());
        size_t i = 0;
        for (simdjson::dom::element l : levels) {
          CHECK(sbe::Dec{group->price(i)}.value() ==
                D(std::string(l["price"].get_string().value()).c_str()));
          CHECK(sbe::Dec{group->qty(i)}.value() ==
                D(std::string(l["size"].get_string().value()).c_str()));
          ++i;
        }
      }
    } else if (e.message == "BboEvent") {
      sbe::BboEvent b;
      REQUIRE(sbe::Decode(frame, h, &b).ok());
      CHECK(b.ts_us == Int(d, "ts"));
      CHECK(b.seq == Int(d, "seq"));
      CheckDec(d, "bidPrice", b.bid_price);
      CheckDec(d, "bidSize", b.bid_size);
      CheckDec(d, "askPrice", b.ask_price);
      CheckDec(d, "askSize", b.ask_size);
      CHECK(b.market == Str(d, "market"));
    } else if (e.message == "TradeEvent") {
      sbe::TradeEvent t;
      REQUIRE(sbe::Decode(frame, h, &t).ok());
      CHECK(t.ts_us == Int(d, "ts"));
      CHECK(t.trade_id == Int(d, "tradeId"));
      CHECK(t.side == 1);
      CheckDec(d, "price", t.price);
      CheckDec(d, "size", t.size);
      CHECK(t.created_at_us == Int(d, "createdAt"));
      CHECK(t.trade_type == 1);
      CHECK(t.market == Str(d, "market"));
      if (h.version >= 2) {
        // 1:2 in place: the exact 28-digit id after the market (the notes' v2-XML decoder sees
        // these 29 bytes as trailing).
        CHECK(t.trade_id_str == "1718179273230201709233240002");
        int64_t low = 0;
        REQUIRE(px::TradeIdLow64(t.trade_id_str, &low));
        CHECK(low == t.trade_id);  // gotcha G3: the int64 id is the low 64 bits
      } else {
        CHECK(t.trade_id_str.empty());
      }
    } else if (e.message == "MarketSummaryEvent") {
      sbe::MarketSummaryEvent s;
      REQUIRE(sbe::Decode(frame, h, &s).ok());
      CHECK(s.ts_us == Int(d, "ts"));
      for (auto [key, dec] : {std::pair{"markPrice", s.mark_price},
                              {"indexPrice", s.index_price},
                              {"lastPrice", s.last_price},
                              {"volumeUsd24h", s.volume_usd_24h},
                              {"openInterest", s.open_interest},
                              {"fundingRate", s.funding_rate},
                              {"bid", s.bid},
                              {"ask", s.ask},
                              {"totalVolume", s.total_volume},
                              {"priceChangeRate24h", s.price_change_rate_24h},
                              {"externalFairPrice", s.external_fair_price},
                              {"bidSize", s.bid_size}}) {
        CheckDec(d, key, dec);
      }
      if (h.version >= 1) {
        CheckDec(d, "fundingRatePrecise", s.funding_rate_precise, 12);
      } else {
        CHECK(s.funding_rate_precise.null());  // absent at version 0, not zero
        CHECK(s.forward_rate.null());
      }
      CHECK(s.market == Str(d, "market"));
    } else if (e.message == "FundingDataEvent") {
      sbe::FundingDataEvent f;
      REQUIRE(sbe::Decode(frame, h, &f).ok());
      CheckDec(d, "fundingRate", f.funding_rate);
      CheckDec(d, "fundingIndex", f.funding_index);
      CheckDec(d, "fundingPremium", f.funding_premium);
      CheckDec(d, "fundingRate8h", f.funding_rate_8h);
      CHECK(f.funding_period_hours == Int(d, "fundingPeriodHours"));
      CHECK(f.created_at_us == Int(d, "createdAt"));
      CHECK(f.impact_premium_rate.null());
      CHECK(f.market == Str(d, "market"));
    } else if (e.message == "HeartbeatEvent") {
      sbe::HeartbeatEvent hb;
      REQUIRE(sbe::Decode(frame, h, &hb).ok());
      CHECK(hb.ts_us == Int(d, "ts"));
      CHECK(hb.seq == Int(d, "seq"));
    } else if (e.message == "FundingRateComparisonEvent") {
      sbe::FundingRateComparisonEvent f;
      REQUIRE(sbe::Decode(frame, h, &f).ok());
      CHECK(f.ts_us == 1700000000000000);
      CHECK(f.last_updated_at_us == 1700000000000000);
      CHECK(f.hourly_funding_rate.mantissa == 100000000);  // Rate12: 0.0001
      CHECK(f.hourly_funding_rate.value(sbe::kScale12) == D("0.0001"));
      CHECK(f.asset_kind == 1);
      CHECK(f.source == 1);
      CHECK(f.market == "BTC-USD-PERP");
    } else {
      FAIL("frame kind not covered: " << e.message);
    }
  }
}

TEST_CASE("paradex sbe: a decoder for one template refuses another") {
  std::string f = Frame("bbo_v1");
  sbe::Header h;
  REQUIRE(sbe::ReadHeader(f, &h).ok());
  sbe::TradeEvent t;
  CHECK(sbe::Decode(f, h, &t).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("paradex sbe: header rules") {
  sbe::Header h;
  CHECK_FALSE(sbe::ReadHeader("", &h).ok());
  CHECK_FALSE(sbe::ReadHeader(std::string_view("\x30\x00\x02\x00\x01\x00\x01", 7), &h).ok());
  std::string f = Frame("bbo_v1");
  std::string wrong_schema = f;
  wrong_schema[4] = 2;
  CHECK_FALSE(sbe::ReadHeader(wrong_schema, &h).ok());
  std::string long_block = f;
  long_block[0] = static_cast<char>(0xff);  // blockLength past the end of the frame
  CHECK_FALSE(sbe::ReadHeader(long_block, &h).ok());
  // A block shorter than version 0's is missing fields every version has.
  std::string short_block = f;
  short_block[0] = 40;
  REQUIRE(sbe::ReadHeader(short_block, &h).ok());
  sbe::BboEvent b;
  CHECK_FALSE(sbe::Decode(short_block, h, &b).ok());
}

TEST_CASE("paradex sbe: fields appended by a newer version are skipped, absent ones are null") {
  std::string f = Frame("bbo_v1");
  // A future version appends 8 bytes to the root block: blockLength 56, same values.
  std::string newer = f.substr(0, 8 + 48) + std::string(8, '\x7f') + f.substr(8 + 48);
  newer[0] = 56;
  newer[6] = 3;  // acting version 3
  sbe::Header h;
  REQUIRE(sbe::ReadHeader(newer, &h).ok());
  sbe::BboEvent b;
  REQUIRE(sbe::Decode(newer, h, &b).ok());
  CHECK(b.market == "BTC-USD-PERP");
  CHECK(b.bid_price.value() == D("30112.22"));
  CHECK(b.ask_size.value() == D("0.05"));

  // Book groups whose entries grew (entry blockLength 20): stepped by the group's length.
  std::string book = Frame("book_delta_v1");
  REQUIRE(sbe::ReadHeader(book, &h).ok());
  sbe::BookEvent ev;
  REQUIRE(sbe::Decode(book, h, &ev).ok());
  std::string grown = book.substr(0, 97);
  size_t pos = 97;
  for (int g = 0; g < 2; ++g) {
    uint16_t n = static_cast<uint8_t>(book[pos + 2]);
    grown += std::string("\x14\x00", 2) + book.substr(pos + 2, 2);
    for (uint16_t i = 0; i < n; ++i) {
      grown += book.substr(pos + 4 + i * 16, 16) + std::string(4, '\x01');
    }
    pos += 4 + n * 16;
  }
  grown += book.substr(pos);
  sbe::BookEvent ev2;
  REQUIRE(sbe::Decode(grown, h, &ev2).ok());
  REQUIRE(ev2.bids.size() == ev.bids.size());
  REQUIRE(ev2.asks.size() == ev.asks.size());
  for (size_t i = 0; i < ev.bids.size(); ++i) {
    CHECK(ev2.bids.price(i) == ev.bids.price(i));
    CHECK(ev2.bids.qty(i) == ev.bids.qty(i));
  }
  CHECK(ev2.asks.price(0) == ev.asks.price(0));
  CHECK(ev2.market == "BTC-USD-PERP");

  // Group entries shorter than price + size are malformed.
  std::string shrunk = book;
  shrunk[97] = 8;
  CHECK_FALSE(sbe::Decode(shrunk, h, &ev2).ok());
}

TEST_CASE("paradex sbe: every truncation of every frame is an error, never a crash") {
  FrameSet set;
  for (const Expected& e : set.all) {
    std::string frame = FromHex(e.hex);
    for (size_t len = 0; len < frame.size(); ++len) {
      INFO(e.name << " truncated to " << len);
      // A copy of exactly `len` bytes: ASan sees any read past the end.
      std::string cut = frame.substr(0, len);
      sbe::Header h;
      absl::Status st = sbe::ReadHeader(cut, &h);
      if (st.ok()) {
        switch (static_cast<sbe::TemplateId>(h.template_id)) {
          case sbe::TemplateId::kBook: {
            sbe::BookEvent v;
            st = sbe::Decode(cut, h, &v);
            break;
          }
          case sbe::TemplateId::kBbo: {
            sbe::BboEvent v;
            st = sbe::Decode(cut, h, &v);
            break;
          }
          case sbe::TemplateId::kTrade: {
            sbe::TradeEvent v;
            st = sbe::Decode(cut, h, &v);
            // The 1:2 exact id is the one field whose absence at the very end is legal.
            if (h.version >= 2 && len == frame.size() - 29) {
              CHECK(st.ok());
              CHECK(v.trade_id_str.empty());
              continue;
            }
            break;
          }
          case sbe::TemplateId::kMarketSummary: {
            sbe::MarketSummaryEvent v;
            st = sbe::Decode(cut, h, &v);
            break;
          }
          case sbe::TemplateId::kFundingData: {
            sbe::FundingDataEvent v;
            st = sbe::Decode(cut, h, &v);
            break;
          }
          case sbe::TemplateId::kFundingRateComparison: {
            sbe::FundingRateComparisonEvent v;
            st = sbe::Decode(cut, h, &v);
            break;
          }
          case sbe::TemplateId::kHeartbeat: {
            sbe::HeartbeatEvent v;
            st = sbe::Decode(cut, h, &v);
            break;
          }
          default: FAIL("unexpected template " << h.template_id);
        }
      }
      CHECK_FALSE(st.ok());
    }
  }
}

TEST_CASE("paradex sbe: every single-byte corruption decodes or fails cleanly through the feed") {
  px::SymbolTable symbols;
  for (const char* m : {"BTC-USD-PERP", "kBONK-USD-PERP", "ORDI-USD-PERP", "TRUMP-USD-PERP"}) {
    perpgw::Instrument i = Btc();
    i.venue_symbol = m;
    symbols.Add(i);
  }
  px::Codec codec;
  px::Feed feed(&codec, &symbols);
  FrameSet set;
  size_t ok = 0, failed = 0;
  for (const Expected& e : set.all) {
    std::string frame = FromHex(e.hex);
    for (size_t i = 0; i < frame.size(); ++i) {
      for (int v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
        std::string bad = frame;
        bad[i] = static_cast<char>(v);
        perpgw::MarketMsg m;
        absl::Status st = feed.DecodeBinary(bad, 0, &m);
        (st.ok() ? ok : failed) += 1;
        if (st.ok() && m.delta != nullptr) {
          for (const perpgw::LevelChange& c : m.delta->changes) {
            CHECK(c.level.price > 0);
            CHECK(c.level.size >= 0);
          }
        }
      }
    }
  }
  CHECK(ok > 0);
  CHECK(failed > 0);
}

TEST_CASE("paradex feed: SBE book frames keep a book live under the monotonic rule") {
  px::SymbolTable symbols;
  symbols.Add(Btc());
  const perpgw::Instrument& btc = *symbols.ByVenueSymbol("BTC-USD-PERP");
  px::Codec codec;
  px::Feed feed(&codec, &symbols);
  CHECK(feed.seq_rule() == perpgw::SeqRule::kMonotonic);
  perpgw::BookSync sync(feed.seq_rule(), btc.price_scale, btc.size_scale);
  perpgw::MarketMsg m;

  REQUIRE(feed.DecodeBinary(Frame("book_deltas_first_snapshot_v1"), 5, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kDepthSnapshot);
  CHECK(m.instrument == &btc);
  CHECK(m.delta->last_id == 14127815);
  CHECK(m.delta->exchange_time == 1718267837265000LL * 1000);
  std::vector<perpgw::Level> bids, asks;
  perpgw::SplitSnapshotLevels(*m.delta, &bids, &asks);
  CHECK(bids.size() == 2);
  CHECK(asks.size() == 1);
  sync.OnSnapshot(bids, asks, m.delta->last_id);
  REQUIRE(sync.live());

  REQUIRE(feed.DecodeBinary(Frame("book_delta_v1"), 6, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kDepthDelta);
  CHECK(m.delta->last_id == 14127821);
  REQUIRE(m.delta->changes.size() == 3);
  CHECK(m.delta->changes[0].level.size == 0);  // 67629.0 removed
  CHECK(sync.OnDelta(*m.delta) == perpgw::BookSync::Result::kApplied);
  const perpgw::OrderBook& b = sync.book();
  REQUIRE(b.bid_count() == 1);
  CHECK(b.bid(0).price == *perpgw::ParseScaled("67629.7", btc.price_scale));
  CHECK(b.bid(0).size == *perpgw::ParseScaled("0.5", btc.size_scale));
  REQUIRE(b.ask_count() == 2);
  CHECK(b.ask(0).price == *perpgw::ParseScaled("69000", btc.price_scale));
  CHECK(b.ask(1).size == *perpgw::ParseScaled("3.137", btc.size_scale));
  // The same delta again is stale (seq not above the book's).
  REQUIRE(feed.DecodeBinary(Frame("book_delta_v1"), 7, &m).ok());
  CHECK(sync.OnDelta(*m.delta) == perpgw::BookSync::Result::kStale);
}

TEST_CASE("paradex feed: SBE bbo, trade, summary, funding; unknown templates and markets") {
  px::SymbolTable symbols;
  symbols.Add(Btc());
  perpgw::Instrument bonk = Btc();
  bonk.venue_symbol = "kBONK-USD-PERP";
  bonk.symbol = "BONK";
  bonk.quantity_multiplier = 1000;
  symbols.Add(bonk);
  px::Codec codec;
  px::Feed feed(&codec, &symbols);
  perpgw::MarketMsg m;

  REQUIRE(feed.DecodeBinary(Frame("bbo_empty_ask_v1"), 42, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kBbo);
  CHECK(m.bbo->symbol == "BTC");
  CHECK(m.bbo->bid_price == D("30112.22"));
  CHECK(m.bbo->ask_price.IsZero());  // null side = empty, not a price
  CHECK(m.bbo->ask_size.IsZero());
  CHECK(m.bbo->venue_seq == 20785);
  CHECK(m.bbo->receive_time == 42);

  REQUIRE(feed.DecodeBinary(Frame("trade_v1"), 1, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kTrade);
  CHECK(m.trade->symbol == "BONK");
  CHECK(m.trade->price == D("0.028776"));
  CHECK(m.trade->size == D("34028"));
  CHECK(m.trade->trade_id == "697056161572911042");
  CHECK(m.trade->taker_side == perpgw::Side::kBuy);
  REQUIRE(feed.DecodeBinary(Frame("trade_v2_with_trade_id_str"), 1, &m).ok());
  CHECK(m.trade->trade_id == "1718179273230201709233240002");

  REQUIRE(feed.DecodeBinary(Frame("markets_summary_v1"), 1, &m).ok());
  REQUIRE(m.kind == perpgw::FeedKind::kVenue);
  CHECK(m.detail == "markets_summary");
  CHECK(m.instrument == nullptr);  // ORDI is not in this table: routed by name, no instrument
  CHECK(feed.summary().venue_symbol == "ORDI-USD-PERP");
  CHECK(feed.summary().funding_rate == D("0.039199975098"));  // the precise 12-dp field
  CHECK(feed.summary().mark_price == D("49.80885481"));
  REQUIRE(feed.DecodeBinary(Frame("markets_summary_v0"), 1, &m).ok());
  CHECK(feed.summary().funding_rate == D("0.03919997"));  // v0: the 8-dp truncation

  REQUIRE(feed.DecodeBinary(Frame("funding_data_v1"), 1, &m).ok());
  CHECK(m.detail == "funding_data");
  CHECK(feed.funding_data().venue_symbol == "TRUMP-USD-PERP");
  CHECK(feed.funding_data().funding_rate == D("-0.00014969"));
  CHECK(feed.funding_data().funding_period_hours == 8);
  CHECK(feed.funding_data().exchange_time == 1771506636154000LL * 1000);

  for (const char* ignored : {"heartbeat_v1", "frc_golden_from_paradex_py_tests"}) {
    REQUIRE(feed.DecodeBinary(Frame(ignored), 1, &m).ok());
    CHECK(m.kind == perpgw::FeedKind::kIgnored);
  }
  std::string future = Frame("bbo_v1");
  future[2] = 19;  // a public template this decoder does not know: dropped, not an error
  REQUIRE(feed.DecodeBinary(future, 1, &m).ok());
  CHECK(m.kind == perpgw::FeedKind::kIgnored);
  CHECK(std::string(m.detail).find("template 19") != std::string::npos);

  px::SymbolTable empty;
  px::Feed bare(&codec, &empty);
  CHECK(bare.DecodeBinary(Frame("book_snapshot_v1"), 1, &m).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("paradex sbe: account hex and mantissa rescaling") {
  std::string raw(32, '\0');
  CHECK(sbe::AccountHex(raw) == "0x0");
  raw[30] = 0x01;
  raw[31] = static_cast<char>(0xab);
  CHECK(sbe::AccountHex(raw) == "0x1ab");
  int64_t out = 0;
  CHECK(sbe::RescaleMantissa(123, 8, &out));
  CHECK(out == 123);
  CHECK(sbe::RescaleMantissa(123, 10, &out));
  CHECK(out == 12300);
  CHECK_FALSE(sbe::RescaleMantissa(123, 7, &out));
  CHECK_FALSE(sbe::RescaleMantissa(INT64_MAX / 5, 9, &out));
}
