#pragma once
// Metrics of a venue source's gap-fill (service/ingest/venue_history.h: after a restart and every
// reconnect, the fills missed are read back from the venue's REST trade history):
//   segmentd_ingest_gap_fill_runs_total{source,venue}        gap-fills started
//   segmentd_ingest_gap_fill_completed_total{source,venue}   gap-fills that read every page
//   segmentd_ingest_gap_fill_requests_total{source,venue}    REST calls sent (retries included)
//   segmentd_ingest_gap_fill_records_total{source,venue}     trade records read (before de-duplication;
//                                                             the fills they added count in
//                                                             segmentd_ingest_fills_total)
//   segmentd_ingest_gap_fill_errors_total{source,venue,kind} failed calls: http (no answer or a
//                                                             status other than 200/429),
//                                                             rate_limited, bad_response
//
// Why: runs − completed that keeps growing means fills missed during outages are not coming
// back; an operator sees it here before the segments drift. The source counts in atomics:
// sample_from() reads them at scrape time.
//
// Threads: sample_from() from any thread; the sampler runs on the scraping thread.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "service/metrics/metrics.h"

namespace segmentd {

//! A source's gap-fill counters at one scrape; all monotonic.
struct GapFillSample {
  std::uint64_t runs = 0;
  std::uint64_t completed = 0;
  std::uint64_t requests = 0;
  std::uint64_t records = 0;
  std::uint64_t http_errors = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t bad_responses = 0;
};

class GapFillProbe {
 public:
  GapFillProbe(Metrics& metrics, const std::string& source, const std::string& venue);
  GapFillProbe(const GapFillProbe&) = delete;
  GapFillProbe& operator=(const GapFillProbe&) = delete;

  void sample_from(std::function<GapFillSample()> sampler);

 private:
  void collect();

  CounterExport runs_, completed_, requests_, records_, http_errors_, rate_limited_, bad_responses_;
  std::mutex mu_;
  std::function<GapFillSample()> sampler_ ABSL_GUARDED_BY(mu_);
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
