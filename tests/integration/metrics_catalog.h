#pragma once
// Every probe segmentd registers, fed with plausible values: the metrics a running segmentd
// exports, without running one. Tests use it to check the exposition with promtool and that
// every metric the Grafana dashboard and the alert rules query exists; `segmentd_metrics_catalog`
// prints it.

#include <memory>

#include "service/metrics/metrics.h"

namespace segmentd {

class IngestProbe;
class ShardProbe;
class ClustererProbe;
class PublisherProbe;
class LatencyProbe;
class CheckpointProbe;
class ProcessProbe;

class MetricsCatalog {
 public:
  explicit MetricsCatalog(Metrics& metrics);
  ~MetricsCatalog();
  MetricsCatalog(const MetricsCatalog&) = delete;
  MetricsCatalog& operator=(const MetricsCatalog&) = delete;

  IngestProbe& ingest() { return *ingest_; }
  ClustererProbe& clusterer() { return *clusterer_; }
  LatencyProbe& latency() { return *latency_; }

 private:
  std::unique_ptr<IngestProbe> ingest_;
  std::unique_ptr<ShardProbe> shards_;
  std::unique_ptr<ClustererProbe> clusterer_;
  std::unique_ptr<PublisherProbe> publisher_;
  std::unique_ptr<LatencyProbe> latency_;
  std::unique_ptr<CheckpointProbe> checkpoint_;
  std::unique_ptr<ProcessProbe> process_;
};

}  // namespace segmentd
