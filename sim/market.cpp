#include "sim/market.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "sim/calendar.h"

namespace fillsim {
namespace {

UnderlyingSpec btc_spec() {
  UnderlyingSpec s;
  s.name = "BTC";
  s.spot = 68'000;
  s.vol = 0.55;
  s.jumps_per_hour = 4;
  s.jump_sd = 0.003;
  s.basis = 0.09;
  s.perp_premium = 0.0001;
  s.atm_vol_long = 0.55;
  s.atm_vol_short = 0.48;
  s.skew = -0.25;
  s.smile = 1.6;
  s.strike_step_near = 1000;
  s.strike_step_far = 5000;
  s.ticks_per_usd = 2;
  s.option_lot = 0.1;
  return s;
}

UnderlyingSpec eth_spec() {
  UnderlyingSpec s;
  s.name = "ETH";
  s.spot = 2'600;
  s.vol = 0.70;
  s.jumps_per_hour = 4;
  s.jump_sd = 0.004;
  s.basis = 0.10;
  s.perp_premium = 0.00015;
  s.atm_vol_long = 0.68;
  s.atm_vol_short = 0.60;
  s.skew = -0.20;
  s.smile = 1.4;
  s.strike_step_near = 50;
  s.strike_step_far = 200;
  s.ticks_per_usd = 20;
  s.option_lot = 1.0;
  return s;
}

}  // namespace

Market::Market(std::uint64_t seed, std::int64_t start_ns)
    : specs_{btc_spec(), eth_spec()}, rng_(mix64(seed, 0x6d61726b6574ULL)), start_ns_(start_ns), ring_(kRing) {
  for (int u = 0; u < kUnderlyings; ++u) log_price_[u] = std::log(specs_[u].spot);
}

void Market::step() {
  constexpr double kDtYears = static_cast<double>(kStepNs) / kNsPerYear;
  constexpr double kDtHours = static_cast<double>(kStepNs) / 3.6e12;
  double z0 = rng_.normal();
  double z1 = kCorrelation * z0 + std::sqrt(1.0 - kCorrelation * kCorrelation) * rng_.normal();
  const double z[kUnderlyings] = {z0, z1};
  ++generated_;
  auto& slot = ring_[static_cast<std::size_t>(generated_) % kRing];
  for (int u = 0; u < kUnderlyings; ++u) {
    const auto& s = specs_[u];
    if (generated_ > 0) {
      log_price_[u] += -0.5 * s.vol * s.vol * kDtYears + s.vol * std::sqrt(kDtYears) * z[u];
      if (rng_.bernoulli(s.jumps_per_hour * kDtHours)) log_price_[u] += rng_.normal(0.0, s.jump_sd);
    }
    slot[u] = std::exp(log_price_[u]);
  }
}

void Market::advance_to(std::int64_t ts_ns) {
  std::int64_t want = (ts_ns + kLookaheadNs - start_ns_) / kStepNs;
  while (generated_ < want) step();
}

double Market::index(int u, std::int64_t ts_ns) const {
  std::int64_t i = std::max<std::int64_t>(0, (ts_ns - start_ns_) / kStepNs);
  assert(i <= generated_ && i > generated_ - static_cast<std::int64_t>(kRing));
  i = std::min(i, generated_);
  return ring_[static_cast<std::size_t>(i) % kRing][u];
}

double Market::forward(int u, std::int64_t expiry_ns, std::int64_t ts_ns) const {
  double years = std::max(0.0, static_cast<double>(expiry_ns - ts_ns) / kNsPerYear);
  return index(u, ts_ns) * std::exp(specs_[u].basis * years);
}

double Market::implied_vol(int u, double k, double years) const {
  const auto& s = specs_[u];
  // Short expiries trade below the long-term level in calm markets; the smile steepens as
  // expiry nears (scaled by 1/sqrt(T), capped), the usual shape of crypto surfaces.
  double atm = s.atm_vol_long + (s.atm_vol_short - s.atm_vol_long) * std::exp(-years / 0.04);
  double x = k / std::sqrt(std::max(years, 0.005) / 0.25);
  x = std::clamp(x, -1.5, 1.5);
  double iv = atm * (1.0 + s.skew * x + s.smile * x * x * 0.5);
  return std::clamp(iv, 0.15, 3.0);
}

double Market::strike_for(int u, double forward, double k) const {
  const auto& s = specs_[u];
  double step = std::abs(k) < 0.15 ? s.strike_step_near : s.strike_step_far;
  double strike = std::round(forward * std::exp(k) / step) * step;
  return std::max(strike, step);
}

}  // namespace fillsim
