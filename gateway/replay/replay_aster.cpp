// Aster wiring for perpgw-replay: REST depth snapshots and fstream frames.
#include "adapters/aster/codec.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {
namespace {

class AsterReplay final : public ReplayCodec {
 public:
  SeqRule rule() const override { return SeqRule::kPrevLink; }

  absl::Status LoadInstruments(std::string_view body) override {
    auto list = adapters::aster::ParseExchangeInfo(body);
    if (!list.ok()) return list.status();
    for (auto& in : *list) WidenBookScales(&in);
    symbols_.Reset(*list);
    return absl::OkStatus();
  }

  absl::Status Decode(std::string_view line, UnixNanos now, std::vector<Action>* out) override {
    if (line.find("\"lastUpdateId\"") != std::string_view::npos &&
        line.find("\"depthUpdate\"") == std::string_view::npos) {
      // A REST depth snapshot; it names no symbol, so it applies to the only/first instrument
      // unless the line is wrapped as {"symbol":..., ...} by the recorder.
      if (symbols_.size() == 0) return absl::FailedPreconditionError("no instruments loaded");
      const Instrument* in = nullptr;
      auto pos = line.find("\"symbol\":\"");
      if (pos != std::string_view::npos) {
        auto end = line.find('"', pos + 10);
        in = symbols_.ByVenueSymbol(line.substr(pos + 10, end - pos - 10));
      }
      if (!in) in = symbols_.ByVenueSymbol(default_symbol_);
      if (!in) return absl::NotFoundError("snapshot for an unknown symbol");
      auto snap = adapters::aster::ParseDepthSnapshot(line, in->price_scale, in->size_scale);
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
    adapters::aster::MarketContext ctx;
    ctx.symbols = &symbols_;
    auto st = adapters::aster::DecodeMarketFrame(line, ctx, now, &frame_);
    if (!st.ok()) return st;
    Action a;
    using K = adapters::aster::MarketEventKind;
    const Instrument* in = symbols_.ByVenueSymbol(frame_.venue_symbol);
    if (in) {
      a.symbol = in->symbol;
      a.price_scale = in->price_scale;
      a.size_scale = in->size_scale;
    }
    switch (frame_.kind) {
      case K::kDepthDiff:
        a.kind = Action::Kind::kDelta;
        a.delta = frame_.delta;
        break;
      case K::kDepthPartial: {
        auto snap = adapters::aster::PartialDepthToSnapshot(frame_.delta);
        a.kind = Action::Kind::kSnapshot;
        a.bids = snap.bids;
        a.asks = snap.asks;
        a.snapshot_id = frame_.delta.last_id;
        break;
      }
      case K::kBookTicker:
        a.kind = Action::Kind::kEvent;
        a.event = std::make_shared<const Event>(frame_.bbo);
        break;
      case K::kTrade:
        a.kind = Action::Kind::kEvent;
        a.event = std::make_shared<const Event>(frame_.trade);
        break;
      case K::kMarkPrice:
        for (const auto& f : frame_.funding) {
          Action fa;
          fa.kind = Action::Kind::kEvent;
          fa.symbol = f.symbol;
          fa.event = std::make_shared<const Event>(f);
          out->push_back(std::move(fa));
        }
        return absl::OkStatus();
      case K::kLiquidation:
        a.kind = Action::Kind::kEvent;
        a.event = std::make_shared<const Event>(frame_.liquidation);
        break;
      default:
        a.note = std::string("unhandled ") + adapters::aster::ToString(frame_.kind);
    }
    out->push_back(std::move(a));
    return absl::OkStatus();
  }

 private:
  adapters::aster::SymbolMap symbols_;
  adapters::aster::MarketFrame frame_;
};

}  // namespace

std::unique_ptr<ReplayCodec> MakeAsterReplay() { return std::make_unique<AsterReplay>(); }

}  // namespace perpgw::replay
