#include "service/metrics/clusterer_probe.h"

#include <algorithm>
#include <chrono>

namespace segmentd {
namespace {

prometheus::Gauge& gauge(Metrics& m, const std::string& name, const std::string& help) {
  return gauge_family(m, name, help).Add({});
}

prometheus::Counter& model_events(Metrics& m, const std::string& kind) {
  return counter_family(m, "segmentd_model_events_total", "Segments born, retired or relabelled by model updates.")
      .Add({{"kind", kind}});
}

}  // namespace

ClustererProbe::ClustererProbe(Metrics& m, int shards)
    : batch_accounts_(size_buckets(), 1.0),
      batch_duration_(duration_buckets_seconds(), 1e-9),
      changes_(new HotCounter[static_cast<std::size_t>(shards)]),
      shards_(shards),
      segment_family_(gauge_family(m, "segmentd_segment_accounts", "Accounts assigned to a live segment.")),
      version_(gauge(m, "segmentd_model_version", "Version of the published model; 0 while warming up.")),
      segments_(gauge(m, "segmentd_model_segments", "Live segments in the published model.")),
      updated_(
          gauge(m, "segmentd_model_last_update_timestamp_seconds", "Wall-clock time the last model was published.")),
      inertia_(gauge(m, "segmentd_model_inertia",
                     "Decayed mean squared distance of vectors to their centre (scaled units).")),
      silhouette_(gauge(m, "segmentd_model_silhouette", "Silhouette coefficient on the reservoir sample, in [-1, 1].")),
      churn_(gauge(m, "segmentd_model_churn_per_hour", "Share of accounts changing segment per hour of event time.")),
      drift_(gauge(m, "segmentd_model_centroid_drift",
                   "Largest centre movement since the previous version (scaled units).")),
      ari_(gauge(m, "segmentd_model_adjusted_rand_index",
                 "Adjusted Rand index between consecutive assignments of the sample.")),
      born_(model_events(m, "born")),
      retired_(model_events(m, "retired")),
      relabelled_(model_events(m, "relabelled")),
      batch_accounts_out_(batch_accounts_, histogram_family(m, "segmentd_clusterer_batch_accounts",
                                                            "Feature vectors (accounts) per clusterer mini-batch.")
                                               .Add({}, size_buckets())),
      batch_duration_out_(batch_duration_, histogram_family(m, "segmentd_clusterer_batch_duration_seconds",
                                                            "Time to apply one mini-batch to the model.")
                                               .Add({}, duration_buckets_seconds())),
      changes_out_(
          counter_family(m, "segmentd_segment_changes_total", "Segment changes emitted by the shards.").Add({})),
      hook_(m.on_collect([this] { collect(); })) {}

void ClustererProbe::record_model(const Model& model) {
  version_.Set(static_cast<double>(model.version));
  segments_.Set(static_cast<double>(model.segments.size()));
  updated_.Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  inertia_.Set(model.quality.inertia);
  silhouette_.Set(model.quality.silhouette);
  churn_.Set(model.quality.churn_per_hour);
  drift_.Set(model.quality.centroid_drift);
  ari_.Set(model.quality.adjusted_rand);
  for (const ModelEvent& e : model.events) {
    switch (e.kind) {
      case ModelEvent::Kind::kBorn: born_.Increment(); break;
      case ModelEvent::Kind::kRetired: retired_.Increment(); break;
      case ModelEvent::Kind::kRelabelled: relabelled_.Increment(); break;
    }
  }
  // Drop the series of segments that are gone or renamed, so that at most k series exist.
  std::vector<SegmentSeries> kept;
  for (SegmentSeries& s : series_) {
    const Segment* live = model.find(s.id);
    if (live != nullptr && live->label == s.label) {
      kept.push_back(s);
    } else {
      segment_family_.Remove(s.gauge);
    }
  }
  series_ = std::move(kept);
  for (const Segment& seg : model.segments) {
    auto it = std::find_if(series_.begin(), series_.end(), [&](const SegmentSeries& s) { return s.id == seg.id; });
    if (it == series_.end()) {
      prometheus::Gauge& g = segment_family_.Add({{"segment", std::to_string(seg.id)}, {"label", seg.label}});
      it = series_.insert(series_.end(), SegmentSeries{seg.id, seg.label, &g});
    }
    it->gauge->Set(static_cast<double>(seg.size));
  }
}

void ClustererProbe::collect() {
  batch_accounts_out_.sync();
  batch_duration_out_.sync();
  std::uint64_t changes = 0;
  for (int s = 0; s < shards_; ++s) changes += changes_[s].value();
  changes_out_.sync(changes);
}

}  // namespace segmentd
