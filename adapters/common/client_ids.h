// Maps our string client order ids onto a venue's numeric client id range [1, max_id] and back
// (Lighter's client_order_index: 48 bits). Pure: no clock, no randomness.
//
// Scheme:
//  1. A canonical decimal id in [1, max_id] ("12345": no sign, no leading zero) maps to itself,
//     so numeric ids stay readable on the venue.
//  2. Otherwise candidate k (k = 0, 1, ...) is FNV-1a-64 over the id bytes followed by the 4
//     little-endian bytes of k, reduced into [1, max_id].
//  3. A candidate held by another id is a collision: the next k (64 tries), then a linear probe.
// Ids are never reused while mapped: a venue's order history is searched by client id, so an
// index that once named another order must not name a new one (entries go only with Release,
// which the owner calls when the journal forgets the order). Restore() re-adds persisted pairs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"

namespace perpgw::common {

class ClientIdMap {
 public:
  ClientIdMap(std::string venue, uint64_t max_id, size_t max_entries = 1'000'000)
      : venue_(std::move(venue)), max_id_(max_id), max_entries_(max_entries) {}

  // The existing mapping or a new one. Error: empty id, or the map is full.
  absl::StatusOr<uint64_t> Assign(std::string_view client_order_id);
  // Re-adds a known pair. Error when either side is mapped to something else or out of range.
  absl::Status Restore(std::string_view client_order_id, uint64_t venue_id);

  std::optional<uint64_t> Find(std::string_view client_order_id) const;
  std::optional<std::string> Resolve(uint64_t venue_id) const;
  // Resolve(), else the decimal text of the venue id (an order this map never saw).
  std::string ResolveOrDecimal(uint64_t venue_id) const;
  // Resolve() for a decimal venue id as text (what venue payloads carry); else the text as is.
  std::string ResolveText(std::string_view venue_id_text) const;
  void Release(std::string_view client_order_id);

  size_t size() const { return by_string_.size(); }
  uint64_t collisions() const { return collisions_; }
  uint64_t max_id() const { return max_id_; }

  uint64_t Candidate(std::string_view client_order_id, uint32_t attempt) const;
  std::optional<uint64_t> ParseCanonical(std::string_view text) const;

 private:
  std::string venue_;
  uint64_t max_id_;
  size_t max_entries_;
  uint64_t collisions_ = 0;
  std::unordered_map<std::string, uint64_t> by_string_;
  std::unordered_map<uint64_t, std::string> by_id_;
};

}  // namespace perpgw::common
