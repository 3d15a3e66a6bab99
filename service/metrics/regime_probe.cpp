#include "service/metrics/regime_probe.h"

namespace segmentd {

RegimeProbe::RegimeProbe(Metrics& m, Source source)
    : source_(std::move(source)),
      market_(gauge_family(m, "segmentd_market_regime",
                           "The most stressed market regime over the underlyings: 0 calm, 1 stressed, 2 extreme.")
                  .Add({})),
      switches_(counter_family(m, "segmentd_market_regime_switches_total", "Market regime changes of any underlying.")
                    .Add({})),
      outliers_(
          counter_family(m, "segmentd_market_regime_outliers_total",
                         "Index prices dropped as bad ticks: a jump beyond max_jump the next price did not confirm.")
              .Add({})),
      regime_family_(gauge_family(m, "segmentd_underlying_regime",
                                  "An underlying's market regime: 0 calm, 1 stressed, 2 extreme.")),
      ratio_family_(gauge_family(m, "segmentd_underlying_vol_ratio",
                                 "An underlying's fast over slow realized volatility (0 during warm-up).")),
      drawdown_family_(gauge_family(m, "segmentd_underlying_drawdown",
                                    "An underlying's fall from the highest price of the drawdown window.")),
      hook_(m.on_collect([this] { collect(); })) {}

void RegimeProbe::collect() {
  const RegimeReport r = source_();
  market_.Set(static_cast<double>(r.market));
  if (r.switches > switches_seen_) {
    switches_.Increment(static_cast<double>(r.switches - switches_seen_));
    switches_seen_ = r.switches;
  }
  std::uint64_t outliers = 0;
  for (const auto& [name, u] : r.underlyings) outliers += u.outliers;
  if (outliers > outliers_seen_) {
    outliers_.Increment(static_cast<double>(outliers - outliers_seen_));
    outliers_seen_ = outliers;
  }
  for (const auto& [name, u] : r.underlyings) {
    PerUnderlying& g = underlyings_[name];
    if (g.regime == nullptr) {
      g.regime = &regime_family_.Add({{"underlying", name}});
      g.ratio = &ratio_family_.Add({{"underlying", name}});
      g.drawdown = &drawdown_family_.Add({{"underlying", name}});
    }
    g.regime->Set(static_cast<double>(u.regime));
    g.ratio->Set(u.vol_ratio);
    g.drawdown->Set(u.drawdown);
  }
}

}  // namespace segmentd
