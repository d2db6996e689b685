// Capped exponential backoff with full jitter.
#include "adapters/common/backoff.h"

#include <algorithm>
#include <cmath>

namespace perpgw::common {

Backoff::Backoff() : Backoff(Options{}) {}

Backoff::Backoff(Options options, RandomFn random)
    : options_(options), random_(std::move(random)), rng_(std::random_device{}()) {
  if (options_.initial.count() < 0) options_.initial = std::chrono::milliseconds(0);
  if (options_.max < options_.initial) options_.max = options_.initial;
  if (!(options_.multiplier >= 1.0)) options_.multiplier = 1.0;  // also catches NaN
  if (options_.min > options_.max) options_.min = options_.max;
}

std::chrono::milliseconds Backoff::PeekCeiling() const {
  // Doubles are fine here: these are timer delays, not money; capped before converting back.
  double ceiling = static_cast<double>(options_.initial.count()) *
                   std::pow(options_.multiplier, static_cast<double>(attempt_));
  double cap = static_cast<double>(options_.max.count());
  if (!(ceiling <= cap)) ceiling = cap;
  return std::chrono::milliseconds(static_cast<int64_t>(ceiling));
}

std::chrono::milliseconds Backoff::Next() {
  int64_t ceiling = PeekCeiling().count();
  double u;
  if (random_) {
    u = random_();
  } else {
    u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  u = std::clamp(u, 0.0, 1.0);
  int64_t delay = static_cast<int64_t>(u * static_cast<double>(ceiling));
  delay = std::clamp<int64_t>(delay, options_.min.count(), std::max(ceiling, options_.min.count()));
  if (attempt_ < 1000) ++attempt_;  // pow() is capped anyway; keeps the counter bounded
  return std::chrono::milliseconds(delay);
}

}  // namespace perpgw::common
