#pragma once
// The accounts of one shard: dense slots behind an index (AccountId → slot, a plain array over
// the interner's dense ids: core/account_index.h). Each account is one contiguous record — its
// AccountCore (four lines, holding the newest pending markout), its PositionBook with the
// instrument of each position (the next line), its positions (32 B, two to a line), the ring of
// its older pending markouts (bounds from config: max_positions, markout_slots), then the slow
// clock's sums (SlowSums, 160 B) — padded to whole cache lines, so that an update touches one
// page and few lines: the core, the book, its own position, the slow sums and, when it opens a
// markout, one ring slot (11 of the record's 16 with the default bounds; no other position is
// read unless one expires or the positions are full).
// Records live in blocks of kBlockAccounts, allocated 2 MiB-aligned and advised for
// transparent huge pages (MADV_HUGEPAGE), so that growth never copies and a random update over
// millions of accounts costs no page walk.
//
// apply_burst() applies a run of fills in order and prefetches the index entry and the record of
// the fills a few places ahead, so that the cache misses of a burst over cold accounts overlap
// instead of queueing one after the other (bench/README.md, issue 3).
//
// A cap on accounts (set_max_accounts; 0 = none): once the store holds that many, the fills of
// an account it does not hold yet are refused — not applied, not stored, counted in
// refused_fills() — while the accounts it holds keep getting theirs. No account is ever evicted
// or moved (slots stay stable), so the memory of a capped store is bounded by its cap
// (service/config: shards.max_accounts, on_max_accounts = "refuse").
//
// Ownership: one AccountStore per shard, touched only by that shard's thread (no locks, no
// atomics). Readers elsewhere go through the shard (ShardSet::call), never here directly.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "core/account_index.h"
#include "core/account_state.h"
#include "core/checkpoint_io.h"
#include "core/feature_vector.h"
#include "core/fill.h"
#include "core/huge_pages.h"
#include "core/prefetch.h"

namespace segmentd {

class PriceTape;
class ExposureScan;
class ScenarioScan;

class AccountStore {
 public:
  using Slot = std::uint32_t;
  //! Accounts per block (a power of two, so a slot splits with a shift and a mask). With the
  //! default bounds a record is 1,024 B and a block exactly 8 huge pages (16 MiB).
  static constexpr std::size_t kBlockAccounts = 16384;
  static constexpr std::size_t kLine = 64;
  //! What apply() returns for a fill it refused (the account is new and the store is full).
  static constexpr Slot kNoSlot = AccountIndex::kNoSlot;

  //! params.max_positions and params.markout_slots must be within their limits (config checks).
  explicit AccountStore(const FeatureParams& params);
  AccountStore(const AccountStore&) = delete;
  AccountStore& operator=(const AccountStore&) = delete;

  //! Applies a fill to its account (created on first sight). Returns the account's slot, or
  //! kNoSlot when the account is new and the store already holds max_accounts() (the fill is
  //! refused and counted in refused_fills()).
  Slot apply(const Fill& fill);

  //! Sets an account's position as the venue states it (a RecordKind::kPosition; set_position in
  //! core/account_state.h), creating the account on first sight. kNoSlot as for apply().
  Slot set_position(const Fill& rec);
  //! The account's position on `instrument` and its USD per unit (position_qty).
  double position_qty(Slot slot, InstrumentId instrument, double* usd_per_unit);

  //! Applies the fills in order, exactly as apply() one by one would, calling
  //! on_applied(slot, fill) after each applied fill (never for a refused one); prefetches the
  //! accounts of the fills ahead.
  template <class Fn>
  void apply_burst(std::span<const Fill> fills, Fn&& on_applied) {
    apply_burst(
        fills, [](const Fill&) { return true; }, on_applied);
  }
  //! Same, asking moves(fill) in order, just before each fill is applied (also for a refused
  //! one), whether the fill moves its position (apply_fill's move_position): the shard's
  //! reconciler says no for a fill a venue position already includes.
  template <class Moves, class Fn>
  void apply_burst(std::span<const Fill> fills, Moves&& moves, Fn&& on_applied);

  //! Resolves every pending markout due at or before now_ns, calling on_resolved(slot) once for
  //! each account whose markout_bps changed. Only accounts with pending markouts are visited.
  template <class Fn>
  std::size_t resolve_markouts(std::int64_t now_ns, const PriceTape& tape, Fn&& on_resolved);

  std::optional<Slot> find(AccountId account) const;

  // Checkpoints (core/checkpoint.md, section SHRD). The records are written as they are in
  // memory: the layout (record size, bounds) is written first and must match on load.
  //! Every account's record in slot order, the pending-markout list and the stats.
  void save(ByteWriter& w) const;
  //! Restores what save() wrote into this empty store: same slots, same pending order.
  absl::Status load(ByteReader& r);
  //! Reads the records save() wrote and calls fn(std::string_view record, AccountId) for each
  //! (a checkpoint loaded with another shard count routes each record to its new shard). An
  //! account with an overflow block gets it appended to its record in the view.
  static absl::Status for_each_saved_record(ByteReader& r, const FeatureParams& params,
                                            const std::function<void(std::string_view, AccountId)>& fn);
  //! The size of an OverflowBlock in checkpoints written before the slow clock (the block
  //! without slow_underlying_notional, which is last).
  static constexpr std::uint32_t kOneClockOverflowBytes = offsetof(OverflowBlock, slow_underlying_notional);
  //! The slow sums a record of a one-clock checkpoint starts with: the fast sums scaled by
  //! slow_half_life / half_life, i.e. the slow clock reads what the fast clock read (every rate
  //! and ratio as on the fast clock), as if the account had traded so for ever.
  static SlowSums slow_from_fast(const FeatureParams& params, const AccountCore& core);
  //! Appends one record read by for_each_saved_record (a new slot; its pending markouts are listed).
  void append_record(std::string_view record);
  //! Records the assigner's decision on the account (docs/architecture.md, "The model and segments": the account's
  //! segment, confidence and the event time it entered the segment).
  void set_segment(Slot slot, SegmentId segment, float confidence, std::int64_t since_ns) {
    AccountCore& c = core_mut(slot);
    c.segment = segment;
    c.confidence = confidence;
    c.segment_since_ns = since_ns;
  }
  //! The features on `clock` as of the account's last fill (core->last_ns).
  FeatureVector features(Slot slot, Clock clock = Clock::kFast) const;
  //! The features on both clocks as of the account's last fill.
  ClockFeatures clock_features(Slot slot) const;
  //! What the model sees (FeatureParams::fast_weight) as of the account's last fill.
  FeatureVector model_features(Slot slot) const;
  //! The features on both clocks as of now_ns: decayed to now_ns when that is after the
  //! account's last fill (an idle account's rates fall, expired positions drop out), as its next
  //! fill would see them. The account's state is not changed. now_ns ≤ last_ns gives
  //! clock_features(slot).
  ClockFeatures clock_features(Slot slot, std::int64_t now_ns) const;
  //! The fast clock's features as of now_ns (clock_features(slot, now_ns).fast).
  FeatureVector features(Slot slot, std::int64_t now_ns) const { return clock_features(slot, now_ns).fast; }
  //! The slow clock's sums (in the record, after the markout ring).
  const SlowSums& slow(Slot slot) const;
  const AccountCore& core(Slot slot) const { return *reinterpret_cast<const AccountCore*>(record(slot)); }
  //! The open positions, copied out of the record (instrument and greeks flag from the book), in
  //! the order of their slots.
  std::vector<Position> positions(Slot slot) const;
  //! The same into `out` (cleared first), so that a scan reuses one buffer.
  void positions(Slot slot, std::vector<Position>& out) const;
  //! Adds every account (its segment, its open positions) to `scan` (core/segment_exposure.h).
  //! With `scenarios`, the same pass revalues each account under the shocks (core/scenario.h).
  void scan_exposure(ExposureScan& scan, ScenarioScan* scenarios = nullptr) const;
  //! Every position slot's quantity and greeks as stored (max_positions; an empty slot is zero).
  std::span<const HeldPosition> held(Slot slot) const;
  //! The account's overflow block (more positions and underlyings), or null.
  const OverflowBlock* overflow(Slot slot) const;
  const OverflowPool& overflow_pool() const { return pool_; }
  const PositionBook& book(Slot slot) const;
  //! Pending markouts, oldest first (copied out of the ring).
  std::vector<PendingMarkout> pending_markouts(Slot slot) const;

  std::size_t size() const { return size_; }
  //! The cap on accounts (0 = none). Lowering it under size() keeps every account held (a
  //! checkpoint of a larger store still loads whole) and refuses every new one.
  void set_max_accounts(std::size_t max_accounts) { max_accounts_ = max_accounts; }
  std::size_t max_accounts() const { return max_accounts_; }
  //! Fills refused because their account was new and the store full (since construction; not
  //! checkpointed).
  std::uint64_t refused_fills() const { return refused_fills_; }
  //! Accounts with pending markouts (the list resolution reads).
  std::size_t pending_accounts() const { return pending_.size(); }
  const FeatureParams& params() const { return params_; }
  const AccountStats& stats() const { return stats_; }
  //! Bytes held: account blocks (allocated capacity), the index's mapped pages, the pending list
  //! and the overflow blocks allocated.
  std::size_t memory_bytes() const;
  //! Bytes of one account's state (its record, with padding), not counting the index.
  std::size_t bytes_per_account_state() const { return record_bytes_; }

 private:
  struct FreeBlock {
    void operator()(std::byte* p) const;
  };
  using BlockPtr = std::unique_ptr<std::byte, FreeBlock>;
  static_assert(std::is_same_v<Slot, AccountIndex::Slot>);
  static constexpr int kBlockShift = 14;
  static_assert(std::size_t{1} << kBlockShift == kBlockAccounts);

  std::byte* record(Slot slot) const {
    return blocks_[slot >> kBlockShift].get() + (slot & (kBlockAccounts - 1)) * record_bytes_;
  }
  AccountCore& core_mut(Slot slot) { return *reinterpret_cast<AccountCore*>(record(slot)); }
  //! Capacity of a record's ring: the older pending markouts (the newest is in the core).
  std::size_t ring_slots() const { return static_cast<std::size_t>(params_.markout_slots) - 1; }
  AccountRef ref(Slot slot);
  Slot create(AccountId account);
  //! The account's slot, created if new; kNoSlot (counted) when new and the store is full.
  Slot slot_for(AccountId account);
  void apply_at(Slot slot, const Fill& fill, bool move_position = true);
  //! The slot of an account already in the index (kNoSlot otherwise), prefetching its record and
  //! the preferred slot of the fill's position.
  Slot find_and_prefetch(AccountId account, InstrumentId instrument) const;
  void prefetch_core(Slot slot, InstrumentId instrument) const;
  //! A PendingMarkout (40 B) may straddle two lines (4 of the 7 ring slots with the default
  //! bounds): both are prefetched.
  static void prefetch_markout(const std::byte* m) {
    prefetch(m);
    prefetch(m + sizeof(PendingMarkout) - 1);
  }
  //! Reads the core (prefetched earlier) to prefetch the lines a fill will touch.
  void prefetch_state(Slot slot, InstrumentId instrument) const;

  FeatureParams params_;
  std::size_t book_offset_;  //!< within a record
  std::size_t instruments_offset_;
  std::size_t positions_offset_;
  std::size_t markouts_offset_;
  std::size_t slow_offset_;             //!< within a record: the SlowSums
  std::size_t one_clock_record_bytes_;  //!< a record of a checkpoint written before the slow clock
  std::size_t record_bytes_;            //!< a multiple of kLine
  std::size_t block_bytes_;             //!< kBlockAccounts records, rounded up to whole huge pages
  std::vector<BlockPtr> blocks_;
  OverflowPool pool_;
  std::size_t size_ = 0;
  std::size_t max_accounts_ = 0;  //!< 0 = no cap
  std::uint64_t refused_fills_ = 0;
  //! On huge pages too once the store is large (a cold lookup is otherwise a page walk of its own).
  AccountIndex index_;
  //! An account with pending markouts, with its oldest one's due time and where that markout
  //! was when last seen.
  //  - The due time is exact: the oldest pending markout changes only when markouts resolve (a
  //    fill joins the newest or queues a newer one behind it; a late fill's markout queues behind
  //    too), and the list is refreshed then. So resolution skips, without touching the account,
  //    every account whose oldest markout is not due (at a 1 s tick with a 10 s horizon, most).
  //  - The offset lets resolution prefetch that markout's line(s) together with the core instead
  //    of after reading it. It stays right until the markout resolves: the oldest is at the ring's
  //    head, or, while it is the only one, in the core, from where a newer markout pushes it to
  //    the ring's head. So for a lone markout both places are prefetched (kMaybeNewest).
  struct Pending {
    Slot slot;
    std::uint32_t oldest_offset;  //!< within the record: the ring's head (| kMaybeNewest), or the core's newest
    std::int64_t oldest_due_ns;
  };
  static constexpr std::uint32_t kMaybeNewest = 1u << 31;
  Pending pending_entry(Slot slot, const AccountRef& a) const {
    const AccountCore& c = *a.core;
    const auto head = static_cast<std::uint32_t>(markouts_offset_ + c.markout_head * sizeof(PendingMarkout));
    if (c.markout_count > 1) return Pending{slot, head, a.markouts[c.markout_head].due_ns};
    if (ring_slots() == 0)
      return Pending{slot, static_cast<std::uint32_t>(offsetof(AccountCore, newest_due_ns)), c.newest_due_ns};
    return Pending{slot, head | kMaybeNewest, c.newest_due_ns};
  }
  std::vector<Pending> pending_;  //!< accounts with pending markouts (flag kInPendingList), any order
  AccountStats stats_;
};

inline void AccountStore::prefetch_core(Slot slot, InstrumentId instrument) const {
  const std::byte* r = record(slot);
  // Records start on a line (blocks are huge-page aligned, record_bytes_ a multiple of kLine), so
  // the core is exactly its four lines; the book and the instruments follow up to the positions
  // (one line for up to 10 positions). Every fill reads and writes all of them.
  static_assert(sizeof(AccountCore) % kLine == 0);
  for (std::size_t off = 0; off < positions_offset_; off += kLine) prefetch(r + off);
  // The fill's position is mostly in its preferred slot, whose address needs nothing of the
  // record: fetched now, it is not a third miss in a chain index → core → position.
  const int pref = preferred_position_slot(instrument, params_.max_positions);
  prefetch(r + positions_offset_ + static_cast<std::size_t>(pref) * sizeof(HeldPosition));
  // The slow clock's sums: every fill writes them too (three lines, the record's last).
  for (std::size_t off = slow_offset_ & ~(kLine - 1); off < slow_offset_ + sizeof(SlowSums); off += kLine)
    prefetch(r + off);
}

inline void AccountStore::prefetch_state(Slot slot, InstrumentId instrument) const {
  const std::byte* r = record(slot);
  const auto& c = *reinterpret_cast<const AccountCore*>(r);
  // The fill's own position (or the free slot it will open), found in the instruments that
  // prefetch_core brought in, when it is not in the preferred slot prefetched then. The newest
  // markout, which the fill joins or pushes back, is in the core: when the fill may open a new
  // markout, the ring slot the newest one moves to is written.
  const std::span<const InstrumentId> ids(reinterpret_cast<const InstrumentId*>(r + instruments_offset_),
                                          static_cast<std::size_t>(params_.max_positions));
  int i = find_position(ids, instrument);
  if (i < 0) i = free_position_slot(ids, instrument);
  if (i >= 0 && i != preferred_position_slot(instrument, params_.max_positions))
    prefetch(r + positions_offset_ + static_cast<std::size_t>(i) * sizeof(HeldPosition));
  if (c.markout_count > 0 && c.markout_count < params_.markout_slots) {
    const std::byte* tail =
        r + markouts_offset_ + (c.markout_head + c.markout_count - 1u) % ring_slots() * sizeof(PendingMarkout);
    prefetch_markout(tail);
  }
}

inline AccountStore::Slot AccountStore::find_and_prefetch(AccountId account, InstrumentId instrument) const {
  const Slot slot = index_.find(account);
  if (slot != kNoSlot) prefetch_core(slot, instrument);
  return slot;
}

template <class Moves, class Fn>
void AccountStore::apply_burst(std::span<const Fill> fills, Moves&& moves, Fn&& on_applied) {
  // Three stages ahead of fill i, so that the misses of several fills are in flight at once:
  //  - i + kIndexAhead: the index entry of the account is prefetched (its address needs no load);
  //  - i + kCoreAhead: the index (now cached) gives the slot, and the account's core is
  //    prefetched, with the preferred slot of the fill's position (where it mostly is);
  //  - i + kStateAhead: the core (now cached) says which position (when not in its preferred
  //    slot) and markout slots the fill will touch; those lines are prefetched.
  // Slots found ahead stay valid: slots are never moved or reused. An account not yet indexed
  // then (new, or created by a fill in between) is looked up again when its fill is applied.
  constexpr std::size_t kIndexAhead = 8;
  constexpr std::size_t kCoreAhead = 5;
  constexpr std::size_t kStateAhead = 2;
  const std::size_t n = fills.size();
  Slot ahead[kCoreAhead];
  for (std::size_t j = 0; j < n && j < kIndexAhead; ++j) index_.prefetch(fills[j].account);
  for (std::size_t j = 0; j < n && j < kCoreAhead; ++j)
    ahead[j] = find_and_prefetch(fills[j].account, fills[j].instrument);
  for (std::size_t j = 0; j < n && j < kStateAhead; ++j)
    if (ahead[j] != kNoSlot) prefetch_state(ahead[j], fills[j].instrument);
  // Fill i is applied before the prefetches for the fills ahead are issued: a prefetch that finds
  // every miss buffer busy stalls dispatch, and what was dispatched before it (the arithmetic of
  // fill i, whose lines are in cache) still executes meanwhile.
  for (std::size_t i = 0; i < n; ++i) {
    const bool move_position = moves(fills[i]);
    Slot slot = ahead[i % kCoreAhead];
    if (slot == kNoSlot) slot = slot_for(fills[i].account);
    if (slot != kNoSlot) {
      apply_at(slot, fills[i], move_position);
      on_applied(slot, fills[i]);
    }
    if (i + kIndexAhead < n) index_.prefetch(fills[i + kIndexAhead].account);
    if (i + kStateAhead < n) {
      const Slot s = ahead[(i + kStateAhead) % kCoreAhead];
      if (s != kNoSlot) prefetch_state(s, fills[i + kStateAhead].instrument);
    }
    if (i + kCoreAhead < n)
      ahead[i % kCoreAhead] = find_and_prefetch(fills[i + kCoreAhead].account, fills[i + kCoreAhead].instrument);
  }
}

template <class Fn>
std::size_t AccountStore::resolve_markouts(std::int64_t now_ns, const PriceTape& tape, Fn&& on_resolved) {
  // The list is read in order. An account whose oldest markout is not due is kept without being
  // touched (at a 1 s tick with a 10 s horizon, most are not). The others are visited, mostly
  // cold, and their lines are prefetched in two stages, counted in due entries (counted in
  // entries, the distance shrinks to nothing when most are skipped, and every visit waits for
  // memory; measured 377 against 52 ns a visit):
  //  - kAhead due entries ahead, the core's first line, which holds all that resolution reads
  //    and writes there (count, head, last_ns, the markout sums), and the oldest markout's
  //    line(s) by the list's offset, so that neither waits for the other;
  //  - kSecondAhead due entries ahead, the core (now cached) says where the markout after the
  //    oldest is, and its line(s) are prefetched: resolution reads it to learn whether it is due
  //    too, and without this that read was a miss that waited for memory in every visit of an
  //    account with two or more markouts pending (bench/README.md, issue 3).
  constexpr std::size_t kAhead = 8;
  constexpr std::size_t kSecondAhead = 3;
  static_assert(kSecondAhead < kAhead);
  static_assert(offsetof(AccountCore, sums.markout_den) + sizeof(double) <= kLine);
  static_assert(offsetof(AccountCore, markout_count) < kLine && offsetof(AccountCore, markout_head) < kLine);
  static_assert(offsetof(AccountCore, newest_due_ns) / kLine == offsetof(AccountCore, newest_w) / kLine &&
                    offsetof(AccountCore, newest_due_ns) / kLine == offsetof(AccountCore, newest_instrument) / kLine,
                "the core's newest markout is on one line");
  const std::size_t n = pending_.size();
  const std::size_t ring = ring_slots();
  // The slots of the due entries prefetched and not yet visited, in order: queue[(qh + k) % kAhead]
  // is the k-th from the one visited next; the first `second` of them have had the second stage.
  Slot queue[kAhead];
  std::size_t qh = 0, qn = 0, second = 0;
  std::size_t next = 0;  // the prefetch cursor: entries before it were considered
  std::size_t total = 0;
  std::size_t keep = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (; qn < kAhead && next < n; ++next) {
      const Pending& e = pending_[next];
      if (e.oldest_due_ns > now_ns) continue;
      const std::byte* r = record(e.slot);
      const std::uint32_t oldest = e.oldest_offset & ~kMaybeNewest;
      prefetch(r);
      prefetch_markout(r + oldest);
      if (e.oldest_offset & kMaybeNewest) prefetch(r + offsetof(AccountCore, newest_due_ns));
      queue[(qh + qn++) % kAhead] = e.slot;
    }
    for (; second < kSecondAhead && second < qn; ++second) {
      const std::byte* r = record(queue[(qh + second) % kAhead]);
      const auto& c = *reinterpret_cast<const AccountCore*>(r);
      if (c.markout_count > 2) {
        prefetch_markout(r + markouts_offset_ + (c.markout_head + 1u) % ring * sizeof(PendingMarkout));
      } else if (c.markout_count == 2) {
        prefetch(r + offsetof(AccountCore, newest_due_ns));
      }
    }
    if (pending_[i].oldest_due_ns > now_ns) {
      pending_[keep++] = pending_[i];
      continue;
    }
    // Entry i is due, so the cursor passed it: it is the queue's front, which had both stages.
    qh = (qh + 1) % kAhead;
    --qn;
    --second;
    const Slot slot = pending_[i].slot;
    AccountRef a = ref(slot);
    const int resolved = segmentd::resolve_markouts(params_, a, now_ns, tape, &stats_);
    if (resolved > 0) {
      total += static_cast<std::size_t>(resolved);
      on_resolved(slot);
    }
    if (a.core->markout_count > 0) {
      pending_[keep++] = pending_entry(slot, a);
    } else {
      a.core->flags &= static_cast<std::uint8_t>(~AccountCore::kInPendingList);
    }
  }
  pending_.resize(keep);
  return total;
}

}  // namespace segmentd
