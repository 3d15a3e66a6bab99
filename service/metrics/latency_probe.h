#pragma once
// End-to-end latency: a fill's frame received → the segment change it caused written to the
// subscribers (bench/README.md, "Current results": p99 ≤ 1 ms at 100k fills/s).
//   segmentd_end_to_end_latency_seconds   histogram, buckets every 100 µs from 200 µs to 1 ms
//
// p99 in PromQL: histogram_quantile(0.99, sum by (le) (rate(segmentd_end_to_end_latency_seconds_bucket[1m])))
//
// Threads: record() from any thread; a thread that records a lot takes its own recorder() so
// that its counts sit on its own cache lines. Recorders feed the same series.

#include <mutex>

#include <cstdint>
#include <deque>
#include <memory>
#include "absl/base/thread_annotations.h"

#include "service/metrics/metrics.h"

namespace segmentd {

class LatencyProbe {
 public:
  explicit LatencyProbe(Metrics& metrics);
  LatencyProbe(const LatencyProbe&) = delete;
  LatencyProbe& operator=(const LatencyProbe&) = delete;

  //! `receive_ns` and `published_ns` from the same clock (steady or system), in ns.
  void record(std::int64_t receive_ns, std::int64_t published_ns) {
    shared_->record(published_ns > receive_ns ? published_ns - receive_ns : 0);
  }
  //! A recorder for one thread; lives as long as the probe. Call its record(latency_ns).
  HotHistogram& recorder();

 private:
  void collect();

  prometheus::Histogram& series_;
  std::mutex mu_;  //!< guards recorders_ (collect and recorder())
  std::deque<std::unique_ptr<HotHistogram>> recorders_ ABSL_GUARDED_BY(mu_);
  std::deque<HistogramExport> exports_ ABSL_GUARDED_BY(mu_);
  HotHistogram* shared_;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
