#include "core/market_regime.h"

#include <algorithm>
#include <cmath>

#include "core/str_cat.h"

namespace segmentd {
namespace {

constexpr double kSlowClip = 4.0;

double ewma_alpha(std::int64_t sample_ns, std::int64_t half_life_ns) {
  return 1.0 -
         std::exp2(-static_cast<double>(sample_ns) / static_cast<double>(std::max<std::int64_t>(half_life_ns, 1)));
}

std::string fixed(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  const double r = std::round(v * scale) / scale;
  std::string s = str_cat(r);
  return s;
}

}  // namespace

RegimeMonitor::RegimeMonitor(RegimeParams params)
    : p_(params),
      fast_alpha_(ewma_alpha(params.sample_ns, params.fast_half_life_ns)),
      slow_alpha_(ewma_alpha(params.sample_ns, params.slow_half_life_ns)) {}

void RegimeMonitor::observe(UnderlyingId underlying, std::int64_t ts_ns, double price) {
  if (!std::isfinite(price) || price <= 0) return;
  State& s = states_[underlying];
  s.view.underlying = underlying;
  if (s.next_sample_ns == 0) {
    accept(s, ts_ns, price);
    return;
  }
  if (ts_ns < s.view.last_ns) return;  // older than what was sampled: the monitor never goes back
  // A jump larger than max_jump from the last accepted price is held until the next price says
  // whether the level is real (it stays within a quarter of max_jump of it: both go in) or was a
  // bad tick (the next price is elsewhere: the held one is dropped and counted).
  if (std::abs(std::log(price / s.pending_price)) > p_.max_jump) {
    if (s.suspect_ns != 0 && std::abs(std::log(price / s.suspect_price)) <= p_.max_jump / 4) {
      const std::int64_t held_ns = s.suspect_ns;
      s.suspect_ns = 0;
      accept(s, held_ns, s.suspect_price);
      accept(s, ts_ns, price);
      return;
    }
    if (s.suspect_ns != 0) ++s.view.outliers;
    s.suspect_ns = ts_ns;
    s.suspect_price = price;
    return;
  }
  if (s.suspect_ns != 0) {  // back near the accepted level: the held price was a bad tick
    ++s.view.outliers;
    s.suspect_ns = 0;
  }
  accept(s, ts_ns, price);
}

void RegimeMonitor::accept(State& s, std::int64_t ts_ns, double price) {
  if (s.next_sample_ns == 0) {  // the first price: the reference of the first return
    s.first_ns = ts_ns;
    s.view.price = price;
    s.view.last_ns = ts_ns;
    s.pending_price = price;
    s.next_sample_ns = ts_ns + p_.sample_ns;
    s.peaks.emplace_back(ts_ns, price);
    return;
  }
  if (ts_ns < s.view.last_ns) return;  // older than what was sampled: the monitor never goes back
  if (s.next_sample_ns <= ts_ns) {
    // Every sample instant before this price takes the newest price before it: the first one
    // the pending price, the others (a gap with no price) a zero return each, stepped at once.
    const std::int64_t n = (ts_ns - s.next_sample_ns) / p_.sample_ns + 1;
    sample(s, s.next_sample_ns, s.pending_price);
    decide(s, s.next_sample_ns);
    if (n > 1) {
      // n − 2 zero returns in closed form, then the last one sampled (it sets the views).
      const std::int64_t last = s.next_sample_ns + (n - 1) * p_.sample_ns;
      const double k = static_cast<double>(n - 2);
      const double fd = std::pow(1.0 - fast_alpha_, k), sd = std::pow(1.0 - slow_alpha_, k);
      s.fast_var *= fd;
      s.fast_weight = 1.0 - fd * (1.0 - s.fast_weight);
      if (s.view.regime == Regime::kCalm) {
        s.slow_var *= sd;
        s.slow_weight = 1.0 - sd * (1.0 - s.slow_weight);
      }
      s.view.samples += static_cast<std::uint64_t>(n - 2);
      sample(s, last, s.pending_price);
      decide(s, last);
    }
    s.next_sample_ns += n * p_.sample_ns;
  }
  s.pending_price = price;
}

void RegimeMonitor::sample(State& s, std::int64_t ts_ns, double price) {
  const double r = std::log(price / s.view.price);
  s.fast_var += fast_alpha_ * (r * r - s.fast_var);
  s.fast_weight += fast_alpha_ * (1.0 - s.fast_weight);
  // The slow variance learns only from calm markets: a long crash must not become the norm. Once
  // warm, a return counts in it at most kSlowClip standard deviations (of the slow vol): the first
  // seconds of a crash, before the regime moves, must not teach it either.
  if (s.view.regime == Regime::kCalm) {
    double r2 = r * r;
    if (s.view.warm && s.slow_weight > 0) r2 = std::min(r2, kSlowClip * kSlowClip * s.slow_var / s.slow_weight);
    s.slow_var += slow_alpha_ * (r2 - s.slow_var);
    s.slow_weight += slow_alpha_ * (1.0 - s.slow_weight);
  }
  ++s.view.samples;
  s.view.price = price;
  s.view.last_ns = ts_ns;
  while (!s.peaks.empty() && s.peaks.back().second <= price) s.peaks.pop_back();
  s.peaks.emplace_back(ts_ns, price);
  while (s.peaks.front().first <= ts_ns - p_.drawdown_window_ns) s.peaks.pop_front();
  const double peak = s.peaks.front().second;
  s.view.drawdown = std::max(0.0, 1.0 - price / peak);
  // The EWMAs start from 0: each is read divided by the weight its samples have so far.
  const double fast = s.fast_weight > 0 ? s.fast_var / s.fast_weight : 0.0;
  const double slow = s.slow_weight > 0 ? s.slow_var / s.slow_weight : 0.0;
  s.view.fast_vol = std::sqrt(fast);
  s.view.slow_vol = std::sqrt(slow);
  s.view.warm = ts_ns - s.first_ns >= p_.warmup_ns;
  s.view.vol_ratio = s.view.warm && slow > 0 ? std::sqrt(fast / slow) : 0.0;
}

void RegimeMonitor::decide(State& s, std::int64_t ts_ns) {
  if (!s.view.warm) return;
  const double ratio = s.view.vol_ratio, dd = s.view.drawdown;
  const double stressed = std::max(ratio / p_.stressed_ratio, dd / p_.stressed_drawdown);
  const double extreme = std::max(ratio / p_.extreme_ratio, dd / p_.extreme_drawdown);
  const Regime now = s.view.regime;
  auto why = [&](double r_threshold, double dd_threshold) {
    if (ratio / r_threshold >= dd / dd_threshold)
      return str_cat("vol ratio ", fixed(ratio, 2), " >= ", fixed(r_threshold, 2));
    return str_cat("drawdown ", fixed(dd * 100.0, 2), " % >= ", fixed(dd_threshold * 100.0, 2), " %");
  };
  auto change = [&](Regime to, std::string reason) {
    events_.push_back(RegimeEvent{s.view.underlying, now, to, ts_ns, std::move(reason)});
    ++switches_;
    s.view.regime = to;
    s.view.since_ns = ts_ns;
    s.below_since_ns = 0;
  };
  // Up at once.
  const Regime up = extreme >= 1.0 ? Regime::kExtreme : stressed >= 1.0 ? Regime::kStressed : Regime::kCalm;
  if (up > now) {
    change(up, up == Regime::kExtreme ? why(p_.extreme_ratio, p_.extreme_drawdown)
                                      : why(p_.stressed_ratio, p_.stressed_drawdown));
    return;
  }
  if (now == Regime::kCalm) return;
  // Down only after the level's measure stayed under exit_fraction for min_dwell.
  const double measure = now == Regime::kExtreme ? extreme : stressed;
  if (measure >= p_.exit_fraction) {
    s.below_since_ns = 0;
    return;
  }
  if (s.below_since_ns == 0) s.below_since_ns = ts_ns;
  if (ts_ns - s.below_since_ns < p_.min_dwell_ns) return;
  const Regime to = now == Regime::kExtreme && stressed >= p_.exit_fraction ? Regime::kStressed : Regime::kCalm;
  change(to, str_cat(to_string(now), " measure ", fixed(measure, 2), " < ", fixed(p_.exit_fraction, 2), " for ",
                     (ts_ns - s.below_since_ns) / 1'000'000'000, " s"));
}

Regime RegimeMonitor::regime(UnderlyingId underlying) const {
  const auto it = states_.find(underlying);
  return it == states_.end() ? Regime::kCalm : it->second.view.regime;
}

Regime RegimeMonitor::market() const {
  Regime r = Regime::kCalm;
  for (const auto& [u, s] : states_) r = std::max(r, s.view.regime);
  return r;
}

std::vector<UnderlyingRegime> RegimeMonitor::states() const {
  std::vector<UnderlyingRegime> out;
  out.reserve(states_.size());
  for (const auto& [u, s] : states_) out.push_back(s.view);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.underlying < b.underlying; });
  return out;
}

}  // namespace segmentd
