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
  }
  for (Series* s : {&accounts_, &delta_, &vega_, &concentration_, &underlying_}) s->sweep();
}

}  // namespace segmentd
