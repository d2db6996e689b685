// Aster wiring for perpgw-replay: exchangeInfo, REST depth snapshots, and the daemon's feed.
#include "adapters/aster/codec.h"
#include "adapters/aster/feed.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {
namespace {

class AsterReplay final : public ReplayCodec {
 public:
  absl::Status LoadInstruments(std::string_view body) override {
    auto list = adapters::aster::ParseExchangeInfo(body);
    if (!list.ok()) return list.status();
    for (auto& in : *list) WidenBookScales(&in);
    symbols_.Reset(*list);
    return absl::OkStatus();
  }

 protected:
  absl::StatusOr<bool> DecodeSnapshot(std::string_view line, Action* a) override {
    // A REST depth snapshot has lastUpdateId and is no depthUpdate event.
    if (line.find("\"lastUpdateId\"") == std::string_view::npos ||
        line.find("\"depthUpdate\"") != std::string_view::npos) {
      return false;
    }
    if (symbols_.size() == 0) return absl::FailedPreconditionError("no instruments loaded");
    const Instrument* in = symbols_.ByVenueSymbol(SnapshotSymbol(line));
    if (!in) return absl::NotFoundError("snapshot for an unknown symbol");
    auto snap = adapters::aster::ParseDepthSnapshot(line, in->price_scale, in->size_scale);
    if (!snap.ok()) return snap.status();
    SetSnapshot(*in, std::move(snap->bids), std::move(snap->asks), snap->last_update_id, a);
    return true;
  }
  MarketFeed& feed() override { return feed_; }

 private:
  adapters::aster::SymbolMap symbols_;
  adapters::aster::Feed feed_{adapters::aster::MarketContext{&symbols_, nullptr}};
};

}  // namespace

std::unique_ptr<ReplayCodec> MakeReplay_aster() { return std::make_unique<AsterReplay>(); }

}  // namespace perpgw::replay
