#include "core/scenario.h"

#include <algorithm>
#include <cmath>

#include "core/black76.h"
#include "core/str_cat.h"

namespace segmentd {

std::string shock_name(const Shock& s) {
  std::string out;
  if (s.price != 0.0) {
    const double pct = std::round(s.price * 1000.0) / 10.0;  // one decimal of a percent
    out = str_cat("spot", pct > 0 ? "+" : "", pct, "%");
  }
  if (s.vol_points != 0.0) {
    const double pts = std::round(s.vol_points * 10.0) / 10.0;
    if (!out.empty()) out += "/";
    out += str_cat("vol", pts > 0 ? "+" : "", pts);
  }
  return out.empty() ? "none" : out;
}

std::vector<Shock> shock_grid(const ScenarioParams& p) {
  std::vector<double> prices = p.price_moves, vols = p.vol_shifts;
  prices.push_back(0.0);
  vols.push_back(0.0);
  std::sort(prices.begin(), prices.end());
  prices.erase(std::unique(prices.begin(), prices.end()), prices.end());
  std::sort(vols.begin(), vols.end());
  vols.erase(std::unique(vols.begin(), vols.end()), vols.end());
  std::vector<Shock> out;
  for (double price : prices)
    for (double vol : vols)
      if (price != 0.0 || vol != 0.0) out.push_back(Shock{price, vol});
  return out;
}

double* Revaluation::slot(InstrumentId id) {
  if (id >= offset_.size()) offset_.resize(static_cast<std::size_t>(id) + 1, kNone);
  if (offset_[id] == kNone) {
    offset_[id] = static_cast<std::uint32_t>(rows_.size());
    rows_.resize(rows_.size() + width(), 0.0);
  }
  return rows_.data() + offset_[id];
}

void Revaluation::set_linear(InstrumentId id, double usd) {
  if (!std::isfinite(usd) || usd <= 0) return;
  double* row = slot(id);
  for (std::size_t s = 0; s < shocks_.size(); ++s) row[s] = usd * shocks_[s].price;
  row[shocks_.size()] = 0.0;
  row[shocks_.size() + 1] = usd;
}

void Revaluation::set_option(InstrumentId id, bool is_call, double forward_usd, double strike_usd, double years,
                             double sigma, double min_vol) {
  if (!(years > 0) || !std::isfinite(forward_usd) || forward_usd <= 0 || !std::isfinite(strike_usd) ||
      strike_usd <= 0 || !std::isfinite(sigma) || sigma <= 0)
    return;
  const black76::Greeks now = black76::greeks(is_call, forward_usd, strike_usd, years, sigma);
  const double before = now.price;
  double* row = slot(id);
  row[shocks_.size()] = now.gamma * forward_usd * forward_usd / 100.0;
  row[shocks_.size() + 1] = forward_usd;
  for (std::size_t s = 0; s < shocks_.size(); ++s) {
    const Shock& k = shocks_[s];
    const double vol = std::max(sigma + k.vol_points / 100.0, min_vol);
    const double fwd = forward_usd * (1.0 + k.price);
    row[s] = (fwd > 0 ? black76::greeks(is_call, fwd, strike_usd, years, vol).price : 0.0) - before;
  }
}

double dynamic_margin_multiplier(double policy, double cap, double worst_loss_usd, double gross_delta_usd,
                                 double base_margin_rate) {
  const double base = base_margin_rate * gross_delta_usd;
  if (!(base > 0) || !(worst_loss_usd > 0) || !std::isfinite(worst_loss_usd)) return policy;
  return std::clamp(worst_loss_usd / base, policy, std::max(policy, cap));
}

ScenarioScan::ScenarioScan(std::shared_ptr<const ScenarioSetup> setup)
    : setup_(std::move(setup)), account_(setup_->table.shocks().size()) {}

SegmentScenarioSums& ScenarioScan::sums(SegmentId segment) {
  auto [it, fresh] = segments_.try_emplace(segment);
  if (fresh) {
    const std::size_t n = setup_->table.shocks().size();
    it->second.pnl_usd.assign(n, 0.0);
    it->second.over_margin.assign(n, 0);
    it->second.liquidation_usd.assign(n, 0.0);
    it->second.worst_account_usd.assign(n, 0.0);
  }
  return it->second;
}

void ScenarioScan::add_account(SegmentId segment, AccountId account, std::span<const Position> positions) {
  const std::vector<Shock>& shocks = setup_->table.shocks();
  const std::size_t n = shocks.size();
  double* __restrict acc = account_.data();
  std::fill(acc, acc + n, 0.0);
  double gross = 0.0, gamma = 0.0, notional = 0.0;
  bool any = false;
  for (const Position& p : positions) {
    if (p.qty == 0.0 || (setup_->as_of_ns > 0 && p.expiry_ns != 0 && p.expiry_ns <= setup_->as_of_ns)) continue;
    any = true;
    gross += std::abs(p.delta_usd());
    if (const double* __restrict row = setup_->table.row(p.instrument)) {
      const double q = p.qty;
      for (std::size_t s = 0; s < n; ++s) acc[s] += q * row[s];
      gamma += q * row[n];
      notional += std::abs(q) * row[n + 1];
      ++repriced_;
    } else {
      notional += std::abs(p.delta_usd());  // delta-one: |qty| × its last price
      // No price to revalue at: first order in the greeks the position carries.
      const double delta = p.delta_usd(), vega = p.vega_usd() / 100.0;
      for (std::size_t s = 0; s < n; ++s) acc[s] += delta * shocks[s].price + vega * shocks[s].vol_points;
      ++approximated_;
    }
  }
  if (!any) return;
  // Accounts come segment after segment often enough (a shard's slots are not sorted by segment,
  // but the lookups are cheap to skip when two in a row share one).
  if (segment != last_segment_ || last_sums_ == nullptr) {
    last_segment_ = segment;
    last_sums_ = &sums(segment);
    const auto m = setup_->margin_multiplier.find(segment);
    last_multiplier_ = m != setup_->margin_multiplier.end() ? m->second : setup_->fallback_multiplier;
  }
  SegmentScenarioSums& sum = *last_sums_;
  const std::optional<double> stated =
      setup_->venue_margins != nullptr ? setup_->venue_margins->margin(account) : std::nullopt;
  const double margin = (stated ? *stated : setup_->base_margin_rate * gross) * last_multiplier_;
  sum.venue_margin_accounts += stated ? 1 : 0;
  ++sum.accounts;
  sum.gross_delta_usd += gross;
  sum.net_gamma_usd += gamma;
  sum.open_notional_usd += notional;
  sum.margin_usd += margin;
  double* __restrict pnl = sum.pnl_usd.data();
  double* __restrict worst = sum.worst_account_usd.data();
  for (std::size_t s = 0; s < n; ++s) {
    pnl[s] += acc[s];
    worst[s] = std::min(worst[s], acc[s]);
  }
  for (std::size_t s = 0; s < n; ++s) {
    if (-acc[s] > margin) {
      ++sum.over_margin[s];
      sum.liquidation_usd[s] += gross;
    }
  }
}

void ScenarioScan::merge(const ScenarioScan& other) {
  for (const auto& [segment, o] : other.segments_) {
    SegmentScenarioSums& sum = sums(segment);
    sum.accounts += o.accounts;
    sum.gross_delta_usd += o.gross_delta_usd;
    sum.net_gamma_usd += o.net_gamma_usd;
    sum.open_notional_usd += o.open_notional_usd;
    sum.margin_usd += o.margin_usd;
    sum.venue_margin_accounts += o.venue_margin_accounts;
    for (std::size_t s = 0; s < sum.pnl_usd.size() && s < o.pnl_usd.size(); ++s) {
      sum.pnl_usd[s] += o.pnl_usd[s];
      sum.over_margin[s] += o.over_margin[s];
      sum.liquidation_usd[s] += o.liquidation_usd[s];
      sum.worst_account_usd[s] = std::min(sum.worst_account_usd[s], o.worst_account_usd[s]);
    }
  }
  repriced_ += other.repriced_;
  approximated_ += other.approximated_;
}

}  // namespace segmentd
