#include "service/app/pipeline.h"
#include "protocol/venues/registry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "service/admin/admin_server.h"
#include "service/base/log.h"
#include "service/ingest/ingest_server.h"
#include "service/ingest/nats_source.h"
#include "service/ingest/replay_source.h"
#include "service/ingest/venue_source.h"
#include "service/metrics/admin_probe.h"
#include "service/metrics/checkpoint_probe.h"
#include "service/metrics/clusterer_probe.h"
#include "service/metrics/gap_fill_probe.h"
#include "service/metrics/ingest_probe.h"
#include "service/metrics/latency_probe.h"
#include "service/metrics/metrics.h"
#include "service/metrics/nats_source_probe.h"
#include "service/metrics/process_probe.h"
#include "service/metrics/publisher_probe.h"
#include "service/metrics/shard_probe.h"
#include "service/publisher/jetstream_sink.h"
#include "service/publisher/publisher.h"
#include "service/state/config_fingerprint.h"

namespace segmentd {
namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Pipeline::Pipeline(Config config, SourceMaker simulator)
    : config_(std::move(config)),
      make_simulator_(std::move(simulator)),
      instruments_(parse_symbol, config_.contracts, config_.spot_pairs) {}

Pipeline::~Pipeline() { stop(); }

absl::Status Pipeline::start() {
  if (started_) return absl::FailedPreconditionError("pipeline already started");
  started_ = true;
  started_ns_ = wall_ns();
  const int producers = std::max<int>(1, static_cast<int>(config_.sources.size()));

  tape_ = std::make_unique<PriceTape>(config_.features.tape_instruments, config_.features.tape_underlyings, producers,
                                      config_.features.markout_tick_ns);
  vols_ = std::make_unique<InstrumentBoard>(config_.features.tape_instruments);
  open_interest_ = std::make_unique<InstrumentBoard>(config_.features.tape_instruments);
  venue_margins_ = std::make_unique<VenueMarginBoard>();
  shocks_ = shock_grid(config_.risk);

  ClustererLoopOptions lo;
  lo.config = config_.clusterer;
  lo.shards = config_.shards.shards;
  lo.on_model = [this](const ModelPtr& model, const ClustererStats&, double seconds, std::size_t items) {
    if (clusterer_probe_) clusterer_probe_->record_batch(items, static_cast<std::int64_t>(seconds * 1e9));
    if (model) on_model(model);
  };
  clusterer_ = std::make_unique<ClustererLoop>(std::move(lo));

  ShardSetConfig sc;
  sc.shards = config_.shards.shards;
  sc.producers = producers;
  sc.ring_capacity = config_.shards.ring_capacity;
  sc.full_policy = config_.shards.full_policy;
  sc.idle_clock = [this](int shard, std::int64_t wall_ns) { return idle_clock(shard, wall_ns); };
  idle_seen_.assign(static_cast<std::size_t>(sc.shards), std::vector<SinkSeen>(static_cast<std::size_t>(producers)));
  std::vector<std::unique_ptr<ShardHandler>> handlers;
  for (int s = 0; s < sc.shards; ++s) {
    AccountShardOptions o;
    o.params = config_.features.params;
    o.tape = tape_.get();
    o.auto_resolve = true;
    o.markout_tick_ns = config_.features.markout_tick_ns;
    o.model = &clusterer_->model_slot();
    o.assigner = config_.clusterer.assigner;
    o.max_accounts = per_shard_max_accounts(config_.shards.max_accounts, sc.shards);
    o.instrument_of = [this](InstrumentId id) {
      const Instrument& ins = instruments_.get(id);
      return InstrumentScope{ins.venue, ins.kind, ins.inverse};
    };
    o.on_batch = [this](int shard, std::span<const TouchedAccount> touched) {
      clusterer_->offer(shard, touched);
      // On the shard's own thread, so its handler may be read here.
      if (shard_probe_)
        shard_probe_->record_accounts(shard, static_cast<AccountShard&>(shards_->handler(shard)).store().size());
    };
    o.on_changes = [this](int shard, std::span<const SegmentChange> changes) { on_changes(shard, changes); };
    handlers.push_back(std::make_unique<AccountShard>(s, std::move(o)));
  }
  shards_ = std::make_unique<ShardSet>(sc, std::move(handlers));

  // Sources, each with its own producer index.
  for (int p = 0; p < producers; ++p) {
    sinks_.push_back(std::make_unique<TapeSink>(*tape_, *shards_, p, &pause_sinks_));
    sinks_.back()->attach_boards(vols_.get(), open_interest_.get(), venue_margins_.get());
  }
  if (config_.regime_enabled) {
    regime_ = std::make_unique<RegimeFeed>(config_.regime, [this](UnderlyingId u) {
      return u < instruments_.underlying_count() ? instruments_.underlying_name(u) : std::string("?");
    });
    for (auto& sink : sinks_)
      sink->attach_regime(regime_.get(), config_.features.tape_underlyings, config_.regime.sample_ns);
  }
  for (std::size_t i = 0; i < config_.sources.size(); ++i) {
    const SourceConfig& sc_i = config_.sources[i];
    FillSink& sink = *sinks_[i];
    switch (sc_i.kind) {
      case SourceKind::kVenue: {
        AdapterContext ctx;
        ctx.accounts = &accounts_;
        ctx.instruments = &instruments_;
        sources_.push_back(std::make_unique<VenueSource>(sc_i, ctx, sink));
        break;
      }
      case SourceKind::kIngest:
        sources_.push_back(std::make_unique<IngestServer>(sc_i, accounts_, instruments_, sink));
        break;
      case SourceKind::kReplay:
        sources_.push_back(std::make_unique<ReplaySource>(sc_i, accounts_, instruments_, sink));
        break;
      case SourceKind::kSimulator: {
        if (!make_simulator_)
          return absl::InvalidArgumentError(str_cat("source '", sc_i.name, "': this binary has no simulator"));
        auto src = make_simulator_(sc_i, accounts_, instruments_, sink);
        if (!src.ok()) return src.status();
        sources_.push_back(*std::move(src));
        break;
      }
      case SourceKind::kNats:
        sources_.push_back(std::make_unique<NatsSource>(sc_i, accounts_, instruments_, sink));
        break;
    }
    sources_.back()->set_checkpointed(config_.checkpoint.enabled);
  }

  // The hub numbers every message for the websocket subscribers and the JetStream sink alike:
  // with [publisher] off and [jetstream] on, it runs without its websocket server.
  if (config_.publisher.enabled || config_.jetstream.enabled())
    publisher_ = std::make_unique<Publisher>(config_.publisher, accounts_);
  // Durable state: everything is built and nothing runs yet, so the checkpoint loads into
  // components no thread touches.
  fingerprint_ = config_fingerprint(config_);
  if (config_.checkpoint.enabled) {
    state_dir_ = checkpoint_directory(config_.checkpoint);
    if (absl::Status st = restore(); !st.ok()) return st;
  }
  if (publisher_) wire_regime_policies();
  // Built before the admin server starts (its handlers read the pointer from their thread);
  // its thread starts once everything runs.
  if (config_.checkpoint.enabled) {
    checkpointer_ = std::make_unique<Checkpointer>(
        CheckpointDirectory(state_dir_, config_.checkpoint.keep), config_.checkpoint.interval_ns,
        [this](CheckpointFile& file) { return capture(&file); },
        [this](const CheckpointResult& r) {
          // What the file holds is durable: sources that acknowledge upstream do so now.
          if (r.ok)
            for (auto& source : sources_) source->checkpoint_committed();
          if (!checkpoint_probe_) return;
          if (r.ok)
            checkpoint_probe_->record_success(static_cast<std::int64_t>(r.seconds * 1e9), r.bytes, r.accounts,
                                              r.cut_seconds);
          else
            checkpoint_probe_->record_failure();
        });
  }
  if (config_.admin.enabled) {
    console_ = std::make_unique<ConsoleViews>(accounts_);
    console_sessions_ = std::make_shared<ConsoleSessions>();
  }
  if (publisher_ && config_.publisher.enabled) {
    // The console's live feed is the publisher's stream, opened with the console's login.
    if (console_sessions_) publisher_->set_console_sessions(console_sessions_);
    if (auto st = publisher_->start(); !st.ok()) return st;
  }
  if (config_.jetstream.enabled()) {
    jetstream_ = std::make_unique<JetStreamSink>(config_.jetstream, publisher_->hub());
    if (auto st = jetstream_->start(); !st.ok()) return st;
  }
  start_probes();
  if (config_.admin.enabled) {
    AdminHandlers h;
    h.model = [this] { return clusterer_->model(); };
    h.account = [this](std::string_view name) { return account_view(name); };
    h.metrics = [this] { return render_metrics(); };
    h.readiness = [this] {
      std::vector<ReadinessCheck> checks;
      ModelPtr m = clusterer_->model();
      checks.push_back({"model", m && m->ready(),
                        m && m->ready() ? str_cat("version ", m->version, ", ", m->segments.size(), " segments")
                                        : str_cat("warming up: ", clusterer_->warmup_progress(), "/",
                                                  config_.clusterer.min_accounts, " accounts")});
      std::size_t live = 0;
      for (const auto& s : sources_) live += (SourceStats::get(s->stats().fills) > 0 || s->finished()) ? 1 : 0;
      checks.push_back({"sources", live == sources_.size(), str_cat(live, "/", sources_.size(), " delivering fills")});
      return checks;
    };
    if (config_.checkpoint.enabled) {
      h.checkpoint_status = [this] { return checkpoint_json(std::nullopt); };
      h.checkpoint_now = [this](AdminHandlers::CheckpointDone done) {
        Checkpointer* c = checkpointer_.get();
        if (c == nullptr) return done(false, R"({"error":"the service is starting"})");
        c->request([this, done = std::move(done)](const CheckpointResult& r) { done(r.ok, checkpoint_json(r)); });
      };
    }
    h.console_sessions = console_sessions_;
    if (publisher_ && config_.publisher.enabled) {
      h.publisher_port = publisher_->port();
      h.publisher_tls = !config_.publisher.listen.tls_cert.empty();
    }
    h.overview = [this, readiness = h.readiness, port = h.publisher_port, tls = h.publisher_tls] {
      ModelPtr model = clusterer_->model();
      Overview o;
      o.model = model.get();
      o.checks = readiness();
      for (const auto& s : sources_) o.fills_total += SourceStats::get(s->stats().fills);
      o.fills_per_second = console_->fills_per_second(o.fills_total);
      o.accounts = accounts_.size();
      o.publisher_enabled = port != 0;
      o.publisher_port = port;
      o.publisher_tls = tls;
      if (publisher_) o.publisher_seq = publisher_->stats().last_seq;
      o.history = console_->history();
      std::string body;
      adminmsg::append_overview(body, o);
      return body;
    };
    h.exposure_view = [this] { return exposure_view(); };
    h.exposure = [this] {
      std::shared_ptr<const ExposureView> view = exposure_view();
      if (!view) return std::string();
      ModelPtr model = clusterer_->model();
      std::string body;
      adminmsg::append_exposure(body, *view, model.get());
      return body;
    };
    h.scenarios = [this] {
      std::shared_ptr<const ExposureView> view = exposure_view();
      if (!view || !view->scenarios) return std::string();
      ModelPtr model = clusterer_->model();
      std::string body;
      adminmsg::append_scenarios(body, *view->scenarios, model.get());
      return body;
    };
    if (regime_) {
      h.regime = [this] {
        std::string body;
        adminmsg::append_regime(body, regime_report());
        return body;
      };
    }
    h.map = [this] {
      ModelPtr model = clusterer_->model();
      std::string body;
      adminmsg::append_map(body, console_->map(model), model.get());
      return body;
    };
    admin_ = std::make_unique<AdminServer>(config_.admin, std::move(h));
    if (auto st = admin_->start(); !st.ok()) return st;
    admin_probe_ = std::make_unique<AdminProbe>(*metrics_);
    AdminServer* admin = admin_.get();
    admin_probe_->sample_from([admin] {
      const AdminStats st = admin->stats();
      return AdminSample{st.connections, st.auth_failures, st.over_capacity, st.evicted};
    });
  }

  clusterer_->start();
  shards_->start();
  running_.store(true, std::memory_order_release);
  for (auto& s : sources_) {
    if (auto st = s->start(); !st.ok())
      return absl::Status(st.code(), str_cat("source '", s->name(), "': ", st.message()));
  }
  if (checkpointer_) checkpointer_->start();
  if (publisher_ && (config_.risk.publish_interval_ns > 0 || config_.risk.exposure_interval_ns > 0))
    risk_thread_ = std::thread([this] { risk_loop(); });
  return absl::OkStatus();
}

void Pipeline::start_probes() {
  metrics_ = std::make_unique<Metrics>();
  for (const auto& src : sources_) {
    std::string venue = "native";
    for (const auto& sc : config_.sources)
      if (sc.name == src->name())
        venue = sc.kind == SourceKind::kVenue ? std::string(to_string(sc.venue)) : std::string(to_string(sc.kind));
    auto probe = std::make_unique<IngestProbe>(*metrics_, std::string(src->name()), venue);
    const Source* s = src.get();
    probe->sample_from([s] {
      const SourceStats& st = s->stats();
      IngestSample x;
      x.messages = SourceStats::get(st.messages);
      x.bytes = SourceStats::get(st.bytes);
      x.fills = SourceStats::get(st.fills);
      x.prices = SourceStats::get(st.prices);
      x.positions = SourceStats::get(st.positions);
      x.position_snapshots = SourceStats::get(st.position_snapshots);
      x.position_snapshot_failures = SourceStats::get(st.position_snapshot_failures);
      const std::uint64_t connects = SourceStats::get(st.connects);
      x.reconnects = connects > 0 ? connects - 1 : 0;
      x.duplicates = SourceStats::get(st.duplicates);
      x.auth_failures = SourceStats::get(st.auth_failures);
      for (int r = 0; r < kParseErrorReasonCount; ++r) x.parse_errors[r] = SourceStats::get(st.errors[r]);
      x.connected = connects > SourceStats::get(st.disconnects) || (connects == 0 && x.fills > 0);
      return x;
    });
    ingest_probes_.push_back(std::move(probe));
    if (const auto* venue_source = dynamic_cast<const VenueSource*>(s)) {
      auto gap = std::make_unique<GapFillProbe>(*metrics_, std::string(src->name()), venue);
      gap->sample_from([venue_source] {
        const GapFillStats& g = venue_source->gap_fill_stats();
        GapFillSample x;
        x.runs = GapFillStats::get(g.runs);
        x.completed = GapFillStats::get(g.completed);
        x.requests = GapFillStats::get(g.requests);
        x.records = GapFillStats::get(g.records);
        x.http_errors = GapFillStats::get(g.http_errors);
        x.rate_limited = GapFillStats::get(g.rate_limited);
        x.bad_responses = GapFillStats::get(g.bad_responses);
        return x;
      });
      gap_fill_probes_.push_back(std::move(gap));
    }
    if (const auto* nats = dynamic_cast<const NatsSource*>(s)) {
      auto probe_n = std::make_unique<NatsSourceProbe>(*metrics_, std::string(src->name()));
      probe_n->sample_from([nats] {
        return NatsSourceSample{nats->pending(), nats->read_seq(), nats->acked_seq(), nats->behind()};
      });
      nats_probes_.push_back(std::move(probe_n));
    }
  }
  // One sink per source, in the same order.
  for (std::size_t i = 0; i < sources_.size() && i < sinks_.size(); ++i)
    sinks_[i]->attach_probe(ingest_probes_[i].get());
  shard_probe_ = std::make_unique<ShardProbe>(
      *metrics_, shards_->shards(), static_cast<std::size_t>(shards_->producers()) * config_.shards.ring_capacity);
  shard_probe_->attach(shards_.get());
  shard_probe_->set_max_accounts(per_shard_max_accounts(config_.shards.max_accounts, shards_->shards()));
  ShardSet* shards = shards_.get();
  // The shards' own atomics, read on the scraping thread (the handlers outlive the probe).
  shard_probe_->sample_refused(
      [shards](int shard) { return static_cast<const AccountShard&>(shards->handler(shard)).refused_fills(); });
  shard_probe_->sample_overflow([shards](int shard, int kind) {
    return static_cast<const AccountShard&>(shards->handler(shard)).overflow_count(kind);
  });
  shard_probe_->sample_reconcile(
      [shards](int shard) { return static_cast<const AccountShard&>(shards->handler(shard)).reconcile_stats(); });
  shard_probe_->sample_markouts_priced([shards](int shard, int kind) {
    return static_cast<const AccountShard&>(shards->handler(shard)).markouts_priced(kind);
  });
  clusterer_probe_ = std::make_unique<ClustererProbe>(*metrics_, shards_->shards());
  latency_probe_ = std::make_unique<LatencyProbe>(*metrics_);
  if (config_.checkpoint.enabled) checkpoint_probe_ = std::make_unique<CheckpointProbe>(*metrics_);
  process_probe_ = std::make_unique<ProcessProbe>(*metrics_, SEGMENTD_VERSION);
  if (regime_) regime_probe_ = std::make_unique<RegimeProbe>(*metrics_, [this] { return regime_report(); });
  exposure_probe_ = std::make_unique<ExposureProbe>(
      *metrics_, [this] { return std::make_pair(exposure_view(), clusterer_ ? clusterer_->model() : nullptr); });
  if (publisher_) {
    publisher_probe_ = std::make_unique<PublisherProbe>(*metrics_);
    Publisher* pub = publisher_.get();
    publisher_probe_->sample_from([pub] {
      const PublisherStats st = pub->stats();
      PublisherSample x;
      x.subscribers = st.subscribers;
      x.connections = st.connections;
      x.queued_bytes = st.queued_bytes;
      x.slow_consumer_closes = st.slow_consumer_closes;
      x.rejected_connections = st.rejected_connections;
      x.auth_failures = st.auth_failures;
      x.snapshots = st.snapshots;
      x.replays = st.replays;
      x.messages_published = st.messages_published;
      x.last_seq = st.last_seq;
      x.ring_first_seq = st.ring_first_seq;
      x.ring_size = st.ring_size;
      x.catch_ups = st.catch_ups;
      return x;
    });
  }
  if (jetstream_) {
    jetstream_probe_ = std::make_unique<JetStreamProbe>(*metrics_);
    JetStreamSink* sink = jetstream_.get();
    jetstream_probe_->sample_from([sink] {
      const JetStreamStats st = sink->stats();
      JetStreamSample x;
      x.connected = st.connected;
      x.messages = st.messages;
      x.published_seq = st.published_seq;
      x.failed_rounds = st.failed_rounds;
      x.gap_messages = st.gap_messages;
      x.skipped = st.skipped;
      x.queued_bytes = st.queued_bytes;
      return x;
    });
  }
}

std::string Pipeline::render_metrics() { return metrics_ ? metrics_->render() : std::string(); }

void Pipeline::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  if (risk_thread_.joinable()) {  // before the last checkpoint: what it publishes is in it
    {
      const std::lock_guard lock(risk_mu_);
      risk_stop_ = true;
    }
    risk_cv_.notify_all();
    risk_thread_.join();
  }
  if (admin_) admin_->stop();  // no scrape runs while the probes go away
  if (checkpointer_) checkpointer_->stop();
  for (auto& s : sources_) s->stop();
  // The last checkpoint: the sources stopped, so it holds everything they delivered (a restart
  // resumes each one exactly there).
  if (checkpointer_ && running_.load()) checkpointer_->write_now("shutdown");
  running_.store(false, std::memory_order_release);
  if (shards_) shards_->stop();
  if (clusterer_) clusterer_->stop();
  // After the last publish: the sink sends what the hub holds before it goes.
  jetstream_probe_.reset();
  if (jetstream_) jetstream_->stop();
  if (publisher_) publisher_->stop();
  publisher_probe_.reset();
  admin_probe_.reset();
  shard_probe_.reset();
  checkpoint_probe_.reset();
  exposure_probe_.reset();
  regime_probe_.reset();
  ingest_probes_.clear();
  gap_fill_probes_.clear();
  nats_probes_.clear();
}

std::int64_t Pipeline::idle_clock(int shard, std::int64_t wall_ns) {
  std::vector<SinkSeen>& seen = idle_seen_[static_cast<std::size_t>(shard)];
  const std::int64_t quiet_ns = std::max<std::int64_t>(2 * config_.features.markout_tick_ns, 1'000'000'000);
  std::int64_t t = wall_ns;
  for (std::size_t i = 0; i < sinks_.size() && i < seen.size(); ++i) {
    const std::uint64_t pushes = sinks_[i]->pushes();
    if (pushes != seen[i].pushes) seen[i] = {pushes, wall_ns};
    const bool behind = i < sources_.size() && sources_[i]->behind();
    if (behind || (pushes > 0 && wall_ns - seen[i].changed_wall_ns < quiet_ns))
      t = std::min(t, sinks_[i]->max_event_ns());  // INT64_MIN before its first push: wait for it
  }
  return std::max<std::int64_t>(t, 0);
}

bool Pipeline::sources_finished() const {
  if (sources_.empty()) return false;
  for (const auto& s : sources_)
    if (!s->finished()) return false;
  return true;
}

void Pipeline::on_changes(int shard, std::span<const SegmentChange> changes) {
  if (changes.empty()) return;
  if (clusterer_probe_) clusterer_probe_->record_segment_changes(shard, changes.size());
  {
    std::lock_guard<std::mutex> lock(changes_mu_);
    for (const SegmentChange& c : changes) {
      if (c.from != kNoSegment) --segment_sizes_[c.from];
      ++segment_sizes_[c.to];
      recent_.push_back(c);
      if (recent_.size() > kRecentChanges) recent_.pop_front();
    }
  }
  change_count_.fetch_add(changes.size(), std::memory_order_relaxed);
  std::uint64_t moves = 0;
  for (const SegmentChange& c : changes) moves += c.from != kNoSegment ? 1 : 0;
  move_count_.fetch_add(moves, std::memory_order_relaxed);
  if (publisher_) publisher_->publish_changes(changes);
  if (latency_probe_) {
    // Receive → published. Only where receive time is wall-clock time (a simulator running faster
    // than real time stamps fills in its own future; replays stamp the past).
    const std::int64_t now = wall_ns();
    for (const SegmentChange& c : changes)
      if (c.recv_ns <= now && now - c.recv_ns < 60'000'000'000LL) latency_probe_->record(c.recv_ns, now);
  }
}

void Pipeline::on_model(const ModelPtr& model) {
  if (clusterer_probe_) clusterer_probe_->record_model(*model);
  if (console_) console_->on_model(model);
  if (publisher_) publisher_->publish_model(model, latest_exposure());
  for (const ModelEvent& e : model->events) {
    switch (e.kind) {
      case ModelEvent::Kind::kBorn:
        SEGMENTD_LOG_INFO("clusterer", "segment born", {"segment", e.segment}, {"label", e.label}, {"why", e.why});
        break;
      case ModelEvent::Kind::kRetired:
        SEGMENTD_LOG_INFO("clusterer", "segment retired", {"segment", e.segment}, {"why", e.why});
        break;
      case ModelEvent::Kind::kRelabelled:
        SEGMENTD_LOG_INFO("clusterer", "segment relabelled", {"segment", e.segment}, {"from", e.previous_label},
                          {"to", e.label});
        break;
    }
  }
}

namespace {

void append_result(std::string& out, const CheckpointResult& r) {
  out += R"({"ok":)";
  out += r.ok ? "true" : "false";
  out += R"(,"trigger":)";
  json::append_string(out, r.trigger);
  if (!r.ok) {
    out += R"(,"error":)";
    json::append_string(out, r.error);
  } else {
    out += R"(,"path":)";
    json::append_string(out, r.path);
    out += R"(,"sequence":)";
    json::append_uint(out, r.sequence);
    out += R"(,"bytes":)";
    json::append_uint(out, r.bytes);
    out += R"(,"accounts":)";
    json::append_uint(out, r.accounts);
  }
  out += R"(,"finished":)";
  json::append_int(out, r.finished_unix_ns);
  out += R"(,"seconds":)";
  json::append_double(out, r.seconds);
  out += R"(,"ingest_paused_seconds":)";
  json::append_double(out, r.cut_seconds);
  out += R"(,"phases":{)";
  const std::pair<const char*, double> phases[] = {{"prefault_seconds", r.prefault_seconds},
                                                   {"capture_seconds", r.capture_seconds},
                                                   {"write_seconds", r.write_seconds},
                                                   {"sync_seconds", r.sync_seconds}};
  for (const auto& [name, seconds] : phases) {
    if (out.back() != '{') out += ',';
    json::append_string(out, name);
    out += ':';
    json::append_double(out, seconds);
  }
  out += "}}";
}

}  // namespace

std::string Pipeline::checkpoint_json(const std::optional<CheckpointResult>& just_written) const {
  std::string out = R"({"dir":)";
  json::append_string(out, state_dir_);
  out += R"(,"interval_seconds":)";
  json::append_double(out, static_cast<double>(config_.checkpoint.interval_ns) / 1e9);
  out += R"(,"keep":)";
  json::append_int(out, config_.checkpoint.keep);
  out += R"(,"restored_from":)";
  if (restored_from_.empty())
    out += "null";
  else
    json::append_string(out, restored_from_);
  const Checkpointer* c = checkpointer_.get();
  out += R"(,"writes":)";
  json::append_uint(out, c ? c->writes() : 0);
  out += R"(,"failures":)";
  json::append_uint(out, c ? c->failures() : 0);
  out += R"(,"last":)";
  std::optional<CheckpointResult> last = just_written;
  if (!last && c) last = c->last();
  if (last)
    append_result(out, *last);
  else
    out += "null";
  out += "}";
  return out;
}

PipelineSummary Pipeline::summary() const {
  PipelineSummary s;
  s.seconds = (wall_ns() - started_ns_) / 1e9;
  for (int i = 0; i < shards_->shards(); ++i) {
    s.fills += shards_->processed(i);
    s.ring_full_events += shards_->ring_full_events(i);
  }
  s.fills += restored_fills_;
  s.rejected = shards_->rejected();
  s.accounts = accounts_.size();
  s.changes = change_count_.load(std::memory_order_relaxed);
  s.moves = move_count_.load(std::memory_order_relaxed);
  s.model = clusterer_->model();
  s.model_version = s.model ? s.model->version : 0;
  s.warmup_progress = clusterer_->warmup_progress();
  s.warmup_target = config_.clusterer.min_accounts;
  for (const auto& src : sources_) {
    s.parse_errors += src->stats().error_total();
    s.sources.push_back(str_cat(src->name(), ": ", SourceStats::get(src->stats().fills), " fills",
                                src->finished() ? " (finished)" : ""));
  }
  if (s.model) {
    std::lock_guard<std::mutex> lock(changes_mu_);
    for (const Segment& seg : s.model->segments) {
      auto it = segment_sizes_.find(seg.id);
      s.segments.push_back({seg.id, seg.label, it == segment_sizes_.end() ? 0 : it->second, seg.policy});
    }
  }
  return s;
}

std::vector<std::pair<AccountId, SegmentId>> Pipeline::assignments() {
  std::vector<std::pair<AccountId, SegmentId>> out;
  for (int s = 0; s < shards_->shards(); ++s) {
    auto part = shards_
                    ->call(s,
                           [](ShardHandler& h) {
                             std::vector<std::pair<AccountId, SegmentId>> v;
                             static_cast<AccountShard&>(h).for_each_account([&v](const AccountSnapshot& a) {
                               if (a.segment != kNoSegment) v.emplace_back(a.account, a.segment);
                             });
                             return v;
                           })
                    .get();
    out.insert(out.end(), part.begin(), part.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Pipeline::wire_regime_policies() {
  const std::shared_ptr<PublisherHub> hub = publisher_->hub();
  // The regime monitor is not in checkpoints: it starts calm and warms up again. A restored
  // stream that was last told "stressed" or "extreme" is told that the policies are calm again.
  if (hub->regime() != Regime::kCalm) {
    pubmsg::RegimeChangeInfo c;
    c.ts_ns = wall_ns();
    c.from = hub->regime();
    c.to = Regime::kCalm;
    c.market = Regime::kCalm;
    c.reason = regime_ ? "restart: the regime monitor starts calm and warms up again"
                       : "regime detection is off ([regime] enabled = false)";
    hub->publish_regime(c);
  }
  if (!regime_) return;
  regime_->set_on_change([this, hub](const RegimeEvent& e, Regime market) {
    const std::string name =
        e.underlying < instruments_.underlying_count() ? instruments_.underlying_name(e.underlying) : "?";
    pubmsg::RegimeChangeInfo c;
    c.ts_ns = e.ts_ns;
    c.underlying = name;
    c.from = e.from;
    c.to = e.to;
    c.reason = e.reason;
    c.market = market;
    hub->publish_regime(c);
  });
}

RegimeReport Pipeline::regime_report() const {
  RegimeReport r;
  if (!regime_) return r;
  const RegimeFeed::View v = regime_->view();
  auto name = [this](UnderlyingId u) {
    return u < instruments_.underlying_count() ? instruments_.underlying_name(u) : std::string("?");
  };
  r.market = v.market;
  r.switches = v.switches;
  r.index_prices = v.observed;
  for (const UnderlyingRegime& u : v.underlyings) r.underlyings.emplace_back(name(u.underlying), u);
  for (const RegimeEvent& e : v.recent) r.events.emplace_back(name(e.underlying), e);
  return r;
}

std::shared_ptr<const ExposureView> Pipeline::exposure_view(std::int64_t max_age_ns) {
  const std::lock_guard lock(exposure_mu_);
  const auto steady_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t start = steady_ns();
  if (exposure_ && start - exposure_taken_ns_ < max_age_ns) return exposure_;
  // The shards answer only while their threads run (not before start, not after stop).
  if (!shards_ || !running_.load(std::memory_order_acquire)) return exposure_;
  const std::shared_ptr<const ScenarioSetup> setup = scenario_setup();
  const RiskScan risk = scan_exposure(*shards_, setup);
  const ExposureScan& scan = risk.exposure;
  auto view = std::make_shared<ExposureView>();
  if (risk.scenarios) {
    auto sv = std::make_shared<ScenarioView>();
    sv->as_of_ns = setup->as_of_ns;
    sv->shocks = setup->table.shocks();
    sv->regime = setup->regime;
    sv->base_margin_rate = setup->base_margin_rate;
    sv->instruments_repriced = setup->table.instruments();
    sv->options_assumed_vol = setup->options_assumed_vol;
    sv->positions_repriced = risk.scenarios->positions_repriced();
    sv->positions_approximated = risk.scenarios->positions_approximated();
    for (const auto& [segment, sums] : risk.scenarios->segments()) sv->segments.push_back({segment, sums});
    std::stable_partition(sv->segments.begin(), sv->segments.end(),
                          [](const ScenarioView::Row& r) { return r.segment != kNoSegment; });
    view->scenarios = std::move(sv);
  }
  view->as_of_ns = scan.as_of_ns();
  view->scanned_at_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  view->accounts_scanned = scan.accounts_scanned();
  // The venues' open interest per underlying, over the instruments market data gave one for.
  const std::size_t boarded = std::min(instruments_.size(), open_interest_->capacity());
  absl::flat_hash_map<UnderlyingId, OpenInterestView> open_interest;
  absl::flat_hash_map<UnderlyingId, double> index_usd;
  for (InstrumentId id = 0; id < boarded; ++id) {
    const std::optional<double> oi = open_interest_->latest(id);
    if (!oi) continue;
    const UnderlyingId u = instruments_.underlying_of(id);
    OpenInterestView& x = open_interest[u];
    if (x.underlying.empty()) {
      x.underlying = instruments_.underlying_name(u);
      const std::optional<TapePrice> index = tape_->index(u);
      index_usd[u] = index && index->price > 0 ? index->price : kNaN;
    }
    x.open_interest += *oi;
    x.open_interest_usd = x.open_interest * index_usd[u];
    ++x.instruments;
  }
  double venue_oi_usd = 0.0;  // the denominator of a segment's share: underlyings with an index
  for (const auto& [u, x] : open_interest) {
    if (x.open_interest > 0 && std::isfinite(x.open_interest_usd)) venue_oi_usd += x.open_interest_usd;
    view->open_interest.push_back(x);
  }
  std::sort(view->open_interest.begin(), view->open_interest.end(),
            [](const OpenInterestView& a, const OpenInterestView& b) { return a.underlying < b.underlying; });
  for (const auto& [segment, s] : scan.segments()) {
    SegmentExposureView v;
    v.segment = segment;
    v.accounts = s.accounts;
    v.positions = s.positions;
    v.gross_delta_usd = s.gross_delta_usd;
    v.net_delta_usd = s.net_delta_usd;
    v.net_vega_usd = s.net_vega_usd;
    v.top1_share = s.top_share(1);
    v.top5_share = s.top_share(5);
    v.top10_share = s.top_share(10);
    for (const AccountExposure& a : s.top)
      v.largest.push_back(AccountExposureView{accounts_.name(a.account), a.gross_delta_usd, a.net_delta_usd});
    // Instruments to their underlyings (the spot and the perpetual of a coin are one).
    absl::flat_hash_map<UnderlyingId, UnderlyingExposureView> by_underlying;
    absl::flat_hash_map<UnderlyingId, double> held;  // open positions where the open interest is known
    for (const auto& [instrument, e] : s.by_instrument) {
      const UnderlyingId u = instruments_.underlying_of(instrument);
      UnderlyingExposureView& x = by_underlying[u];
      if (x.underlying.empty()) x.underlying = instruments_.underlying_name(u);
      x.net_delta_usd += e.net_delta_usd;
      x.long_delta_usd += e.long_delta_usd;
      x.short_delta_usd += e.short_delta_usd;
      x.net_vega_usd += e.net_vega_usd;
      x.positions += e.positions;
      if (instrument < boarded && open_interest_->latest(instrument)) held[u] += e.long_qty + e.short_qty;
    }
    double held_usd = 0.0;
    for (auto& [u, x] : by_underlying) {
      const auto oi = open_interest.find(u);
      if (oi != open_interest.end() && oi->second.open_interest > 0) {
        x.open_interest_share = held[u] / (2.0 * oi->second.open_interest);
        if (std::isfinite(oi->second.open_interest_usd)) held_usd += held[u] * index_usd[u];
      }
      v.underlyings.push_back(std::move(x));
    }
    if (venue_oi_usd > 0) v.open_interest_share = held_usd / (2.0 * venue_oi_usd);
    std::sort(v.underlyings.begin(), v.underlyings.end(), [](const auto& a, const auto& b) {
      const double ga = a.long_delta_usd - a.short_delta_usd, gb = b.long_delta_usd - b.short_delta_usd;
      return ga != gb ? ga > gb : a.underlying < b.underlying;
    });
    view->segments.push_back(std::move(v));
  }
  // Assigned segments by id, the unassigned accounts last.
  std::stable_partition(view->segments.begin(), view->segments.end(),
                        [](const SegmentExposureView& v) { return v.segment != kNoSegment; });
  const std::int64_t end = steady_ns();
  view->scan_seconds = static_cast<double>(end - start) / 1e9;
  exposure_ = std::move(view);
  exposure_taken_ns_ = end;
  {
    const std::lock_guard latest(latest_exposure_mu_);
    latest_exposure_ = exposure_;
  }
  return exposure_;
}

std::shared_ptr<const ExposureView> Pipeline::latest_exposure() const {
  const std::lock_guard lock(latest_exposure_mu_);
  return latest_exposure_;
}

void Pipeline::risk_loop() {
  using Clock = std::chrono::steady_clock;
  const std::int64_t scan_every = config_.risk.exposure_interval_ns, publish_every = config_.risk.publish_interval_ns;
  const auto never = Clock::time_point::max();
  const Clock::time_point start = Clock::now();
  Clock::time_point next_scan = scan_every > 0 ? start + std::chrono::nanoseconds(scan_every) : never;
  Clock::time_point next_publish = publish_every > 0 ? start + std::chrono::nanoseconds(publish_every) : never;
  std::unique_lock lock(risk_mu_);
  while (!risk_cv_.wait_until(lock, std::min(next_scan, next_publish), [this] { return risk_stop_; })) {
    const Clock::time_point now = Clock::now();
    const bool publish = now >= next_publish;
    if (!publish && now < next_scan) continue;  // woken early
    lock.unlock();
    const std::shared_ptr<const ExposureView> view = exposure_view(0);  // a fresh scan, on schedule
    if (publish && view && view->scenarios) publish_risk(*view);
    lock.lock();
    if (scan_every > 0) next_scan = Clock::now() + std::chrono::nanoseconds(scan_every);
    if (publish) next_publish += std::chrono::nanoseconds(publish_every);
    if (publish && next_publish < Clock::now()) next_publish = Clock::now() + std::chrono::nanoseconds(publish_every);
  }
}

void Pipeline::publish_risk(const ExposureView& view) {
  const ScenarioView& sv = *view.scenarios;
  const ModelPtr model = clusterer_->model();
  const PolicyRules& rules = config_.clusterer.policies;
  const auto regime = static_cast<std::size_t>(sv.regime);
  std::vector<pubmsg::RiskSegment> rows;
  DynamicMargins dynamic;
  for (const ScenarioView::Row& r : sv.segments) {
    pubmsg::RiskSegment x;
    x.segment = r.segment;
    x.accounts = r.sums.accounts;
    x.gross_delta_usd = r.sums.gross_delta_usd;
    x.margin_usd = r.sums.margin_usd;
    x.venue_margin_accounts = r.sums.venue_margin_accounts;
    x.net_gamma_usd = r.sums.net_gamma_usd;
    x.open_notional_usd = r.sums.open_notional_usd;
    x.pnl_usd = r.sums.pnl_usd;
    x.accounts_over_margin = r.sums.over_margin;
    x.liquidation_usd = r.sums.liquidation_usd;
    const Segment* seg = model && r.segment != kNoSegment ? model->find(r.segment) : nullptr;
    if (seg != nullptr) x.label = seg->label;
    const double policy =
        seg != nullptr ? seg->policy_in(sv.regime).margin_multiplier : rules.fallback[regime].margin_multiplier;
    const double cap =
        seg != nullptr ? dynamic_margin_cap_for(rules, seg->base_label) : rules.fallback_dynamic_margin_cap;
    double worst = 0.0;
    for (double pnl : r.sums.pnl_usd) worst = std::max(worst, -pnl);
    x.margin_multiplier = policy;
    if (cap > 0) {
      x.dynamic_margin = true;
      x.margin_multiplier = dynamic_margin_multiplier(policy, cap, worst, r.sums.gross_delta_usd, sv.base_margin_rate);
      const double base = sv.base_margin_rate * r.sums.gross_delta_usd;
      if (seg != nullptr) dynamic[seg->id] = DynamicMargin{base > 0 ? worst / base : 0.0, cap};
    }
    rows.push_back(x);
  }
  pubmsg::RiskInfo info;
  info.ts_ns = wall_ns();
  info.as_of_ns = sv.as_of_ns;
  info.regime = sv.regime;
  info.model_version = model ? model->version : 0;
  info.shocks = sv.shocks;
  info.segments = rows;
  publisher_->hub()->publish_risk(info, std::move(dynamic));
}

Regime Pipeline::market_regime() const {
  if (publisher_) return publisher_->hub()->regime();
  if (regime_) return regime_->view().market;
  return Regime::kCalm;
}

std::shared_ptr<const ScenarioSetup> Pipeline::scenario_setup() {
  constexpr double kNsPerYear = 365.25 * 86400e9;
  auto setup = std::make_shared<ScenarioSetup>(shocks_);
  setup->base_margin_rate = config_.risk.base_margin_rate;
  setup->venue_margins = venue_margins_.get();
  // Event time: the newest any source pushed (the wall clock before any).
  std::int64_t as_of = std::numeric_limits<std::int64_t>::min();
  for (const auto& sink : sinks_) as_of = std::max(as_of, sink->max_event_ns());
  setup->as_of_ns = as_of == std::numeric_limits<std::int64_t>::min() ? wall_ns() : as_of;
  setup->regime = market_regime();
  const auto regime = static_cast<std::size_t>(setup->regime);
  setup->fallback_multiplier = config_.clusterer.policies.fallback[regime].margin_multiplier;
  if (const ModelPtr model = clusterer_->model())
    for (const Segment& s : model->segments)
      setup->margin_multiplier[s.id] = s.policy_in(setup->regime).margin_multiplier;
  const std::size_t n = std::min(instruments_.size(), tape_->instrument_capacity());
  for (InstrumentId id = 0; id < n; ++id) {
    const std::optional<TapePrice> index = tape_->index(instruments_.underlying_of(id));
    if (!index || !(index->price > 0)) continue;  // no index price: its positions go by their greeks
    const Instrument& ins = instruments_.get(id);
    if (ins.kind != InstrumentKind::kOption) {
      setup->table.set_linear(id, index->price);
      continue;
    }
    const double years = static_cast<double>(ins.expiry_ns - setup->as_of_ns) / kNsPerYear;
    const std::optional<double> iv = vols_->latest(id);
    if (years > 0 && !iv) ++setup->options_assumed_vol;
    setup->table.set_option(id, ins.option_type != OptionType::kPut, index->price, ins.strike, years,
                            iv.value_or(config_.risk.default_vol), config_.risk.min_vol);
  }
  return setup;
}

std::optional<AccountView> Pipeline::account_view(std::string_view name) {
  AccountId id = 0;
  if (!accounts_.find(name, &id)) return std::nullopt;
  auto snap = read_account(*shards_, id).get();
  if (!snap) return std::nullopt;
  AccountView v;
  v.account = std::string(name);
  v.features_raw = snap->raw;
  v.features_fast = snap->fast;
  v.features_slow = snap->slow;
  v.segment = snap->segment;
  v.confidence = snap->confidence;
  v.segment_since_ns = snap->segment_since_ns;
  v.last_fill_ns = snap->as_of_ns;
  v.fills = snap->fills;
  ModelPtr m = clusterer_->model();
  if (m && m->ready()) {
    v.model_version = m->version;
    for (int j = 0; j < kFeatureCount; ++j)
      v.features_scaled[j] = (snap->raw[j] - m->scaler.mean[j]) / m->scaler.stddev[j] * m->scaler.weight[j];
    for (const Segment& seg : m->segments) {
      double d2 = 0;
      for (int j = 0; j < kFeatureCount; ++j)
        d2 += (v.features_scaled[j] - seg.centroid[j]) * (v.features_scaled[j] - seg.centroid[j]);
      v.distances.push_back({seg.id, std::sqrt(d2)});
    }
  }
  std::lock_guard<std::mutex> lock(changes_mu_);
  for (const SegmentChange& c : recent_)
    if (c.account == id) v.recent_changes.push_back(c);
  return v;
}

}  // namespace segmentd
