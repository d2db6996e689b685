#include "adapters/runtime/book_keeper.h"

#include <algorithm>
#include <string>
#include <utility>

namespace perpgw::runtime {

BookKeeper::BookKeeper(std::string venue, SeqRule rule, Hooks hooks)
    : BookKeeper(std::move(venue), rule, std::move(hooks), Timing{}) {}

BookKeeper::BookKeeper(std::string venue, SeqRule rule, Hooks hooks, Timing timing)
    : venue_(std::move(venue)), rule_(rule), hooks_(std::move(hooks)), timing_(timing) {}

bool BookKeeper::Add(const Instrument& instrument) {
  auto [it, inserted] = books_.try_emplace(instrument.venue_symbol);
  if (!inserted) return false;
  it->second.instrument = instrument;
  it->second.sync =
      std::make_unique<BookSync>(rule_, instrument.price_scale, instrument.size_scale);
  Schedule(instrument.venue_symbol, timing_.first_snapshot);
  return true;
}

BookKeeper::Book* BookKeeper::FindBook(std::string_view venue_symbol) {
  auto it = books_.find(venue_symbol);
  return it == books_.end() ? nullptr : &it->second;
}

bool BookKeeper::Follows(std::string_view venue_symbol) const {
  return books_.find(venue_symbol) != books_.end();
}

const Instrument* BookKeeper::Find(std::string_view venue_symbol) const {
  auto it = books_.find(venue_symbol);
  return it == books_.end() ? nullptr : &it->second.instrument;
}

bool BookKeeper::Resyncing(std::string_view venue_symbol) const {
  auto it = books_.find(venue_symbol);
  return it != books_.end() && !it->second.sync->live();
}

bool BookKeeper::Live(std::string_view venue_symbol) const {
  auto it = books_.find(venue_symbol);
  return it != books_.end() && it->second.sync->live();
}

std::vector<std::string> BookKeeper::VenueSymbols() const {
  std::vector<std::string> out;
  out.reserve(books_.size());
  for (const auto& [vs, b] : books_) out.push_back(vs);
  return out;
}

void BookKeeper::Stop() {
  *alive_ = false;
}

void BookKeeper::Schedule(const std::string& venue_symbol, Millis delay) {
  if (!*alive_) return;
  hooks_.schedule(delay, [this, alive = alive_, venue_symbol] {
    if (*alive) Request(venue_symbol);
  });
}

void BookKeeper::Request(const std::string& venue_symbol) {
  Book* b = FindBook(venue_symbol);
  // A live book needs no snapshot: a late second one (REST lags the stream) would roll it back.
  if (!b || b->requesting || b->sync->live()) return;
  if (hooks_.can_request && !hooks_.can_request()) return;
  b->requesting = true;
  hooks_.request_snapshot(b->instrument);
}

BookKeeper::Millis BookKeeper::Backoff(Book& b, Millis base, Millis cap) {
  Millis d = base * (1 << std::min(b.attempts++, 4));
  return std::min(d, cap);
}

void BookKeeper::OnSnapshot(std::string_view venue_symbol, absl::StatusOr<BookSnapshot> snapshot,
                            bool parse_error) {
  if (!*alive_) return;
  Book* b = FindBook(venue_symbol);
  if (!b) return;
  const std::string vs(venue_symbol);
  b->requesting = false;
  if (b->sync->live()) return;
  if (!snapshot.ok()) {
    if (parse_error) {
      hooks_.count(VenueCounter::kParseErrors, 1);
      return Schedule(vs, timing_.after_parse_error);
    }
    return Schedule(vs, Backoff(*b, timing_.failure_base, timing_.failure_cap));
  }
  auto res = b->sync->OnSnapshot(snapshot->bids, snapshot->asks, snapshot->id);
  if (res == BookSync::Result::kApplied) {
    b->attempts = 0;
    PublishFull(*b, snapshot->exchange_time);
    return;
  }
  // Older than the buffered stream (REST snapshots are served from caches and lag), crossed or
  // invalid: ask again shortly.
  if (hooks_.note) hooks_.note(vs, std::string("snapshot not bridged (") + ToString(res) + ")");
  Schedule(vs, Backoff(*b, timing_.unbridged_base, timing_.unbridged_cap));
}

void BookKeeper::PublishFull(const Book& b, UnixNanos exchange_time) {
  BookUpdate u;
  u.venue = venue_;
  u.symbol = b.instrument.symbol;
  u.snapshot = true;
  u.status = BookStatus::kLive;
  u.venue_seq = b.sync->last_id();
  u.exchange_time = exchange_time;
  u.receive_time = hooks_.now();
  u.price_scale = b.instrument.price_scale;
  u.size_scale = b.instrument.size_scale;
  u.bids = b.sync->book().Bids();
  u.asks = b.sync->book().Asks();
  hooks_.publish(std::move(u));
}

void BookKeeper::OnDelta(std::string_view venue_symbol, const DeltaMsg& delta,
                         UnixNanos receive_time) {
  if (!*alive_) return;
  Book* b = FindBook(venue_symbol);
  if (!b) return;
  switch (b->sync->OnDelta(delta)) {
    case BookSync::Result::kApplied: {
      BookUpdate u;
      u.venue = venue_;
      u.symbol = b->instrument.symbol;
      u.status = BookStatus::kLive;
      u.venue_seq = delta.last_id;
      u.exchange_time = delta.exchange_time;
      u.receive_time = receive_time;
      u.price_scale = b->instrument.price_scale;
      u.size_scale = b->instrument.size_scale;
      for (const auto& c : delta.changes) {
        (c.side == BookSide::kBid ? u.bids : u.asks).push_back(c.level);
      }
      hooks_.publish(std::move(u));
      return;
    }
    case BookSync::Result::kGap:
      return Resync(venue_symbol, "sequence gap", VenueCounter::kResyncGap, true);
    case BookSync::Result::kCrossed:
      return Resync(venue_symbol, "crossed book", VenueCounter::kResyncCrossed, true);
    case BookSync::Result::kBadInput:
      return Resync(venue_symbol, "invalid level", VenueCounter::kResyncBadInput, true);
    case BookSync::Result::kOverflow:
      // Too much buffered before a snapshot bridged: ask now.
      return Schedule(b->instrument.venue_symbol, Millis(0));
    default: return;
  }
}

void BookKeeper::Resync(std::string_view venue_symbol, const std::string& reason,
                        VenueCounter cause, bool refetch) {
  if (!*alive_) return;
  Book* b = FindBook(venue_symbol);
  if (!b) return;
  b->sync->Reset();
  hooks_.count(cause, 1);
  BookUpdate u;
  u.venue = venue_;
  u.symbol = b->instrument.symbol;
  u.snapshot = true;  // an empty book: consumers drop what they hold
  u.status = BookStatus::kResyncing;
  u.status_reason = reason;
  u.receive_time = hooks_.now();
  u.price_scale = b->instrument.price_scale;
  u.size_scale = b->instrument.size_scale;
  hooks_.publish(std::move(u));
  if (refetch) Schedule(b->instrument.venue_symbol, timing_.after_resync);
}

void BookKeeper::OnStreamOpen(std::string_view venue_symbol) {
  if (Book* b = FindBook(venue_symbol))
    Schedule(b->instrument.venue_symbol, timing_.first_snapshot);
}

void BookKeeper::OnStreamOpenAll() {
  for (auto& [vs, b] : books_) Schedule(vs, timing_.first_snapshot);
}

void BookKeeper::OnStreamLost(std::string_view venue_symbol) {
  Resync(venue_symbol, "reconnect", VenueCounter::kResyncReconnect, false);
}

void BookKeeper::OnStreamLostAll() {
  for (auto& [vs, b] : books_) Resync(vs, "reconnect", VenueCounter::kResyncReconnect, false);
}

}  // namespace perpgw::runtime
