#pragma once
// The shard handler that owns the accounts of one shard (docs/architecture.md, "Data flow"): applies each fill to
// its account, resolves markouts against the shared price tape, and after each burst recomputes
// the feature vector of every account the burst touched — once per account — and hands that
// batch to the clusterer hook.
//
// Thread ownership: an AccountShard lives on its shard's thread (ShardSet calls every virtual and
// every ShardSet::call function there). Nothing in it is synchronized; other threads read an
// account with read_account() below, which runs on the shard thread through ShardSet::call.
//
// Markout resolution has two modes:
//  - live (auto_resolve): whenever the shard's event time (its fills' receive time, or the wall
//    clock when idle) crosses a markout tick, markouts due by that tick are resolved with the
//    tape as it is then;
//  - replay (auto_resolve = false): the producer drives advance_to(T) at each tick after the
//    shards drained, so the tape holds exactly the prices up to T and the result does not depend
//    on shard count or timing (service/app/replay.cpp).

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/account_store.h"
#include "core/assigner.h"
#include "core/feature_vector.h"
#include "core/model.h"
#include "core/position_reconciler.h"
#include "core/price_tape.h"
#include "core/scenario.h"
#include "core/segment_change.h"
#include "core/segment_exposure.h"
#include "service/shards/shard_set.h"

namespace segmentd {

//! One account's vector after a batch: what the shard hands the clusterer (and the assigner).
struct TouchedAccount {
  AccountId account = 0;
  std::uint64_t fills = 0;    //!< lifetime fills of the account (the clusterer's min_fills)
  std::int64_t as_of_ns = 0;  //!< event time the vector is valid at (the account's last fill)
  FeatureVector raw{};        //!< raw (unstandardized) units
};

//! A consistent copy of one account, for readers outside the shard.
struct AccountSnapshot {
  AccountId account = 0;
  std::uint64_t fills = 0;
  double notional_usd = 0.0;  //!< lifetime
  std::int64_t as_of_ns = 0;
  FeatureVector raw{};   //!< what the model sees ([features.fast_weight] of the two clocks)
  FeatureVector fast{};  //!< the fast clock's features ([features] half_life)
  FeatureVector slow{};  //!< the slow clock's ([features] slow_half_life)
  int open_positions = 0;
  int pending_markouts = 0;
  SegmentId segment = kNoSegment;  //!< current segment (kNoSegment before the first model)
  float confidence = 0.0f;
  std::int64_t segment_since_ns = 0;  //!< event time it entered `segment`
};

struct AccountShardOptions {
  FeatureParams params;
  const PriceTape* tape = nullptr;  //!< required; outlives the shard
  bool auto_resolve = true;
  std::int64_t markout_tick_ns = 1'000'000'000;
  //! The clusterer hook: called on the shard thread after each burst (and after markouts
  //! resolve) with the touched accounts' vectors, each account once. The span is valid only
  //! during the call; copy what you keep. May be empty (then only last_batch() has them).
  std::function<void(int shard, std::span<const TouchedAccount>)> on_batch;
  //! Assignment (docs/architecture.md, "Data flow", §4): when set, each touched account is assigned against the
  //! model in this slot (read without locks, once per batch) with hysteresis, and the real
  //! changes of segment are handed to on_changes (shard thread; span valid during the call).
  //! When the model's set of segments differs from the one the shard last assigned against (the
  //! first model, a segment born or retired), every account of the shard is re-assigned, traded
  //! or not: an idle account never stays in a retired segment, and the accounts a newborn segment
  //! describes move into it at once rather than at their next fill. Such a sweep costs about one
  //! assignment per account (~130 ns) on the shard thread, and happens only on those events.
  //! Live, it runs in chunks of `sweep_chunk` accounts, one after each burst or idle round, so a
  //! shard of millions of accounts keeps applying fills while it sweeps (10M accounts in one go
  //! would stall the shard for over a second); replay sweeps at once, at the barrier.
  const ModelSlot* model = nullptr;
  std::size_t sweep_chunk = 16384;  //!< accounts re-assigned per step of a live sweep (~2 ms)
  AssignerConfig assigner;
  std::function<void(int shard, std::span<const SegmentChange>)> on_changes;
  //! Replay: assign only in advance_to() (at barriers the driver places), never per burst, so
  //! decisions do not depend on where bursts happen to end.
  bool assign_only_on_advance = false;
  //! The most accounts this shard holds (0 = no cap): shards.max_accounts split over the shards
  //! (per_shard_max_accounts). The fills of a new account past it are refused and counted
  //! (refused_fills()); the accounts held keep getting theirs. A warning is logged the first
  //! time a shard refuses.
  std::size_t max_accounts = 0;
  //! An instrument's venue, kind and whether it is inverse (InstrumentRegistry::get), for venue
  //! positions (PositionReconciler); called on the shard thread, per position record only. When
  //! empty a snapshot closes nothing it did not restate, and every instrument counts as linear.
  std::function<InstrumentScope(InstrumentId)> instrument_of;
};

//! Each shard's share of an instance-wide cap on accounts: ceil(max_accounts / shards); 0 stays
//! 0 (no cap). Accounts are spread over shards by hash, so a shard may fill up a little before
//! the instance holds max_accounts.
inline std::size_t per_shard_max_accounts(std::uint64_t max_accounts, int shards) {
  const auto n = static_cast<std::uint64_t>(shards < 1 ? 1 : shards);
  return static_cast<std::size_t>((max_accounts + n - 1) / n);
}

//! One pass over a shard's accounts: their exposure, and their shock scenarios when asked for.
struct RiskScan {
  ExposureScan exposure;
  std::optional<ScenarioScan> scenarios;
};

class AccountShard final : public ShardHandler {
 public:
  AccountShard(int shard, AccountShardOptions options);

  void on_fill(const Fill& fill) override;
  //! As on_fill for each, with the store prefetching the accounts of the fills ahead.
  void on_fills(std::span<const Fill> fills) override;
  void on_burst_end() override;
  void on_idle(std::int64_t now_ns) override;
  void on_stop() override;

  //! Resolves markouts due by t_ns and publishes the accounts that changed. Shard thread only.
  void advance_to(std::int64_t t_ns);

  std::optional<AccountSnapshot> snapshot(AccountId account) const;
  //! Every account's segment and open positions summed (core/segment_exposure.h), as of the
  //! shard's newest event: positions expired by then are left out. With a setup, the same pass
  //! revalues every account under its shocks (core/scenario.h).
  RiskScan exposure(const std::shared_ptr<const ScenarioSetup>& scenarios = nullptr) const;

  // Checkpoints (core/checkpoint.md, section SHRD). Shard thread, between bursts, or before
  // start()/after stop(). save_state writes this shard's clocks and assignment bookkeeping, then
  // its store; load_state restores them into a shard that has seen nothing yet.
  void save_state(ByteWriter& w) const;
  absl::Status load_state(ByteReader& r);
  //! Loading a checkpoint written with another shard count: the accounts arrive one by one
  //! (AccountStore::append_record) and the clocks are merged (the latest of every saved shard).
  void append_record(std::string_view record) { store_.append_record(record); }
  //! The clocks and counters of a saved shard (the part of save_state before the store), merged
  //! into this one: latest times; the assignment bookkeeping is reset (the next model re-assigns).
  static absl::Status merge_saved_clocks(ByteReader& r, AccountShard& into);
  //! Calls fn(const AccountSnapshot&) for every account, in slot order. Shard thread or after stop.
  template <class Fn>
  void for_each_account(Fn&& fn) const {
    for (AccountStore::Slot s = 0; s < store_.size(); ++s) fn(snapshot_of(s));
  }

  //! The vectors published by the last batch (shard thread only).
  std::span<const TouchedAccount> last_batch() const { return batch_; }
  const AccountStore& store() const { return store_; }
  int shard() const { return shard_; }
  //! Fills applied (refused ones are not counted here).
  std::uint64_t fills_seen() const { return fills_; }
  //! Fills refused by the cap on accounts (options.max_accounts) since the shard started. Any
  //! thread (an atomic the shard thread updates after each run of fills).
  std::uint64_t refused_fills() const { return refused_.load(std::memory_order_relaxed); }
  //! What the bounds of the account state cost (AccountStats, core/features.md), for other threads:
  //! kind 0 positions not tracked (no room), 1 fills on an untracked instrument (no position
  //! opened), 2 underlyings not tracked exactly, 3 overflow blocks asked of a full pool.
  static constexpr int kOverflowKinds = 4;
  std::uint64_t overflow_count(int kind) const { return overflow_[kind].load(std::memory_order_relaxed); }
  //! Markouts resolved since the process started, by who set the tape's price (AccountStats):
  //! kind 0 a fill of the same account, 1 a fill of another account, 2 market data. Any thread.
  static constexpr int kMarkoutPricedKinds = 3;
  std::uint64_t markouts_priced(int kind) const { return markouts_priced_[kind].load(std::memory_order_relaxed); }
  //! The venue positions' reconciliation (PositionReconciler), copied after each run of records
  //! and fills and at each tick, for other threads.
  ReconcileStats reconcile_stats() const;
  //! Order-independent checksum of the fills applied (sum of a per-fill hash): tests compare it
  //! with the producers' own.
  std::uint64_t fill_checksum() const { return checksum_; }

 private:
  void touch(AccountStore::Slot slot);
  //! After fills were applied: publishes the store's refusal count and warns on the first one.
  void note_refusals();
  void publish(bool assign_now = true);
  void assign_batch();
  //! Live, idle: starts a sweep if the model's segments changed since the last batch, and
  //! continues one under way.
  //! Copies the store's markout counters into markouts_priced_ (after resolution).
  void note_markouts();
  void sweep_if_segments_changed();
  //! Re-assigns the next chunk of a live sweep under way (all of it when chunk is 0).
  void continue_sweep(const Model& model, std::size_t chunk);
  //! Assigns one account against `model` at `now_ns`; a real change goes to changes_.
  void decide(const Model& model, AccountStore::Slot slot, std::int64_t now_ns);
  //! True (once) when `m`'s segment ids differ from those of the last model assigned against.
  bool segments_changed(const Model& m);
  void maybe_tick(std::int64_t now_ns);
  //! A venue position record (RecordKind::kPosition or kPositionsEnd) from the ring.
  void on_position(const Fill& rec);
  //! Fills (all RecordKind::kFill) once the reconciler has venue positions: one by one.
  void apply_reconciled(std::span<const Fill> fills);
  void applied(AccountStore::Slot slot, const Fill& fill);
  //! Copies reconciler_.stats() for reconcile_stats().
  void note_reconcile();
  AccountSnapshot snapshot_of(AccountStore::Slot slot) const;

  int shard_;
  AccountShardOptions options_;
  AccountStore store_;
  std::vector<std::uint64_t> touched_bits_;  //!< one bit per slot
  std::vector<AccountStore::Slot> touched_;
  std::vector<TouchedAccount> batch_;
  std::vector<AccountStore::Slot> batch_slots_;  //!< slot of each batch_ entry
  std::vector<SegmentChange> changes_;
  //! Replay: accounts touched since the last assignment (assign_only_on_advance).
  std::vector<AccountStore::Slot> unassigned_;
  std::vector<std::uint64_t> unassigned_bits_;
  std::int64_t resolved_to_ns_ = INT64_MIN;  //!< last tick markouts were resolved at
  std::int64_t max_event_ns_ = INT64_MIN;
  //! Event time of a sweep's decisions: the barrier time in replay (deterministic for any shard
  //! count), the newest event seen live.
  std::int64_t clock_ns_ = INT64_MIN;
  //! A sweep under way: slots [sweep_next_, sweep_end_) are still to be re-assigned.
  AccountStore::Slot sweep_next_ = 0;
  AccountStore::Slot sweep_end_ = 0;
  std::uint64_t assigned_version_ = 0;   //!< model version last assigned against
  std::vector<SegmentId> assigned_ids_;  //!< its segment ids
  std::uint64_t fills_ = 0;
  std::uint64_t checksum_ = 0;
  std::atomic<std::uint64_t> refused_{0};                                 //!< store_.refused_fills(), for other threads
  std::atomic<std::uint64_t> overflow_[kOverflowKinds] = {};              //!< store_.stats(), for other threads
  std::atomic<std::uint64_t> markouts_priced_[kMarkoutPricedKinds] = {};  //!< store_.stats(), for other threads
  PositionReconciler reconciler_;
  bool reconciled_ = false;             //!< a venue position record was seen: fills ask the reconciler
  std::vector<InstrumentId> to_close_;  //!< scratch of on_position
  mutable std::mutex reconcile_mu_;     //!< guards reconcile_copy_ (std::mutex: TSan sees it)
  ReconcileStats reconcile_copy_;
};

//! A per-fill hash for checksums (order-independent when summed).
std::uint64_t fill_hash(const Fill& f);

//! Reads an account's snapshot from any thread, without a data race: the read runs on the
//! account's shard thread between two bursts.
std::future<std::optional<AccountSnapshot>> read_account(ShardSet& shards, AccountId account);

//! Every shard's exposure() merged, from any thread: each shard scans between two bursts (it
//! takes no fill while it scans), one after the other; blocks until the last has answered.
RiskScan scan_exposure(ShardSet& shards, const std::shared_ptr<const ScenarioSetup>& scenarios = nullptr);

}  // namespace segmentd
