#pragma once
// Metrics of the shard workers:
//   segmentd_shard_ring_depth{shard}              fills queued for the shard (all its rings)
//   segmentd_shard_ring_capacity{shard}           fills its rings can hold (depth / capacity = fullness)
//   segmentd_shard_ring_full_events_total{shard}  pushes that found the ring full (blocked or refused)
//   segmentd_shard_fills_processed_total{shard}   fills the shard took from its rings (applied, or
//                                                 refused by the cap on accounts)
//   segmentd_shard_accounts{shard}                accounts the shard owns
//   segmentd_shard_max_accounts{shard}            the most it may own ([shards] max_accounts split
//                                                 over the shards; 0 = no cap)
//   segmentd_shard_fills_refused_total{shard}     fills of new accounts refused because the shard
//                                                 held max_accounts (on_max_accounts = "refuse")
//   segmentd_shard_state_overflow_total{shard,kind}  what the bounds of the account state cost
//                                                 (core/features.md): kind "position" (a position
//                                                 not tracked: no room), "untracked_fill" (a fill
//                                                 on an untracked instrument opened nothing),
//                                                 "underlying" (concentration no longer exact),
//                                                 "pool_full" (no overflow block left)
//   segmentd_shard_fills_dropped_total            fills refused under ring_full_policy = "fail"
//                                                 (always 0 under "block")
//   segmentd_positions_reconcile_total{event}     venue positions against the fills
//                                                 (core/position_reconciler.h): record, stale_record,
//                                                 snapshot, closed_by_snapshot, fill_covered,
//                                                 checked, disagreed
//   segmentd_positions_disagreement_usd_total     Σ |venue − fills| × USD per unit of the disagreements
//
// The ShardSet already counts in atomics: attach() samples them at scrape time, so the shard
// hot path pays nothing; so are the refusals (sample_refused: a function reading the shards'
// atomics). record_accounts() is the one thing a shard reports itself.
//
// Threads: record_accounts(shard, n) from shard `shard`'s thread (once per burst or timer).
// The probe must be destroyed before the ShardSet it is attached to.

#include <mutex>

#include <cstdint>
#include <functional>
#include <vector>
#include "absl/base/thread_annotations.h"

#include "core/position_reconciler.h"
#include "service/metrics/metrics.h"

namespace segmentd {

class ShardSet;

class ShardProbe {
 public:
  //! `ring_capacity` is the capacity of one shard's rings together (producers × ring size).
  ShardProbe(Metrics& metrics, int shards, std::size_t ring_capacity);
  ShardProbe(const ShardProbe&) = delete;
  ShardProbe& operator=(const ShardProbe&) = delete;

  //! Samples processed, ring-full events, depth and rejected fills of `set` at every scrape.
  void attach(const ShardSet* set);
  //! Samples fills refused by the cap on accounts at every scrape: refused(shard) is the shard's
  //! total so far, callable from the scraping thread. Call before the first scrape.
  void sample_refused(std::function<std::uint64_t(int shard)> refused);
  //! Samples the state-overflow counters at every scrape: overflow(shard, kind) is the shard's total
  //! so far of kind 0..3 (position, untracked_fill, underlying, pool_full).
  void sample_overflow(std::function<std::uint64_t(int shard, int kind)> overflow);
  //! segmentd_markouts_resolved_total{priced_by}: kind 0 own_fill, 1 other_fill, 2 market_data
  //! (AccountShard::markouts_priced), sampled at scrape.
  void sample_markouts_priced(std::function<std::uint64_t(int shard, int kind)> priced);
  //! segmentd_positions_*: reconcile(shard) is the shard's ReconcileStats so far (any thread),
  //! summed over the shards at scrape.
  void sample_reconcile(std::function<ReconcileStats(int shard)> reconcile);
  //! The cap of each shard (0 = none), for the gauge.
  void set_max_accounts(std::uint64_t per_shard);
  void record_accounts(int shard, std::uint64_t accounts) { accounts_[shard]->Set(static_cast<double>(accounts)); }

 private:
  void collect();

  int shards_;
  std::vector<prometheus::Gauge*> accounts_;
  std::vector<prometheus::Gauge*> depth_;
  std::vector<CounterExport> full_events_;
  std::vector<CounterExport> processed_;
  std::vector<CounterExport> refused_;
  std::vector<CounterExport> overflow_;         //!< [shard × 4 + kind]
  std::vector<CounterExport> markouts_priced_;  //!< [shard × 3 + kind]
  std::vector<prometheus::Gauge*> max_accounts_;
  CounterExport dropped_;
  std::mutex mu_;
  const ShardSet* set_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::function<std::uint64_t(int)> sample_refused_ ABSL_GUARDED_BY(mu_);
  std::function<std::uint64_t(int, int)> sample_overflow_ ABSL_GUARDED_BY(mu_);
  std::function<std::uint64_t(int, int)> sample_markouts_priced_ ABSL_GUARDED_BY(mu_);
  std::function<ReconcileStats(int)> sample_reconcile_ ABSL_GUARDED_BY(mu_);
  static constexpr int kReconcileEvents = 7;
  std::vector<CounterExport> reconcile_;  //!< [event]
  prometheus::Counter* disagreement_usd_ = nullptr;
  double disagreement_usd_last_ ABSL_GUARDED_BY(mu_) = 0.0;
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
