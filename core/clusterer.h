#pragma once
// The online clusterer (docs/architecture.md, "The model and segments"): mini-batch k-means (Sculley 2010) on
// standardized features, with per-centre weights that forget in event time (half-life), a k-means++ warm start on an
// account sample, dying clusters replaced by splitting the highest-SSE cluster, segment ids that are
// never reused nor permuted, labels and policy from config rules, and quality signals.
//
// Update rule. Per batch, with a = 2^(−Δt / half_life) the forgetting since the previous batch,
// every centre's weight w becomes a·w, then each vector of the batch is assigned to its nearest
// centre c (scaled space, frozen Scaler) and c ← (a·w·c + Σx) / (a·w + m), w ← a·w + m, m being
// the number of vectors the centre got. This is Sculley's per-vector 1/count step applied to a
// whole batch (identical when every vector goes to its pre-update nearest centre), which makes the
// result independent of the order within the batch up to floating-point summation order, and
// that order is fixed by sorting the batch by account id (canonicalize_batch). Centres live in raw
// units; each published Model carries them scaled with the Scaler it freezes.
//
// Scaler. The decayed per-feature statistics run continuously; a new Scaler is frozen only at a
// model version, and only when it drifted by more than `rescale_tolerance` (Model::scaler_version
// counts them). Raw centroids do not move on a rescale; distances do, consistently for everyone
// using the same Model.
//
// Dying clusters. After each batch a centre whose weight is below reseed_ratio × the largest weight
// (and older than one half-life, so a newborn is not judged before it had a chance to collect
// vectors) is retired; the live centre with the largest decayed SSE is split along its principal
// direction (power iteration on the sample's and the batch's vectors nearest to it): the parent
// keeps its id and moves to c + δv, the newborn gets a fresh id at c − δv, δ = 0.8·σ along v (the
// mean of a half-normal). Both are ModelEvents of the next version.
//
// Restarts. Mini-batch k-means does not leave a local optimum on its own (e.g. one centre holding
// two archetypes while another archetype is cut in two), and the warm start ran on young accounts
// whose features had not settled. So every `restart_interval` of event time, k-means (best of
// `seeds` k-means++ starts) runs afresh on the account sample — one vote per account, whatever its
// activity — and its solution replaces the model's centres when its inertia on the sample is lower
// than theirs by more than `restart_gain` (relative). Ids survive: a fresh cluster whose sample
// members are mostly (> half) those of one current segment inherits that segment's id (the centre
// moves); current segments inheriting nothing are retired and the remaining fresh clusters are born
// with new ids, each one a ModelEvent ("restart"). Weights and SSE of the new centres are the
// current total weight shared in proportion to their sample members.
//
// Determinism. The same config, seed and sequence of (batch, now) give byte-identical models on
// any machine with the same libm, whatever the order inside a batch or how it was assembled from
// shards. All randomness comes from the clusterer's own Rng.
//
// Threading: owned by the clusterer thread. The returned ModelPtr is immutable and may be published
// to any number of readers (shards swap it in atomically).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "core/account_sample.h"
#include "core/assigner.h"
#include "core/feature_vector.h"
#include "core/kmeans.h"
#include "core/labels.h"
#include "core/model.h"
#include "core/quality.h"
#include "core/rng.h"
#include "core/standardizer.h"
#include "core/types.h"

namespace segmentd {

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000LL;

//! One account's latest vector in a batch (docs/architecture.md, "Data flow": each account once per batch).
struct BatchItem {
  AccountId account = 0;
  std::uint32_t fills = 0;  //!< the account's fill count so far (gates warm-up and training)
  FeatureVector raw{};
};

struct ClustererConfig {
  int k = 8;
  //! Batch closing rule for the loop that feeds update(); update() itself takes any batch.
  std::size_t batch_size = 1024;
  std::int64_t batch_interval_ns = kNanosPerSecond / 10;
  //! Warm-up: no model until this many accounts with at least min_fills fills were seen.
  std::size_t min_accounts = 1000;
  std::uint32_t min_fills = 5;  //!< vectors of accounts with fewer fills are not learned from
  //! Event-time half-life of the centres' weights; ≤ 0 turns forgetting off (explicitly).
  std::int64_t half_life_ns = 3600 * kNanosPerSecond;
  std::int64_t scaler_half_life_ns = 4 * 3600 * kNanosPerSecond;
  double rescale_tolerance = 0.05;
  //! A centre whose weight (votes) falls under this share of the largest is retired and the
  //! highest-SSE one split.
  double reseed_ratio = 0.005;
  //! One vote per account, whatever its activity: a batch vector weighs min(Δt, vote_horizon) /
  //! vote_horizon in the centres, their weights and SSE and the standardizer, Δt being the event
  //! time since the account's previous vector (a first vector weighs 1). Without it an HFT account
  //! that is in every batch would count ten thousand times a hedger that trades twice an hour.
  //! ≤ 0 gives every vector weight 1.
  std::int64_t vote_horizon_ns = 900 * kNanosPerSecond;
  //! Event time between restarts (k-means afresh on the sample, see above); ≤ 0 switches them off.
  std::int64_t restart_interval_ns = 900 * kNanosPerSecond;
  //! A restart is adopted when its sample inertia is below (1 − restart_gain) × the model's.
  double restart_gain = 0.05;
  int seeds = 4;               //!< k-means++ restarts at warm-up; best inertia wins
  int warmup_iterations = 50;  //!< Lloyd iterations per seed at warm-up
  std::size_t sample_size = 4096;
  std::int64_t sample_ttl_ns = 4 * 3600 * kNanosPerSecond;  //!< 0 = sample entries never expire
  std::uint64_t seed = 1;
  //! A new Model is published at least this often while batches arrive, and always on events.
  std::int64_t publish_interval_ns = kNanosPerSecond;
  std::int64_t quality_interval_ns = 10 * kNanosPerSecond;
  std::size_t silhouette_points = 256;  //!< O(n²): silhouette cost per quality evaluation
  FeatureVector feature_weights = StandardizerConfig::filled(1.0);
  FeatureVector min_stddev = StandardizerConfig::filled(1e-2);
  LabelRules labels = default_label_rules();
  PolicyRules policies = default_policy_rules();
  AssignerConfig assigner;  //!< hysteresis for the shards; carried here so one config holds §4
};

//! InvalidArgument naming the first bad field.
absl::Status validate(const ClustererConfig& config);

//! Sorts by account and keeps one item per account: the one with the most fills (ties, which a
//! correct shard never produces, go to the lexicographically larger vector, so that even then the
//! result does not depend on the input order). Items with non-finite features are dropped.
//! Returns the number of items dropped.
std::size_t canonicalize_batch(std::vector<BatchItem>& items);

//! Plain-data state of one centre.
struct CentreState {
  SegmentId id = kNoSegment;
  FeatureVector raw{};  //!< centroid, raw units
  double weight = 0.0;  //!< decayed sum of the votes of absorbed vectors
  double sse = 0.0;     //!< decayed Σ d² (scaled) of absorbed vectors
  std::int64_t born_ns = 0;
  std::string base_label;  //!< rule label
  std::string label;       //!< unique label (base + suffix)
  std::uint64_t size = 0;  //!< estimated accounts, from the last quality evaluation
};

//! Everything the clusterer needs to continue exactly where it stopped (checkpoints).
//! Plain data: the checkpoint writer serializes the fields it sees.
//! Each account's last vote time (Clusterer's vote weights): a dense array by account id, since
//! ids are dense from 0 (the interner's), and a hash map for ids past kDenseIds. Reading and
//! writing one account is an array access; a hash map here cost most of an update() when every
//! batch brought new accounts (bench/README.md, "Clusterer vs scikit-learn").
class LastVotes {
 public:
  static constexpr std::int64_t kNever = INT64_MIN;
  static constexpr AccountId kDenseIds = AccountId{1} << 24;

  //! Records `now_ns` as account `a`'s vote time and returns the previous one (kNever if none).
  std::int64_t exchange(AccountId a, std::int64_t now_ns);
  //! Forgets every vote older than `cutoff_ns`.
  void erase_before(std::int64_t cutoff_ns);
  //! Every recorded vote, by account.
  std::vector<std::pair<AccountId, std::int64_t>> sorted() const;
  std::size_t size() const { return count_; }

 private:
  std::vector<std::int64_t> dense_;  //!< by account id below kDenseIds; kNever where none
  absl::flat_hash_map<AccountId, std::int64_t> sparse_;
  std::size_t count_ = 0;
};

struct ClustererState {
  std::uint32_t format_version = 1;
  bool warm = false;
  bool started = false;
  SegmentId next_id = 1;      //!< id allocator: ids below it were handed out, never again
  std::uint64_t version = 0;  //!< last published model version
  std::uint64_t scaler_version = 0;
  std::int64_t ts_ns = 0;  //!< event time of the last update
  std::int64_t last_publish_ns = 0;
  std::int64_t last_quality_ns = 0;
  std::int64_t last_restart_ns = 0;
  Rng::State rng{};
  StandardizerState standardizer;
  Scaler scaler;                     //!< frozen scaler of the last published model
  std::vector<CentreState> centres;  //!< ordered by id
  std::vector<SampleEntry> sample;
  std::vector<AccountId> warmup_accounts;                     //!< sorted; empty once warm
  std::vector<std::pair<AccountId, std::int64_t>> last_vote;  //!< sorted by account
  DecayedInertia inertia;
  ModelQuality quality;
  std::vector<ModelEvent> pending_events;                      //!< not yet published
  std::vector<std::pair<SegmentId, FeatureVector>> published;  //!< raw centroids of the last model
};

//! Counters for the clusterer probe.
struct ClustererStats {
  std::uint64_t updates = 0;
  std::uint64_t items_learned = 0;
  std::uint64_t items_few_fills = 0;  //!< below min_fills: not learned from
  std::uint64_t items_dropped = 0;    //!< duplicates of an account in one batch, non-finite
  std::uint64_t born = 0;
  std::uint64_t retired = 0;
  std::uint64_t relabelled = 0;
  std::uint64_t rescales = 0;
  std::uint64_t restarts_tried = 0;
  std::uint64_t restarts_adopted = 0;
  std::uint64_t models_published = 0;
};

class Clusterer {
 public:
  explicit Clusterer(ClustererConfig config);
  //! Continues from a checkpointed state (the config must be the one it ran with, or a compatible
  //! one: k, weights and rules may change; the next publish applies them).
  //! `published`, when given, is the model last published before the checkpoint (restored as is:
  //! its events and quality included); otherwise the model is assembled from the state.
  Clusterer(ClustererConfig config, const ClustererState& state, ModelPtr published = nullptr);

  //! Learns from one batch closed at event time now_ns (monotone; an earlier time is taken as the
  //! previous one). Returns the current model: a new version when one was published, else the
  //! same pointer as before. Before warm-up completes, an empty model with version 0.
  ModelPtr update(std::span<const BatchItem> batch, std::int64_t now_ns);

  ModelPtr model() const { return model_; }
  bool warm() const { return warm_; }
  std::size_t warmup_progress() const { return warmup_accounts_.size(); }
  const ClustererStats& stats() const { return stats_; }
  const ClustererConfig& config() const { return config_; }

  ClustererState state() const;

 private:
  void warm_start(std::int64_t now_ns);
  void train(std::int64_t now_ns);
  void retire_and_split(std::int64_t now_ns);
  void maybe_restart(std::int64_t now_ns);
  void split(std::size_t parent, std::int64_t now_ns);
  void publish(std::int64_t now_ns);
  std::shared_ptr<Model> assemble() const;
  std::vector<FeatureVector> scaled_centres() const;

  ClustererConfig config_;
  Rng rng_;
  Standardizer standardizer_;
  AccountSample sample_;
  Scaler scaler_;
  std::uint64_t scaler_version_ = 0;
  std::vector<CentreState> centres_;
  SegmentId next_id_ = 1;
  std::uint64_t version_ = 0;
  bool warm_ = false;
  bool started_ = false;
  std::int64_t ts_ns_ = 0;
  std::int64_t last_publish_ns_ = 0;
  std::int64_t last_quality_ns_ = 0;
  std::int64_t last_restart_ns_ = 0;
  absl::flat_hash_set<AccountId> warmup_accounts_;  //!< counted only, never iterated into output
  //! Event time of each account's previous batch vector (vote weights); entries older than
  //! sample_ttl are dropped at quality evaluations. Lookup only, never iterated into output.
  LastVotes last_vote_;
  DecayedInertia inertia_;
  ModelQuality quality_;
  std::shared_ptr<const PopulationSummary> population_;  //!< from the last quality evaluation
  std::vector<ModelEvent> pending_events_;
  std::vector<std::pair<SegmentId, FeatureVector>> published_;
  ModelPtr model_;
  ClustererStats stats_;

  // Scratch buffers reused across batches (no allocation in steady state).
  std::vector<BatchItem> batch_;
  std::vector<double> votes_;  //!< weight of each batch item
  std::vector<int> nearest_;   //!< centre index of each batch item (−1: its centre was retired)
  CentreTable table_;
  std::vector<FeatureVector> sums_;
  std::vector<double> counts_;
};

}  // namespace segmentd
