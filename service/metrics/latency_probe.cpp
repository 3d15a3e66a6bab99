#include "service/metrics/latency_probe.h"

namespace segmentd {

LatencyProbe::LatencyProbe(Metrics& m)
    : series_(histogram_family(m, "segmentd_end_to_end_latency_seconds",
                               "Frame received to segment change written to subscribers, in seconds.")
                  .Add({}, latency_buckets_seconds())),
      shared_(&recorder()) {
  hook_ = m.on_collect([this] { collect(); });
}

HotHistogram& LatencyProbe::recorder() {
  std::lock_guard<std::mutex> lock(mu_);
  recorders_.push_back(std::make_unique<HotHistogram>(latency_buckets_seconds(), 1e-9));
  exports_.emplace_back(*recorders_.back(), series_);
  return *recorders_.back();
}

void LatencyProbe::collect() {
  std::lock_guard<std::mutex> lock(mu_);
  for (HistogramExport& e : exports_) e.sync();
}

}  // namespace segmentd
