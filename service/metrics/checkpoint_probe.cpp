#include "service/metrics/checkpoint_probe.h"

#include <chrono>

namespace segmentd {
namespace {

std::int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

prometheus::Gauge& gauge(Metrics& m, const std::string& name, const std::string& help) {
  return gauge_family(m, name, help).Add({});
}

}  // namespace

CheckpointProbe::CheckpointProbe(Metrics& m, Clock clock)
    : clock_(clock ? std::move(clock) : Clock(system_now_ns)),
      duration_(duration_buckets_seconds(), 1e-9),
      last_success_ns_(clock_()),
      size_(gauge(m, "segmentd_checkpoint_size_bytes", "Size of the last checkpoint written.")),
      accounts_(gauge(m, "segmentd_checkpoint_accounts", "Accounts in the last checkpoint written.")),
      last_success_(gauge(m, "segmentd_checkpoint_last_success_timestamp_seconds",
                          "Wall-clock time of the last successful checkpoint (0: none yet).")),
      age_(gauge(m, "segmentd_checkpoint_age_seconds",
                 "Seconds since the last successful checkpoint, or since start when there was none.")),
      cut_(gauge(m, "segmentd_checkpoint_cut_seconds",
                 "How long the last checkpoint paused ingest: sources held at a message boundary, shards copying.")),
      failures_(
          counter_family(m, "segmentd_checkpoint_failures_total", "Checkpoints that failed to be written.").Add({})),
      duration_out_(duration_, histogram_family(m, "segmentd_checkpoint_duration_seconds",
                                                "Time to write one checkpoint (serialize, fsync, rename).")
                                   .Add({}, duration_buckets_seconds())),
      hook_(m.on_collect([this] { collect(); })) {}

void CheckpointProbe::record_success(std::int64_t duration_ns, std::uint64_t bytes, std::uint64_t accounts,
                                     double cut_seconds) {
  cut_.Set(cut_seconds);
  duration_.record(duration_ns);
  const std::int64_t now = clock_();
  last_success_ns_.store(now, std::memory_order_relaxed);
  size_.Set(static_cast<double>(bytes));
  accounts_.Set(static_cast<double>(accounts));
  last_success_.Set(static_cast<double>(now) / 1e9);
}

void CheckpointProbe::collect() {
  duration_out_.sync();
  const std::int64_t age = clock_() - last_success_ns_.load(std::memory_order_relaxed);
  age_.Set(static_cast<double>(age > 0 ? age : 0) / 1e9);
}

}  // namespace segmentd
