#include "service/metrics/gap_fill_probe.h"

namespace segmentd {
namespace {

prometheus::Counter& counter(Metrics& m, const std::string& name, const std::string& help, const std::string& source,
                             const std::string& venue, const std::string& kind = {}) {
  prometheus::Labels labels{{"source", source}, {"venue", venue}};
  if (!kind.empty()) labels["kind"] = kind;
  return counter_family(m, name, help).Add(labels);
}

constexpr const char* kErrorsHelp = "Failed gap-fill REST calls, by kind: http, rate_limited, bad_response.";

}  // namespace

GapFillProbe::GapFillProbe(Metrics& m, const std::string& source, const std::string& venue)
    : runs_(counter(m, "segmentd_ingest_gap_fill_runs_total",
                    "Gap-fills started (after a restart or a reconnect) to read missed fills back from REST.", source,
                    venue)),
      completed_(
          counter(m, "segmentd_ingest_gap_fill_completed_total", "Gap-fills that read every page.", source, venue)),
      requests_(counter(m, "segmentd_ingest_gap_fill_requests_total", "Gap-fill REST calls sent, retries included.",
                        source, venue)),
      records_(counter(m, "segmentd_ingest_gap_fill_records_total",
                       "Trade records read by gap-fills, before de-duplication.", source, venue)),
      http_errors_(counter(m, "segmentd_ingest_gap_fill_errors_total", kErrorsHelp, source, venue, "http")),
      rate_limited_(counter(m, "segmentd_ingest_gap_fill_errors_total", kErrorsHelp, source, venue, "rate_limited")),
      bad_responses_(counter(m, "segmentd_ingest_gap_fill_errors_total", kErrorsHelp, source, venue, "bad_response")),
      hook_(m.on_collect([this] { collect(); })) {}

void GapFillProbe::sample_from(std::function<GapFillSample()> sampler) {
  std::lock_guard<std::mutex> lock(mu_);
  sampler_ = std::move(sampler);
}

void GapFillProbe::collect() {
  GapFillSample s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sampler_) return;
    s = sampler_();
  }
  runs_.sync(s.runs);
  completed_.sync(s.completed);
  requests_.sync(s.requests);
  records_.sync(s.records);
  http_errors_.sync(s.http_errors);
  rate_limited_.sync(s.rate_limited);
  bad_responses_.sync(s.bad_responses);
}

}  // namespace segmentd
