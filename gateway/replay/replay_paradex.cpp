// Paradex wiring for perpgw-replay: markets, REST /orderbook snapshots, and the daemon's feed
// (binary SBE frames as "bin:<hex>" lines, JSON-RPC frames as they are).
#include "adapters/paradex/codec.h"
#include "adapters/paradex/feed.h"
#include "gateway/replay/replay.h"

namespace perpgw::replay {
namespace {

class ParadexReplay final : public ReplayCodec {
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
    // A REST /orderbook body: seq_no and level arrays, no JSON-RPC envelope.
    if (line.substr(0, 4) == "bin:" || line.find("\"seq_no\"") == std::string_view::npos ||
        line.find("\"jsonrpc\"") != std::string_view::npos ||
        line.find("\"bids\"") == std::string_view::npos) {
      return false;
    }
    std::string_view vs = SnapshotSymbol(line);
    // The body names its market.
    const size_t key = line.find("\"market\":\"");
    if (key != std::string_view::npos) {
      const size_t start = key + 10;
      const size_t end = line.find('"', start);
      if (end != std::string_view::npos) vs = line.substr(start, end - start);
    }
    const Instrument* in = symbols_.ByVenueSymbol(vs);
    if (!in) return absl::NotFoundError("snapshot for an unknown market");
    auto snap = codec_.ParseOrderbook(line, *in);
    if (!snap.ok()) return snap.status();
    SetSnapshot(*in, std::move(snap->bids), std::move(snap->asks), snap->seq_no, a);
    return true;
  }
  MarketFeed& feed() override { return feed_; }

 private:
  adapters::paradex::Codec codec_;
  adapters::paradex::SymbolTable symbols_;
  adapters::paradex::Feed feed_{&codec_, &symbols_};
};

}  // namespace

std::unique_ptr<ReplayCodec> MakeReplay_paradex() { return std::make_unique<ParadexReplay>(); }

}  // namespace perpgw::replay
