#include "tools/fillsim/feature_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/black76.h"

namespace fillsim {

using segmentd::InstrumentKind;

namespace {
constexpr std::int64_t kHorizonNs = 10'000'000'000;  // markout horizon, the default of core/features.md
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

FeatureProbe::FeatureProbe(const Simulator& sim) : sim_(sim), acc_(sim.account_count()) {}

void FeatureProbe::add(const SimFill& sf) {
  const segmentd::Fill& f = sf.fill;
  if (first_ns_ == 0) first_ns_ = f.recv_ns;
  last_ns_ = f.recv_ns;
  Acc& a = acc_[f.account];
  const double n = f.notional_usd;
  const double s = segmentd::sign(f.side);
  ++a.fills;
  a.notional += n;
  if (f.liquidity == segmentd::Liquidity::kMaker) a.maker += n;
  (s > 0 ? a.buy : a.sell) += n;
  switch (f.kind) {
    case InstrumentKind::kOption: a.option += n; break;
    case InstrumentKind::kFuture: a.future += n; break;
    default: a.perp += n; break;
  }
  if (f.expiry_ns > 0) a.tenor_days += n * static_cast<double>(f.expiry_ns - f.recv_ns) / 86'400e9;
  if (f.kind == InstrumentKind::kOption) a.moneyness += n * std::abs(std::log(f.strike / f.underlying_price));
  a.by_underlying[f.underlying] += n;
  // Markout against the fair price 10 s later (the simulator knows it already).
  double later = sim_.fair_price(f.instrument, f.recv_ns + kHorizonNs);
  a.markout += n * s * (later - f.price) / f.price * 1e4;
  // Positions: gross USD of the underlying exposure, at the fill's underlying price.
  double& pos = position_[(static_cast<std::uint64_t>(f.account) << 32) | f.instrument];
  double ref = f.kind == InstrumentKind::kOption ? f.underlying_price : f.price;
  a.gross_position -= std::abs(pos) * ref;
  pos += s * f.qty;
  a.gross_position += std::abs(pos) * ref;
  a.gross_position = std::max(0.0, a.gross_position);
  a.gross_sum += a.gross_position;
}

void FeatureProbe::book_greeks(std::uint32_t only, std::vector<BookGreeks>* out) const {
  // One pass over the open positions; `only` restricts it to one account (UINT32_MAX: all).
  const Market& m = sim_.market();
  for (const auto& [key, qty] : position_) {
    auto account = static_cast<std::uint32_t>(key >> 32);
    if ((only != UINT32_MAX && account != only) || qty == 0) continue;
    const SimInstrument& ins = sim_.instrument(static_cast<std::uint32_t>(key & 0xFFFFFFFFu));
    BookGreeks& b = (*out)[only == UINT32_MAX ? account : 0];
    double d = 0;
    if (ins.kind == InstrumentKind::kOption) {
      double fwd = m.forward(ins.underlying, ins.expiry_ns, last_ns_);
      double years = static_cast<double>(ins.expiry_ns - last_ns_) / kNsPerYear;
      double iv = m.implied_vol(ins.underlying, std::log(ins.strike / fwd), years);
      auto g = segmentd::black76::greeks(ins.option_type == segmentd::OptionType::kCall, fwd, ins.strike, years, iv);
      d = qty * g.delta * fwd;
      b.net_vega += qty * g.vega;
      b.gross_vega += std::abs(qty * g.vega);
    } else {
      d = qty * m.index(ins.underlying, last_ns_);
    }
    b.net_delta += d;
    b.gross_delta += std::abs(d);
  }
}

std::array<double, kFeatureCount> FeatureProbe::features(std::uint32_t account) const {
  std::vector<BookGreeks> g(1);
  book_greeks(account, &g);
  return features(account, g[0]);
}

std::array<double, kFeatureCount> FeatureProbe::features(std::uint32_t account, const BookGreeks& g) const {
  std::array<double, kFeatureCount> x;
  x.fill(kNaN);
  const Acc& a = acc_[account];
  if (a.fills == 0) return x;
  double hours = std::max(1.0 / 60, static_cast<double>(last_ns_ - first_ns_) / 3.6e12);
  x[0] = std::log1p(a.fills / hours);
  x[1] = std::log1p(a.notional / hours);
  x[2] = std::log1p(a.notional / a.fills);
  x[3] = a.maker / a.notional;
  x[4] = std::abs(a.buy - a.sell) / a.notional;
  x[7] = a.option / a.notional;
  x[8] = a.future / a.notional;
  x[9] = a.perp / a.notional;
  x[10] = std::log1p(a.tenor_days / a.notional);
  if (a.option > 0) x[11] = a.moneyness / a.option;
  double hhi = 0;
  for (double v : a.by_underlying) hhi += (v / a.notional) * (v / a.notional);
  x[12] = hhi;
  double mean_gross = a.gross_sum / a.fills;
  x[13] = std::log1p((a.notional / hours) / std::max(mean_gross, 1.0));
  x[14] = a.markout / a.notional;
  if (g.gross_delta > 0) x[5] = 1.0 - std::abs(g.net_delta) / g.gross_delta;
  if (g.gross_vega > 0) x[6] = g.net_vega / g.gross_vega;
  x[15] = std::log1p(g.gross_delta);
  return x;
}

std::array<FeatureSummary, kArchetypeCount> FeatureProbe::summarize(std::uint64_t min_fills) const {
  std::array<FeatureSummary, kArchetypeCount> out;
  std::array<std::array<std::vector<double>, kFeatureCount>, kArchetypeCount> values;
  std::vector<BookGreeks> greeks(acc_.size());
  book_greeks(UINT32_MAX, &greeks);
  for (std::uint32_t i = 0; i < acc_.size(); ++i) {
    if (acc_[i].fills < min_fills) continue;
    int a = static_cast<int>(sim_.archetype_now(i));
    ++out[a].accounts;
    out[a].fills += acc_[i].fills;
    auto x = features(i, greeks[i]);
    for (int k = 0; k < kFeatureCount; ++k) {
      if (!std::isnan(x[k])) values[a][k].push_back(x[k]);
    }
  }
  for (int a = 0; a < kArchetypeCount; ++a) {
    for (int k = 0; k < kFeatureCount; ++k) {
      auto& v = values[a][k];
      if (v.empty()) {
        out[a].mean[k] = out[a].p10[k] = out[a].p90[k] = kNaN;
        continue;
      }
      std::sort(v.begin(), v.end());
      double sum = 0;
      for (double d : v) sum += d;
      out[a].mean[k] = sum / v.size();
      out[a].p10[k] = v[static_cast<std::size_t>(0.1 * (v.size() - 1))];
      out[a].p90[k] = v[static_cast<std::size_t>(0.9 * (v.size() - 1))];
    }
  }
  return out;
}

}  // namespace fillsim
