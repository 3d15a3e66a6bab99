#include "tests/integration/metrics_catalog.h"

#include "service/metrics/checkpoint_probe.h"
#include "service/metrics/clusterer_probe.h"
#include "service/metrics/ingest_probe.h"
#include "service/metrics/latency_probe.h"
#include "service/metrics/process_probe.h"
#include "service/metrics/publisher_probe.h"
#include "service/metrics/shard_probe.h"

#ifndef SEGMENTD_VERSION
#define SEGMENTD_VERSION "dev"
#endif

namespace segmentd {

MetricsCatalog::MetricsCatalog(Metrics& m)
    : ingest_(std::make_unique<IngestProbe>(m, "deribit-main", "deribit")),
      shards_(std::make_unique<ShardProbe>(m, 2, 1 << 16)),
      clusterer_(std::make_unique<ClustererProbe>(m, 2)),
      publisher_(std::make_unique<PublisherProbe>(m)),
      latency_(std::make_unique<LatencyProbe>(m)),
      checkpoint_(std::make_unique<CheckpointProbe>(m)),
      process_(std::make_unique<ProcessProbe>(m, SEGMENTD_VERSION)) {
  ingest_->record_connected(true);
  ingest_->record_message(512, 3);
  ingest_->record_lag(1'000'000'000, 1'004'000'000);
  ingest_->record_parse_error(ParseErrorReason::kMissingField);
  shards_->record_accounts(0, 1200);
  shards_->record_accounts(1, 1180);
  clusterer_->record_batch(1024, 2'500'000);
  clusterer_->record_segment_changes(0, 5);
  Model model;
  model.version = 3;
  for (SegmentId id : {1u, 2u, 3u}) {
    Segment s;
    s.id = id;
    s.label = id == 1 ? "market-maker" : id == 2 ? "retail-directional" : "vol-seller";
    s.size = 100 * id;
    model.segments.push_back(s);
  }
  model.events.push_back(ModelEvent{ModelEvent::Kind::kBorn, 3, 2, "vol-seller", "", "split"});
  model.quality = ModelQuality{1.8, 0.42, 0.03, 0.01, 0.95};
  clusterer_->record_model(model);
  publisher_->sample_from([] {
    PublisherSample s;
    s.subscribers = 2;
    s.connections = 3;
    s.queued_bytes = 4096;
    s.messages_published = 17;
    s.last_seq = 17;
    s.ring_first_seq = 1;
    s.ring_size = 17;
    return s;
  });
  latency_->record(0, 350'000);
  checkpoint_->record_success(120'000'000, 1 << 20, 2380);
}

MetricsCatalog::~MetricsCatalog() = default;

}  // namespace segmentd
