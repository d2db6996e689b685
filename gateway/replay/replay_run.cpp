// perpgw-replay's engine: the venue codecs it knows and the line loop (recorded frames → codec →
// BookSync → JSON lines). Shared by the perpgw-replay tool and the replay fuzz target.
#include <cstdio>
#include <istream>
#include <map>
#include <string>

#include "adapters/api/decimal.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {

// One MakeReplay_<v>() per gateway/replay/replay_<v>.cpp (gateway/CMakeLists.txt registers the
// ones that exist for registered venues).
#define PERPGW_VENUE(v) std::unique_ptr<ReplayCodec> MakeReplay_##v();
#define PERPGW_VENUE_MISSING(v)
#include "perpgw_replay_venues.inc"
#undef PERPGW_VENUE

std::unique_ptr<ReplayCodec> MakeCodec(const std::string& venue) {
#define PERPGW_VENUE(v) \
  if (venue == #v) return MakeReplay_##v();
#include "perpgw_replay_venues.inc"
#undef PERPGW_VENUE
  return nullptr;
}

std::vector<std::string> Venues() {
  std::vector<std::string> out;
#define PERPGW_VENUE(v) out.push_back(#v);
#include "perpgw_replay_venues.inc"
#undef PERPGW_VENUE
#undef PERPGW_VENUE_MISSING
  return out;
}

namespace {

std::string Esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += c;
    }
  }
  return o;
}

std::string Levels(const std::vector<Level>& v, int ps, int ss) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) o += ',';
    o += "[\"" + FormatScaled(v[i].price, ps) + "\",\"" + FormatScaled(v[i].size, ss) + "\"]";
  }
  return o + "]";
}

std::string EventJson(const Event& e) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Bbo>) {
          return "{\"type\":\"bbo\",\"symbol\":\"" + Esc(v.symbol) + "\",\"bid\":\"" +
                 v.bid_price.ToNormalizedString() + "\",\"bid_size\":\"" +
                 v.bid_size.ToNormalizedString() + "\",\"ask\":\"" +
                 v.ask_price.ToNormalizedString() + "\",\"ask_size\":\"" +
                 v.ask_size.ToNormalizedString() + "\"}";
        } else if constexpr (std::is_same_v<T, Trade>) {
          return "{\"type\":\"trade\",\"symbol\":\"" + Esc(v.symbol) + "\",\"price\":\"" +
                 v.price.ToNormalizedString() + "\",\"size\":\"" + v.size.ToNormalizedString() +
                 "\",\"taker_side\":\"" + ToString(v.taker_side) + "\"}";
        } else if constexpr (std::is_same_v<T, Funding>) {
          return "{\"type\":\"funding\",\"symbol\":\"" + Esc(v.symbol) + "\",\"rate\":\"" +
                 v.rate.ToNormalizedString() + "\",\"interval_hours\":\"" +
                 v.interval_hours.ToNormalizedString() + "\",\"rate_8h\":\"" +
                 v.rate_8h.ToNormalizedString() + "\",\"mark\":\"" +
                 (v.mark_price ? v.mark_price->ToNormalizedString() : std::string()) + "\"}";
        } else if constexpr (std::is_same_v<T, Liquidation>) {
          return "{\"type\":\"liquidation\",\"symbol\":\"" + Esc(v.symbol) + "\",\"price\":\"" +
                 v.price.ToNormalizedString() + "\",\"size\":\"" + v.size.ToNormalizedString() +
                 "\"}";
        } else {
          return "{\"type\":\"event\"}";
        }
      },
      e);
}

}  // namespace

std::string_view ReplayCodec::SnapshotSymbol(std::string_view line) const {
  constexpr std::string_view kKey = "\"symbol\":\"";
  size_t pos = line.find(kKey);
  if (pos == std::string_view::npos) return default_symbol_;
  size_t start = pos + kKey.size();
  size_t end = line.find('"', start);
  if (end == std::string_view::npos) return default_symbol_;
  return line.substr(start, end - start);
}

void ReplayCodec::SetSnapshot(const Instrument& in, std::vector<Level> bids,
                              std::vector<Level> asks, uint64_t id, Action* a) {
  a->symbol = in.symbol;
  a->price_scale = in.price_scale;
  a->size_scale = in.size_scale;
  a->bids = std::move(bids);
  a->asks = std::move(asks);
  a->snapshot_id = id;
}

absl::Status ReplayCodec::Decode(std::string_view line, UnixNanos receive_time,
                                 std::vector<Action>* out) {
  Action a;
  absl::StatusOr<bool> snapshot = DecodeSnapshot(line, &a);
  if (!snapshot.ok()) return snapshot.status();
  if (*snapshot) {
    a.kind = Action::Kind::kSnapshot;
    out->push_back(std::move(a));
    return absl::OkStatus();
  }
  MarketMsg m;
  // A binary WebSocket message (Paradex SBE) is recorded as "bin:" + lowercase hex.
  std::string binary;
  if (line.substr(0, 4) == "bin:") {
    std::string_view hex = line.substr(4);
    if (hex.size() % 2 != 0) return absl::InvalidArgumentError("bin: line has odd hex length");
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    binary.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
      int hi = nib(hex[i]), lo = nib(hex[i + 1]);
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bin: line is not hex");
      binary.push_back(static_cast<char>(hi << 4 | lo));
    }
  }
  if (absl::Status st = line.substr(0, 4) == "bin:" ? feed().DecodeBinary(binary, receive_time, &m)
                                                    : feed().Decode(line, receive_time, &m);
      !st.ok()) {
    return st;
  }
  if (m.instrument != nullptr) {
    a.symbol = m.instrument->symbol;
    a.price_scale = m.instrument->price_scale;
    a.size_scale = m.instrument->size_scale;
  }
  switch (m.kind) {
    case FeedKind::kDepthDelta:
      a.kind = Action::Kind::kDelta;
      a.delta = *m.delta;
      break;
    case FeedKind::kDepthSnapshot:
      a.kind = Action::Kind::kSnapshot;
      a.snapshot_id = m.delta->last_id;
      SplitSnapshotLevels(*m.delta, &a.bids, &a.asks);
      break;
    case FeedKind::kBbo:
      a.kind = Action::Kind::kEvent;
      a.event = std::make_shared<const Event>(*m.bbo);
      break;
    case FeedKind::kTrade:
      a.kind = Action::Kind::kEvent;
      a.event = std::make_shared<const Event>(*m.trade);
      break;
    case FeedKind::kLiquidation:
      a.kind = Action::Kind::kEvent;
      a.event = std::make_shared<const Event>(*m.liquidation);
      break;
    case FeedKind::kFunding:
      for (const Funding& f : *m.funding) {
        Action fa;
        fa.kind = Action::Kind::kEvent;
        fa.symbol = f.symbol;
        fa.event = std::make_shared<const Event>(f);
        out->push_back(std::move(fa));
      }
      return absl::OkStatus();
    case FeedKind::kIgnored:
    case FeedKind::kVenue:
    case FeedKind::kVenueError:
      a.note = std::string(ToString(m.kind)) + " " + std::string(m.detail);
      break;
  }
  if ((a.kind == Action::Kind::kDelta || a.kind == Action::Kind::kSnapshot) && a.symbol.empty()) {
    return absl::NotFoundError("depth for an unknown symbol");
  }
  out->push_back(std::move(a));
  return absl::OkStatus();
}

RunStats Run(ReplayCodec& codec, std::istream& in, std::FILE* out, const RunOptions& options) {
  const size_t depth = options.depth;
  const bool book_every = options.book_every;
  struct BookState {
    std::unique_ptr<BookSync> sync;
    int ps = 0, ss = 0;
  };
  std::map<std::string, BookState> books;
  auto print_book = [&](const std::string& sym, const BookState& b) {
    std::fprintf(out, "{\"type\":\"book\",\"symbol\":\"%s\",\"live\":%s,\"id\":%llu,\"bids\":%s,\"asks\":%s}\n",
                Esc(sym).c_str(), b.sync->live() ? "true" : "false",
                static_cast<unsigned long long>(b.sync->last_id()),
                Levels(b.sync->book().Bids(depth), b.ps, b.ss).c_str(),
                Levels(b.sync->book().Asks(depth), b.ps, b.ss).c_str());
  };
  std::string line;
  uint64_t n = 0, errors = 0;
  std::vector<replay::Action> actions;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    actions.clear();
    auto st = codec.Decode(line, 0, &actions);
    if (!st.ok()) {
      ++errors;
      std::fprintf(out, "{\"type\":\"error\",\"line\":%llu,\"message\":\"%s\"}\n",
                  static_cast<unsigned long long>(n), Esc(std::string(st.message())).c_str());
      continue;
    }
    for (auto& a : actions) {
      if (a.kind == replay::Action::Kind::kEvent) {
        std::fprintf(out, "%s\n", EventJson(*a.event).c_str());
        continue;
      }
      if (a.kind == replay::Action::Kind::kIgnored) {
        std::fprintf(out, "{\"type\":\"ignored\",\"line\":%llu,\"note\":\"%s\"}\n",
                    static_cast<unsigned long long>(n), Esc(a.note).c_str());
        continue;
      }
      auto& b = books[a.symbol];
      if (!b.sync) {
        b.sync = std::make_unique<BookSync>(codec.rule(), a.price_scale, a.size_scale);
        b.ps = a.price_scale;
        b.ss = a.size_scale;
      }
      BookSync::Result r;
      const char* what;
      if (a.kind == replay::Action::Kind::kSnapshot) {
        r = b.sync->OnSnapshot(a.bids, a.asks, a.snapshot_id);
        what = "snapshot";
      } else {
        r = b.sync->OnDelta(a.delta);
        what = "delta";
      }
      std::fprintf(out, "{\"type\":\"%s\",\"symbol\":\"%s\",\"line\":%llu,\"result\":\"%s\"}\n", what,
                  Esc(a.symbol).c_str(), static_cast<unsigned long long>(n), ToString(r));
      if (book_every && r == BookSync::Result::kApplied) print_book(a.symbol, b);
    }
  }
  for (const auto& [sym, b] : books) print_book(sym, b);
  return RunStats{n, errors};
}

}  // namespace perpgw::replay
