#pragma once
// Process metrics, read from /proc/self at each scrape. They use the standard names every
// Prometheus client library exports (so stock dashboards and rules work):
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_open_fds, process_max_fds, process_start_time_seconds, process_threads
// and segmentd's own:
//   segmentd_build_info{version}       always 1
//   segmentd_log_suppressed_lines_total  log lines dropped by the rate limit
//
// Threads: constructed anywhere; everything else runs on the scraping thread.

#include <cstdint>
#include <string>

#include "service/metrics/metrics.h"

namespace segmentd {

//! One reading of /proc/self; fields the kernel did not give stay 0.
struct ProcessStats {
  double cpu_seconds = 0;
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
  std::uint64_t threads = 0;
  double start_time_seconds = 0;  //!< since the epoch
};
ProcessStats read_process_stats();

class ProcessProbe {
 public:
  ProcessProbe(Metrics& metrics, const std::string& version);
  ProcessProbe(const ProcessProbe&) = delete;
  ProcessProbe& operator=(const ProcessProbe&) = delete;

 private:
  void collect();

  prometheus::Counter& cpu_;
  prometheus::Gauge& resident_;
  prometheus::Gauge& virtual_;
  prometheus::Gauge& open_fds_;
  prometheus::Gauge& max_fds_;
  prometheus::Gauge& threads_;
  prometheus::Gauge& start_time_;
  double cpu_exported_ = 0;
  CounterExport log_suppressed_;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
