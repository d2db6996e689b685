// perpgw-replay: recorded venue frames (one JSON message per line) → the venue codec and the
// same BookSync/OrderBook the daemon uses → normalized events and books as JSON lines.
#pragma once

#include <cstdio>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/feed.h"
#include "adapters/api/order_book.h"
#include "adapters/api/venue.h"

namespace perpgw::replay {

// What one recorded line turned into.
struct Action {
  enum class Kind { kSnapshot, kDelta, kEvent, kIgnored } kind = Kind::kIgnored;
  std::string symbol;        // normalized ticker
  int price_scale = 0, size_scale = 0;
  std::vector<Level> bids, asks;  // kSnapshot
  uint64_t snapshot_id = 0;       // kSnapshot
  DeltaMsg delta;                 // kDelta
  std::shared_ptr<const Event> event;  // kEvent (BBO, trade, funding, order, ...)
  std::string note;               // kIgnored: why
};

// One venue's wiring: its instruments body, its REST depth snapshots, and the daemon's own
// MarketFeed for every stream frame (one dispatch for perpgwd, replay and bench_ingest).
class ReplayCodec {
 public:
  virtual ~ReplayCodec() = default;
  SeqRule rule() { return feed().seq_rule(); }
  // The venue's instruments REST body (exchangeInfo / markets / orderBookDetails).
  virtual absl::Status LoadInstruments(std::string_view body) = 0;
  // Venue symbol that REST snapshot lines (which name none) belong to.
  void set_default_symbol(std::string s) { default_symbol_ = std::move(s); }
  // A REST snapshot line through DecodeSnapshot, any other line through feed().
  absl::Status Decode(std::string_view line, UnixNanos receive_time, std::vector<Action>* out);

 protected:
  // A REST depth snapshot line → true and *out filled; false: a stream frame.
  virtual absl::StatusOr<bool> DecodeSnapshot(std::string_view line, Action* out) = 0;
  virtual MarketFeed& feed() = 0;
  // The venue symbol a snapshot line is for: a recorder's {"symbol":"..."} wrapper, else the
  // default symbol.
  std::string_view SnapshotSymbol(std::string_view line) const;
  // *a as the snapshot of `in` (its normalized symbol and book scales).
  static void SetSnapshot(const Instrument& in, std::vector<Level> bids, std::vector<Level> asks,
                          uint64_t id, Action* a);

  std::string default_symbol_;
};

std::unique_ptr<ReplayCodec> MakeCodec(const std::string& venue);

struct RunOptions {
  size_t depth = 5;         // levels per side in printed books
  bool book_every = false;  // print the book after every applied change (else only at the end)
};
struct RunStats {
  uint64_t lines = 0, errors = 0;
};
// Reads frames (one per line) from `in` through `codec` and per-symbol BookSyncs, writing one
// JSON line per input line (event, book-sync result, error or ignored) and the books to `out`.
RunStats Run(ReplayCodec& codec, std::istream& in, std::FILE* out, const RunOptions& options);
std::vector<std::string> Venues();

}  // namespace perpgw::replay
