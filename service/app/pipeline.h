#pragma once
// The live service, assembled (docs/architecture.md, "Data flow"): sources → shard threads (features, assignment with
// hysteresis) → clusterer thread (mini-batch k-means, model by atomic swap) → publisher (websocket
// pub/sub) and admin API. `segmentd run` builds one Pipeline; the end-to-end tests build their own.
//
// Ownership and threads:
//  - the Pipeline is owned by one thread (main) that calls start(), stop() and summary();
//  - each source pushes from its own thread through a TapeSink bound to its producer index: the
//    fill's prices go onto the shared price tape first, then the fill into its shard's ring;
//  - shard threads own account state; after each burst they assign the touched accounts against
//    the current model and emit SegmentChanges to the publisher and the change log;
//  - the clusterer thread owns the Clusterer and publishes models;
//  - the publisher and admin server run their own I/O threads.
// stop() stops in that order: sources, shards (drained: nothing accepted is lost), clusterer,
// publisher and admin.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "core/price_tape.h"
#include "protocol/publisher/admin_messages.h"
#include "service/clustering/clusterer_loop.h"
#include "service/config/config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"
#include "service/metrics/ingest_probe.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"

namespace segmentd {

class Publisher;
class AdminServer;
class Metrics;
class IngestProbe;
class ShardProbe;
class ClustererProbe;
class PublisherProbe;
class LatencyProbe;
class ProcessProbe;

//! Records a fill's prices on the tape, then pushes it into its shard. One per source (thread).
class TapeSink final : public FillSink {
 public:
  TapeSink(PriceTape& tape, ShardSet& shards, int producer) : tape_(tape), shards_(shards), producer_(producer) {}
  //! The source's probe, fed the venue → receive lag once per venue timestamp (the fills of one
  //! message share it: the probe's "once per message"), not once per fill. Set before the source
  //! starts (its thread then sees it).
  void attach_probe(IngestProbe* probe) { probe_ = probe; }
  bool push(const Fill& fill) override {
    if (probe_ != nullptr && fill.venue_ns > 0 && fill.venue_ns != last_venue_ns_) {
      last_venue_ns_ = fill.venue_ns;
      probe_->record_lag(fill.venue_ns, fill.recv_ns);
    }
    tape_.record(producer_, fill);
    return shards_.push(producer_, fill);
  }

 private:
  PriceTape& tape_;
  ShardSet& shards_;
  int producer_;
  IngestProbe* probe_ = nullptr;
  std::int64_t last_venue_ns_ = 0;  //!< the source's thread only
};

//! Makes the source of a config entry of kind "simulator" (service/ingest/sim_source, given by
//! main so that tests may run a pipeline without one). Given the shared registries and the sink.
using SourceMaker = std::function<absl::StatusOr<std::unique_ptr<Source>>(const SourceConfig&, AccountInterner&,
                                                                          InstrumentRegistry&, FillSink&)>;

struct PipelineSummary {
  double seconds = 0;       //!< since start
  std::uint64_t fills = 0;  //!< processed by the shards
  std::uint64_t accounts = 0;
  std::uint64_t changes = 0;  //!< segment changes emitted (first assignments included)
  std::uint64_t moves = 0;    //!< changes of accounts that already had a segment
  std::uint64_t model_version = 0;
  std::size_t warmup_progress = 0;  //!< accounts with enough fills, while warming up
  std::size_t warmup_target = 0;
  std::uint64_t parse_errors = 0;
  std::uint64_t ring_full_events = 0;
  std::uint64_t rejected = 0;
  ModelPtr model;
  struct SegmentRow {
    SegmentId id = kNoSegment;
    std::string label;
    std::int64_t accounts = 0;  //!< currently assigned (exact, from the change stream)
    SegmentPolicy policy;
  };
  std::vector<SegmentRow> segments;
  std::vector<std::string> sources;  //!< "name: state" per source
};

class Pipeline {
 public:
  //! `simulator` builds kind = "simulator" sources (null: such sources are a start() error).
  Pipeline(Config config, SourceMaker simulator);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  absl::Status start();
  void stop();  //!< idempotent

  //! All finite sources have finished (replay files, bounded simulations).
  bool sources_finished() const;
  PipelineSummary summary() const;

  ShardSet& shards() { return *shards_; }
  AccountInterner& accounts() { return accounts_; }
  InstrumentRegistry& instruments() { return instruments_; }
  ModelPtr model() const { return clusterer_->model(); }
  Source& source(std::size_t i) { return *sources_[i]; }
  std::size_t source_count() const { return sources_.size(); }
  Publisher* publisher() { return publisher_.get(); }
  AdminServer* admin() { return admin_.get(); }
  //! The current segment of every account that has one (reads each shard on its own thread).
  std::vector<std::pair<AccountId, SegmentId>> assignments();
  //! One account as the admin API shows it; nullopt when unknown.
  std::optional<AccountView> account_view(std::string_view name);
  //! The Prometheus exposition of this pipeline's metrics (GET /metrics).
  std::string render_metrics();

 private:
  void on_changes(int shard, std::span<const SegmentChange> changes);
  void start_probes();
  void on_model(const ModelPtr& model);

  Config config_;
  SourceMaker make_simulator_;
  AccountInterner accounts_;
  InstrumentRegistry instruments_;
  std::unique_ptr<PriceTape> tape_;
  std::unique_ptr<ClustererLoop> clusterer_;
  std::unique_ptr<ShardSet> shards_;
  std::vector<std::unique_ptr<TapeSink>> sinks_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<AdminServer> admin_;
  // Metrics: this pipeline's own registry (tests run several pipelines in one process). The
  // probes read the components above at scrape time, so they are destroyed first (stop()).
  std::unique_ptr<Metrics> metrics_;
  std::vector<std::unique_ptr<IngestProbe>> ingest_probes_;
  std::unique_ptr<ShardProbe> shard_probe_;
  std::unique_ptr<ClustererProbe> clusterer_probe_;
  std::unique_ptr<PublisherProbe> publisher_probe_;
  std::unique_ptr<LatencyProbe> latency_probe_;
  std::unique_ptr<ProcessProbe> process_probe_;
  std::int64_t started_ns_ = 0;
  bool started_ = false;
  bool stopped_ = false;

  // The change log: exact segment sizes and each account's recent changes (a bounded ring).
  mutable std::mutex changes_mu_;
  absl::flat_hash_map<SegmentId, std::int64_t> segment_sizes_;  // guarded by changes_mu_
  std::deque<SegmentChange> recent_;                            // guarded by changes_mu_
  std::atomic<std::uint64_t> change_count_{0};
  std::atomic<std::uint64_t> move_count_{0};
};

}  // namespace segmentd
