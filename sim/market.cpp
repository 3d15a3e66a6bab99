#include "sim/market.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <optional>

#include "core/str_cat.h"

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

absl::StatusOr<std::vector<MarketEvent>> parse_market_events(std::string_view text) {
  std::vector<MarketEvent> out;
  const auto seconds = [](std::string_view s) -> std::optional<double> {
    double scale = 1;
    if (!s.empty() && (s.back() == 's' || s.back() == 'm' || s.back() == 'h')) {
      scale = s.back() == 'h' ? 3600 : s.back() == 'm' ? 60 : 1;
      s.remove_suffix(1);
    }
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v) || v < 0) return std::nullopt;
    return v * scale;
  };
  for (std::string_view rest = text; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto bad = [item](std::string_view why) {
      return absl::InvalidArgumentError(
          segmentd::str_cat("market event '", item, "': ", why, " (kind@start:size/duration, e.g. crash@45m:0.15/5m)"));
    };
    const std::size_t at = item.find('@'), colon = item.find(':'), slash = item.find('/');
    if (at == std::string_view::npos || colon == std::string_view::npos || slash == std::string_view::npos ||
        !(at < colon && colon < slash))
      return bad("not kind@start:size/duration");
    MarketEvent e;
    const std::string_view kind = item.substr(0, at);
    if (kind == "crash") {
      e.kind = MarketEvent::Kind::kCrash;
    } else if (kind == "vol_spike") {
      e.kind = MarketEvent::Kind::kVolSpike;
    } else if (kind == "liquidity_hole") {
      e.kind = MarketEvent::Kind::kLiquidityHole;
    } else {
      return bad("kind is one of crash, vol_spike, liquidity_hole");
    }
    const auto start = seconds(item.substr(at + 1, colon - at - 1));
    const auto duration = seconds(item.substr(slash + 1));
    const std::string_view size = item.substr(colon + 1, slash - colon - 1);
    const auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), e.size);
    if (!start) return bad("bad start");
    if (!duration || *duration <= 0) return bad("bad duration (> 0)");
    if (ec != std::errc() || p != size.data() + size.size() || !std::isfinite(e.size)) return bad("bad size");
    const bool ok = e.kind == MarketEvent::Kind::kCrash      ? e.size > 0 && e.size <= 0.9
                    : e.kind == MarketEvent::Kind::kVolSpike ? e.size >= 1 && e.size <= 20
                                                             : e.size > 0 && e.size <= 1;
    if (!ok) return bad("size out of range (crash 0..0.9, vol_spike 1..20, liquidity_hole 0..1)");
    e.at_s = *start;
    e.duration_s = *duration;
    out.push_back(e);
  }
  return out;
}

Market::Stress Market::stress(std::int64_t ts_ns) const {
  Stress s;
  const double t = static_cast<double>(ts_ns - start_ns_) / 1e9;
  for (const MarketEvent& e : events_) {
    const bool during = t >= e.at_s && t < e.at_s + e.duration_s;
    switch (e.kind) {
      case MarketEvent::Kind::kCrash:
        if (during) {
          s.vol *= 2.0;
          s.drift += std::log(1.0 - e.size) * (static_cast<double>(kStepNs) / 1e9) / e.duration_s;
        }
        if (t >= e.at_s && t < e.at_s + 3 * e.duration_s) s.iv *= 1.0 + 3.0 * e.size;
        break;
      case MarketEvent::Kind::kVolSpike:
        if (during) {
          s.vol *= e.size;
          s.iv *= e.size;
        }
        break;
      case MarketEvent::Kind::kLiquidityHole:
        if (during) s.liquidity *= e.size;
        break;
    }
  }
  return s;
}

double Market::liquidity(std::int64_t ts_ns) const { return events_.empty() ? 1.0 : stress(ts_ns).liquidity; }

Market::Market(std::uint64_t seed, std::int64_t start_ns, std::vector<MarketEvent> events)
    : specs_{btc_spec(), eth_spec()},
      events_(std::move(events)),
      rng_(mix64(seed, 0x6d61726b6574ULL)),
      start_ns_(start_ns),
      ring_(kRing) {
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
  const Stress stressed = events_.empty() ? Stress{} : stress(start_ns_ + generated_ * kStepNs);
  for (int u = 0; u < kUnderlyings; ++u) {
    const auto& s = specs_[u];
    if (generated_ > 0) {
      const double vol = s.vol * stressed.vol;
      log_price_[u] += -0.5 * vol * vol * kDtYears + vol * std::sqrt(kDtYears) * z[u] + stressed.drift;
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

double Market::implied_vol(int u, double k, double years, std::int64_t ts_ns) const {
  const auto& s = specs_[u];
  // Short expiries trade below the long-term level in calm markets; the smile steepens as
  // expiry nears (scaled by 1/sqrt(T), capped), the usual shape of crypto surfaces.
  double atm = s.atm_vol_long + (s.atm_vol_short - s.atm_vol_long) * std::exp(-years / 0.04);
  double x = k / std::sqrt(std::max(years, 0.005) / 0.25);
  x = std::clamp(x, -1.5, 1.5);
  double iv = atm * (1.0 + s.skew * x + s.smile * x * x * 0.5);
  if (!events_.empty() && ts_ns != 0) iv *= stress(ts_ns).iv;
  return std::clamp(iv, 0.15, 3.0);
}

double Market::strike_for(int u, double forward, double k) const {
  const auto& s = specs_[u];
  double step = std::abs(k) < 0.15 ? s.strike_step_near : s.strike_step_far;
  double strike = std::round(forward * std::exp(k) / step) * step;
  return std::max(strike, step);
}

}  // namespace fillsim
