// Lighter wiring for perpgw-replay: markets from orderBookDetails and the daemon's feed. Lighter
// has no REST depth snapshot that chains to the stream (orderBookOrders lists resting orders and
// carries no nonce), so every line is a WS frame: `subscribed/order_book` is the snapshot, and
// updates chain on begin_nonce == the previous nonce.
#include "adapters/lighter/codec.h"
#include "adapters/lighter/feed.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {
namespace {

class LighterReplay final : public ReplayCodec {
 public:
  absl::Status LoadInstruments(std::string_view body) override {
    auto list = codec_.ParseOrderBookDetails(body, nullptr);
    if (!list.ok()) return list.status();
    for (auto m : *list) {
      WidenBookScales(&m.instrument);
      symbols_.Add(m.instrument, m.market_index);
    }
    return absl::OkStatus();
  }

 protected:
  absl::StatusOr<bool> DecodeSnapshot(std::string_view, Action*) override { return false; }
  MarketFeed& feed() override { return feed_; }

 private:
  adapters::lighter::Codec codec_;
  adapters::lighter::SymbolTable symbols_;
  adapters::lighter::Feed feed_{&codec_, &symbols_};
};

}  // namespace

std::unique_ptr<ReplayCodec> MakeReplay_lighter() { return std::make_unique<LighterReplay>(); }

}  // namespace perpgw::replay
