#pragma once
// Metrics of segment exposure (core/segment_exposure.h; docs/api.md, "GET /v1/risk/exposure"),
// from the service's exposure scan at each scrape (Pipeline::exposure_view, reused for a second):
//   segmentd_segment_exposure_accounts{segment,label}               accounts with an open position
//   segmentd_segment_delta_usd{segment,label,side="net"|"gross"}     Σ position deltas, Σ |…| per account
//   segmentd_segment_vega_usd{segment,label}                        net vega, USD per 1.00 of implied vol
//   segmentd_segment_concentration{segment,label,top="1"|"5"|"10"}  share of the gross delta its largest accounts hold
//   segmentd_segment_underlying_delta_usd{segment,label,underlying} net delta of the segment's 5 largest
//                                                                    underlyings (by gross), the rest as "other"
//   segmentd_segment_open_interest_share{segment,label,underlying} share of the venues' open interest the
//                                                                    segment holds (core/features.md), per underlying
//                                                                    of the 5 largest that has one, and "all" (USD)
//   segmentd_exposure_scan_seconds                                  how long the last scan took (all shards)
// and of the shock scenarios of the same scan (core/scenario.h; GET /v1/risk/scenarios):
//   segmentd_scenario_pnl_usd{shock}                     the venue's clients' P&L in the shock
//   segmentd_scenario_accounts_over_margin{shock}        accounts whose loss would exceed their margin
//   segmentd_scenario_liquidation_usd{shock}             their gross delta: what liquidating them puts on the book
//   segmentd_segment_scenario_worst_pnl_usd{segment,label,shock}  a segment's P&L in its worst shock
//   segmentd_segment_scenario_accounts_over_margin{segment,label} the most of its accounts over margin in any shock
//   segmentd_segment_margin_usd{segment,label}           Σ of its accounts' margin estimates
//   segmentd_segment_gamma_usd{segment,label}            net dollar gamma: delta USD gained on a 1 % up-move
//   segmentd_segment_open_notional_usd{segment,label}    Σ |qty| × the underlying's price
// segment is the id, "none" for accounts not assigned yet. Series of segments and underlyings
// that are gone are removed, so at most (segments + 1) × 24 + 3 × shocks series exist.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "protocol/publisher/admin_messages.h"
#include "service/metrics/metrics.h"

namespace segmentd {

class ExposureProbe {
 public:
  //! What a scrape reads: the exposure and the model whose labels name its segments.
  using Source = std::function<std::pair<std::shared_ptr<const ExposureView>, ModelPtr>()>;
  static constexpr std::size_t kUnderlyingsPerSegment = 5;

  ExposureProbe(Metrics& m, Source source);
  ExposureProbe(const ExposureProbe&) = delete;
  ExposureProbe& operator=(const ExposureProbe&) = delete;

 private:
  //! The gauges of one family that the last scrape set, by their label values.
  struct Series {
    prometheus::Family<prometheus::Gauge>* family = nullptr;
    std::map<std::vector<std::string>, prometheus::Gauge*> live;
    std::map<std::vector<std::string>, prometheus::Gauge*> next;
    //! Sets the gauge with these label values (names in `names`), creating it when new.
    void set(const std::vector<std::string>& names, const std::vector<std::string>& values, double v);
    //! Removes the series the scrape did not set.
    void sweep();
  };
  void collect();

  Source source_;
  Series accounts_, delta_, vega_, concentration_, underlying_, oi_share_;
  Series shock_pnl_, shock_over_, shock_liquidation_, worst_pnl_, segment_over_, margin_, gamma_, notional_;
  prometheus::Gauge& scan_seconds_;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
