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
#include "core/clusterer.h"
#include "core/instrument_registry.h"
#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "protocol/native_format.h"
#include "protocol/publisher/publisher_messages.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"

namespace segmentd {
namespace {

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

}  // namespace

absl::StatusOr<ReplaySummary> run_replay(const Config& config, const ReplayOptions& options, std::ostream& log) {
  auto t0 = std::chrono::steady_clock::now();
  AccountInterner accounts;
  InstrumentRegistry instruments(parse_symbol, config.contracts);
  NativeFillParser parser(accounts, instruments);

  ShardSetConfig sc;
  sc.shards = config.shards.shards;
  sc.producers = 1;
  sc.ring_capacity = config.shards.ring_capacity;
  sc.full_policy = RingFullPolicy::kBlock;  // a file can always wait for the shards
  // The replay thread is the tape's only writer (row 0): it records each fill before pushing it.
  PriceTape tape(config.features.tape_instruments, config.features.tape_underlyings, 1);
  // The clusterer runs on this thread, between barriers; shards assign against the model only at
  // barriers (assign_only_on_advance), so every decision sees the same model at the same point
  // of the input whatever the shard count.
  Clusterer clusterer(config.clusterer);
  std::atomic<ModelPtr> model_slot{clusterer.model() ? clusterer.model() : std::make_shared<const Model>()};
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
  shards.start();

  // Markouts resolve at event-time ticks behind a barrier: wait until every shard has applied
  // every fill pushed so far, then resolve on each shard. The tape then holds exactly the prices
  // of the fills before the tick, and each account sees the same sequence of fills and
  // resolutions whatever the shard count, so the output is byte-identical.
  const std::int64_t tick = config.features.markout_tick_ns;
  ReplaySummary summary;
  absl::flat_hash_map<AccountId, TouchedAccount> pending;  // the open mini-batch, latest vector per account
  absl::flat_hash_set<AccountId> batch_accounts;           // distinct accounts pushed since the batch opened
  std::vector<BatchItem> batch;
  std::int64_t batch_open = kNoTime;
  std::vector<std::uint64_t> pushed(static_cast<std::size_t>(shards.shards()), 0);
  std::int64_t next_tick = kNoTime;
  std::int64_t max_ts = kNoTime;
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
      ModelPtr m = clusterer.update(batch, t);
      if (m) model_slot.store(m, std::memory_order_release);
      ++summary.batches;
      batch_open = t;
    }
  };
  auto on_fill = [&](const Fill& f) {
    if (next_tick != kNoTime && f.recv_ns >= next_tick) {
      const std::int64_t t = floor_to(f.recv_ns, tick);
      barrier(t);
      next_tick = t + tick;
    } else if (next_tick == kNoTime) {
      next_tick = floor_to(f.recv_ns, tick) + tick;
    } else if (batch_accounts.size() >= config.clusterer.batch_size && !batch_accounts.contains(f.account)) {
      // batch_size distinct accounts since the batch opened: close it before this fill.
      barrier(max_ts);
    }
    batch_accounts.insert(f.account);
    if (f.recv_ns > max_ts) max_ts = f.recv_ns;
    if (summary.first_ns == 0) summary.first_ns = f.recv_ns;
    tape.record(0, f);
    pushed[static_cast<std::size_t>(shard_of(f.account, shards.shards()))]++;
    shards.push(0, f);
  };

  NativeReadStats stats;
  std::size_t shown = 0;
  auto status = read_native_file(
      options.input, parser, config.replay.max_line_bytes, on_fill,
      [&](std::uint64_t line, const ParseError& e) {
        if (shown++ < options.max_errors_shown)
          log << options.input << ":" << line << ": skipped (" << to_string(e.reason) << "): " << e.detail << "\n";
      },
      &stats);
  if (max_ts != kNoTime) barrier(max_ts);  // what is due by the last fill resolves; the rest stays pending
  shards.stop();
  if (!status.ok()) return status;
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
    line.append(",\"features\":{");
    for (int i = 0; i < kFeatureCount; ++i) {
      if (i) line.push_back(',');
      json::append_string(line, kFeatureNames[static_cast<std::size_t>(i)]);
      line.push_back(':');
      json::append_double(line, r.snap.raw[static_cast<std::size_t>(i)]);
    }
    line.append("}");
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
