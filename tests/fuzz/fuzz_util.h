// Shared by the libFuzzer targets: seed data from tests/data, input split into frames, and the
// order-book invariants every target checks after feeding a book.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/api/order_book.h"

namespace perpgw::fuzz {

// A file under tests/data (the targets' fixed context: instruments, snapshots). Missing data is
// a broken checkout, not a finding: abort loudly.
inline std::string ReadData(const std::string& relative) {
  std::ifstream in(std::string(PERPGW_TEST_DATA) + "/" + relative, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz: cannot read tests/data/%s\n", relative.c_str());
    std::abort();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One input = several frames, one per line (so the fuzzer can build sequences: a snapshot, then
// deltas that bridge, gap or go back).
inline std::vector<std::string_view> Lines(const uint8_t* data, size_t size) {
  std::vector<std::string_view> out;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    if (end > start) out.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// What must hold for any input: each side strictly ordered best-first, no empty level. (A crossed
// book is possible from a venue's data and is flagged by the adapter, not an invariant here.)
inline void CheckBook(const OrderBook& book) {
  size_t n = 0;
  std::optional<Level> prev;
  book.ForEachBid([&](const Level& l) {
    if (l.size <= 0) std::abort();
    if (prev && !(l.price < prev->price)) std::abort();
    prev = l;
    ++n;
    return true;
  });
  if (n != book.bid_count()) std::abort();
  n = 0;
  prev.reset();
  book.ForEachAsk([&](const Level& l) {
    if (l.size <= 0) std::abort();
    if (prev && !(l.price > prev->price)) std::abort();
    prev = l;
    ++n;
    return true;
  });
  if (n != book.ask_count()) std::abort();
}

}  // namespace perpgw::fuzz
