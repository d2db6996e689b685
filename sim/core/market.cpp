// Market generator implementation: random walk + level churn on the ground-truth book.
#include "sim/core/market.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

namespace perpgw::sim {
namespace {

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Stateless draws for the shared reference: a hash of (key, index) as a uniform number.
uint64_t Hash(uint64_t x) {
  uint64_t s = x;
  return SplitMix(s);
}
uint64_t Mix(uint64_t a, uint64_t b) { return Hash(a ^ Hash(b + 0x632be59bd9b4e019ULL)); }
uint64_t Fnv(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
double Unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }  // [0, 1)
double Signed(uint64_t h) { return 2 * Unit(h) - 1; }                          // [-1, 1)

// Smooth noise in [-1, 1]: a knot drawn every `period`, cosine-interpolated between knots.
double Smooth(uint64_t key, UnixNanos t, UnixNanos period) {
  const int64_t k = t >= 0 ? t / period : (t - period + 1) / period;
  const double f = static_cast<double>(t - k * period) / static_cast<double>(period);
  const double a = Signed(Mix(key, static_cast<uint64_t>(k)));
  const double b = Signed(Mix(key, static_cast<uint64_t>(k + 1)));
  const double w = (1 - std::cos(std::numbers::pi * f)) / 2;
  return a + (b - a) * w;
}

double Pow10(int n) {
  double p = 1;
  for (int k = 0; k < n; ++k) p *= 10;
  return p;
}

// The model's constants (see ReferenceMarket and Market's reference mode).
constexpr double kHalfLifeSteps = 6 * 3600;             // the walk's pull back to its start
constexpr double kBasisStaticBps = 3;                   // per venue and asset: +-3 bps
constexpr double kBasisDriftBps = 2;                    // +-2 bps more, drifting
constexpr UnixNanos kBasisPeriod = 180'000'000'000;     // one basis knot per 3 min
constexpr double kPremium8h = 0.0003;                   // per venue and asset: +-3 bps / 8 h
constexpr double kFundingDrift8h = 0.00015;             // +-1.5 bps / 8 h more, drifting
constexpr UnixNanos kFundingPeriod = 600'000'000'000;   // one funding knot per 10 min
constexpr double kFundingCap8h = 0.003;                 // +-0.3 % / 8 h: inside every venue's cap
constexpr double kHalfSpreadMinBps = 0.05, kHalfSpreadMaxBps = 0.4;  // per venue

std::mutex g_reference_mu;
std::shared_ptr<ReferenceMarket> g_reference;

}  // namespace

ReferenceMarket::ReferenceMarket(uint64_t seed) : seed_(seed) {}

std::string ReferenceMarket::AssetOf(const InstrumentSpec& spec) {
  std::string base;
  for (char c : spec.base) base += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (spec.multiplier > 1) {
    std::vector<std::string> prefixes{std::to_string(spec.multiplier)};
    if (spec.multiplier == 1000) prefixes.push_back("K");
    if (spec.multiplier == 1000000) prefixes.push_back("M");
    for (const auto& p : prefixes) {
      if (base.size() > p.size() && base.compare(0, p.size(), p) == 0) return base.substr(p.size());
    }
  }
  return base;
}

size_t ReferenceMarket::Register(const std::string& asset, double start_per_token) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < assets_.size(); ++i) {
    if (assets_[i].name == asset) return i;
  }
  Asset a;
  a.name = asset;
  a.key = Mix(seed_, Fnv(asset));
  a.start = start_per_token > 0 ? start_per_token : 1;
  // Volatility per 1 s step: majors calmer than small caps (0.6 bp/s is ~34 % a year for BTC).
  a.sigma = asset == "BTC" ? 0.6e-4 : asset == "ETH" ? 0.8e-4 : asset == "SOL" ? 1.1e-4 : 1.5e-4;
  assets_.push_back(a);
  return assets_.size() - 1;
}

double ReferenceMarket::Price(size_t i, UnixNanos t) {
  std::lock_guard lock(mu_);
  if (!has_origin_) {
    has_origin_ = true;
    origin_ = t;
  }
  Asset& a = assets_.at(i);
  const int64_t k = t <= origin_ ? 0 : (t - origin_) / kStepNs;
  if (k < a.step) {  // the clock went back: replay from the start
    a.step = 0;
    a.x = 0;
  }
  const double keep = 1 - std::log(2.0) / kHalfLifeSteps;
  while (a.step < k) {
    ++a.step;
    // Uniform with unit variance, times sigma.
    a.x = a.x * keep + a.sigma * std::sqrt(3.0) * Signed(Mix(a.key, static_cast<uint64_t>(a.step)));
  }
  return a.start * std::exp(a.x);
}

std::string ReferenceMarket::asset_name(size_t i) const {
  std::lock_guard lock(mu_);
  return assets_.at(i).name;
}

size_t ReferenceMarket::asset_count() const {
  std::lock_guard lock(mu_);
  return assets_.size();
}

void InstallReferenceMarket(std::shared_ptr<ReferenceMarket> reference) {
  std::lock_guard lock(g_reference_mu);
  g_reference = std::move(reference);
}

std::shared_ptr<ReferenceMarket> InstalledReferenceMarket() {
  std::lock_guard lock(g_reference_mu);
  return g_reference;
}

Prng::Prng(uint64_t seed) {
  for (auto& s : s_) s = SplitMix(seed);
}

uint64_t Prng::Next() {
  uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

Market::Market(std::vector<SimInstrument> instruments, MarketOptions options, const Clock& clock)
    : instruments_(std::move(instruments)),
      options_(options),
      clock_(clock),
      reference_(InstalledReferenceMarket()),
      rng_(options.seed) {
  options_.depth = std::max(1, options_.depth);
  symbols_.resize(instruments_.size());
  // Per venue: how wide it quotes, as a fraction of price.
  const double half_spread_bps =
      kHalfSpreadMinBps +
      (kHalfSpreadMaxBps - kHalfSpreadMinBps) * Unit(Mix(options_.seed, Fnv("half-spread")));
  for (size_t i = 0; i < instruments_.size(); ++i) {
    const SimInstrument& in = instruments_[i];
    instruments_[i].index = i;
    auto& s = symbols_[i];
    s.book = OrderBook(in.price_scale, in.size_scale);
    s.mid_ticks = std::max<int64_t>(in.initial_mid / in.tick, options_.depth + 2);
    s.funding_rate = in.funding_rate;
    if (reference_) {
      const std::string asset = ReferenceMarket::AssetOf(in.spec);
      const double unit = Pow10(in.price_scale);
      const double mult = static_cast<double>(std::max<int64_t>(1, in.spec.multiplier));
      s.asset = reference_->Register(asset, static_cast<double>(in.initial_mid) / unit / mult);
      s.key = Mix(options_.seed, Fnv(asset));
      s.basis_static_bps = kBasisStaticBps * Signed(Mix(s.key, 1));
      s.premium_8h = kPremium8h * Signed(Mix(s.key, 2));
      const int hours = std::max(1, in.spec.funding_interval_hours);
      s.base_8h = static_cast<double>(in.funding_rate) / Pow10(kRateScale) * 8 / hours;
      const double price = target_mid(i);
      s.half_spread = std::max<int64_t>(
          1, std::llround(price * half_spread_bps / 1e4 * unit / static_cast<double>(in.tick)));
      s.mid_ticks = std::max(TargetTicks(i), MinMidTicks(i));
    }
    Reset(i);
  }
  scratch_.changes.reserve(4 * options_.depth + 16);
}

double Market::reference_price(size_t i) const {
  if (!reference_) return 0;
  const double mult = static_cast<double>(std::max<int64_t>(1, instruments_[i].spec.multiplier));
  return reference_->Price(symbols_[i].asset, clock_.Now()) * mult;
}

double Market::basis_bps(size_t i) const {
  if (!reference_) return 0;
  const auto& s = symbols_[i];
  return s.basis_static_bps + kBasisDriftBps * Smooth(Mix(s.key, 3), clock_.Now(), kBasisPeriod);
}

double Market::target_mid(size_t i) const {
  return reference_price(i) * (1 + basis_bps(i) / 1e4);
}

int64_t Market::TargetTicks(size_t i) const {
  const SimInstrument& in = instruments_[i];
  return std::llround(target_mid(i) * Pow10(in.price_scale) / static_cast<double>(in.tick));
}

int64_t Market::funding_rate(size_t i) const {
  const auto& s = symbols_[i];
  if (!reference_ || s.funding_pinned) return s.funding_rate;
  double r8 = s.base_8h + s.premium_8h +
              kFundingDrift8h * Smooth(Mix(s.key, 4), clock_.Now(), kFundingPeriod);
  r8 = std::clamp(r8, -kFundingCap8h, kFundingCap8h);
  // Per the instrument's own interval, to 1e-8 as the venues print it.
  const double r = r8 * std::max(1, instruments_[i].spec.funding_interval_hours) / 8;
  static_assert(kRateScale == 10);
  return std::llround(r * 1e8) * 100;
}

const SimInstrument* Market::Find(std::string_view symbol) const {
  for (const auto& in : instruments_) {
    if (in.spec.symbol == symbol) return &in;
  }
  return nullptr;
}

int64_t Market::RandomSize(const SimInstrument& in, int64_t distance_ticks) {
  int64_t base_lots = std::max<int64_t>(1, in.min_qty / std::max<int64_t>(1, in.step));
  int64_t lots = base_lots * static_cast<int64_t>(1 + rng_.Below(40)) * (4 + distance_ticks) / 4;
  return lots * in.step;
}

void Market::Reset(size_t i) {
  const auto& in = instruments_[i];
  auto& s = symbols_[i];
  std::vector<Level> bids, asks;
  const int64_t gap = s.half_spread - 1;
  for (int64_t d = 1; d <= options_.depth; ++d) {
    bids.push_back({(s.mid_ticks - gap - d) * in.tick, RandomSize(in, d)});
    asks.push_back({(s.mid_ticks + gap + d) * in.tick, RandomSize(in, d)});
  }
  s.book.ReplaceAll(bids, asks);
}

void Market::ReplaceBook(size_t i, std::span<const Level> bids, std::span<const Level> asks,
                         int64_t mid_price) {
  symbols_[i].detached = true;
  symbols_[i].mid_ticks = mid_price / instruments_[i].tick;
  symbols_[i].book.ReplaceAll(bids, asks);
}

void Market::Change(size_t i, BookSide side, int64_t price, int64_t size) {
  symbols_[i].book.Apply(side, {price, size});
  for (auto& c : scratch_.changes) {
    if (c.side == side && c.level.price == price) {
      c.level.size = size;
      return;
    }
  }
  scratch_.changes.push_back({side, {price, size}});
}

void Market::Recentre(size_t i, int64_t m) {
  const auto& in = instruments_[i];
  auto& s = symbols_[i];
  const int64_t depth = options_.depth;
  const int64_t gap = s.half_spread - 1;
  s.mid_ticks = m;
  // Drop levels outside the new windows, then fill every missing slot inside them.
  for (auto side : {BookSide::kBid, BookSide::kAsk}) {
    std::vector<Level> levels =
        side == BookSide::kBid ? s.book.Bids() : s.book.Asks();
    int64_t lo = side == BookSide::kBid ? m - gap - depth : m + gap + 1;
    int64_t hi = side == BookSide::kBid ? m - gap - 1 : m + gap + depth;
    std::vector<int64_t> present;
    for (const auto& l : levels) {
      int64_t t = l.price / in.tick;
      if (t < lo || t > hi || l.price % in.tick != 0) {
        Change(i, side, l.price, 0);
      } else {
        present.push_back(t);
      }
    }
    for (int64_t t = lo; t <= hi; ++t) {
      if (std::find(present.begin(), present.end(), t) == present.end()) {
        Change(i, side, t * in.tick,
               RandomSize(in, (side == BookSide::kBid ? m - t : t - m) - gap));
      }
    }
  }
}

void Market::Publish(size_t i, bool from_trade) {
  auto& s = symbols_[i];
  if (scratch_.changes.empty()) return;
  scratch_.instrument = &instruments_[i];
  scratch_.prev_update_id = s.update_id;
  if (s.skip_next) {
    // The skipped id is "published" nowhere: prev-link venues see prev != last id seen.
    scratch_.prev_update_id = ++s.update_id;
    s.skip_next = false;
  }
  scratch_.update_id = scratch_.first_update_id = ++s.update_id;
  scratch_.time = clock_.Now();
  scratch_.from_trade = from_trade;
  ++published_;
  if (listener_) listener_(scratch_);
  scratch_.changes.clear();
}

void Market::Step(size_t n) {
  if (instruments_.empty()) return;
  for (size_t k = 0; k < n; ++k) StepSymbol(rng_.Below(instruments_.size()));
}

void Market::StepSymbol(size_t i) {
  const auto& in = instruments_[i];
  auto& s = symbols_[i];
  const int64_t depth = options_.depth;
  scratch_.changes.clear();
  if (static_cast<int>(rng_.Below(1000)) < options_.move_per_mille) {
    int64_t m = s.mid_ticks + (rng_.Below(2) == 0 ? -1 : 1);
    if (follows_reference(i)) {
      // Catch up with the reference (plus basis); jitter a tick when already there.
      const int64_t target = TargetTicks(i);
      if (target != s.mid_ticks) m = target;
    }
    Recentre(i, std::max<int64_t>(m, MinMidTicks(i)));
  } else {
    int n = 1 + static_cast<int>(rng_.Below(10));
    for (int c = 0; c < n; ++c) {
      BookSide side = rng_.Below(2) == 0 ? BookSide::kBid : BookSide::kAsk;
      // Churn concentrates near the top of the book, like real flow.
      int64_t d = 1 + static_cast<int64_t>(std::min(rng_.Below(depth), rng_.Below(depth)));
      const int64_t off = s.half_spread - 1 + d;
      int64_t t = side == BookSide::kBid ? s.mid_ticks - off : s.mid_ticks + off;
      bool remove = rng_.Below(10) == 0 && d > 1;
      Change(i, side, t * in.tick, remove ? 0 : RandomSize(in, d));
    }
  }
  Publish(i, false);
}

void Market::SetMid(size_t i, int64_t price) {
  const auto& in = instruments_[i];
  int64_t t = (price + in.tick / 2) / in.tick;
  scratch_.changes.clear();
  symbols_[i].detached = true;
  Recentre(i, std::max<int64_t>(t, MinMidTicks(i)));
  Publish(i, false);
}

void Market::Consume(size_t i, BookSide side, int64_t price, int64_t qty) {
  auto& s = symbols_[i];
  const auto& levels = side == BookSide::kBid ? s.book.Bids() : s.book.Asks();
  for (const auto& l : levels) {
    if (l.price != price) continue;
    int64_t left = std::max<int64_t>(0, l.size - qty);
    s.book.Apply(side, {price, left});
    for (auto& c : s.pending_trades) {
      if (c.side == side && c.level.price == price) {
        c.level.size = left;
        return;
      }
    }
    s.pending_trades.push_back({side, {price, left}});
    return;
  }
}

void Market::FlushTrades(size_t i) {
  auto& s = symbols_[i];
  if (s.pending_trades.empty()) return;
  scratch_.changes.swap(s.pending_trades);
  s.pending_trades.clear();
  Publish(i, true);
}

}  // namespace perpgw::sim
