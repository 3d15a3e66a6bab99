#include "service/metrics/exposure_probe.h"

#include <algorithm>
#include <cmath>

namespace segmentd {

void ExposureProbe::Series::set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                                double v) {
  prometheus::Gauge* g = nullptr;
  if (auto it = live.find(values); it != live.end()) {
    g = it->second;
    live.erase(it);
  } else {
    std::map<std::string, std::string> labels;
    for (std::size_t i = 0; i < names.size(); ++i) labels[names[i]] = values[i];
    g = &family->Add(labels);
  }
  g->Set(v);
  next[values] = g;
}

void ExposureProbe::Series::sweep() {
  for (auto& [values, g] : live) family->Remove(g);
  live = std::move(next);
  next.clear();
}

ExposureProbe::ExposureProbe(Metrics& m, Source source)
    : source_(std::move(source)),
      scan_seconds_(
          gauge_family(m, "segmentd_exposure_scan_seconds", "Time the last segment exposure scan took, all shards.")
              .Add({})),
      hook_(m.on_collect([this] { collect(); })) {
  accounts_.family =
      &gauge_family(m, "segmentd_segment_exposure_accounts", "Accounts of a segment with an open position.");
  delta_.family =
      &gauge_family(m, "segmentd_segment_delta_usd",
                    "Delta in USD of a segment's positions: net (signed sum) or gross (sum of |position|).");
  vega_.family = &gauge_family(m, "segmentd_segment_vega_usd",
                               "Net vega of a segment's positions, USD per 1.00 of implied volatility.");
  concentration_.family = &gauge_family(m, "segmentd_segment_concentration",
                                        "Share of a segment's gross delta held by its largest accounts.");
  underlying_.family = &gauge_family(m, "segmentd_segment_underlying_delta_usd",
                                     "Net delta in USD of a segment's largest underlyings; the rest as other.");
  shock_pnl_.family = &gauge_family(m, "segmentd_scenario_pnl_usd", "P&L in USD of every account in a shock scenario.");
  shock_over_.family = &gauge_family(m, "segmentd_scenario_accounts_over_margin",
                                     "Accounts whose loss in a shock scenario would exceed their margin estimate.");
  shock_liquidation_.family = &gauge_family(
      m, "segmentd_scenario_liquidation_usd",
      "Gross delta in USD of the accounts over margin in a shock scenario: what their liquidation puts on "
      "the book.");
  worst_pnl_.family = &gauge_family(m, "segmentd_segment_scenario_worst_pnl_usd",
                                    "A segment's P&L in USD in its worst shock scenario (named by shock).");
  segment_over_.family =
      &gauge_family(m, "segmentd_segment_scenario_accounts_over_margin",
                    "The most accounts of a segment whose loss would exceed their margin, over the shock scenarios.");
  gamma_.family = &gauge_family(m, "segmentd_segment_gamma_usd",
                                "Net dollar gamma of a segment: the delta in USD its positions gain on a 1 % up-move.");
  oi_share_.family = &gauge_family(
      m, "segmentd_segment_open_interest_share",
      "Share of the venues' open interest a segment holds: its open positions over the open contracts' two sides, per "
      "underlying (5 largest by gross delta) and over all (\"all\", in USD).");
  notional_.family = &gauge_family(m, "segmentd_segment_open_notional_usd",
                                   "Open notional of a segment: sum of |quantity| x the underlying's price now, USD.");
  margin_.family = &gauge_family(m, "segmentd_segment_margin_usd",
                                 "Sum of a segment's accounts' margin estimates in USD (base rate x gross delta x "
                                 "the policy's margin multiplier in the regime in force).");
}

void ExposureProbe::collect() {
  auto [view, model] = source_();
  if (view == nullptr) return;
  scan_seconds_.Set(view->scan_seconds);
  for (const SegmentExposureView& s : view->segments) {
    const Segment* seg = model != nullptr ? model->find(s.segment) : nullptr;
    const std::string id = s.segment == kNoSegment ? std::string("none") : std::to_string(s.segment);
    const std::string label = seg != nullptr ? seg->label : std::string(s.segment == kNoSegment ? "unassigned" : "");
    accounts_.set({"segment", "label"}, {id, label}, static_cast<double>(s.accounts));
    delta_.set({"segment", "label", "side"}, {id, label, "net"}, s.net_delta_usd);
    delta_.set({"segment", "label", "side"}, {id, label, "gross"}, s.gross_delta_usd);
    vega_.set({"segment", "label"}, {id, label}, s.net_vega_usd);
    concentration_.set({"segment", "label", "top"}, {id, label, "1"}, s.top1_share);
    concentration_.set({"segment", "label", "top"}, {id, label, "5"}, s.top5_share);
    concentration_.set({"segment", "label", "top"}, {id, label, "10"}, s.top10_share);
    double other = 0.0;
    bool any_other = false;
    for (std::size_t i = 0; i < s.underlyings.size(); ++i) {
      if (i < kUnderlyingsPerSegment) {
        underlying_.set({"segment", "label", "underlying"}, {id, label, s.underlyings[i].underlying},
                        s.underlyings[i].net_delta_usd);
      } else {
        other += s.underlyings[i].net_delta_usd;
        any_other = true;
      }
    }
    if (any_other) underlying_.set({"segment", "label", "underlying"}, {id, label, "other"}, other);
    for (std::size_t i = 0; i < std::min(kUnderlyingsPerSegment, s.underlyings.size()); ++i)
      if (std::isfinite(s.underlyings[i].open_interest_share))
        oi_share_.set({"segment", "label", "underlying"}, {id, label, s.underlyings[i].underlying},
                      s.underlyings[i].open_interest_share);
    if (std::isfinite(s.open_interest_share))
      oi_share_.set({"segment", "label", "underlying"}, {id, label, "all"}, s.open_interest_share);
  }
  if (const ScenarioView* sv = view->scenarios.get()) {
    const std::size_t n = sv->shocks.size();
    for (std::size_t k = 0; k < n; ++k) {
      double pnl = 0.0, liquidation = 0.0;
      std::uint64_t over = 0;
      for (const ScenarioView::Row& r : sv->segments) {
        pnl += r.sums.pnl_usd[k];
        over += r.sums.over_margin[k];
        liquidation += r.sums.liquidation_usd[k];
      }
      const std::string shock = shock_name(sv->shocks[k]);
      shock_pnl_.set({"shock"}, {shock}, pnl);
      shock_over_.set({"shock"}, {shock}, static_cast<double>(over));
      shock_liquidation_.set({"shock"}, {shock}, liquidation);
    }
    for (const ScenarioView::Row& r : sv->segments) {
      if (n == 0) break;
      const Segment* seg = model != nullptr ? model->find(r.segment) : nullptr;
      const std::string id = r.segment == kNoSegment ? std::string("none") : std::to_string(r.segment);
      const std::string label = seg != nullptr ? seg->label : std::string(r.segment == kNoSegment ? "unassigned" : "");
      const std::size_t worst = static_cast<std::size_t>(
          std::min_element(r.sums.pnl_usd.begin(), r.sums.pnl_usd.end()) - r.sums.pnl_usd.begin());
      worst_pnl_.set({"segment", "label", "shock"}, {id, label, shock_name(sv->shocks[worst])}, r.sums.pnl_usd[worst]);
      segment_over_.set({"segment", "label"}, {id, label},
                        static_cast<double>(*std::max_element(r.sums.over_margin.begin(), r.sums.over_margin.end())));
      margin_.set({"segment", "label"}, {id, label}, r.sums.margin_usd);
      gamma_.set({"segment", "label"}, {id, label}, r.sums.net_gamma_usd);
      notional_.set({"segment", "label"}, {id, label}, r.sums.open_notional_usd);
    }
  }
  for (Series* s : {&accounts_, &delta_, &vega_, &concentration_, &underlying_, &oi_share_, &shock_pnl_, &shock_over_,
                    &shock_liquidation_, &worst_pnl_, &segment_over_, &margin_, &gamma_, &notional_})
    s->sweep();
}

}  // namespace segmentd
