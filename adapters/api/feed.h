// One decoded public market-data frame, the same shape for every venue. Each venue's pure
// `MarketFeed` (adapters/<venue>/feed.h) turns a frame into a MarketMsg; the adapter
// (AdapterBase::RouteMarket), perpgw-replay and bench_ingest all consume it, so the three run
// one dispatch.
//
// A MarketMsg holds views into the feed's own reused storage: valid until the feed's next
// Decode, never copied on the hot path.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "adapters/api/order_book.h"
#include "adapters/api/types.h"

namespace perpgw {

enum class FeedKind : uint8_t {
  kIgnored = 0,    // a frame this gateway does not use (detail names it)
  kDepthDelta,     // delta: one incremental update under the feed's SeqRule
  kDepthSnapshot,  // delta.changes: the whole top of book (partial-depth streams); last_id = id
  kBbo,
  kTrade,
  kFunding,      // funding: one row per symbol the frame names
  kLiquidation,
  kVenue,        // venue-specific (the venue's feed has an accessor for it); detail names it
  kVenueError,   // the venue reported an error on the stream (detail: code and message)
};
const char* ToString(FeedKind k);

struct MarketMsg {
  FeedKind kind = FeedKind::kIgnored;
  std::string_view venue_symbol;  // empty for multi-symbol and control frames
  const Instrument* instrument = nullptr;  // the feed's instrument for venue_symbol, if known
  const DeltaMsg* delta = nullptr;         // kDepthDelta, kDepthSnapshot
  const Bbo* bbo = nullptr;
  const Trade* trade = nullptr;
  const std::vector<Funding>* funding = nullptr;
  const Liquidation* liquidation = nullptr;
  std::string_view detail;

  void Clear() { *this = MarketMsg{}; }
};

// A venue's public-stream decoder. Pure (no I/O, clock or logging): the caller passes the
// receive time. The instrument tables it reads belong to the caller and must outlive it.
class MarketFeed {
 public:
  virtual ~MarketFeed() = default;
  // The venue's book continuity rule (what BookSync needs for its deltas).
  virtual SeqRule seq_rule() const = 0;
  // One text/binary frame → *out (reset first). Malformed frames are InvalidArgument, depth of
  // an unknown symbol NotFound; nothing in *out is valid after an error.
  virtual absl::Status Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) = 0;
  // One binary frame (WS opcode 2). Venues with a binary feed (Paradex SBE) override it; for the
  // others a binary frame is malformed input.
  virtual absl::Status DecodeBinary(std::string_view frame, UnixNanos receive_time,
                                    MarketMsg* out) {
    (void)frame;
    (void)receive_time;
    out->Clear();
    return absl::InvalidArgumentError("binary frame on a text-only market feed");
  }
};

}  // namespace perpgw
