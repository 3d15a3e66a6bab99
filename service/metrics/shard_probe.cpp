#include "service/metrics/shard_probe.h"

#include <string>

#include "service/shards/shard_set.h"

namespace segmentd {

ShardProbe::ShardProbe(Metrics& m, int shards, std::size_t ring_capacity)
    : shards_(shards),
      dropped_(counter_family(m, "segmentd_shard_fills_dropped_total",
                              "Fills refused because a shard ring was full (ring_full_policy = fail).")
                   .Add({})) {
  auto& accounts = gauge_family(m, "segmentd_shard_accounts", "Accounts owned by the shard.");
  auto& depth = gauge_family(m, "segmentd_shard_ring_depth", "Fills queued for the shard, all its rings together.");
  auto& capacity = gauge_family(m, "segmentd_shard_ring_capacity", "Fills the shard's rings can hold together.");
  auto& full =
      counter_family(m, "segmentd_shard_ring_full_events_total",
                     "Pushes that found the shard's ring full (the producer blocked or the fill was refused).");
  auto& processed = counter_family(m, "segmentd_shard_fills_processed_total",
                                   "Fills the shard took from its rings: applied to account state, or refused by "
                                   "the cap on accounts.");
  auto& refused = counter_family(m, "segmentd_shard_fills_refused_total",
                                 "Fills of new accounts refused because the shard held its share of "
                                 "[shards] max_accounts (on_max_accounts = refuse).");
  auto& max_accounts =
      gauge_family(m, "segmentd_shard_max_accounts", "The most accounts the shard may own (0 = no cap).");
  auto& overflow = counter_family(m, "segmentd_shard_state_overflow_total",
                                  "What the bounds of the account state cost: positions not tracked (position), "
                                  "fills on an untracked instrument (untracked_fill), underlyings not tracked "
                                  "exactly (underlying), overflow blocks asked of a full pool (pool_full).");
  auto& priced = counter_family(m, "segmentd_markouts_resolved_total",
                                "Markouts resolved since the process started, by who set the price on the tape that "
                                "resolved them: a fill of the same account (own_fill: the account's markout is "
                                "priced by its own trading), of another account (other_fill), or market data "
                                "(market_data; core/features.md).");
  auto& reconcile = counter_family(m, "segmentd_positions_reconcile_total",
                                   "Venue positions against the positions the fills build (core/features.md, "
                                   "\"Positions from the venue\"): records applied (record), older than the book's "
                                   "(stale_record), complete snapshots (snapshot), book positions a snapshot closed "
                                   "(closed_by_snapshot), fills a venue position already held (fill_covered), venue "
                                   "positions compared with their fills (checked) and those that disagreed "
                                   "(disagreed).");
  for (const char* event :
       {"record", "stale_record", "snapshot", "closed_by_snapshot", "fill_covered", "checked", "disagreed"})
    reconcile_.emplace_back(reconcile.Add({{"event", event}}));
  disagreement_usd_ = &counter_family(m, "segmentd_positions_disagreement_usd_total",
                                      "Size of the disagreements between venue positions and the fills, in USD: "
                                      "the sum of |venue quantity - fills' quantity| x USD per unit.")
                           .Add({});
  for (int s = 0; s < shards; ++s) {
    prometheus::Labels l{{"shard", std::to_string(s)}};
    for (const char* by : {"own_fill", "other_fill", "market_data"})
      markouts_priced_.emplace_back(priced.Add({{"shard", std::to_string(s)}, {"priced_by", by}}));
    accounts_.push_back(&accounts.Add(l));
    depth_.push_back(&depth.Add(l));
    capacity.Add(l).Set(static_cast<double>(ring_capacity));
    full_events_.emplace_back(full.Add(l));
    processed_.emplace_back(processed.Add(l));
    refused_.emplace_back(refused.Add(l));
    max_accounts_.push_back(&max_accounts.Add(l));
    for (const char* kind : {"position", "untracked_fill", "underlying", "pool_full"})
      overflow_.emplace_back(overflow.Add({{"shard", std::to_string(s)}, {"kind", kind}}));
  }
  hook_ = m.on_collect([this] { collect(); });
}

void ShardProbe::attach(const ShardSet* set) {
  std::lock_guard<std::mutex> lock(mu_);
  set_ = set;
}

void ShardProbe::sample_refused(std::function<std::uint64_t(int)> refused) {
  std::lock_guard<std::mutex> lock(mu_);
  sample_refused_ = std::move(refused);
}

void ShardProbe::sample_overflow(std::function<std::uint64_t(int, int)> overflow) {
  std::lock_guard<std::mutex> lock(mu_);
  sample_overflow_ = std::move(overflow);
}

void ShardProbe::sample_markouts_priced(std::function<std::uint64_t(int, int)> priced) {
  std::lock_guard<std::mutex> lock(mu_);
  sample_markouts_priced_ = std::move(priced);
}

void ShardProbe::sample_reconcile(std::function<ReconcileStats(int)> reconcile) {
  std::lock_guard<std::mutex> lock(mu_);
  sample_reconcile_ = std::move(reconcile);
}

void ShardProbe::set_max_accounts(std::uint64_t per_shard) {
  for (prometheus::Gauge* g : max_accounts_) g->Set(static_cast<double>(per_shard));
}

void ShardProbe::collect() {
  std::lock_guard<std::mutex> lock(mu_);
  if (set_ == nullptr) return;
  const int n = std::min(shards_, set_->shards());
  for (int s = 0; s < n; ++s) {
    depth_[s]->Set(static_cast<double>(set_->depth(s)));
    full_events_[s].sync(set_->ring_full_events(s));
    processed_[s].sync(set_->processed(s));
  }
  dropped_.sync(set_->rejected());
  if (sample_refused_)
    for (int s = 0; s < n; ++s) refused_[s].sync(sample_refused_(s));
  if (sample_overflow_)
    for (int s = 0; s < n; ++s)
      for (int k = 0; k < 4; ++k) overflow_[static_cast<std::size_t>(s * 4 + k)].sync(sample_overflow_(s, k));
  if (sample_markouts_priced_)
    for (int s = 0; s < n; ++s)
      for (int k = 0; k < 3; ++k)
        markouts_priced_[static_cast<std::size_t>(s * 3 + k)].sync(sample_markouts_priced_(s, k));
  if (sample_reconcile_) {
    ReconcileStats sum;
    for (int s = 0; s < n; ++s) {
      const ReconcileStats r = sample_reconcile_(s);
      sum.records += r.records;
      sum.stale_records += r.stale_records;
      sum.snapshots += r.snapshots;
      sum.closed_by_snapshot += r.closed_by_snapshot;
      sum.fills_covered += r.fills_covered;
      sum.checked += r.checked;
      sum.disagreements += r.disagreements;
      sum.disagreement_usd += r.disagreement_usd;
    }
    const std::uint64_t events[kReconcileEvents] = {
        sum.records,       sum.stale_records, sum.snapshots,    sum.closed_by_snapshot,
        sum.fills_covered, sum.checked,       sum.disagreements};
    for (int k = 0; k < kReconcileEvents; ++k) reconcile_[static_cast<std::size_t>(k)].sync(events[k]);
    if (sum.disagreement_usd > disagreement_usd_last_) {
      disagreement_usd_->Increment(sum.disagreement_usd - disagreement_usd_last_);
      disagreement_usd_last_ = sum.disagreement_usd;
    }
  }
}

}  // namespace segmentd
