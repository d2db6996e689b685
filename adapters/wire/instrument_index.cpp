// The instrument index (see instrument_index.h).
#include "adapters/wire/instrument_index.h"

namespace perpgw::wire {

InstrumentIndex& InstrumentIndex::operator=(const InstrumentIndex& other) {
  if (this == &other) return *this;
  Clear();
  for (const Instrument& i : other.instruments_) Add(i);
  return *this;
}

void InstrumentIndex::Reset(const std::vector<Instrument>& instruments) {
  Clear();
  for (const Instrument& i : instruments) Add(i);
}

void InstrumentIndex::Clear() {
  instruments_.clear();
  by_venue_.clear();
  by_ticker_.clear();
}

void InstrumentIndex::Add(const Instrument& instrument) {
  auto it = by_venue_.find(instrument.venue_symbol);
  if (it != by_venue_.end()) {
    Instrument* slot = const_cast<Instrument*>(it->second);
    auto t = by_ticker_.find(slot->symbol);
    if (t != by_ticker_.end() && t->second == slot) by_ticker_.erase(t);
    *slot = instrument;
    by_ticker_[slot->symbol] = slot;
    return;
  }
  instruments_.push_back(instrument);
  const Instrument* p = &instruments_.back();
  by_venue_.emplace(p->venue_symbol, p);
  by_ticker_[p->symbol] = p;
}

const Instrument* InstrumentIndex::ByVenueSymbol(std::string_view venue_symbol) const {
  auto it = by_venue_.find(venue_symbol);
  return it == by_venue_.end() ? nullptr : it->second;
}

const Instrument* InstrumentIndex::ByTicker(std::string_view ticker) const {
  auto it = by_ticker_.find(ticker);
  return it == by_ticker_.end() ? nullptr : it->second;
}

}  // namespace perpgw::wire
