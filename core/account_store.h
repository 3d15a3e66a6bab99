#pragma once
// The accounts of one shard: dense slots behind a hash index (AccountId → slot), stored in
// blocks of kBlockAccounts so that growth never copies or doubles memory. Positions and pending
// markouts are parallel arrays sized by config (max_positions, markout_slots per account).
//
// Ownership: one AccountStore per shard, touched only by that shard's thread (no locks, no
// atomics). Readers elsewhere go through the shard (ShardSet::call), never here directly.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/account_state.h"
#include "core/feature_vector.h"
#include "core/fill.h"

namespace segmentd {

class PriceTape;

class AccountStore {
 public:
  using Slot = std::uint32_t;
  static constexpr std::size_t kBlockAccounts = 4096;

  //! params.max_positions and params.markout_slots must be within their limits (config checks).
  explicit AccountStore(const FeatureParams& params);

  //! Applies a fill to its account (created on first sight). Returns the account's slot.
  Slot apply(const Fill& fill);

  //! Resolves every pending markout due at or before now_ns, calling on_resolved(slot) once for
  //! each account whose markout_bps changed. Only accounts with pending markouts are visited.
  template <class Fn>
  std::size_t resolve_markouts(std::int64_t now_ns, const PriceTape& tape, Fn&& on_resolved);

  std::optional<Slot> find(AccountId account) const;
  //! Records the assigner's decision on the account (DESIGN.md §4: the account's segment,
  //! confidence and the event time it entered the segment).
  void set_segment(Slot slot, SegmentId segment, float confidence, std::int64_t since_ns) {
    AccountCore& c = block(slot).cores[slot % kBlockAccounts];
    c.segment = segment;
    c.confidence = confidence;
    c.segment_since_ns = since_ns;
  }
  FeatureVector features(Slot slot) const;
  const AccountCore& core(Slot slot) const { return block(slot).cores[slot % kBlockAccounts]; }
  std::span<const Position> positions(Slot slot) const;
  //! Pending markouts, oldest first (copied out of the ring).
  std::vector<PendingMarkout> pending_markouts(Slot slot) const;

  std::size_t size() const { return size_; }
  const FeatureParams& params() const { return params_; }
  const AccountStats& stats() const { return stats_; }
  //! Bytes held: account blocks (allocated capacity), the index's table and the pending list.
  std::size_t memory_bytes() const;
  //! Bytes of one account's state, not counting the index.
  std::size_t bytes_per_account_state() const;

 private:
  struct Block {
    std::unique_ptr<AccountCore[]> cores;
    std::unique_ptr<Position[]> positions;
    std::unique_ptr<PendingMarkout[]> markouts;
  };
  Block& block(Slot slot) { return blocks_[slot / kBlockAccounts]; }
  const Block& block(Slot slot) const { return blocks_[slot / kBlockAccounts]; }
  AccountRef ref(Slot slot);
  Slot create(AccountId account);

  FeatureParams params_;
  std::vector<Block> blocks_;
  std::size_t size_ = 0;
  absl::flat_hash_map<AccountId, Slot> index_;
  std::vector<Slot> pending_;  //!< accounts with pending markouts (flag kInPendingList), any order
  AccountStats stats_;
};

template <class Fn>
std::size_t AccountStore::resolve_markouts(std::int64_t now_ns, const PriceTape& tape, Fn&& on_resolved) {
  std::size_t total = 0;
  std::size_t keep = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const Slot slot = pending_[i];
    AccountRef a = ref(slot);
    const int n = segmentd::resolve_markouts(params_, a, now_ns, tape, &stats_);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      on_resolved(slot);
    }
    if (a.core->markout_count > 0) {
      pending_[keep++] = slot;
    } else {
      a.core->flags &= static_cast<std::uint8_t>(~AccountCore::kInPendingList);
    }
  }
  pending_.resize(keep);
  return total;
}

}  // namespace segmentd
