// Benchmark: depth-diff ingest in process (no network). Generates realistic Aster and Backpack
// combined-stream depth frames, Paradex SBE BookEvent deltas and Lighter `update/order_book`
// frames (random-walk mid, 1-10 level changes per frame, linked ids), writes them to a file,
// reads them back, then times per venue in the SAME run:
//   pipeline = the venue's MarketFeed (the daemon's dispatch: aster::Feed / backpack::Feed /
//              paradex::Feed / lighter::Feed, as AdapterBase::OnMarketFrame / OnBinaryFrame run
//              it) + BookSync::OnDelta (snapshot first);
//   ceiling  = JSON: simdjson on-demand over the same frames touching every field; SBE: a raw
//              walk of the same frames reading every field by its schema offset (header, root
//              block, both level groups, the market string). No decimal or book work in either.
// Figures are per core (one thread; CPU time of that thread) and medians over several runs.
// Usage: bench_ingest [--frames N] [--runs R] [--dir D] [--json out.json]
//        [--venue aster|backpack|paradex|lighter] [--pipeline-only]   (the last two are for
//        profiling)
#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/api/order_book.h"
#include "adapters/api/types.h"
#include "adapters/api/feed.h"
#include "adapters/aster/codec.h"
#include "adapters/aster/feed.h"
#include "adapters/aster/symbols.h"
#include "adapters/backpack/codec.h"
#include "adapters/backpack/feed.h"
#include "adapters/backpack/symbols.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/feed.h"
#include "adapters/lighter/symbols.h"
#include "adapters/paradex/codec.h"
#include "adapters/paradex/feed.h"
#include "adapters/paradex/symbols.h"
#include "sim/paradex/internal.h"

namespace aster = perpgw::adapters::aster;
namespace backpack = perpgw::adapters::backpack;
namespace lighter = perpgw::adapters::lighter;
namespace paradex = perpgw::adapters::paradex;
using perpgw::BookSide;
using perpgw::BookSync;
using perpgw::DeltaMsg;
using perpgw::Level;
using perpgw::SeqRule;
namespace od = simdjson::ondemand;

namespace {

volatile uint64_t g_sink = 0;

double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}
double WallNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Fixed(int64_t m, int scale) {
  std::string s = std::to_string(m < 0 ? -m : m);
  if (scale > 0) {
    if (static_cast<int>(s.size()) <= scale) s.insert(0, scale + 1 - s.size(), '0');
    s.insert(s.size() - scale, ".");
  }
  return m < 0 ? "-" + s : s;
}

// ------------------------------------------------------------------------------- generator
enum class Venue { kAster, kBackpack, kParadex, kLighter };

struct Change {
  bool bid;
  int64_t price, size;
};

// A book around a random-walk mid (in ticks). Bids sit at <= mid-1, asks at >= mid+1; a mid move
// deletes the level it crosses in the same frame, so the generated stream never crosses.
class Generator {
 public:
  Generator(uint64_t seed, int64_t mid_ticks, int depth)
      : rng_(seed), mid_(mid_ticks), depth_(depth) {
    for (int i = 1; i <= depth_; ++i) {
      bids_[mid_ - i] = RandSize();
      asks_[mid_ + i] = RandSize();
    }
  }
  const std::map<int64_t, int64_t>& bids() const { return bids_; }
  const std::map<int64_t, int64_t>& asks() const { return asks_; }

  std::vector<Change> Next() {
    std::vector<Change> out;
    std::uniform_int_distribution<int> nchg(1, 10);
    const int n = nchg(rng_);
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < 0.15) {  // mid moves one tick
      if (u(rng_) < 0.5) {
        ++mid_;
        if (asks_.erase(mid_)) out.push_back({false, mid_, 0});
      } else {
        --mid_;
        if (bids_.erase(mid_)) out.push_back({true, mid_, 0});
      }
    }
    std::geometric_distribution<int> off(0.08);  // most activity near the touch
    while (static_cast<int>(out.size()) < n) {
      const bool bid = u(rng_) < 0.5;
      const int64_t o = 1 + std::min(off(rng_), depth_ - 1);
      const int64_t px = bid ? mid_ - o : mid_ + o;
      auto& side = bid ? bids_ : asks_;
      bool dup = false;
      for (const Change& c : out) dup |= (c.bid == bid && c.price == px);
      if (dup) continue;
      int64_t sz = (u(rng_) < 0.3) ? 0 : RandSize();
      if (sz == 0) {
        side.erase(px);
      } else {
        side[px] = sz;
      }
      out.push_back({bid, px, sz});
    }
    // Keep the book bounded (far levels fall off as on a venue's depth window).
    while (bids_.size() > static_cast<size_t>(depth_) * 2) bids_.erase(bids_.begin());
    while (asks_.size() > static_cast<size_t>(depth_) * 2) asks_.erase(std::prev(asks_.end()));
    return out;
  }

 private:
  int64_t RandSize() {
    std::uniform_int_distribution<int64_t> d(1, 50000);
    return d(rng_);
  }
  std::mt19937_64 rng_;
  int64_t mid_;
  int depth_;
  std::map<int64_t, int64_t> bids_, asks_;
};

struct VenueSpec {
  Venue venue;
  const char* name;
  perpgw::Instrument inst;
  SeqRule rule;
  int64_t tick_units;  // price mantissa per tick
  int size_scale_gen;  // generator sizes are mantissas at this scale
};

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// Paradex: one BookEvent delta (schema 1 version 1, what the adapter negotiates), encoded by
// perpgw-sim's encoder (checked byte for byte against the venue's recorded frames); prices and
// sizes at the schema's scale 8, bids best first and asks ascending as the venue sends them.
std::string FormatSbeFrame(const VenueSpec& v, const std::vector<Change>& chg, uint64_t last,
                           int64_t t_ns) {
  namespace sp = perpgw::sim::paradex;
  std::vector<sp::SbeLevel> bids, asks;
  const int64_t px_mul = Pow10(8 - v.inst.price_scale), sz_mul = Pow10(8 - v.inst.size_scale);
  for (const Change& c : chg) {
    (c.bid ? bids : asks).push_back({c.price * v.tick_units * px_mul, c.size * sz_mul});
  }
  std::sort(bids.begin(), bids.end(), [](auto& a, auto& b) { return a.price > b.price; });
  std::sort(asks.begin(), asks.end(), [](auto& a, auto& b) { return a.price < b.price; });
  return sp::SbeBook(1, t_ns / 1000, static_cast<int64_t>(last), false, bids, asks,
                     v.inst.venue_symbol);
}

// Lighter: `update/order_book` as sim/lighter/ws.cpp writes it (key order channel, offset,
// order_book{code, asks, bids, offset, nonce, begin_nonce}, timestamp, type; the venue's
// recorded frames have the same shape): level objects {"price","size"} with absolute sizes
// ("0" deletes, the size formatted at the step's decimals as the sim does), asks ascending and
// bids best first, begin_nonce = the previous frame's nonce. `offset` counts frames.
std::string FormatLighterFrame(const VenueSpec& v, const std::vector<Change>& chg, uint64_t first,
                               uint64_t last, uint64_t prev, int64_t t_ns) {
  std::vector<Change> bids, asks;
  for (const Change& c : chg) (c.bid ? bids : asks).push_back(c);
  std::sort(bids.begin(), bids.end(), [](auto& a, auto& b) { return a.price > b.price; });
  std::sort(asks.begin(), asks.end(), [](auto& a, auto& b) { return a.price < b.price; });
  auto levels = [&](const std::vector<Change>& side) {
    std::string s = "[";
    for (const Change& c : side) {
      if (s.size() > 1) s += ',';
      s += "{\"price\":\"" + Fixed(c.price * v.tick_units, v.inst.price_scale) +
           "\",\"size\":\"" + Fixed(c.size, v.inst.size_scale) + "\"}";
    }
    return s + "]";
  };
  (void)first;
  const uint64_t offset = 41692864 + static_cast<uint64_t>(t_ns / 1000000 - 1754556878000LL);
  std::ostringstream o;
  o << "{\"channel\":\"order_book:1\",\"offset\":" << offset
    << ",\"order_book\":{\"code\":0,\"asks\":" << levels(asks) << ",\"bids\":" << levels(bids)
    << ",\"offset\":" << offset << ",\"nonce\":" << last << ",\"begin_nonce\":" << prev
    << "},\"timestamp\":" << t_ns / 1000000 << ",\"type\":\"update/order_book\"}";
  return o.str();
}

std::string FormatFrame(const VenueSpec& v, const std::vector<Change>& chg, uint64_t first,
                        uint64_t last, uint64_t prev, int64_t t_ns) {
  if (v.venue == Venue::kParadex) return FormatSbeFrame(v, chg, last, t_ns);
  if (v.venue == Venue::kLighter) return FormatLighterFrame(v, chg, first, last, prev, t_ns);
  std::ostringstream o;
  auto levels = [&](bool bid) {
    std::string s = "[";
    bool any = false;
    for (const Change& c : chg) {
      if (c.bid != bid) continue;
      if (any) s += ',';
      any = true;
      s += "[\"" + Fixed(c.price * v.tick_units, v.inst.price_scale) + "\",\"" +
           Fixed(c.size, v.inst.size_scale) + "\"]";
    }
    return s + "]";
  };
  if (v.venue == Venue::kAster) {
    // Field order as sim/aster/ws.cpp writes it (sim_ns is the sim's send-time extension).
    const int64_t ms = t_ns / 1000000;
    o << "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":" << ms + 1
      << ",\"T\":" << ms << ",\"s\":\"BTCUSDT\",\"U\":" << first << ",\"u\":" << last
      << ",\"pu\":" << prev << ",\"b\":" << levels(true) << ",\"a\":" << levels(false)
      << ",\"sim_ns\":" << t_ns << "}}";
  } else {
    const int64_t us = t_ns / 1000;
    o << "{\"stream\":\"depth.BTC_USDC_PERP\",\"data\":{\"e\":\"depth\",\"E\":" << us + 50
      << ",\"s\":\"BTC_USDC_PERP\",\"a\":" << levels(false) << ",\"b\":" << levels(true)
      << ",\"U\":" << first << ",\"u\":" << last << ",\"T\":" << us << "}}";
  }
  return o.str();
}

struct Dataset {
  std::vector<Level> snap_bids, snap_asks;
  uint64_t snap_id = 0;
  std::vector<std::string> frames;  // read back from the file
  uint64_t level_changes = 0;
  uint64_t bytes = 0;
};

// JSON frames are written one per line; binary (SBE) frames with a 4-byte length prefix.
Dataset Generate(const VenueSpec& v, int frames, const std::string& path) {
  const bool binary = v.venue == Venue::kParadex;
  Generator g(v.venue == Venue::kAster      ? 11
              : v.venue == Venue::kBackpack ? 12
              : v.venue == Venue::kParadex  ? 13
                                            : 14,
              1150000, 500);
  Dataset d;
  for (auto& [p, s] : g.bids()) d.snap_bids.push_back({p * v.tick_units, s});
  for (auto& [p, s] : g.asks()) d.snap_asks.push_back({p * v.tick_units, s});
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<int> skip(0, 3);  // venue ids advance by more than the changes
  const uint64_t base = 156391349790ULL;
  // Aster: first event spans the snapshot (U <= L <= u); Backpack: U <= L+1 <= u; Paradex:
  // any seq_no above the snapshot's; Lighter: the first update's begin_nonce is the snapshot's
  // nonce, then every begin_nonce is the previous frame's nonce.
  uint64_t prev_u = v.venue == Venue::kLighter ? base : base - 1;
  d.snap_id = v.rule == SeqRule::kPrevLink ? base : base - 1;
  int64_t t_ns = 1754556878000000000LL;
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    for (int i = 0; i < frames; ++i) {
      auto chg = g.Next();
      const uint64_t first = prev_u + 1;
      const uint64_t last = first + chg.size() - 1 + skip(rng);
      t_ns += 1000000;  // 1 ms apart
      const std::string frame = FormatFrame(v, chg, first, last, prev_u, t_ns);
      if (binary) {
        const uint32_t n = static_cast<uint32_t>(frame.size());
        f.write(reinterpret_cast<const char*>(&n), sizeof n);
        f << frame;
      } else {
        f << frame << '\n';
      }
      prev_u = last;
    }
  }
  std::ifstream in(path, std::ios::binary);
  std::string line;
  auto next = [&] {
    if (!binary) return static_cast<bool>(std::getline(in, line));
    uint32_t n = 0;
    if (!in.read(reinterpret_cast<char*>(&n), sizeof n)) return false;
    line.resize(n);
    return static_cast<bool>(in.read(line.data(), n));
  };
  while (next()) {
    d.bytes += line.size();
    std::string padded;
    padded.reserve(line.size() + simdjson::SIMDJSON_PADDING);  // the ceiling parses in place
    padded = line;
    d.frames.push_back(std::move(padded));
  }
  return d;
}

// ------------------------------------------------------------------------------- ceiling
// simdjson on-demand, every field touched (strings read, numbers parsed); no decimal or book work.
class Ceiling {
 public:
  uint64_t Run(const std::vector<std::string>& frames) {
    uint64_t acc = 0;
    for (const std::string& f : frames) {
      od::document doc;
      if (parser_.iterate(simdjson::padded_string_view(f.data(), f.size(), f.capacity()))
              .get(doc)) {
        std::abort();
      }
      od::object root = doc.get_object();
      for (auto field : root) {
        std::string_view k = field.unescaped_key();
        if (k == "stream") {
          std::string_view s = field.value().get_string();
          acc += s.size();
          continue;
        }
        od::object data = field.value().get_object();
        for (auto df : data) {
          std::string_view dk = df.unescaped_key();
          od::value v = df.value();
          if (dk == "b" || dk == "a") {
            for (auto lvl : v.get_array()) {
              for (auto x : lvl.get_array()) {
                std::string_view sv = x.get_string();
                acc += sv.size();
              }
            }
          } else if (dk == "e" || dk == "s") {
            std::string_view sv = v.get_string();
            acc += sv.size();
          } else {
            uint64_t n = v.get_uint64();
            acc += n;
          }
        }
      }
    }
    return acc;
  }

 private:
  od::parser parser_;
};

// Lighter: the same simdjson on-demand walk over its frame shape: channel, offset, the
// order_book object (code, both level arrays' price/size strings, offset, nonce, begin_nonce),
// timestamp, type. Every key compared, every string read, every number parsed.
class LighterCeiling {
 public:
  uint64_t Run(const std::vector<std::string>& frames) {
    uint64_t acc = 0;
    for (const std::string& f : frames) {
      od::document doc;
      if (parser_.iterate(simdjson::padded_string_view(f.data(), f.size(), f.capacity()))
              .get(doc)) {
        std::abort();
      }
      od::object root = doc.get_object();
      for (auto field : root) {
        std::string_view k = field.unescaped_key();
        if (k == "order_book") {
          od::object book = field.value().get_object();
          for (auto bf : book) {
            std::string_view bk = bf.unescaped_key();
            od::value v = bf.value();
            if (bk == "asks" || bk == "bids") {
              for (auto lvl : v.get_array()) {
                od::object lo = lvl.get_object();
                for (auto lf : lo) {
                  std::string_view lk = lf.unescaped_key();
                  std::string_view sv = lf.value().get_string();
                  acc += lk.size() + sv.size();
                }
              }
            } else {
              uint64_t n = v.get_uint64();
              acc += n;
            }
          }
        } else if (k == "channel" || k == "type") {
          std::string_view sv = field.value().get_string();
          acc += sv.size();
        } else {
          uint64_t n = field.value().get_uint64();
          acc += n;
        }
      }
    }
    return acc;
  }

 private:
  od::parser parser_;
};

// SBE: every field of a BookEvent read at its schema position (header, root block fields, both
// groups' entries, the market string); no decimal or book work. Bounds are checked as any
// decoder of untrusted input must.
class SbeCeiling {
 public:
  uint64_t Run(const std::vector<std::string>& frames) {
    uint64_t acc = 0;
    for (const std::string& f : frames) acc += Frame(f);
    return acc;
  }

 private:
  template <class T>
  static T At(const std::string& f, size_t off) {
    if (off + sizeof(T) > f.size()) std::abort();
    T v;
    std::memcpy(&v, f.data() + off, sizeof v);
    return v;
  }
  static uint64_t Frame(const std::string& f) {
    const uint16_t block = At<uint16_t>(f, 0);
    uint64_t acc = At<uint16_t>(f, 2) + At<uint16_t>(f, 4) + At<uint16_t>(f, 6);
    size_t off = 8;
    acc += static_cast<uint64_t>(At<int64_t>(f, off)) + static_cast<uint64_t>(At<int64_t>(f, off + 8));
    acc += At<uint8_t>(f, off + 16);
    for (int i = 0; i < 9; ++i) acc += static_cast<uint64_t>(At<int64_t>(f, off + 17 + 8 * i));
    off += block;
    for (int side = 0; side < 2; ++side) {
      const uint16_t entry = At<uint16_t>(f, off), n = At<uint16_t>(f, off + 2);
      off += 4;
      for (uint16_t i = 0; i < n; ++i, off += entry) {
        acc += static_cast<uint64_t>(At<int64_t>(f, off)) + static_cast<uint64_t>(At<int64_t>(f, off + 8));
      }
    }
    const uint8_t len = At<uint8_t>(f, off);
    if (off + 1 + len > f.size()) std::abort();
    for (size_t i = 0; i < len; ++i) acc += static_cast<uint8_t>(f[off + 1 + i]);
    return acc;
  }
};

// ------------------------------------------------------------------------------- pipelines
struct RunStats {
  double cpu_ns = 0, wall_ns = 0;
};

template <class F>
RunStats Time(F&& f) {
  double c0 = ThreadCpuNs(), w0 = WallNs();
  f();
  return {ThreadCpuNs() - c0, WallNs() - w0};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Result {
  std::string venue;
  uint64_t frames = 0, changes = 0, bytes = 0;
  double pipe_ns_per_frame = 0, ceil_ns_per_frame = 0;  // CPU time, median of runs
  double pipe_wall_ns_per_frame = 0, ceil_wall_ns_per_frame = 0;
  double ratio = 0;          // median over runs of (ceiling time / pipeline time), same run
  double decode_ns_per_frame = 0;  // decoder alone
  size_t final_levels = 0;
};

bool g_pipeline_only = false;  // --pipeline-only: skip the ceiling (for profiling)

Result BenchVenue(const VenueSpec& v, const Dataset& d, int runs) {
  Result r;
  r.venue = v.name;
  r.frames = d.frames.size();
  r.bytes = d.bytes;
  // The daemon's own dispatch: the venue's MarketFeed (what AdapterBase::OnMarketFrame calls)
  // over tables holding the one instrument.
  // The frames carry the venue's tick/step decimals (v.inst); the daemon's books run at scale >= 8
  // (WidenBookScales, as every adapter loads its instruments), so the feed and BookSync do too.
  perpgw::Instrument book_inst = v.inst;
  perpgw::WidenBookScales(&book_inst);
  const int64_t px_up = Pow10(book_inst.price_scale - v.inst.price_scale);
  const int64_t sz_up = Pow10(book_inst.size_scale - v.inst.size_scale);
  std::vector<Level> snap_bids = d.snap_bids, snap_asks = d.snap_asks;
  for (auto* side : {&snap_bids, &snap_asks}) {
    for (Level& l : *side) l = {l.price * px_up, l.size * sz_up};
  }
  aster::SymbolMap aster_symbols({book_inst});
  aster::Feed aster_feed(aster::MarketContext{&aster_symbols, nullptr});
  backpack::Codec bp_codec;
  backpack::SymbolTable bp_symbols;
  bp_symbols.Add(book_inst);
  backpack::Feed bp_feed(&bp_codec, &bp_symbols);
  paradex::Codec px_codec;
  paradex::SymbolTable px_symbols;
  px_symbols.Add(book_inst);
  paradex::Feed px_feed(&px_codec, &px_symbols);
  lighter::Codec lt_codec;
  lighter::SymbolTable lt_symbols;
  lt_symbols.Add(book_inst, 1);  // BTC is market 1 on Lighter (and in perpgw-sim)
  lighter::Feed lt_feed(&lt_codec, &lt_symbols);
  perpgw::MarketFeed& feed = v.venue == Venue::kAster      ? static_cast<perpgw::MarketFeed&>(aster_feed)
                             : v.venue == Venue::kBackpack ? static_cast<perpgw::MarketFeed&>(bp_feed)
                             : v.venue == Venue::kParadex  ? static_cast<perpgw::MarketFeed&>(px_feed)
                                                           : lt_feed;
  const bool binary = v.venue == Venue::kParadex;
  // What AdapterBase does per frame: text frames through Decode, binary ones through DecodeBinary.
  auto decode = [&](const std::string& f, perpgw::MarketMsg* m) {
    return binary ? feed.DecodeBinary(f, 1, m) : feed.Decode(f, 1, m);
  };
  if (feed.seq_rule() != v.rule) {
    std::fprintf(stderr, "%s: feed rule differs from the generator's\n", v.name);
    std::exit(2);
  }
  Ceiling json_ceiling;
  LighterCeiling lt_ceiling;
  SbeCeiling sbe_ceiling;
  auto ceiling = [&](const std::vector<std::string>& frames) {
    return binary                         ? sbe_ceiling.Run(frames)
           : v.venue == Venue::kLighter ? lt_ceiling.Run(frames)
                                          : json_ceiling.Run(frames);
  };
  std::vector<double> pipe_cpu, pipe_wall, ceil_cpu, ceil_wall, ratios;
  // Decoder alone (no book): splits the pipeline into decode vs BookSync.
  auto decode_only = [&] {
    perpgw::MarketMsg m;
    uint64_t n = 0;
    for (const std::string& f : d.frames) {
      if (!decode(f, &m).ok() || m.kind != perpgw::FeedKind::kDepthDelta) std::exit(2);
      n += m.delta->changes.size();
    }
    g_sink = g_sink + n;
  };
  std::vector<double> dec_cpu;
  auto pipeline = [&] {
    BookSync sync(v.rule, book_inst.price_scale, book_inst.size_scale);
    if (sync.OnSnapshot(snap_bids, snap_asks, d.snap_id) != BookSync::Result::kApplied) {
      std::fprintf(stderr, "%s: snapshot not applied\n", v.name);
      std::exit(2);
    }
    perpgw::MarketMsg m;
    uint64_t changes = 0;
    for (const std::string& f : d.frames) {
      auto st = decode(f, &m);
      if (!st.ok() || m.kind != perpgw::FeedKind::kDepthDelta) {
        std::fprintf(stderr, "%s decode: %s\n", v.name, st.ToString().c_str());
        std::exit(2);
      }
      changes += m.delta->changes.size();
      // As the adapters do: the feed's reused message by reference (BookSync copies it only
      // when it has to buffer).
      auto res = sync.OnDelta(*m.delta);
      if (res != BookSync::Result::kApplied) {
        std::fprintf(stderr, "%s: OnDelta -> %s\n", v.name, perpgw::ToString(res));
        std::exit(2);
      }
    }
    r.changes = changes;
    r.final_levels = sync.book().bid_count() + sync.book().ask_count();
    g_sink = g_sink + sync.last_id();
  };
  pipeline();  // warm-up (also validates the stream)
  g_sink = g_sink + ceiling(d.frames);
  for (int i = 0; i < runs; ++i) {
    RunStats p = Time(pipeline);
    RunStats c = Time([&] {
      if (!g_pipeline_only) g_sink = g_sink + ceiling(d.frames);
    });
    pipe_cpu.push_back(p.cpu_ns);
    pipe_wall.push_back(p.wall_ns);
    ceil_cpu.push_back(c.cpu_ns);
    ceil_wall.push_back(c.wall_ns);
    ratios.push_back(c.cpu_ns / p.cpu_ns);
    if (!g_pipeline_only) dec_cpu.push_back(Time(decode_only).cpu_ns);
  }
  r.decode_ns_per_frame = Median(dec_cpu) / static_cast<double>(r.frames);
  const double n = static_cast<double>(r.frames);
  r.pipe_ns_per_frame = Median(pipe_cpu) / n;
  r.ceil_ns_per_frame = Median(ceil_cpu) / n;
  r.pipe_wall_ns_per_frame = Median(pipe_wall) / n;
  r.ceil_wall_ns_per_frame = Median(ceil_wall) / n;
  r.ratio = Median(ratios);
  return r;
}

double LoadAvg1() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 200000, runs = 5;
  std::string dir = ".", json_out, only_venue;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--frames") frames = std::atoi(next().c_str());
    else if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--dir") dir = next();
    else if (a == "--json") json_out = next();
    else if (a == "--pipeline-only") g_pipeline_only = true;
    else if (a == "--venue") only_venue = next();
    else {
      std::fprintf(stderr,
                   "usage: %s [--frames N] [--runs R] [--dir D] [--json F] "
                   "[--venue aster|backpack|paradex|lighter] [--pipeline-only]\n",
                   argv[0]);
      return 2;
    }
  }
  const double load_before = LoadAvg1();

  VenueSpec asterv{Venue::kAster, "aster", {}, SeqRule::kPrevLink, 1, 3};
  asterv.inst.venue = "aster";
  asterv.inst.symbol = "BTC";
  asterv.inst.venue_symbol = "BTCUSDT";
  asterv.inst.base = "BTC";
  asterv.inst.quote = "USDT";
  asterv.inst.price_scale = 1;  // tick 0.1
  asterv.inst.size_scale = 3;   // step 0.001
  VenueSpec bpv{Venue::kBackpack, "backpack", {}, SeqRule::kContiguous, 1, 5};
  bpv.inst.venue = "backpack";
  bpv.inst.symbol = "BTC";
  bpv.inst.venue_symbol = "BTC_USDC_PERP";
  bpv.inst.base = "BTC";
  bpv.inst.quote = "USDC";
  bpv.inst.price_scale = 1;  // tick 0.1
  bpv.inst.size_scale = 5;   // step 0.00001

  VenueSpec pxv{Venue::kParadex, "paradex", {}, SeqRule::kMonotonic, 1, 3};
  pxv.inst.venue = "paradex";
  pxv.inst.symbol = "BTC";
  pxv.inst.venue_symbol = "BTC-USD-PERP";
  pxv.inst.base = "BTC";
  pxv.inst.quote = "USD";
  pxv.inst.price_scale = 1;  // tick 0.1
  pxv.inst.size_scale = 3;   // step 0.001

  // Lighter BTC as the venue lists it (and perpgw-sim's catalogue): market 1, price decimals 1,
  // size decimals 5.
  VenueSpec ltv{Venue::kLighter, "lighter", {}, SeqRule::kPrevLink, 1, 5};
  ltv.inst.venue = "lighter";
  ltv.inst.symbol = "BTC";
  ltv.inst.venue_symbol = "BTC";
  ltv.inst.base = "BTC";
  ltv.inst.quote = "USDC";
  ltv.inst.price_scale = 1;  // tick 0.1
  ltv.inst.size_scale = 5;   // step 0.00001

  std::vector<Result> results;
  for (const VenueSpec* v : {&asterv, &bpv, &pxv, &ltv}) {
    if (!only_venue.empty() && only_venue != v->name) continue;
    const std::string path = dir + "/ingest_frames_" + v->name +
                             (v->venue == Venue::kParadex ? ".bin" : ".jsonl");
    Dataset d = Generate(*v, frames, path);
    results.push_back(BenchVenue(*v, d, runs));
  }
  const double load_after = LoadAvg1();

  std::printf("bench_ingest: %d frames/venue, %d runs, per-core figures from thread CPU time "
              "(medians); loadavg %.2f -> %.2f\n",
              frames, runs, load_before, load_after);
  std::printf("%-9s %9s %11s %12s %14s %12s %12s %7s %11s\n", "venue", "lvl/frame",
              "pipe ns/msg", "pipe msgs/s", "pipe levels/s", "ceil ns/msg", "ceil msgs/s", "ratio",
              "decode ns");
  for (const Result& r : results) {
    const double lpf = static_cast<double>(r.changes) / r.frames;
    std::printf("%-9s %9.2f %11.1f %12.0f %14.0f %12.1f %12.0f %7.3f %11.1f\n", r.venue.c_str(),
                lpf, r.pipe_ns_per_frame, 1e9 / r.pipe_ns_per_frame,
                1e9 / r.pipe_ns_per_frame * lpf, r.ceil_ns_per_frame, 1e9 / r.ceil_ns_per_frame,
                r.ratio, r.decode_ns_per_frame);
  }
  if (!json_out.empty()) {
    std::ofstream f(json_out);
    f << "{\"bench\":\"ingest\",\"frames\":" << frames << ",\"runs\":" << runs
      << ",\"loadavg_before\":" << load_before << ",\"loadavg_after\":" << load_after
      << ",\"venues\":[";
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      const double lpf = static_cast<double>(r.changes) / r.frames;
      f << (i ? "," : "") << "{\"venue\":\"" << r.venue << "\",\"frames\":" << r.frames
        << ",\"level_changes_per_frame\":" << lpf
        << ",\"bytes_per_frame\":" << static_cast<double>(r.bytes) / r.frames
        << ",\"pipeline_cpu_ns_per_msg\":" << r.pipe_ns_per_frame
        << ",\"pipeline_wall_ns_per_msg\":" << r.pipe_wall_ns_per_frame
        << ",\"pipeline_msgs_per_s_per_core\":" << 1e9 / r.pipe_ns_per_frame
        << ",\"pipeline_level_changes_per_s_per_core\":" << 1e9 / r.pipe_ns_per_frame * lpf
        << ",\"pipeline_ns_per_level_change\":" << r.pipe_ns_per_frame / lpf
        << ",\"ceiling_cpu_ns_per_msg\":" << r.ceil_ns_per_frame
        << ",\"ceiling_msgs_per_s_per_core\":" << 1e9 / r.ceil_ns_per_frame
        << ",\"ratio_pipeline_over_ceiling\":" << r.ratio
        << ",\"decode_only_cpu_ns_per_msg\":" << r.decode_ns_per_frame
        << ",\"book_cpu_ns_per_msg\":" << r.pipe_ns_per_frame - r.decode_ns_per_frame
        << ",\"final_book_levels\":" << r.final_levels << "}";
    }
    f << "]}\n";
  }
  return 0;
}
