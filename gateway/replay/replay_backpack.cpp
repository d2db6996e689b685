// Backpack wiring for perpgw-replay: REST depth snapshots and WS frames.
#include "adapters/backpack/codec.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {
namespace {

class BackpackReplay final : public ReplayCodec {
 public:
  SeqRule rule() const override { return SeqRule::kContiguous; }

  absl::Status LoadInstruments(std::string_view body) override {
    auto list = codec_.ParseMarkets(body);
    if (!list.ok()) return list.status();
    for (auto in : *list) {
      WidenBookScales(&in);
      symbols_.Add(in);
    }
    return absl::OkStatus();
  }

  absl::Status Decode(std::string_view line, UnixNanos now, std::vector<Action>* out) override {
    if (line.find("\"lastUpdateId\"") != std::string_view::npos &&
        line.find("\"stream\"") == std::string_view::npos) {
      // REST depth snapshot: it names no symbol; a recorder may prefix {"symbol":...}.
      const Instrument* in = nullptr;
      auto pos = line.find("\"symbol\":\"");
      if (pos != std::string_view::npos) {
        auto end = line.find('"', pos + 10);
        in = symbols_.FindByVenueSymbol(line.substr(pos + 10, end - pos - 10));
      }
      if (!in) in = symbols_.FindByVenueSymbol(default_symbol_);
      if (!in) return absl::NotFoundError("snapshot for an unknown symbol");
      auto snap = codec_.ParseDepthSnapshot(line, *in);
      if (!snap.ok()) return snap.status();
      Action a;
      a.kind = Action::Kind::kSnapshot;
      a.symbol = in->symbol;
      a.price_scale = in->price_scale;
      a.size_scale = in->size_scale;
      a.bids = snap->bids;
      a.asks = snap->asks;
      a.snapshot_id = snap->last_update_id;
      out->push_back(std::move(a));
      return absl::OkStatus();
    }
    auto info = codec_.ClassifyWsFrame(line);
    if (!info.ok()) return info.status();
    Action a;
    const Instrument* in = symbols_.FindByVenueSymbol(info->venue_symbol);
    if (in) {
      a.symbol = in->symbol;
      a.price_scale = in->price_scale;
      a.size_scale = in->size_scale;
    }
    switch (info->kind) {
      case adapters::backpack::WsKind::kDepth: {
        if (!in) return absl::NotFoundError("depth for unknown symbol " + info->venue_symbol);
        auto st = codec_.ParseDepthDelta(line, *in, &a.delta);
        if (!st.ok()) return st;
        a.kind = Action::Kind::kDelta;
        break;
      }
      case adapters::backpack::WsKind::kBookTicker: {
        auto b = codec_.ParseBookTicker(line, symbols_, now);
        if (!b.ok()) return b.status();
        a.kind = Action::Kind::kEvent;
        a.event = std::make_shared<const Event>(*b);
        break;
      }
      case adapters::backpack::WsKind::kTrade: {
        auto t = codec_.ParseTrade(line, symbols_, now);
        if (!t.ok()) return t.status();
        a.kind = Action::Kind::kEvent;
        a.event = std::make_shared<const Event>(*t);
        break;
      }
      default:
        a.note = std::string("unhandled ") + adapters::backpack::ToString(info->kind);
    }
    out->push_back(std::move(a));
    return absl::OkStatus();
  }

 private:
  adapters::backpack::Codec codec_;
  adapters::backpack::SymbolTable symbols_;
};

}  // namespace

std::unique_ptr<ReplayCodec> MakeBackpackReplay() { return std::make_unique<BackpackReplay>(); }

}  // namespace perpgw::replay
