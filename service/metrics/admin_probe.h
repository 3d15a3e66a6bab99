#pragma once
// Metrics of the admin HTTP API (service/admin/):
//   segmentd_admin_connections                 connections holding a slot of max_connections
//   segmentd_admin_auth_failures_total         /v1 requests answered 401 (each logged with the peer)
//   segmentd_admin_over_capacity_total         requests that came past max_connections (probes
//                                              answered anyway, others 503)
//   segmentd_admin_evicted_total               connections with no request yet, displaced by newer ones
//
// Why: failed logins on the admin port are what a security review looks for first; the log line
// has the peer, the counter lets an alert see a burst. The server counts in atomics:
// sample_from() reads them at scrape time.
//
// Threads: sample_from() from any thread; the sampler runs on the scraping thread.

#include <cstdint>
#include <functional>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "service/metrics/metrics.h"

namespace segmentd {

//! What the admin server reports at each scrape. Counters are monotonic totals.
struct AdminSample {
  std::uint64_t connections = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t over_capacity = 0;
  std::uint64_t evicted = 0;
};

class AdminProbe {
 public:
  explicit AdminProbe(Metrics& metrics);
  AdminProbe(const AdminProbe&) = delete;
  AdminProbe& operator=(const AdminProbe&) = delete;

  void sample_from(std::function<AdminSample()> sampler);

 private:
  void collect();

  prometheus::Gauge& connections_;
  CounterExport auth_failures_, over_capacity_, evicted_;
  std::mutex mu_;
  std::function<AdminSample()> sampler_ ABSL_GUARDED_BY(mu_);
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
