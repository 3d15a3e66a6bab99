#pragma once
// The segmentation model: an immutable, versioned snapshot published by the clusterer (atomic
// pointer swap) and read without locks by shards, the publisher and the admin API.
// Everything a consumer needs to explain a segment is here in raw (original) units.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/feature_vector.h"
#include "core/types.h"

namespace segmentd {

//! What downstream systems do with a segment (config rules, docs/architecture.md, "The model and segments").
struct SegmentPolicy {
  double margin_multiplier = 1.0;       //!< margin engine: × base initial margin
  double quote_width_bps = 0.0;         //!< quoting engine: extra half-spread for this flow
  double max_order_notional_usd = 0.0;  //!< risk desk: 0 = no limit
  bool operator==(const SegmentPolicy&) const = default;
};

//! Decayed standardization, frozen per model version: scaled = (raw − mean) / stddev × weight.
struct Scaler {
  FeatureVector mean{};
  FeatureVector stddev{};  //!< > 0 always (floored)
  FeatureVector weight{};  //!< feature weights from config (0 switches a feature off)
};

struct Segment {
  SegmentId id = kNoSegment;      //!< never reused, never permuted
  std::string label;              //!< from config label rules on centroid_raw
  std::string base_label;         //!< the rule's label, without the "-N" of a second segment with it
  FeatureVector centroid{};       //!< in scaled space (what assignment uses)
  FeatureVector centroid_raw{};   //!< in original units (what people read)
  double weight = 0.0;            //!< decayed count of vectors the centre has absorbed
  std::uint64_t size = 0;         //!< accounts assigned at the last count
  SegmentPolicy policy;           //!< in a calm market
  SegmentPolicy stressed_policy;  //!< while the market regime is stressed (core/market_regime.h)
  SegmentPolicy extreme_policy;   //!< while it is extreme
  //! The policy in force in market regime `r`.
  const SegmentPolicy& policy_in(Regime r) const {
    return r == Regime::kExtreme ? extreme_policy : r == Regime::kStressed ? stressed_policy : policy;
  }
};

struct ModelEvent {
  enum class Kind : std::uint8_t { kBorn, kRetired, kRelabelled };
  Kind kind = Kind::kBorn;
  SegmentId segment = kNoSegment;
  SegmentId parent = kNoSegment;  //!< kBorn by split: the segment it was split from
  std::string label;              //!< new label (born, relabelled)
  std::string previous_label;     //!< relabelled: the old label
  std::string why;                //!< e.g. "warm-up", "split of highest-SSE segment", "weight below reseed_ratio"
};

//! Quality signals of the clusterer (docs/architecture.md, "The model and segments"), exported as metrics.
struct ModelQuality {
  double inertia = 0.0;         //!< decayed mean squared distance to the assigned centre
  double silhouette = 0.0;      //!< on a reservoir sample, [−1, 1]
  double churn_per_hour = 0.0;  //!< share of accounts changing segment per hour of event time
  double centroid_drift = 0.0;  //!< max centre movement since the previous version, scaled units
  double adjusted_rand = 1.0;   //!< ARI between consecutive assignments of the sample
};

//! What the population looks like, for people (the admin API's /v1/overview and /v1/map): computed
//! by the clusterer from its account sample at each quality evaluation and shared by the versions
//! until the next one. Not in checkpoints: a restored model has none until the first evaluation.
struct PopulationSummary {
  static constexpr int kQuantiles = 21;  //!< the 0th, 5th, …, 100th percentiles
  //! quantiles[q][f]: the (5·q)th percentile of raw feature f over the sample.
  std::vector<FeatureVector> quantiles;
  struct Point {
    AccountId account = 0;
    FeatureVector raw{};
  };
  //! Up to kMaxPoints accounts of the sample with their latest raw vectors (a uniform sample: the
  //! bottom-k sketch's order), for a picture of the population.
  static constexpr std::size_t kMaxPoints = 1000;
  std::vector<Point> points;
  std::size_t sample_size = 0;  //!< accounts the quantiles were computed on
};

struct Model {
  std::uint64_t version = 0;  //!< 0 = no model yet (warm-up)
  std::int64_t ts_ns = 0;     //!< event time of the batch that produced it
  Scaler scaler;
  std::vector<Segment> segments;   //!< live segments, ordered by id
  std::vector<ModelEvent> events;  //!< what changed from the previous version
  ModelQuality quality;
  std::uint64_t scaler_version = 0;                     //!< bumped when a version freezes a new Scaler (rescale)
  std::shared_ptr<const PopulationSummary> population;  //!< null until the first quality evaluation

  bool ready() const { return !segments.empty(); }
  const Segment* find(SegmentId id) const {
    for (const auto& s : segments)
      if (s.id == id) return &s;
    return nullptr;
  }
};

using ModelPtr = std::shared_ptr<const Model>;

//! Where the clusterer publishes its model and the shards and the admin API read it: one writer,
//! many readers, a read once per burst of fills (never per fill).
//!
//! A mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12 builds that on a lock bit in the
//! pointer that ThreadSanitizer cannot see, so every model swap was reported as a race, and the
//! tests of a whole pipeline could not run under TSan. An uncontended lock per burst costs
//! nothing measurable next to the burst. The memory_order arguments keep the atomic's interface
//! (the lock is stronger than any of them).
class ModelSlot {
 public:
  ModelSlot() = default;
  explicit ModelSlot(ModelPtr model) : model_(std::move(model)) {}
  ModelSlot(const ModelSlot&) = delete;
  ModelSlot& operator=(const ModelSlot&) = delete;

  ModelPtr load(std::memory_order = std::memory_order_seq_cst) const {
    std::lock_guard<std::mutex> lock(mu_);
    return model_;
  }
  void store(ModelPtr model, std::memory_order = std::memory_order_seq_cst) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      model.swap(model_);
    }
    // The previous model (now in `model`) is released here, outside the lock.
  }

 private:
  mutable std::mutex mu_;
  ModelPtr model_;
};

}  // namespace segmentd
