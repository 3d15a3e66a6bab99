#pragma once
// Metrics of the market-stress regime (core/market_regime.h; service/app/regime_feed.h), sampled
// at each scrape:
//   segmentd_market_regime                        the most stressed regime: 0 calm, 1 stressed, 2 extreme
//   segmentd_market_regime_switches_total         regime changes of any underlying
//   segmentd_market_regime_outliers_total         index prices dropped as bad ticks (a jump not confirmed)
//   segmentd_underlying_regime{underlying}        each underlying's regime (0, 1, 2)
//   segmentd_underlying_vol_ratio{underlying}     fast / slow realized vol (0 during warm-up)
//   segmentd_underlying_drawdown{underlying}      from the peak of the drawdown window, [0, 1)
// underlying: those with index prices in the sources' market data (a bounded set: the configured
// market_data channels).

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "protocol/publisher/admin_messages.h"
#include "service/metrics/metrics.h"

namespace segmentd {

class RegimeProbe {
 public:
  using Source = std::function<RegimeReport()>;
  RegimeProbe(Metrics& m, Source source);
  RegimeProbe(const RegimeProbe&) = delete;
  RegimeProbe& operator=(const RegimeProbe&) = delete;

 private:
  struct PerUnderlying {
    prometheus::Gauge* regime = nullptr;
    prometheus::Gauge* ratio = nullptr;
    prometheus::Gauge* drawdown = nullptr;
  };
  void collect();

  Source source_;
  prometheus::Gauge& market_;
  prometheus::Counter& switches_;
  std::uint64_t switches_seen_ = 0;
  prometheus::Counter& outliers_;
  std::uint64_t outliers_seen_ = 0;
  prometheus::Family<prometheus::Gauge>& regime_family_;
  prometheus::Family<prometheus::Gauge>& ratio_family_;
  prometheus::Family<prometheus::Gauge>& drawdown_family_;
  std::map<std::string, PerUnderlying> underlyings_;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
