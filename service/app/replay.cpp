#include "service/app/replay.h"
#include "protocol/venues/registry.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>
#include <ostream>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "core/account_interner.h"
#include "core/checkpoint_codec.h"
#include "core/checkpoint_sections.h"
#include "core/clusterer.h"
#include "core/event_time_guard.h"
#include "core/instrument_registry.h"
#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "protocol/native_format.h"
#include "protocol/publisher/publisher_messages.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"
#include "service/state/checkpointer.h"
#include "service/state/config_fingerprint.h"

namespace segmentd {
namespace {

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();
//! First word of the replay driver's section (RPLY): its layout with the event-time guard's state.
constexpr std::uint32_t kDriverTag = 0x33'4c'50'52;          // "RPL3": with the price records' count
constexpr std::uint32_t kDriverTagNoPrices = 0x32'4c'50'52;  // "RPL2": before price records

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

//! one_clock: the fingerprint a replay checkpoint of this config had before the slow clock (0 when
//! none can continue under this config: config_fingerprint_one_clock).
std::uint64_t replay_fingerprint(const Config& config, const std::string& input, bool one_clock = false) {
  const std::uint64_t base = one_clock ? config_fingerprint_one_clock(config) : config_fingerprint(config);
  if (base == 0) return 0;
  Fingerprint f;
  f.add_pod(base);
  f.add("replay");
  f.add_pod(config.shards.shards);  // the barrier protocol's state is per shard
  f.add_pod(config.clusterer.batch_size);
  f.add_pod(config.clusterer.batch_interval_ns);
  f.add(input);
  return f.value();
}

}  // namespace

absl::StatusOr<ReplaySummary> run_replay(const Config& config, const ReplayOptions& options, std::ostream& log) {
  auto t0 = std::chrono::steady_clock::now();
  AccountInterner accounts;
  InstrumentRegistry instruments(parse_symbol, config.contracts, config.spot_pairs);
  NativeFillParser parser(accounts, instruments);

  ShardSetConfig sc;
  sc.shards = config.shards.shards;
  sc.producers = 1;
  sc.ring_capacity = config.shards.ring_capacity;
  sc.full_policy = RingFullPolicy::kBlock;  // a file can always wait for the shards
  // The replay thread is the tape's only writer (row 0): it records each fill before pushing it.
  PriceTape tape(config.features.tape_instruments, config.features.tape_underlyings, 1,
                 config.features.markout_tick_ns);
  // The clusterer runs on this thread, between barriers; shards assign against the model only at
  // barriers (assign_only_on_advance), so every decision sees the same model at the same point
  // of the input whatever the shard count.
  auto clusterer = std::make_unique<Clusterer>(config.clusterer);
  ModelSlot model_slot{clusterer->model() ? clusterer->model() : std::make_shared<const Model>()};
  std::vector<std::vector<TouchedAccount>> touched(static_cast<std::size_t>(sc.shards));  // shard s writes [s]
  std::vector<std::vector<SegmentChange>> changes(static_cast<std::size_t>(sc.shards));   // shard s writes [s]
  std::vector<std::unique_ptr<ShardHandler>> handlers;
  for (int i = 0; i < sc.shards; ++i) {
    AccountShardOptions o;
    o.params = config.features.params;
    o.tape = &tape;
    o.auto_resolve = false;  // driven by the barrier below, for determinism
    o.markout_tick_ns = config.features.markout_tick_ns;
    o.model = &model_slot;
    o.assigner = config.clusterer.assigner;
    o.assign_only_on_advance = true;
    o.instrument_of = [&instruments](InstrumentId id) {
      const Instrument& ins = instruments.get(id);
      return InstrumentScope{ins.venue, ins.kind, ins.inverse};
    };
    o.on_batch = [&touched](int shard, std::span<const TouchedAccount> t) {
      auto& v = touched[static_cast<std::size_t>(shard)];
      v.insert(v.end(), t.begin(), t.end());
    };
    o.on_changes = [&changes](int shard, std::span<const SegmentChange> c) {
      auto& v = changes[static_cast<std::size_t>(shard)];
      v.insert(v.end(), c.begin(), c.end());
    };
    handlers.push_back(std::make_unique<AccountShard>(i, std::move(o)));
  }
  ShardSet shards(sc, std::move(handlers));

  // Durable replay: the driver's own state (below) joins the components' in section RPLY.
  const std::int64_t tick = config.features.markout_tick_ns;
  ReplaySummary summary;
  absl::flat_hash_map<AccountId, TouchedAccount> pending;  // the open mini-batch, latest vector per account
  absl::flat_hash_set<AccountId> batch_accounts;           // distinct accounts pushed since the batch opened
  std::vector<BatchItem> batch;
  std::int64_t batch_open = kNoTime;
  std::vector<std::uint64_t> pushed(static_cast<std::size_t>(shards.shards()), 0);
  std::int64_t next_tick = kNoTime;
  std::int64_t max_ts = kNoTime;
  NativeReadStats stats;
  std::size_t shown = 0;
  // The file's event time (core/event_time_guard.h): a line stamped far ahead is refused here,
  // before it can move the ticks, the batches or the clusterer's clock. guard_before_line is the
  // guard before the line being handled: a checkpoint (taken mid-line) resumes from it.
  EventTimeGuard guard(config.event_time);
  EventTimeGuard guard_before_line(config.event_time);
  NativeReadPosition resume;   // where reading starts
  NativeReadPosition current;  // the line being handled
  const bool durable = !options.checkpoint_dir.empty();
  const std::uint64_t fingerprint = durable ? replay_fingerprint(config, options.input) : 0;
  CheckpointDirectory state_dir(options.checkpoint_dir, options.checkpoint_keep);
  // The driver's own state in a checkpoint (section RPLY). Read into a value first: validating a
  // file must not touch the run's variables (a refused file would leave them half-loaded).
  struct DriverState {
    NativeReadPosition resume;
    NativeReadStats stats;
    std::uint64_t shown = 0, changes = 0, batches = 0;
    std::int64_t first_ns = 0, batch_open = kNoTime, next_tick = kNoTime, max_ts = kNoTime;
    std::vector<TouchedAccount> pending;
    std::vector<AccountId> batch_accounts;
    EventTimeGuard::State guard;
  };
  auto read_driver = [](ByteReader& r) {
    DriverState d;
    const std::uint32_t tag = r.u32();
    if (tag != kDriverTag && tag != kDriverTagNoPrices) {
      r.fail("the replay driver's state is of an older build (no event-time guard)");
      return d;
    }
    d.resume.offset = r.u64();
    d.resume.line = r.u64();
    d.stats.lines = r.u64();
    d.stats.fills = r.u64();
    if (tag == kDriverTag) d.stats.prices = r.u64();
    d.stats.bytes = r.u64();
    d.stats.errors = r.pod<ParseErrorCounts>();
    d.shown = r.u64();
    d.changes = r.u64();
    d.batches = r.u64();
    d.first_ns = r.i64();
    d.batch_open = r.i64();
    d.next_tick = r.i64();
    d.max_ts = r.i64();
    d.pending = r.pods<TouchedAccount>();
    d.batch_accounts = r.pods<AccountId>();
    d.guard.watermark = r.i64();
    d.guard.candidate_ns = r.i64();
    d.guard.candidates = r.u32();
    return d;
  };
  auto apply_driver = [&](const DriverState& d) {
    resume = d.resume;
    stats = d.stats;
    shown = d.shown;
    summary.changes = d.changes;
    summary.batches = d.batches;
    summary.first_ns = d.first_ns;
    batch_open = d.batch_open;
    next_tick = d.next_tick;
    max_ts = d.max_ts;
    pending.clear();
    for (const TouchedAccount& a : d.pending) pending.emplace(a.account, a);
    batch_accounts.clear();
    for (AccountId a : d.batch_accounts) batch_accounts.insert(a);
    guard.restore(d.guard);
  };
  if (durable) {
    if (options.keep_changes) return absl::InvalidArgumentError("a durable replay does not keep the change log");
    if (absl::Status st = state_dir.prepare(); !st.ok()) return st;
    std::vector<CheckpointDirectory::Rejected> rejected;
    auto validate = [&](const CheckpointImage& img) -> absl::Status {
      ByteReader a = img.reader(kSectionAccounts);
      check_interner(a);
      ByteReader m = img.reader(kSectionModel);
      ByteReader c = img.reader(kSectionClusterer);
      ByteReader d = img.reader(kSectionReplay);
      if (!load_model(m)) return m.status();
      load_clusterer_state(c);
      read_driver(d);
      for (const ByteReader* r : {&a, &c, &d})
        if (!r->ok()) return r->status();
      return absl::OkStatus();
    };
    auto loaded = state_dir.load_newest(Fingerprints(fingerprint, replay_fingerprint(config, options.input, true)),
                                        validate, &rejected);
    for (const auto& r : rejected) log << "checkpoint " << r.path << " refused: " << r.reason << "\n";
    if (!loaded.ok()) return loaded.status();
    if (loaded->has_value()) {
      const CheckpointImage& img = (*loaded)->image;
      ByteReader a = img.reader(kSectionAccounts);
      load_interner(a, accounts);
      ByteReader i = img.reader(kSectionInstruments);
      load_registry(i, instruments);
      ByteReader t = img.reader(kSectionTape);
      load_tape(t, tape);
      ByteReader m = img.reader(kSectionModel);
      ModelPtr model = load_model(m);
      ByteReader c = img.reader(kSectionClusterer);
      ClustererState cs = load_clusterer_state(c);
      clusterer = std::make_unique<Clusterer>(config.clusterer, cs, model->version > 0 ? model : nullptr);
      model_slot.store(clusterer->model());
      ByteReader s = img.reader(kSectionShards);
      const std::uint32_t n = s.u32();
      if (static_cast<int>(n) != shards.shards()) return absl::DataLossError("checkpoint of another shard count");
      for (int k = 0; k < shards.shards(); ++k) {
        ByteReader part(s.raw(s.u64()), "SHRD");
        if (absl::Status st = static_cast<AccountShard&>(shards.handler(k)).load_state(part); !st.ok())
          return absl::Status(st.code(), str_cat((*loaded)->path, ": ", st.message()));
      }
      ByteReader d = img.reader(kSectionReplay);
      const DriverState driver = read_driver(d);
      for (const ByteReader* r : {&a, &i, &t, &m, &c, &s, &d})
        if (!r->ok()) return absl::DataLossError(str_cat((*loaded)->path, ": ", r->status().message()));
      apply_driver(driver);
      summary.resumed_from = (*loaded)->path;
      log << "replay: resuming from " << summary.resumed_from << " at line " << resume.line + 1 << "\n";
    }
  }
  shards.start();

  // Markouts resolve at event-time ticks behind a barrier: wait until every shard has applied
  // every fill pushed so far, then resolve on each shard. The tape then holds exactly the prices
  // of the fills before the tick, and each account sees the same sequence of fills and
  // resolutions whatever the shard count, so the output is byte-identical.
  auto barrier = [&](std::int64_t t) {
    for (int s = 0; s < shards.shards(); ++s) {
      while (shards.processed(s) < pushed[static_cast<std::size_t>(s)]) std::this_thread::yield();
    }
    std::vector<std::future<void>> done;
    for (int s = 0; s < shards.shards(); ++s)
      done.push_back(shards.call(s, [t](ShardHandler& h) { static_cast<AccountShard&>(h).advance_to(t); }));
    for (auto& d : done) d.get();  // happens-before: the shards' touched/changes are ours to read
    for (auto& v : touched) {
      for (const TouchedAccount& a : v) {
        auto [it, inserted] = pending.try_emplace(a.account, a);
        if (!inserted && a.fills >= it->second.fills) it->second = a;  // later state of the account
      }
      v.clear();
    }
    for (auto& v : changes) {
      summary.changes += v.size();
      if (options.keep_changes) summary.change_log.insert(summary.change_log.end(), v.begin(), v.end());
      v.clear();
    }
    if (batch_open == kNoTime) batch_open = t;
    if (!pending.empty() &&
        (pending.size() >= config.clusterer.batch_size || t - batch_open >= config.clusterer.batch_interval_ns)) {
      batch.clear();
      for (const auto& [id, a] : pending)
        batch.push_back(BatchItem{id, static_cast<std::uint32_t>(std::min<std::uint64_t>(a.fills, UINT32_MAX)), a.raw});
      pending.clear();
      batch_accounts.clear();
      canonicalize_batch(batch);
      ModelPtr m = clusterer->update(batch, t);
      if (m) model_slot.store(m, std::memory_order_release);
      ++summary.batches;
      batch_open = t;
    }
  };
  // A checkpoint is taken right after a barrier, before the fill that triggered it: the shards
  // then hold every fill before this line and nothing in flight, and the driver's own state is
  // the open mini-batch. The line is read again on resume (its counts are taken out here).
  auto last_checkpoint = std::chrono::steady_clock::now();
  bool current_is_price = false;     //!< the line being handled is a price record
  bool current_is_position = false;  //!< ... a venue position record (not in the driver's checkpointed counts)
  absl::Status checkpoint_error;
  auto write_checkpoint = [&]() {
    CheckpointImage img;
    img.header.config_fingerprint = fingerprint;
    save_interner(img.add(kSectionAccounts), accounts);
    save_registry(img.add(kSectionInstruments), instruments);
    save_tape(img.add(kSectionTape), tape);
    const ModelPtr m = model_slot.load();
    save_model(img.add(kSectionModel), m ? *m : Model{});
    save_clusterer_state(img.add(kSectionClusterer), clusterer->state());
    img.add(kSectionShards).u32(static_cast<std::uint32_t>(shards.shards()));
    for (int k = 0; k < shards.shards(); ++k) {
      ByteWriter part;
      shards.call(k, [&part](ShardHandler& h) { static_cast<AccountShard&>(h).save_state(part); }).get();
      ByteWriter len;
      len.u64(part.size());
      img.append(kSectionShards, std::move(len));
      img.append(kSectionShards, std::move(part));
    }
    {
      ByteWriter& w = img.add(kSectionReplay);
      w.u32(kDriverTag);
      w.u64(current.offset);
      w.u64(current.line);
      w.u64(stats.lines - 1);  // the current line, counted already, is read again on resume
      w.u64(stats.fills - (current_is_price || current_is_position ? 0 : 1));
      w.u64(stats.prices - (current_is_price ? 1 : 0));
      w.u64(current.offset);
      w.pod(stats.errors);
      w.u64(shown);
      w.u64(summary.changes);
      w.u64(summary.batches);
      w.i64(summary.first_ns);
      w.i64(batch_open);
      w.i64(next_tick);
      w.i64(max_ts);
      std::vector<TouchedAccount> open;
      open.reserve(pending.size());
      for (const auto& [id, a] : pending) open.push_back(a);
      std::sort(open.begin(), open.end(),
                [](const TouchedAccount& x, const TouchedAccount& y) { return x.account < y.account; });
      w.pods(open);
      std::vector<AccountId> seen(batch_accounts.begin(), batch_accounts.end());
      std::sort(seen.begin(), seen.end());
      w.pods(seen);
      const EventTimeGuard::State g = guard_before_line.state();
      w.i64(g.watermark);
      w.i64(g.candidate_ns);
      w.u32(g.candidates);
    }
    img.add(kSectionInfo).str(str_cat("segmentd replay of ", options.input, " at line ", current.line + 1));
    absl::StatusOr<CheckpointDirectory::Written> written = state_dir.write(img);
    if (!written.ok()) {
      checkpoint_error = written.status();
      return;
    }
    ++summary.checkpoints;
  };
  auto after_barrier = [&]() {
    if (!durable || !checkpoint_error.ok()) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint < std::chrono::nanoseconds(options.checkpoint_interval_ns)) return;
    write_checkpoint();
    last_checkpoint = std::chrono::steady_clock::now();
  };
  auto report = [&](std::uint64_t line, const ParseError& e) {
    if (shown++ < options.max_errors_shown)
      log << options.input << ":" << line << ": skipped (" << to_string(e.reason) << "): " << e.detail << "\n";
  };
  // The event-time guard and the ticks, for a fill or a price record at ts: false when the line
  // is refused (counted as a bad line, taken out of the reader's count by the caller).
  auto admit = [&](std::int64_t ts) {
    guard_before_line = guard;
    const EventTimeGuard::Verdict verdict = guard.check(ts);
    if (verdict == EventTimeGuard::Verdict::kRefuse) {
      stats.errors.add(ParseErrorReason::kFutureTime);
      report(current.line + 1, ParseError{ParseErrorReason::kFutureTime,
                                          str_cat("ts_ns ", ts, " is ", guard.last_refused_ahead_ns() / 1'000'000'000,
                                                  " s ahead of the file's event time (max_ahead ",
                                                  config.event_time.max_ahead_ns / 1'000'000'000, " s)")});
      return false;
    }
    if (verdict == EventTimeGuard::Verdict::kJump)
      log << options.input << ":" << current.line + 1 << ": event time jumped forward to ts_ns " << ts
          << ", confirmed by " << config.event_time.jump_confirm << " lines in a row\n";
    return true;
  };
  // A tick boundary crossed resolves what is due before the line's prices reach the tape.
  auto tick_to = [&](std::int64_t ts) {
    if (next_tick != kNoTime && ts >= next_tick) {
      const std::int64_t t = floor_to(ts, tick);
      barrier(t);
      next_tick = t + tick;
      after_barrier();
      return true;
    }
    if (next_tick == kNoTime) next_tick = floor_to(ts, tick) + tick;
    return false;
  };
  // Market data: on the tape (set by no account) after the ticks it crosses; no shard sees it.
  auto on_price = [&](const PriceRecord& p) {
    current_is_price = true;
    if (!admit(p.recv_ns)) {
      --stats.prices;
      return;
    }
    tick_to(p.recv_ns);
    if (p.recv_ns > max_ts) max_ts = p.recv_ns;
    tape.record(0, p);
  };
  auto on_fill = [&](const Fill& f) {
    current_is_price = false;
    current_is_position = !f.is_fill();
    if (!admit(f.recv_ns)) {
      --(current_is_position ? stats.positions : stats.fills);
      return;
    }
    const bool ticked = tick_to(f.recv_ns);
    if (!ticked && batch_accounts.size() >= config.clusterer.batch_size && !batch_accounts.contains(f.account)) {
      // batch_size distinct accounts since the batch opened: close it before this fill.
      barrier(max_ts);
      after_barrier();
    }
    batch_accounts.insert(f.account);
    if (f.recv_ns > max_ts) max_ts = f.recv_ns;
    if (current_is_position) {  // the venue's word on the account's positions: its shard only
      pushed[static_cast<std::size_t>(shard_of(f.account, shards.shards()))]++;
      shards.push(0, f);
      return;
    }
    if (summary.first_ns == 0) summary.first_ns = f.recv_ns;
    tape.record(0, f);
    pushed[static_cast<std::size_t>(shard_of(f.account, shards.shards()))]++;
    shards.push(0, f);
  };

  auto status = read_native_file(options.input, parser, config.replay.max_line_bytes, on_fill, on_price, report, &stats,
                                 resume, &current);
  if (max_ts != kNoTime) barrier(max_ts);  // what is due by the last fill resolves; the rest stays pending
  shards.stop();
  if (!status.ok()) return status;
  if (!checkpoint_error.ok()) return checkpoint_error;
  if (shown > options.max_errors_shown)
    log << options.input << ": " << (shown - options.max_errors_shown) << " more bad lines not shown\n";

  // Gather per-account results and sort by account name: the order of the output never
  // depends on shard count or thread timing.
  struct Row {
    const std::string* name;
    AccountSnapshot snap;
  };
  std::vector<Row> rows;
  rows.reserve(accounts.size());
  for (int s = 0; s < shards.shards(); ++s) {
    auto& h = static_cast<AccountShard&>(shards.handler(s));
    h.for_each_account([&](const AccountSnapshot& a) { rows.push_back({&accounts.name(a.account), a}); });
    for (int k = 0; k < AccountShard::kMarkoutPricedKinds; ++k)
      summary.markouts_priced[static_cast<std::size_t>(k)] += h.markouts_priced(k);
    const ReconcileStats rs = h.reconcile_stats();
    summary.reconcile.records += rs.records;
    summary.reconcile.stale_records += rs.stale_records;
    summary.reconcile.snapshots += rs.snapshots;
    summary.reconcile.closed_by_snapshot += rs.closed_by_snapshot;
    summary.reconcile.fills_covered += rs.fills_covered;
    summary.reconcile.checked += rs.checked;
    summary.reconcile.disagreements += rs.disagreements;
    summary.reconcile.disagreement_usd += rs.disagreement_usd;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return *a.name < *b.name; });

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (options.output != "-" && !options.output.empty()) {
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) return absl::PermissionDeniedError(str_cat("cannot write '", options.output, "'"));
    out = &file;
  }
  const ModelPtr final_model = model_slot.load();
  summary.model = final_model;
  if (!options.model_output.empty()) {
    std::ofstream mf(options.model_output, std::ios::binary | std::ios::trunc);
    std::string m;
    if (final_model)
      pubmsg::append_model_object(m, *final_model);
    else
      m = "null";
    m.push_back('\n');
    mf << m;
    if (!mf) return absl::PermissionDeniedError(str_cat("cannot write '", options.model_output, "'"));
  }
  summary.last_ns = max_ts == kNoTime ? 0 : max_ts;
  if (options.keep_changes) {
    for (const Row& r : rows) summary.assignments.emplace_back(*r.name, r.snap.segment);
    summary.account_names.reserve(accounts.size());
    for (AccountId id = 0; id < accounts.size(); ++id) summary.account_names.push_back(accounts.name(id));
  }
  std::string line;
  for (const Row& r : rows) {
    line.clear();
    line.append("{\"account\":");
    json::append_string(line, *r.name);
    line.append(",\"fills\":");
    json::append_uint(line, r.snap.fills);
    line.append(",\"notional_usd\":");
    json::append_double(line, r.snap.notional_usd);
    // "features": what the model sees; then each clock's.
    const std::pair<const char*, const FeatureVector*> vectors[] = {{",\"features\":{", &r.snap.raw},
                                                                    {",\"features_fast\":{", &r.snap.fast},
                                                                    {",\"features_slow\":{", &r.snap.slow}};
    for (const auto& [key, v] : vectors) {
      line.append(key);
      for (int i = 0; i < kFeatureCount; ++i) {
        if (i) line.push_back(',');
        json::append_string(line, kFeatureNames[static_cast<std::size_t>(i)]);
        line.push_back(':');
        json::append_double(line, (*v)[static_cast<std::size_t>(i)]);
      }
      line.append("}");
    }
    const Segment* seg = final_model ? final_model->find(r.snap.segment) : nullptr;
    line.append(",\"segment\":");
    if (seg)
      json::append_uint(line, r.snap.segment);
    else
      line.append("null");
    line.append(",\"label\":");
    if (seg)
      json::append_string(line, seg->label);
    else
      line.append("null");
    line.append(",\"confidence\":");
    json::append_double(line, seg ? static_cast<double>(r.snap.confidence) : 0.0);
    line.append("}\n");
    out->write(line.data(), static_cast<std::streamsize>(line.size()));
    summary.notional_usd += r.snap.notional_usd;
  }
  out->flush();
  if (!*out) return absl::DataLossError(str_cat("error writing '", options.output, "'"));

  summary.lines = stats.lines;
  summary.fills = stats.fills;
  summary.prices = stats.prices;
  summary.positions = stats.positions;
  summary.errors = stats.errors;
  summary.accounts = rows.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

void print_summary(const ReplaySummary& s, std::ostream& out) {
  out << absl::StrFormat(
      "replay: %d lines, %d fills, %d accounts, %.2f USD notional, %d bad lines, %.3f s (%.0f fills/s)\n", s.lines,
      s.fills, s.accounts, s.notional_usd, s.errors.total(), s.seconds, s.seconds > 0 ? s.fills / s.seconds : 0.0);
  for (int r = 0; r < kParseErrorReasonCount; ++r) {
    if (s.errors.by_reason[r] == 0) continue;
    out << absl::StrFormat("  bad lines, %s: %d\n", to_string(static_cast<ParseErrorReason>(r)), s.errors.by_reason[r]);
  }
  if (s.prices > 0) out << absl::StrFormat("  price records (market data, on the price tape): %d\n", s.prices);
  if (s.positions > 0) {
    const ReconcileStats& r = s.reconcile;
    out << absl::StrFormat(
        "  venue positions: %d records (%d stale), %d snapshots closing %d positions; %d fills already in a venue "
        "position; %d compared, %d disagreed with the fills (%.2f USD)\n",
        r.records, r.stale_records, r.snapshots, r.closed_by_snapshot, r.fills_covered, r.checked, r.disagreements,
        r.disagreement_usd);
  }
  const std::uint64_t markouts = s.markouts_priced[0] + s.markouts_priced[1] + s.markouts_priced[2];
  if (markouts > 0) {
    const auto pct = [markouts](std::uint64_t n) {
      return 100.0 * static_cast<double>(n) / static_cast<double>(markouts);
    };
    out << absl::StrFormat(
        "  markouts resolved: %d, priced by the account's own fill %d (%.1f %%), another account's fill %d (%.1f "
        "%%), market data %d (%.1f %%)\n",
        markouts, s.markouts_priced[0], pct(s.markouts_priced[0]), s.markouts_priced[1], pct(s.markouts_priced[1]),
        s.markouts_priced[2], pct(s.markouts_priced[2]));
  }
  if (!s.model || !s.model->ready()) {
    out << absl::StrFormat("  no model: warm-up not complete after %d batches\n", s.batches);
    return;
  }
  out << absl::StrFormat("  model v%d after %d batches, %d segment changes; segments:\n", s.model->version, s.batches,
                         s.changes);
  for (const Segment& seg : s.model->segments) {
    out << absl::StrFormat("    #%-4d %-26s weight %10.1f  margin %.2fx  quote +%.1f bps  max order %.0f USD\n", seg.id,
                           seg.label, seg.weight, seg.policy.margin_multiplier, seg.policy.quote_width_bps,
                           seg.policy.max_order_notional_usd);
  }
}

}  // namespace segmentd
