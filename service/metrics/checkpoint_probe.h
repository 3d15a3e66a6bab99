#pragma once
// Metrics of checkpoints (core/checkpoint.md; fed by Pipeline from service/state/checkpointer.h):
//   segmentd_checkpoint_duration_seconds               histogram: time to write one checkpoint
//   segmentd_checkpoint_size_bytes                     size of the last checkpoint written
//   segmentd_checkpoint_accounts                       accounts in the last checkpoint
//   segmentd_checkpoint_failures_total                 checkpoints that failed (nothing renamed)
//   segmentd_checkpoint_last_success_timestamp_seconds wall clock of the last good checkpoint
//   segmentd_checkpoint_age_seconds                    seconds since then (since start if none yet)
//   segmentd_checkpoint_cut_seconds                    how long the last one paused ingest (the cut)
//
// Threads: record_*() from the checkpoint writer's thread; any thread is safe.

#include <atomic>
#include <cstdint>
#include <functional>

#include "service/metrics/metrics.h"

namespace segmentd {

class CheckpointProbe {
 public:
  using Clock = std::function<std::int64_t()>;  //!< wall clock, ns since the epoch
  explicit CheckpointProbe(Metrics& metrics, Clock clock = {});
  CheckpointProbe(const CheckpointProbe&) = delete;
  CheckpointProbe& operator=(const CheckpointProbe&) = delete;

  //! A checkpoint was written and renamed into place.
  void record_success(std::int64_t duration_ns, std::uint64_t bytes, std::uint64_t accounts, double cut_seconds = 0);
  void record_failure() { failures_.Increment(); }

 private:
  void collect();

  Clock clock_;
  HotHistogram duration_;
  std::atomic<std::int64_t> last_success_ns_;  //!< start time until the first success
  prometheus::Gauge& size_;
  prometheus::Gauge& accounts_;
  prometheus::Gauge& last_success_;
  prometheus::Gauge& age_;
  prometheus::Gauge& cut_;
  prometheus::Counter& failures_;
  HistogramExport duration_out_;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
