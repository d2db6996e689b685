// See client_ids.h.
#include "adapters/common/client_ids.h"

namespace perpgw::common {

std::optional<uint64_t> ClientIdMap::ParseCanonical(std::string_view text) const {
  if (text.empty() || text.size() > 20 || text[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max_id_ - d) / 10) return std::nullopt;  // v * 10 + d > max_id
    v = v * 10 + d;
  }
  if (v == 0) return std::nullopt;
  return v;
}

uint64_t ClientIdMap::Candidate(std::string_view id, uint32_t attempt) const {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  for (char c : id) mix(static_cast<uint8_t>(c));
  for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(attempt >> (8 * i)));
  return h % max_id_ + 1;
}

absl::StatusOr<uint64_t> ClientIdMap::Assign(std::string_view client_order_id) {
  if (client_order_id.empty()) {
    return absl::InvalidArgumentError(venue_ + ": empty client order id");
  }
  std::string key(client_order_id);
  if (auto it = by_string_.find(key); it != by_string_.end()) return it->second;
  if (by_string_.size() >= max_entries_) {
    return absl::ResourceExhaustedError(venue_ + ": client id map is full (" +
                                        std::to_string(max_entries_) + " ids)");
  }
  auto take = [&](uint64_t id) {
    by_string_.emplace(key, id);
    by_id_.emplace(id, key);
    return id;
  };
  if (auto numeric = ParseCanonical(client_order_id); numeric && !by_id_.count(*numeric)) {
    return take(*numeric);
  }
  constexpr uint32_t kHashAttempts = 64;
  uint64_t cand = 1;
  for (uint32_t k = 0; k < kHashAttempts; ++k) {
    cand = Candidate(client_order_id, k);
    if (!by_id_.count(cand)) return take(cand);
    ++collisions_;
  }
  for (size_t n = 0; n <= by_id_.size(); ++n) {  // at most size() ids are taken
    cand = cand >= max_id_ ? 1 : cand + 1;
    if (!by_id_.count(cand)) return take(cand);
  }
  return absl::ResourceExhaustedError(venue_ + ": no free client id");
}

absl::Status ClientIdMap::Restore(std::string_view client_order_id, uint64_t venue_id) {
  if (client_order_id.empty() || venue_id == 0 || venue_id > max_id_) {
    return absl::InvalidArgumentError(venue_ + ": restore needs a non-empty id and a client id in "
                                               "[1, " + std::to_string(max_id_) + "]");
  }
  std::string key(client_order_id);
  auto s = by_string_.find(key);
  auto i = by_id_.find(venue_id);
  if (s != by_string_.end() && s->second == venue_id) return absl::OkStatus();
  if (s != by_string_.end() || i != by_id_.end()) {
    return absl::AlreadyExistsError(venue_ + ": client id mapping conflict for '" + key + "' / " +
                                    std::to_string(venue_id));
  }
  by_string_.emplace(key, venue_id);
  by_id_.emplace(venue_id, std::move(key));
  return absl::OkStatus();
}

std::optional<uint64_t> ClientIdMap::Find(std::string_view client_order_id) const {
  auto it = by_string_.find(std::string(client_order_id));
  if (it == by_string_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ClientIdMap::Resolve(uint64_t venue_id) const {
  auto it = by_id_.find(venue_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::string ClientIdMap::ResolveOrDecimal(uint64_t venue_id) const {
  auto s = Resolve(venue_id);
  return s ? *s : std::to_string(venue_id);
}

std::string ClientIdMap::ResolveText(std::string_view venue_id_text) const {
  uint64_t v = 0;
  if (venue_id_text.empty() || venue_id_text.size() > 19) return std::string(venue_id_text);
  for (char c : venue_id_text) {
    if (c < '0' || c > '9') return std::string(venue_id_text);
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  auto s = Resolve(v);
  return s ? *s : std::string(venue_id_text);
}

void ClientIdMap::Release(std::string_view client_order_id) {
  auto it = by_string_.find(std::string(client_order_id));
  if (it == by_string_.end()) return;
  by_id_.erase(it->second);
  by_string_.erase(it);
}

}  // namespace perpgw::common
