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
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/account_interner.h"
#include "core/instrument_board.h"
#include "core/instrument_registry.h"
#include "core/price_tape.h"
#include "core/scenario.h"
#include "core/venue_margin_board.h"
#include "protocol/publisher/admin_messages.h"
#include "service/app/console_views.h"
#include "service/app/regime_feed.h"
#include "service/clustering/clusterer_loop.h"
#include "service/config/config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"
#include "service/metrics/exposure_probe.h"
#include "service/metrics/ingest_probe.h"
#include "service/metrics/regime_probe.h"
#include "service/net/console_sessions.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"
#include "service/state/checkpointer.h"

namespace segmentd {

class Publisher;
class JetStreamSink;
class JetStreamProbe;
class AdminServer;
class Metrics;
class IngestProbe;
class ShardProbe;
class ClustererProbe;
class PublisherProbe;
class AdminProbe;
class GapFillProbe;
class NatsSourceProbe;
class LatencyProbe;
class ProcessProbe;
class CheckpointProbe;

//! Records a fill's prices on the tape, then pushes it into its shard. One per source (thread).
//!
//! The checkpoint gate: the checkpointer pauses every sink at a unit boundary
//! (FillSink::begin_unit) to take a consistent cut — what each source pushed before is in the
//! shards, its saved position matches, nothing after. A Dekker handshake on two seq_cst flags: the
//! source raises `busy_` then reads the shared pause flag; the checkpointer raises the pause flag
//! then waits for every `busy_` to fall. Whichever comes second sees the other, so no unit is
//! ever split. Cost outside a checkpoint: two uncontended atomic stores per unit.
class TapeSink final : public FillSink {
 public:
  TapeSink(PriceTape& tape, ShardSet& shards, int producer, const std::atomic<bool>* pause)
      : tape_(tape), shards_(shards), producer_(producer), pause_(pause) {}
  //! The source's probe, fed the venue → receive lag once per venue timestamp (the fills of one
  //! message share it: the probe's "once per message"), not once per fill. Set before the source
  //! starts (its thread then sees it).
  void attach_probe(IngestProbe* probe) { probe_ = probe; }
  //! The options' latest implied vols (shock scenarios), from fills that carry one, and the
  //! venues' open interest, from price records that carry it. Set before the source starts.
  //! And the margins the venues state in their position snapshots (an end of positions').
  void attach_boards(InstrumentBoard* vols, InstrumentBoard* open_interest, VenueMarginBoard* margins) {
    vols_ = vols;
    open_interest_ = open_interest;
    margins_ = margins;
  }
  //! The market-stress regime, fed each price record's index price and a fill's index price at
  //! most once per sample_ns per underlying (ids < underlyings). Set before the source starts.
  void attach_regime(RegimeFeed* regime, std::size_t underlyings, std::int64_t sample_ns) {
    regime_ = regime;
    regime_next_.assign(underlyings, INT64_MIN);
    regime_sample_ns_ = sample_ns;
  }
  bool push(const Fill& fill) override {
    const bool own_unit = depth_ == 0;
    if (own_unit) begin_unit();
    if (fill.is_fill()) {  // a venue position record is no trade: no lag sample, no print
      if (probe_ != nullptr && fill.venue_ns > 0 && fill.venue_ns != last_venue_ns_) {
        last_venue_ns_ = fill.venue_ns;
        probe_->record_lag(fill.venue_ns, fill.recv_ns);
      }
      tape_.record(producer_, fill);
      if (vols_ != nullptr && fill.kind == InstrumentKind::kOption && fill.iv > 0)
        vols_->record(fill.instrument, fill.iv);
      // The regime samples an index price a second: a delta-one fill's index is passed on at
      // most once per sample interval per underlying, so fills rarely take the lock. (An
      // option's underlying_price is the forward of its expiry, not the index: not passed on.)
      if (regime_ != nullptr && fill.kind != InstrumentKind::kOption && std::isfinite(fill.underlying_price) &&
          fill.underlying_price > 0 && fill.underlying < regime_next_.size() &&
          fill.recv_ns >= regime_next_[fill.underlying]) {
        regime_next_[fill.underlying] = fill.recv_ns + regime_sample_ns_;
        regime_->observe(fill.underlying, fill.recv_ns, fill.underlying_price);
      }
    }
    if (fill.record == RecordKind::kPositionsEnd && margins_ != nullptr)
      margins_->record(fill.account, fill.venue, fill.venue_margin_usd());
    if (fill.recv_ns > max_event_local_) {
      max_event_local_ = fill.recv_ns;
      max_event_ns_.store(fill.recv_ns, std::memory_order_relaxed);
    }
    pushes_.store(++pushes_local_, std::memory_order_relaxed);
    const bool ok = shards_.push(producer_, fill);
    if (own_unit) end_unit();
    return ok;
  }
  //! Market data: on the tape (set by no account), and the idle clock moves with it.
  bool push_price(const PriceRecord& price) override {
    const bool own_unit = depth_ == 0;
    if (own_unit) begin_unit();
    tape_.record(producer_, price);
    if (open_interest_ != nullptr && !std::isnan(price.open_interest))
      open_interest_->record(price.instrument, price.open_interest);
    if (regime_ != nullptr && std::isfinite(price.underlying_price) && price.underlying_price > 0)
      regime_->observe(price.underlying, price.recv_ns, price.underlying_price);
    if (price.recv_ns > max_event_local_) {
      max_event_local_ = price.recv_ns;
      max_event_ns_.store(price.recv_ns, std::memory_order_relaxed);
    }
    pushes_.store(++pushes_local_, std::memory_order_relaxed);  // a feed of prices alone is not quiet
    if (own_unit) end_unit();
    return true;
  }
  void begin_unit() override {
    if (depth_++ > 0) return;
    for (;;) {
      busy_.store(true, std::memory_order_seq_cst);
      if (pause_ == nullptr || !pause_->load(std::memory_order_seq_cst)) return;
      busy_.store(false, std::memory_order_seq_cst);
      while (pause_->load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  void end_unit() override {
    if (--depth_ > 0) return;
    busy_.store(false, std::memory_order_release);
  }
  //! The checkpointer: true while the source is inside a unit (it must wait for it to end).
  bool busy() const { return busy_.load(std::memory_order_seq_cst); }
  //! Fills and price records pushed so far, and the latest event time among them (INT64_MIN
  //! before any): the shards' idle clock (Pipeline::idle_clock). Any thread.
  std::uint64_t pushes() const { return pushes_.load(std::memory_order_relaxed); }
  std::int64_t max_event_ns() const { return max_event_ns_.load(std::memory_order_relaxed); }

 private:
  PriceTape& tape_;
  ShardSet& shards_;
  int producer_;
  const std::atomic<bool>* pause_;
  IngestProbe* probe_ = nullptr;
  RegimeFeed* regime_ = nullptr;
  InstrumentBoard* vols_ = nullptr;
  InstrumentBoard* open_interest_ = nullptr;
  VenueMarginBoard* margins_ = nullptr;
  std::vector<std::int64_t> regime_next_;  //!< per underlying: the next fill time whose index is passed on
  std::int64_t regime_sample_ns_ = 0;
  std::int64_t last_venue_ns_ = 0;                                           //!< the source's thread only
  int depth_ = 0;                                                            //!< the source's thread only
  std::uint64_t pushes_local_ = 0;                                           //!< the source's thread only
  std::int64_t max_event_local_ = std::numeric_limits<std::int64_t>::min();  //!< the source's thread only
  std::atomic<bool> busy_{false};
  std::atomic<std::uint64_t> pushes_{0};
  std::atomic<std::int64_t> max_event_ns_{std::numeric_limits<std::int64_t>::min()};
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
  //! Segment exposure (core/segment_exposure.h; GET /v1/risk/exposure and its metrics) and the
  //! shock scenarios (core/scenario.h; GET /v1/risk/scenarios) from one scan of every shard,
  //! reused while younger than `max_age_ns` (0: always a fresh scan). Any thread; callers serialize.
  std::shared_ptr<const ExposureView> exposure_view(std::int64_t max_age_ns = kExposureMaxAgeNs);
  //! The latest exposure scan taken (by exposure_view), without scanning; null before the first.
  std::shared_ptr<const ExposureView> latest_exposure() const;
  //! The market regime the policies follow now (the publisher's; calm without [regime]).
  Regime market_regime() const;
  //! The market-stress regime with names (GET /v1/risk/regime and its metrics); any thread.
  RegimeReport regime_report() const;
  static constexpr std::int64_t kExposureMaxAgeNs = 1'000'000'000;
  //! The Prometheus exposition of this pipeline's metrics (GET /metrics).
  std::string render_metrics();

  // Durable state (core/checkpoint.md, service/state/).
  //! The checkpointer (null when [checkpoint] enabled = false).
  Checkpointer* checkpointer() { return checkpointer_.get(); }
  //! The checkpoint the pipeline started from ("" = none: started empty).
  const std::string& restored_from() const { return restored_from_; }
  //! The directory checkpoints go to ("" when disabled).
  const std::string& state_dir() const { return state_dir_; }
  //! GET /v1/checkpoint's body: directory, interval, what it restored from, counts and the last
  //! write (or `just_written`, POST's own).
  std::string checkpoint_json(const std::optional<CheckpointResult>& just_written) const;
  //! start() failed because no checkpoint was valid and on_invalid = "refuse" (exit status 2).
  bool state_refused() const { return state_refused_; }

 private:
  void on_changes(int shard, std::span<const SegmentChange> changes);
  //! Regime changes become regime_change messages on the publisher's stream, and the policies of
  //! later segment changes follow the market regime (issue 22, item 3).
  void wire_regime_policies();
  void start_probes();
  //! What an idle shard is told the time is (ShardSetConfig::idle_clock): the wall clock, but no
  //! later than the latest event time pushed by a source that is behind (Source::behind: a
  //! stream's backlog, a file) or still pushing (within two markout ticks of wall time). The
  //! markouts due after what such a source has read wait for their prices, so that reading a
  //! backlog (after a restart) gives the values of a run that never stopped; a quiet live feed
  //! leaves the wall clock in charge. On shard `shard`'s thread only (its own memory of what each
  //! source had pushed).
  std::int64_t idle_clock(int shard, std::int64_t wall_ns);
  void on_model(const ModelPtr& model);
  //! Loads the newest valid checkpoint into the components (built, not started). Errors: no
  //! valid checkpoint and on_invalid = "refuse" (FailedPrecondition, every file named).
  absl::Status restore();
  //! Applies a decoded image; the image was validated first, so this does not fail halfway.
  absl::Status apply(const CheckpointImage& image);
  //! Takes the consistent cut (live: sinks paused at unit boundaries, shards drained) and
  //! builds the image.
  //! The cut, into an image; the shards write their records into `file`'s mapping when there is one.
  absl::StatusOr<CheckpointCapture> capture(CheckpointFile* file = nullptr);

  Config config_;
  SourceMaker make_simulator_;
  AccountInterner accounts_;
  InstrumentRegistry instruments_;
  std::unique_ptr<PriceTape> tape_;
  std::unique_ptr<ClustererLoop> clusterer_;
  std::unique_ptr<ShardSet> shards_;
  struct SinkSeen {
    std::uint64_t pushes = 0;
    std::int64_t changed_wall_ns = 0;
  };
  std::vector<std::vector<SinkSeen>> idle_seen_;  //!< [shard][source]: written by that shard's thread only
  std::vector<std::unique_ptr<TapeSink>> sinks_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<JetStreamSink> jetstream_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<ConsoleViews> console_;              //!< with the admin server: /v1/overview, /v1/map
  std::shared_ptr<ConsoleSessions> console_sessions_;  //!< the console's logins, admin and publisher
  // Metrics: this pipeline's own registry (tests run several pipelines in one process). The
  // probes read the components above at scrape time, so they are destroyed first (stop()).
  std::unique_ptr<Metrics> metrics_;
  std::vector<std::unique_ptr<IngestProbe>> ingest_probes_;
  std::vector<std::unique_ptr<GapFillProbe>> gap_fill_probes_;  //!< venue sources only
  std::vector<std::unique_ptr<NatsSourceProbe>> nats_probes_;   //!< nats sources only
  std::unique_ptr<ShardProbe> shard_probe_;
  std::unique_ptr<ClustererProbe> clusterer_probe_;
  std::unique_ptr<PublisherProbe> publisher_probe_;
  std::unique_ptr<JetStreamProbe> jetstream_probe_;
  std::unique_ptr<AdminProbe> admin_probe_;  //!< reads admin_ (reset in stop(), after admin_ stopped)
  std::unique_ptr<LatencyProbe> latency_probe_;
  std::unique_ptr<ProcessProbe> process_probe_;
  std::unique_ptr<CheckpointProbe> checkpoint_probe_;
  std::unique_ptr<ExposureProbe> exposure_probe_;
  std::unique_ptr<RegimeFeed> regime_;  //!< null with [regime] enabled = false
  std::unique_ptr<RegimeProbe> regime_probe_;
  //! The instruments' repricing for a scan (core/scenario.h) at the tape's index prices, the
  //! options' latest vols and the margin multipliers of the regime in force.
  std::shared_ptr<const ScenarioSetup> scenario_setup();
  //! Every [risk] exposure_interval: a fresh exposure scan (what the next `model` message
  //! carries); every [risk] publish_interval: the scenarios of a fresh scan as a `risk` message,
  //! and the dynamic margins they set (core/scenario.h) handed to the publisher.
  void risk_loop();
  void publish_risk(const ExposureView& view);
  std::thread risk_thread_;
  std::mutex risk_mu_;
  std::condition_variable risk_cv_;
  bool risk_stop_ = false;                           //!< guarded by risk_mu_
  std::vector<Shock> shocks_;                        //!< [risk]'s grid
  std::unique_ptr<InstrumentBoard> vols_;            //!< the options' latest implied vols (the sources write)
  std::unique_ptr<InstrumentBoard> open_interest_;   //!< the venues' open interest, base units (the sources write)
  std::unique_ptr<VenueMarginBoard> venue_margins_;  //!< the margins venues state per account (the sources write)
  std::mutex exposure_mu_;                           //!< one scan at a time; guards exposure_ and exposure_taken_ns_
  std::shared_ptr<const ExposureView> exposure_;
  std::int64_t exposure_taken_ns_ = 0;  //!< steady clock
  //! The latest scan again, for readers that must not wait for a scan (a `model` message).
  mutable std::mutex latest_exposure_mu_;
  std::shared_ptr<const ExposureView> latest_exposure_;  //!< guarded by latest_exposure_mu_
  std::int64_t started_ns_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<bool> running_{false};  //!< threads started and not stopped (capture() reads)

  std::atomic<bool> pause_sinks_{false};
  std::unique_ptr<Checkpointer> checkpointer_;
  std::string state_dir_;
  std::string restored_from_;
  bool state_refused_ = false;
  std::uint64_t fingerprint_ = 0;
  std::uint64_t restored_fills_ = 0;  //!< fills processed before the restart (summary totals)

  // The change log: exact segment sizes and each account's recent changes (a bounded ring).
  mutable std::mutex changes_mu_;
  absl::flat_hash_map<SegmentId, std::int64_t> segment_sizes_;  // guarded by changes_mu_
  static constexpr std::size_t kRecentChanges = 1 << 16;        //!< the change log kept for /v1/accounts
  std::deque<SegmentChange> recent_;                            // guarded by changes_mu_
  std::atomic<std::uint64_t> change_count_{0};
  std::atomic<std::uint64_t> move_count_{0};
};

}  // namespace segmentd
