// The book keeper: every followed market's BookSync, the snapshot bridge (ask for a snapshot,
// bridge it into the buffered stream, retry with backoff), resync on gap / crossed / bad input /
// lost stream, and the BookUpdates each of those publishes. Venue-agnostic: the venue supplies
// how to ask for a snapshot (REST fetch, or a re-subscribe whose snapshot arrives on the stream)
// and the timer; it feeds decoded deltas and snapshots in. Runs on the venue thread (not
// thread-safe); no I/O, clock or logging of its own, so it is unit-tested with fake hooks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/order_book.h"
#include "adapters/api/venue.h"

namespace perpgw::runtime {

// A full book as a venue's snapshot gives it (levels at the instrument's scales).
struct BookSnapshot {
  uint64_t id = 0;              // the venue's sequence id the snapshot is at
  UnixNanos exchange_time = 0;  // 0 = not reported
  std::vector<Level> bids, asks;
};

class BookKeeper {
 public:
  using Millis = std::chrono::milliseconds;
  struct Hooks {
    // Ask the venue for a snapshot of `instrument`; the answer comes back through OnSnapshot
    // (exactly once per request: a value, or an error when the request failed).
    std::function<void(const Instrument& instrument)> request_snapshot;
    // Run `fn` after `delay` on the venue thread (not after the venue stopped).
    std::function<void(Millis delay, std::function<void()> fn)> schedule;
    std::function<void(BookUpdate)> publish;
    std::function<void(VenueCounter, uint64_t)> count;
    std::function<UnixNanos()> now;
    // Optional: false while snapshots cannot be asked for (e.g. the stream is down: its
    // reconnect calls OnStreamOpen, which asks again).
    std::function<bool()> can_request;
    // Optional: events worth a log line (a snapshot that did not bridge, and why).
    std::function<void(std::string_view venue_symbol, std::string_view what)> note;
  };
  // Delays, overridable by tests; the defaults are what the venues use.
  struct Timing {
    Millis first_snapshot{300};  // after a book is added or its stream (re)opens: let it buffer
    Millis after_resync{100};
    Millis after_parse_error{1000};
    Millis failure_base{250}, failure_cap{5000};      // the snapshot request failed
    Millis unbridged_base{100}, unbridged_cap{2000};  // a snapshot older than the stream
  };

  BookKeeper(std::string venue, SeqRule rule, Hooks hooks);
  BookKeeper(std::string venue, SeqRule rule, Hooks hooks, Timing timing);

  // Follows a market (keyed by its venue symbol); false when already followed. Its first snapshot
  // is asked for after Timing::first_snapshot.
  bool Add(const Instrument& instrument);
  bool Follows(std::string_view venue_symbol) const;
  const Instrument* Find(std::string_view venue_symbol) const;
  // True while a followed market's book is not live (BBO from the venue is then flagged).
  bool Resyncing(std::string_view venue_symbol) const;
  bool Live(std::string_view venue_symbol) const;
  std::vector<std::string> VenueSymbols() const;

  // One decoded delta of a followed market (unknown symbols are ignored).
  void OnDelta(std::string_view venue_symbol, const DeltaMsg& delta, UnixNanos receive_time);
  // The answer to request_snapshot. An error (request failed or body unparseable: `parse_error`)
  // asks again with backoff.
  void OnSnapshot(std::string_view venue_symbol, absl::StatusOr<BookSnapshot> snapshot,
                  bool parse_error = false);
  // The stream carrying this market (re)opened: bridge again after Timing::first_snapshot.
  void OnStreamOpen(std::string_view venue_symbol);
  void OnStreamOpenAll();
  // The stream carrying this market was lost: publish RESYNCING now; OnStreamOpen re-bridges.
  void OnStreamLost(std::string_view venue_symbol);
  void OnStreamLostAll();
  // Drops the book and publishes RESYNCING(reason); asks for a snapshot when `refetch`.
  void Resync(std::string_view venue_symbol, const std::string& reason, VenueCounter cause,
              bool refetch);
  // Replaces Hooks::can_request (for a venue whose stream object exists only after construction).
  void set_can_request(std::function<bool()> fn) { hooks_.can_request = std::move(fn); }
  // After Stop nothing is requested or published (pending timers become no-ops).
  void Stop();

 private:
  struct Book {
    Instrument instrument;
    std::unique_ptr<BookSync> sync;
    bool requesting = false;
    int attempts = 0;
  };
  Book* FindBook(std::string_view venue_symbol);
  void Schedule(const std::string& venue_symbol, Millis delay);
  void Request(const std::string& venue_symbol);
  void PublishFull(const Book& b, UnixNanos exchange_time);
  Millis Backoff(Book& b, Millis base, Millis cap);

  const std::string venue_;
  const SeqRule rule_;
  Hooks hooks_;
  const Timing timing_;
  std::map<std::string, Book, std::less<>> books_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace perpgw::runtime
