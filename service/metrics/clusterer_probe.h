#pragma once
// Metrics of the clusterer and of the segments it maintains:
//   segmentd_clusterer_batch_accounts            histogram: feature vectors per mini-batch
//   segmentd_clusterer_batch_duration_seconds    histogram: time to apply one mini-batch
//   segmentd_model_version                       version of the published model (0 = warming up)
//   segmentd_model_segments                      live segments
//   segmentd_model_last_update_timestamp_seconds wall clock of the last published model
//   segmentd_model_inertia                       decayed mean squared distance to the centre
//   segmentd_model_silhouette                    silhouette on the reservoir sample, [-1, 1]
//   segmentd_model_churn_per_hour                share of accounts changing segment per hour
//   segmentd_model_centroid_drift                max centre movement since the previous version
//   segmentd_model_adjusted_rand_index           ARI between consecutive assignments
//   segmentd_model_events_total{kind}            segments born / retired / relabelled
//   segmentd_segment_accounts{segment,label}     accounts per live segment (series of retired
//                                                segments are removed: at most k at a time)
//   segmentd_segment_changes_total               segment changes emitted (rate() = changes/s)
//
// Threads: record_batch() and record_model() from the clusterer thread;
// record_segment_changes(shard, n) from shard `shard`'s thread, once per burst.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model.h"
#include "service/metrics/metrics.h"

namespace segmentd {

class ClustererProbe {
 public:
  ClustererProbe(Metrics& metrics, int shards);
  ClustererProbe(const ClustererProbe&) = delete;
  ClustererProbe& operator=(const ClustererProbe&) = delete;

  void record_batch(std::size_t accounts, std::int64_t duration_ns) {
    batch_accounts_.record(static_cast<std::int64_t>(accounts));
    batch_duration_.record(duration_ns);
  }
  //! After each model publication: version, quality, segment sizes, and the model's events.
  void record_model(const Model& model);
  void record_segment_changes(int shard, std::uint64_t n) { changes_[shard].add(n); }

 private:
  void collect();

  HotHistogram batch_accounts_;
  HotHistogram batch_duration_;
  std::unique_ptr<HotCounter[]> changes_;  //!< one per shard: no shared cache line
  int shards_;

  prometheus::Family<prometheus::Gauge>& segment_family_;
  prometheus::Gauge& version_;
  prometheus::Gauge& segments_;
  prometheus::Gauge& updated_;
  prometheus::Gauge& inertia_;
  prometheus::Gauge& silhouette_;
  prometheus::Gauge& churn_;
  prometheus::Gauge& drift_;
  prometheus::Gauge& ari_;
  prometheus::Counter& born_;
  prometheus::Counter& retired_;
  prometheus::Counter& relabelled_;
  struct SegmentSeries {
    SegmentId id;
    std::string label;
    prometheus::Gauge* gauge;
  };
  std::vector<SegmentSeries> series_;  //!< clusterer thread only

  HistogramExport batch_accounts_out_;
  HistogramExport batch_duration_out_;
  CounterExport changes_out_;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
