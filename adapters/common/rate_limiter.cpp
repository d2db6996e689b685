// Token bucket for venue request weights.
#include "adapters/common/rate_limiter.h"

#include <algorithm>
#include <charconv>

namespace perpgw::common {

TokenBucket::TokenBucket(Options options, TimePoint now) : options_(options), last_(now) {
  if (options_.capacity < 1) options_.capacity = 1;
  if (options_.refill_amount < 1) options_.refill_amount = 1;
  if (options_.refill_interval.count() < 1) options_.refill_interval = std::chrono::nanoseconds(1);
  scaled_capacity_ = static_cast<__int128>(options_.capacity) * options_.refill_interval.count();
  scaled_tokens_ = scaled_capacity_;
  blocked_until_ = now;
}

void TokenBucket::Refill(TimePoint now) {
  if (now <= last_) return;  // time never runs backwards for the bucket
  __int128 elapsed = std::chrono::duration_cast<Duration>(now - last_).count();
  scaled_tokens_ = std::min(scaled_capacity_, scaled_tokens_ + elapsed * options_.refill_amount);
  last_ = now;
}

TokenBucket::Duration TokenBucket::WaitTime(int64_t weight, TimePoint now) {
  Refill(now);
  Duration blocked = now < blocked_until_ ? blocked_until_ - now : Duration(0);
  if (weight <= 0) return blocked;
  weight = std::min(weight, options_.capacity);
  __int128 need = static_cast<__int128>(weight) * options_.refill_interval.count();
  Duration refill_wait(0);
  if (scaled_tokens_ < need) {
    __int128 deficit = need - scaled_tokens_;
    __int128 ns = (deficit + options_.refill_amount - 1) / options_.refill_amount;  // ceil
    refill_wait = Duration(static_cast<int64_t>(ns));
  }
  return std::max(blocked, refill_wait);
}

TokenBucket::Duration TokenBucket::TryAcquire(int64_t weight, TimePoint now) {
  Duration wait = WaitTime(weight, now);
  if (wait.count() > 0) return wait;
  if (weight > 0) {
    weight = std::min(weight, options_.capacity);
    scaled_tokens_ -= static_cast<__int128>(weight) * options_.refill_interval.count();
  }
  return Duration(0);
}

void TokenBucket::UpdateFromUsedWeight(int64_t used, TimePoint now) {
  Refill(now);
  used = std::clamp<int64_t>(used, 0, options_.capacity);
  __int128 venue_left = static_cast<__int128>(options_.capacity - used) *
                        options_.refill_interval.count();
  scaled_tokens_ = std::min(scaled_tokens_, venue_left);
}

bool TokenBucket::UpdateFromUsageHeader(std::string_view header_value, TimePoint now) {
  std::optional<int64_t> used = ParseUsageHeader(header_value);
  if (!used) return false;
  UpdateFromUsedWeight(*used, now);
  return true;
}

void TokenBucket::BlockFor(Duration d, TimePoint now) {
  Refill(now);
  if (d.count() <= 0) return;
  blocked_until_ = std::max(blocked_until_, now + d);
  scaled_tokens_ = 0;
  // Refill resumes from the end of the block, not from now.
  last_ = blocked_until_;
}

int64_t TokenBucket::Available(TimePoint now) {
  Refill(now);
  if (now < blocked_until_) return 0;
  return static_cast<int64_t>(scaled_tokens_ / options_.refill_interval.count());
}

std::optional<int64_t> ParseUsageHeader(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace perpgw::common
