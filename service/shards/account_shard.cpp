#include "service/shards/account_shard.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "service/base/log.h"

namespace segmentd {
namespace {

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

std::uint64_t fill_hash(const Fill& f) {
  std::uint64_t qty_bits;
  std::memcpy(&qty_bits, &f.qty, sizeof qty_bits);
  return mix(mix(mix(static_cast<std::uint64_t>(f.recv_ns)) ^ f.account) ^ f.trade_id ^ qty_bits);
}

AccountShard::AccountShard(int shard, AccountShardOptions options)
    : shard_(shard), options_(std::move(options)), store_(options_.params) {
  store_.set_max_accounts(options_.max_accounts);
  if (options_.instrument_of)
    reconciler_ = PositionReconciler([this](InstrumentId id) { return options_.instrument_of(id).inverse; });
}

void AccountShard::touch(AccountStore::Slot slot) {
  const std::size_t word = slot / 64;
  if (word >= touched_bits_.size()) touched_bits_.resize(word + 1 + touched_bits_.size() / 2, 0);
  const std::uint64_t bit = 1ULL << (slot % 64);
  if (touched_bits_[word] & bit) return;
  touched_bits_[word] |= bit;
  touched_.push_back(slot);
}

void AccountShard::note_refusals() {
  const AccountStats& st = store_.stats();
  const std::uint64_t overflow[kOverflowKinds] = {st.position_overflow, st.untracked_position_fills,
                                                  st.underlying_overflow, st.overflow_pool_full};
  for (int k = 0; k < kOverflowKinds; ++k)
    if (overflow_[k].load(std::memory_order_relaxed) != overflow[k])
      overflow_[k].store(overflow[k], std::memory_order_relaxed);
  const std::uint64_t refused = store_.refused_fills();
  const std::uint64_t before = refused_.load(std::memory_order_relaxed);
  if (refused == before) return;
  refused_.store(refused, std::memory_order_relaxed);
  if (before == 0)
    SEGMENTD_LOG_WARN("shards", "account cap reached: fills of new accounts are refused", {"shard", shard_},
                      {"accounts", store_.size()}, {"max_accounts_per_shard", store_.max_accounts()});
}

void AccountShard::applied(AccountStore::Slot slot, const Fill& fill) {
  touch(slot);
  if (fill.recv_ns > max_event_ns_) max_event_ns_ = fill.recv_ns;
  ++fills_;
  checksum_ += fill_hash(fill);
}

void AccountShard::on_fill(const Fill& fill) { on_fills(std::span<const Fill>(&fill, 1)); }

void AccountShard::on_fills(std::span<const Fill> fills) {
  // Venue position records travel among the fills (in order with the account's fills): runs of
  // fills between them go to the store as a burst.
  std::size_t start = 0;
  bool records = false;
  for (std::size_t i = 0; i <= fills.size(); ++i) {
    if (i < fills.size() && fills[i].is_fill()) continue;
    const std::span<const Fill> run = fills.subspan(start, i - start);
    if (!run.empty()) {
      if (!reconciled_) {
        store_.apply_burst(run, [this](AccountStore::Slot slot, const Fill& fill) { applied(slot, fill); });
      } else {
        apply_reconciled(run);
      }
    }
    if (i < fills.size()) {
      on_position(fills[i]);
      records = true;
    }
    start = i + 1;
  }
  note_refusals();
  if (records || reconciled_) note_reconcile();
}

void AccountShard::apply_reconciled(std::span<const Fill> fills) {
  // A venue position of the fill's time or later already holds it: it moves no position. The
  // fills still go as a burst (prefetched ahead), the reconciler asked in order.
  store_.apply_burst(
      fills, [this](const Fill& fill) { return reconciler_.on_fill(fill); },
      [this](AccountStore::Slot slot, const Fill& fill) { applied(slot, fill); });
}

void AccountShard::on_position(const Fill& rec) {
  reconciled_ = true;
  if (rec.recv_ns > max_event_ns_) max_event_ns_ = rec.recv_ns;
  if (rec.record == RecordKind::kPositionsEnd) {
    const std::optional<AccountStore::Slot> found = store_.find(rec.account);
    const std::vector<Position> held = found ? store_.positions(*found) : std::vector<Position>{};
    to_close_.clear();
    reconciler_.on_snapshot_end(
        rec, held,
        [this](InstrumentId id) { return options_.instrument_of ? options_.instrument_of(id) : InstrumentScope{}; },
        &to_close_);
    for (const InstrumentId id : to_close_) {
      Fill flat = rec;
      flat.record = RecordKind::kPosition;
      flat.instrument = id;
      flat.qty = 0.0;
      on_position(flat);
    }
    return;
  }
  if (rec.record != RecordKind::kPosition) return;
  const std::optional<AccountStore::Slot> found = store_.find(rec.account);
  double usd = kNaN;
  const double book = found ? store_.position_qty(*found, rec.instrument, &usd) : 0.0;
  // Neither the record nor the book prices the unit (an option the book does not hold yet, from a
  // venue row with no index): the tape's index of its underlying does.
  if (!(usd > 0) && !(rec.underlying_price > 0) && options_.tape != nullptr) {
    if (const auto index = options_.tape->index(rec.underlying); index && index->price > 0) usd = index->price;
  }
  const bool inverse = options_.instrument_of && options_.instrument_of(rec.instrument).inverse;
  if (!reconciler_.on_record(rec, book, usd, inverse)) return;  // older than what the book has
  const AccountStore::Slot slot = store_.set_position(rec);
  if (slot == AccountStore::kNoSlot) {
    note_refusals();
    return;
  }
  touch(slot);
}

void AccountShard::note_reconcile() {
  // Only this thread writes the copy, so it reads it without the lock; readers take the lock.
  const ReconcileStats& now = reconciler_.stats();
  if (now == reconcile_copy_) return;
  const std::lock_guard lock(reconcile_mu_);
  reconcile_copy_ = now;
}

ReconcileStats AccountShard::reconcile_stats() const {
  const std::lock_guard lock(reconcile_mu_);
  return reconcile_copy_;
}

void AccountShard::maybe_tick(std::int64_t now_ns) {
  const std::int64_t tick = floor_to(now_ns, options_.markout_tick_ns);
  if (tick <= resolved_to_ns_) return;
  resolved_to_ns_ = tick;
  store_.resolve_markouts(tick, *options_.tape, [this](AccountStore::Slot s) { touch(s); });
  note_markouts();
  if (reconciled_) {
    reconciler_.settle(tick);
    note_reconcile();
  }
}

void AccountShard::note_markouts() {
  const AccountStats& st = store_.stats();
  const std::uint64_t priced[kMarkoutPricedKinds] = {st.markouts_priced_own_fill, st.markouts_priced_other_fill,
                                                     st.markouts_priced_market_data};
  for (int k = 0; k < kMarkoutPricedKinds; ++k) markouts_priced_[k].store(priced[k], std::memory_order_relaxed);
}

void AccountShard::publish(bool assign_now) {
  batch_.clear();
  batch_slots_.clear();
  for (AccountStore::Slot s : touched_) {
    const AccountCore& c = store_.core(s);
    batch_.push_back(TouchedAccount{c.account, c.fills, c.last_ns, store_.model_features(s)});
    batch_slots_.push_back(s);
    touched_bits_[s / 64] &= ~(1ULL << (s % 64));
  }
  touched_.clear();
  if (options_.model != nullptr) {
    if (options_.assign_only_on_advance) {
      for (AccountStore::Slot s : batch_slots_) {
        const std::size_t word = s / 64;
        if (word >= unassigned_bits_.size()) unassigned_bits_.resize(word + 1 + unassigned_bits_.size() / 2, 0);
        if (unassigned_bits_[word] & (1ULL << (s % 64))) continue;
        unassigned_bits_[word] |= 1ULL << (s % 64);
        unassigned_.push_back(s);
      }
      if (assign_now) assign_batch();
    } else {
      assign_batch();
    }
  }
  if (options_.on_batch && !batch_.empty()) options_.on_batch(shard_, batch_);
}

bool AccountShard::segments_changed(const Model& m) {
  if (m.version == assigned_version_) return false;
  assigned_version_ = m.version;
  bool same = m.segments.size() == assigned_ids_.size();
  for (std::size_t i = 0; same && i < m.segments.size(); ++i) same = m.segments[i].id == assigned_ids_[i];
  if (same) return false;
  assigned_ids_.clear();
  for (const auto& seg : m.segments) assigned_ids_.push_back(seg.id);
  return true;
}

void AccountShard::decide(const Model& model, AccountStore::Slot s, std::int64_t now_ns) {
  const AccountCore& c = store_.core(s);
  const FeatureVector raw = store_.model_features(s);
  AssignDecision d = assign(model, options_.assigner, c.account, raw, c.segment, c.segment_since_ns, now_ns);
  const std::int64_t since = d.segment != c.segment ? now_ns : c.segment_since_ns;
  store_.set_segment(s, d.segment, static_cast<float>(d.confidence), since);
  if (d.changed) {
    d.change.recv_ns = c.last_ns;
    changes_.push_back(d.change);
  }
}

void AccountShard::continue_sweep(const Model& model, std::size_t chunk) {
  AccountStore::Slot stop = sweep_end_;
  if (chunk != 0 && sweep_end_ - sweep_next_ > chunk) stop = sweep_next_ + static_cast<AccountStore::Slot>(chunk);
  for (; sweep_next_ < stop; ++sweep_next_)
    decide(model, sweep_next_, std::max(store_.core(sweep_next_).last_ns, clock_ns_));
}

void AccountShard::assign_batch() {
  const ModelPtr model = options_.model->load(std::memory_order_acquire);
  if (!model || !model->ready()) return;
  changes_.clear();
  const bool sweep = segments_changed(*model);
  if (sweep) {
    // A new sweep starts over every account (one under way is overtaken by the newer segments).
    sweep_next_ = 0;
    sweep_end_ = static_cast<AccountStore::Slot>(store_.size());
  }
  if (options_.assign_only_on_advance) {
    // Replay: the whole sweep at the barrier (it covers the accounts traded since the last one),
    // so the result does not depend on where bursts end.
    if (sweep)
      continue_sweep(*model, 0);
    else
      for (AccountStore::Slot s : unassigned_) decide(*model, s, store_.core(s).last_ns);
    for (AccountStore::Slot s : unassigned_) unassigned_bits_[s / 64] &= ~(1ULL << (s % 64));
    unassigned_.clear();
  } else {
    for (AccountStore::Slot s : batch_slots_) decide(*model, s, store_.core(s).last_ns);
    if (sweep_next_ < sweep_end_) continue_sweep(*model, options_.sweep_chunk);
  }
  if (!changes_.empty() && options_.on_changes) options_.on_changes(shard_, changes_);
}

void AccountShard::on_burst_end() {
  if (!options_.assign_only_on_advance) clock_ns_ = std::max(clock_ns_, max_event_ns_);
  if (options_.auto_resolve && max_event_ns_ != INT64_MIN) maybe_tick(max_event_ns_);
  publish(!options_.assign_only_on_advance);
}

void AccountShard::on_idle(std::int64_t now_ns) {
  if (!options_.auto_resolve) return;
  maybe_tick(now_ns);
  if (!touched_.empty())
    publish(!options_.assign_only_on_advance);
  else
    sweep_if_segments_changed();
}

void AccountShard::sweep_if_segments_changed() {
  // A quiet shard (no fills) still has to follow a model whose segments changed: its accounts
  // must not stay in a retired segment until their next fill.
  if (options_.model == nullptr || options_.assign_only_on_advance) return;
  if (sweep_next_ >= sweep_end_) {
    const ModelPtr model = options_.model->load(std::memory_order_acquire);
    if (!model || !model->ready() || model->version == assigned_version_) return;
  }
  batch_slots_.clear();  // nothing traded since the last batch: only the sweep, if any
  assign_batch();
}

void AccountShard::on_stop() {
  if (!touched_.empty()) publish(!options_.assign_only_on_advance);
  if (reconciled_) {
    // Every fill has arrived: the venue positions still open to comparison are compared.
    reconciler_.settle(std::numeric_limits<std::int64_t>::max());
    note_reconcile();
  }
}

void AccountShard::advance_to(std::int64_t t_ns) {
  clock_ns_ = std::max(clock_ns_, t_ns);
  store_.resolve_markouts(t_ns, *options_.tape, [this](AccountStore::Slot s) { touch(s); });
  note_markouts();
  if (reconciled_) {
    reconciler_.settle(t_ns);
    note_reconcile();
  }
  if (t_ns > resolved_to_ns_) resolved_to_ns_ = t_ns;
  if (!touched_.empty())
    publish(true);
  else if (options_.model != nullptr && !unassigned_.empty())
    assign_batch();
}

AccountSnapshot AccountShard::snapshot_of(AccountStore::Slot slot) const {
  const AccountCore& c = store_.core(slot);
  AccountSnapshot s;
  s.account = c.account;
  s.fills = c.fills;
  s.notional_usd = c.notional_usd;
  s.as_of_ns = c.last_ns;
  const ClockFeatures f = store_.clock_features(slot);
  s.raw = f.model();
  s.fast = f.fast;
  s.slow = f.slow;
  s.open_positions = c.positions;
  if (const OverflowBlock* ov = store_.overflow(slot)) s.open_positions += ov->positions_open;
  s.pending_markouts = c.markout_count;
  s.segment = c.segment;
  s.confidence = c.confidence;
  s.segment_since_ns = c.segment_since_ns;
  return s;
}

std::optional<AccountSnapshot> AccountShard::snapshot(AccountId account) const {
  auto slot = store_.find(account);
  if (!slot) return std::nullopt;
  return snapshot_of(*slot);
}

void AccountShard::save_state(ByteWriter& w) const {
  w.i64(resolved_to_ns_);
  w.i64(max_event_ns_);
  w.i64(clock_ns_);
  w.u64(assigned_version_);
  w.pods(assigned_ids_);
  w.u64(fills_);
  w.u64(checksum_);
  w.u32(sweep_next_);
  w.u32(sweep_end_);
  w.pods(unassigned_);
  store_.save(w);
}

absl::Status AccountShard::load_state(ByteReader& r) {
  if (fills_ != 0 || store_.size() != 0) return absl::FailedPreconditionError("shard already has state");
  resolved_to_ns_ = r.i64();
  max_event_ns_ = r.i64();
  clock_ns_ = r.i64();
  assigned_version_ = r.u64();
  assigned_ids_ = r.pods<SegmentId>();
  fills_ = r.u64();
  checksum_ = r.u64();
  sweep_next_ = r.u32();
  sweep_end_ = r.u32();
  std::vector<AccountStore::Slot> unassigned = r.pods<AccountStore::Slot>();
  if (!r.ok()) return r.status();
  if (absl::Status st = store_.load(r); !st.ok()) return st;
  if (sweep_end_ > store_.size() || sweep_next_ > sweep_end_) return absl::DataLossError("sweep past the accounts");
  for (AccountStore::Slot slot : unassigned) {
    if (slot >= store_.size()) return absl::DataLossError("unassigned account past the accounts");
    const std::size_t word = slot / 64;
    if (word >= unassigned_bits_.size()) unassigned_bits_.resize(word + 1 + unassigned_bits_.size() / 2, 0);
    unassigned_bits_[word] |= 1ULL << (slot % 64);
  }
  unassigned_ = std::move(unassigned);
  return absl::OkStatus();
}

absl::Status AccountShard::merge_saved_clocks(ByteReader& r, AccountShard& into) {
  const std::int64_t resolved = r.i64();
  const std::int64_t max_event = r.i64();
  const std::int64_t clock = r.i64();
  r.u64();
  r.pods<SegmentId>();
  const std::uint64_t fills = r.u64();
  const std::uint64_t checksum = r.u64();
  r.u32();
  r.u32();
  r.pods<AccountStore::Slot>();
  if (!r.ok()) return r.status();
  into.resolved_to_ns_ = std::max(into.resolved_to_ns_, resolved);
  into.max_event_ns_ = std::max(into.max_event_ns_, max_event);
  into.clock_ns_ = std::max(into.clock_ns_, clock);
  (void)fills;  // per-shard counters do not survive re-routing; the pipeline keeps the totals
  (void)checksum;
  return absl::OkStatus();
}

RiskScan AccountShard::exposure(const std::shared_ptr<const ScenarioSetup>& scenarios) const {
  RiskScan scan{ExposureScan(max_event_ns_ > 0 ? max_event_ns_ : 0), std::nullopt};
  if (scenarios) scan.scenarios.emplace(scenarios);
  store_.scan_exposure(scan.exposure, scan.scenarios ? &*scan.scenarios : nullptr);
  return scan;
}

RiskScan scan_exposure(ShardSet& shards, const std::shared_ptr<const ScenarioSetup>& scenarios) {
  RiskScan all{ExposureScan(), std::nullopt};
  if (scenarios) all.scenarios.emplace(scenarios);
  for (int k = 0; k < shards.shards(); ++k) {
    const RiskScan one =
        shards.call(k, [scenarios](ShardHandler& h) { return static_cast<const AccountShard&>(h).exposure(scenarios); })
            .get();
    all.exposure.merge(one.exposure);
    if (all.scenarios && one.scenarios) all.scenarios->merge(*one.scenarios);
  }
  return all;
}

std::future<std::optional<AccountSnapshot>> read_account(ShardSet& shards, AccountId account) {
  return shards.call(shard_of(account, shards.shards()),
                     [account](ShardHandler& h) { return static_cast<const AccountShard&>(h).snapshot(account); });
}

}  // namespace segmentd
