// Backpack wiring for perpgw-replay: markets, REST depth snapshots, and the daemon's feed.
#include "adapters/backpack/codec.h"
#include "adapters/backpack/feed.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {
namespace {

class BackpackReplay final : public ReplayCodec {
 public:
  absl::Status LoadInstruments(std::string_view body) override {
    auto list = codec_.ParseMarkets(body);
    if (!list.ok()) return list.status();
    for (auto in : *list) {
      WidenBookScales(&in);
      symbols_.Add(in);
    }
    return absl::OkStatus();
  }

 protected:
  absl::StatusOr<bool> DecodeSnapshot(std::string_view line, Action* a) override {
    // A REST depth snapshot has lastUpdateId and no stream envelope.
    if (line.find("\"lastUpdateId\"") == std::string_view::npos ||
        line.find("\"stream\"") != std::string_view::npos) {
      return false;
    }
    const Instrument* in = symbols_.ByVenueSymbol(SnapshotSymbol(line));
    if (!in) return absl::NotFoundError("snapshot for an unknown symbol");
    auto snap = codec_.ParseDepthSnapshot(line, *in);
    if (!snap.ok()) return snap.status();
    SetSnapshot(*in, std::move(snap->bids), std::move(snap->asks), snap->last_update_id, a);
    return true;
  }
  MarketFeed& feed() override { return feed_; }

 private:
  adapters::backpack::Codec codec_;
  adapters::backpack::SymbolTable symbols_;
  adapters::backpack::Feed feed_{&codec_, &symbols_};
};

}  // namespace

std::unique_ptr<ReplayCodec> MakeReplay_backpack() { return std::make_unique<BackpackReplay>(); }

}  // namespace perpgw::replay
