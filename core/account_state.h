#pragma once
// The state of one account (core/features.md) and the arithmetic on it: exponentially decayed sums in
// event time on two clocks (a fast and a slow half-life), open positions with Black-76 greeks,
// pending markouts, and the 16 features of feature vector v1 on each clock. core/features.md
// defines every feature and every edge case precisely.
//
// Decay is lazy: the sums are stored as of `last_ns` and scaled by 2^(−Δt/half_life) on the next
// touch. Every function here runs on the thread that owns the account (its shard); nothing here
// is shared.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "core/feature_vector.h"
#include "core/fill.h"
#include "core/types.h"

namespace segmentd {

class PriceTape;

//! Every feature's weight = w.
constexpr std::array<double, kFeatureCount> filled_feature_weights(double w) {
  std::array<double, kFeatureCount> a{};
  for (double& x : a) x = w;
  return a;
}

//! The two clocks every rate and ratio feature is kept on (core/features.md, "Two clocks").
enum class Clock : int { kFast = 0, kSlow = 1 };

struct FeatureParams {
  std::int64_t half_life_ns = 3600LL * 1'000'000'000;            //!< the fast clock's, in event time
  std::int64_t slow_half_life_ns = 24 * 3600LL * 1'000'000'000;  //!< the slow clock's
  //! What the model (clusterer and assigner) sees of feature i: fast_weight[i]·fast +
  //! (1 − fast_weight[i])·slow, in raw units. 1 = the fast clock alone (the default), 0 = the
  //! slow one. Position features (delta_neutrality, vega_bias, exposure) are the same on both.
  std::array<double, kFeatureCount> fast_weight = filled_feature_weights(1.0);
  std::int64_t markout_horizon_ns = 10LL * 1'000'000'000;  //!< h of markout_bps
  //! A fill on the same instrument as the newest pending markout, at most this much later, joins
  //! it (exactly: the markout of a group is a sum over its fills) instead of taking a new slot.
  std::int64_t markout_coalesce_ns = 1'000'000'000;
  int max_positions = 8;  //!< open positions tracked per account in its record
  //! Overflow blocks per store (OverflowPool): an account whose positions or underlyings pass its
  //! record's room takes one (kOverflowPositions more positions, kOverflowUnderlyings more
  //! underlyings) while the pool has one free.
  int overflow_blocks = 65536;
  int markout_slots = 8;  //!< pending markouts per account
  //! Floor of the mean gross position in turnover, so an always-flat account stays finite.
  double min_mean_gross_usd = 1.0;

  //! The model sees the fast clock alone (every weight 1): no slow vector is computed for it.
  bool model_is_fast() const {
    for (double w : fast_weight)
      if (w != 1.0) return false;
    return true;
  }
};

inline constexpr int kMaxPositionsLimit = 64;
//! The instrument of an empty position slot (the registry never hands out this id).
inline constexpr InstrumentId kNoInstrument = ~InstrumentId{0};
inline constexpr int kMarkoutSlotsLimit = 64;
inline constexpr int kTrackedUnderlyings = 4;    //!< underlyings in an account's core
inline constexpr int kOverflowPositions = 16;    //!< positions in an overflow block
inline constexpr int kOverflowUnderlyings = 28;  //!< underlyings in an overflow block
//! A tracked underlying whose decayed share of the account's notional is under this may make
//! way for a new one when every underlying slot is taken: it adds < 1e−24 to the concentration.
inline constexpr double kNegligibleShare = 1e-12;

//! One open position, as read out of the store (AccountStore::positions). In the store it is
//! split: its instrument and whether it has greeks in the account's PositionBook, the rest in a
//! HeldPosition.
struct Position {
  std::int64_t expiry_ns = 0;       //!< 0 = never expires (spot, perpetual)
  double qty = 0.0;                 //!< signed, base units
  double delta_usd_per_unit = 0.0;  //!< Black-76 delta × F (options) or F (the rest), at the last fill
  double vega_per_unit = 0.0;       //!< Black-76 vega per base unit, USD per 1.00 of vol
  InstrumentId instrument = 0;
  bool has_greeks = false;  //!< options: greeks came from an implied vol at some fill

  double delta_usd() const { return qty * delta_usd_per_unit; }
  double vega_usd() const { return qty * vega_per_unit; }
};

//! A position's quantity and greeks as stored: 32 bytes, two to a cache line, so that a fill
//! reads and writes the one line of its own position (its index comes from the PositionBook).
struct HeldPosition {
  std::int64_t expiry_ns = 0;
  double qty = 0.0;
  double delta_usd_per_unit = 0.0;
  double vega_per_unit = 0.0;

  double delta_usd() const { return qty * delta_usd_per_unit; }
  double vega_usd() const { return qty * vega_per_unit; }
};
static_assert(sizeof(HeldPosition) == 32);

//! What a fill needs of an account's positions without reading them: followed in the record by
//! the instrument of each position slot (max_positions InstrumentIds, kNoInstrument when the slot
//! is empty), on the line after the core.
//!  - gross_delta_usd = Σ |qty·delta_usd_per_unit| over the open positions, kept as a running sum
//!    at every change (exact again whenever the positions are scanned: an expiry;
//!    exactly 0 when none is open). The decay step integrates it without reading a position.
//!  - next_expiry_ns ≤ the earliest expiry among the open positions (0: none expires). A removal
//!    leaves it early; the step that reaches it scans the positions and makes it exact.
//!  - overflow: 1 + the index of the account's OverflowBlock in its store's pool, 0 when none.
//!  - untracked: a filter of the instruments that once found no room (bit = instrument_bit()).
//!    A fill on an untracked instrument whose bit is set opens nothing: it may reduce a position
//!    the book never saw, and must never open an opposite one.
struct PositionBook {
  double gross_delta_usd = 0.0;
  std::int64_t next_expiry_ns = 0;
  std::uint64_t greeks_mask = 0;  //!< bit i: position i's greeks came from an implied vol
  std::uint32_t overflow = 0;
  std::uint32_t untracked = 0;
};
static_assert(sizeof(PositionBook) == 32 && alignof(InstrumentId) <= alignof(PositionBook));
//! The bit of `instrument` in PositionBook::untracked (a multiplicative hash's top 5 bits).
inline std::uint32_t instrument_bit(InstrumentId instrument) { return 1u << ((instrument * 0x9E3779B1u) >> 27); }

//! The part of an account that passed its record's room, from its store's pool: more position
//! slots (after the record's max_positions, numbered on from them) and more underlyings (after
//! the core's kTrackedUnderlyings). Empty position slots are zero with kNoInstrument, as in the
//! record. Owned with the record (the shard's thread).
struct OverflowBlock {
  InstrumentId instruments[kOverflowPositions];
  HeldPosition positions[kOverflowPositions];
  double underlying_notional[kOverflowUnderlyings];  //!< decayed (fast clock), valid as of the core's last_ns
  UnderlyingId underlyings[kOverflowUnderlyings];
  AccountId account = 0;
  std::uint32_t greeks_mask = 0;  //!< bit i: positions[i]'s greeks came from an implied vol
  std::uint8_t positions_open = 0;
  std::uint8_t underlying_count = 0;
  //! underlying_notional on the slow clock. Last, so that a block of checkpoint version 2 (which
  //! had one clock) is a prefix of this one (core/checkpoint.md).
  double slow_underlying_notional[kOverflowUnderlyings];
};
static_assert(kOverflowPositions <= 32, "greeks_mask has a bit per overflow position");

//! A store's overflow blocks: at most FeatureParams::overflow_blocks, allocated as accounts need
//! them, freed when an account's block holds nothing. Addresses are stable (a deque). Owned by
//! the store's thread.
class OverflowPool {
 public:
  explicit OverflowPool(std::size_t max_blocks) : max_(max_blocks) {}
  //! A zeroed block for `account`: 1 + its index, or 0 when the pool is full.
  std::uint32_t allocate(AccountId account);
  void release(std::uint32_t handle);
  OverflowBlock& at(std::uint32_t handle) { return blocks_[handle - 1]; }
  const OverflowBlock& at(std::uint32_t handle) const { return blocks_[handle - 1]; }
  std::size_t in_use() const { return blocks_.size() - free_.size(); }
  std::size_t allocated() const { return blocks_.size(); }
  std::size_t max_blocks() const { return max_; }
  std::size_t memory_bytes() const {
    return blocks_.size() * sizeof(OverflowBlock) + free_.capacity() * sizeof(std::uint32_t);
  }

 private:
  std::size_t max_;
  std::deque<OverflowBlock> blocks_;
  std::vector<std::uint32_t> free_;  //!< handles of released blocks
};
static_assert(kMaxPositionsLimit <= 64, "greeks_mask has a bit per position");

//! Fills on one instrument waiting for their markout price. Sums make merging exact:
//! Σ nᵢ·sᵢ·(P′ − Pᵢ)/Pᵢ = P′·a − b.  40 bytes.
struct PendingMarkout {
  std::int64_t due_ns = 0;  //!< first fill's time + h
  double a = 0.0;           //!< Σ notional·side / fill price
  double b = 0.0;           //!< Σ notional·side
  double w = 0.0;           //!< Σ notional
  InstrumentId instrument = 0;
};

//! Decayed sums, all valid as of AccountCore::last_ns. The markout sums come first, so that they
//! share the core's first line with what resolving a markout reads (count, head, last_ns).
struct DecayedSums {
  double markout_num = 0;    //!< Σ notional·side·(P′−P)/P, resolved markouts
  double markout_den = 0;    //!< Σ notional, resolved markouts
  double fills = 0;          //!< count
  double notional = 0;       //!< USD
  double maker = 0;          //!< maker notional
  double buy = 0;            //!< buy notional
  double sell = 0;           //!< sell notional
  double option = 0;         //!< option notional
  double future = 0;         //!< dated-future notional
  double perp = 0;           //!< perpetual notional
  double tenor_num = 0;      //!< Σ notional·days to expiry (fills with an expiry)
  double tenor_den = 0;      //!< Σ notional (fills with an expiry)
  double moneyness_num = 0;  //!< Σ notional·|ln(K/F)| (option fills)
  double moneyness_den = 0;  //!< Σ notional (option fills)
  double gross_time = 0;     //!< ∫ gross delta USD dt (decayed), ns·USD
  double time = 0;           //!< ∫ dt (decayed) since the first fill, ns
};

//! The slow clock's sums of an account (Clock::kSlow): the same sums as the core's `sums` and
//! `underlying_notional`, on FeatureParams::slow_half_life_ns, valid as of the core's last_ns
//! too. 160 bytes, at the end of the account's record (after the markout ring), so that a record
//! keeps the core, book and positions where they were, and the default record is 1 KiB.
struct SlowSums {
  DecayedSums sums;
  double underlying_notional[kTrackedUnderlyings] = {};  //!< same underlyings as the core's
};
static_assert(sizeof(SlowSums) == 160);

//! The fixed-size part of an account's state, exactly four cache lines. Its PositionBook, its
//! positions and the ring of its older pending markouts follow it in the same record of the
//! store (their bounds come from config).
//!
//! The newest pending markout — the one a fill may join — lives here rather than in the ring, so
//! that a fill reads no ring line (the ring is only written when a new markout pushes the newest
//! one back, and read when markouts resolve). markout_count counts it: the ring holds
//! markout_count − 1 entries from markout_head, in a ring of markout_slots − 1.
struct AccountCore {
  AccountId account = 0;
  std::uint8_t positions = 0;      //!< open positions in use
  std::uint8_t markout_head = 0;   //!< ring of older pending markouts: oldest
  std::uint8_t markout_count = 0;  //!< pending markouts, the newest one included
  std::uint8_t flags = 0;          //!< kInPendingList
  std::int64_t last_ns = 0;        //!< event time the sums are valid at (latest fill)
  std::uint64_t fills = 0;         //!< lifetime, not decayed
  double notional_usd = 0.0;       //!< lifetime, not decayed
  DecayedSums sums;
  double underlying_notional[kTrackedUnderlyings] = {};  //!< decayed; the rest is "spread"
  // The newest pending markout (valid when markout_count > 0), fields as in PendingMarkout.
  std::int64_t newest_due_ns = 0;
  double newest_a = 0.0;
  double newest_b = 0.0;
  double newest_w = 0.0;
  // The rest by size, so that the core fits four lines. segment, confidence and segment_since_ns
  // are owned by the assigner (docs/architecture.md, "The model and segments"), kept here so an account is one record.
  std::int64_t segment_since_ns = 0;
  UnderlyingId underlyings[kTrackedUnderlyings] = {};
  SegmentId segment = kNoSegment;
  float confidence = 0.0f;
  InstrumentId newest_instrument = 0;
  std::uint8_t underlying_count = 0;

  static constexpr std::uint8_t kInPendingList = 1;

  PendingMarkout newest() const { return {newest_due_ns, newest_a, newest_b, newest_w, newest_instrument}; }
};
static_assert(sizeof(AccountCore) == 256, "the core is four cache lines: keep new fields in its padding");

//! An account's whole state, as spans into the store.
struct AccountRef {
  AccountCore* core;
  PositionBook* book;
  //! The position slots, max_positions of each. A slot is open when its instrument is not
  //! kNoInstrument (core->positions of them are); an empty slot's HeldPosition is all zero, so sums
  //! over every slot (exposure, gross delta) are sums over the open positions.
  std::span<InstrumentId> instruments;
  std::span<HeldPosition> positions;
  //! Ring of the older pending markouts, capacity markout_slots − 1 (the newest is in the core).
  std::span<PendingMarkout> markouts;
  SlowSums* slow;  //!< the slow clock's sums
  //! The store's overflow blocks (book->overflow names the account's); null: none may be taken.
  OverflowPool* pool = nullptr;
};

//! Counters of what the bounds cost (per store, owner thread).
struct AccountStats {
  std::uint64_t position_overflow = 0;  //!< a position not tracked: record and overflow block full
  //! Fills on an instrument the untracked filter holds: no position opened (may be reducing).
  std::uint64_t untracked_position_fills = 0;
  //! An underlying not tracked exactly: every underlying slot taken by a non-negligible one.
  std::uint64_t underlying_overflow = 0;
  std::uint64_t overflow_pool_full = 0;  //!< an account needed an overflow block and none was free
  std::uint64_t markouts_skipped = 0;    //!< a fill with no markout slot free
  std::uint64_t markouts_resolved = 0;
  std::uint64_t markouts_unpriced = 0;  //!< due, but the tape had no price for the instrument
  std::uint64_t late_fills = 0;         //!< older than the account's last fill (weighted down)
  // Not checkpointed (the fields above are; these count from the process's start): who set the
  // tape's price that resolved a markout (core/features.md, "Markouts and the price tape").
  std::uint64_t markouts_priced_own_fill = 0;     //!< a fill of the same account
  std::uint64_t markouts_priced_other_fill = 0;   //!< a fill of another account
  std::uint64_t markouts_priced_market_data = 0;  //!< market data (or a price restored from a checkpoint)
};
//! The bytes of AccountStats a checkpoint holds (core/checkpoint.md, SHRD): its first eight counters.
inline constexpr std::size_t kCheckpointedAccountStatsBytes = 8 * sizeof(std::uint64_t);
static_assert(offsetof(AccountStats, markouts_priced_own_fill) == kCheckpointedAccountStatsBytes);

//! Where a position on `instrument` goes when it opens, if that slot is free: its place is known
//! from the fill alone, before the account's record is read, so the line can be fetched together
//! with the account's core (AccountStore::apply_burst). A slot taken by another instrument sends
//! the newcomer to the first free one; lookups scan every slot's instrument (one line), so no
//! position is ever missed, only fetched later.
inline int preferred_position_slot(InstrumentId instrument, int slots) {
  return static_cast<int>(instrument % static_cast<unsigned>(slots));
}
//! The first slot holding `id`, looking at slot `first` before the others; −1 if none does.
inline int position_slot_holding(std::span<const InstrumentId> instruments, InstrumentId id, int first) {
  if (instruments[static_cast<std::size_t>(first)] == id) return first;
  for (std::size_t i = 0; i < instruments.size(); ++i)
    if (instruments[i] == id) return static_cast<int>(i);
  return -1;
}
//! The slot of the open position on `instrument`, or −1.
inline int find_position(std::span<const InstrumentId> instruments, InstrumentId instrument) {
  const int n = static_cast<int>(instruments.size());
  return position_slot_holding(instruments, instrument, preferred_position_slot(instrument, n));
}
//! The slot a new position on `instrument` opens in: its preferred slot when free, else the first
//! free one, else −1 (every slot open).
inline int free_position_slot(std::span<const InstrumentId> instruments, InstrumentId instrument) {
  const int n = static_cast<int>(instruments.size());
  return position_slot_holding(instruments, kNoInstrument, preferred_position_slot(instrument, n));
}

//! Multiplies every decayed sum by `factor` (the decay of a time step; the slow clock's start
//! from the fast one's sums when a one-clock checkpoint is converted).
void scale_sums(DecayedSums& s, double factor);
//! 2^(−Δ/half_life), Δ ≥ 0.
double decay_factor(std::int64_t dt_ns, std::int64_t half_life_ns);
//! Decayed sum → rate per hour: a steady rate r gives the sum r·half_life/ln 2, so the rate is
//! sum·ln 2/half_life (core/features.md).
double per_hour(double decayed_sum, std::int64_t half_life_ns);

//! Applies one fill. Returns true when it opened a new pending markout (the caller tracks which
//! accounts have pending markouts). `move_position` false: a venue position already includes
//! the fill (core/position_reconciler.h), which then counts in every sum but moves no position.
bool apply_fill(const FeatureParams& p, AccountRef a, const Fill& f, AccountStats* stats, bool move_position = true);

//! The account's position on `instrument` (signed base units; 0 when none is open), and its USD
//! per base unit (delta_usd_per_unit) in *usd_per_unit when open and the pointer is not null.
double position_qty(AccountRef a, InstrumentId instrument, double* usd_per_unit);

//! Sets the account's position on rec.instrument to rec.qty (a RecordKind::kPosition: the
//! venue's word; 0 closes it), as a fill of the difference would move it: greeks from the
//! record's prices (an option keeps those of its last fill with a vol), the same slots and
//! overflow, and it may open a position on an instrument the untracked filter holds. The account's
//! clock moves to rec.recv_ns when that is later; no sum counts the record as a trade.
void set_position(const FeatureParams& p, AccountRef a, const Fill& rec, AccountStats* stats);

//! Resolves pending markouts due at or before `now_ns` against the tape. Returns the number
//! resolved (each changes markout_bps).
int resolve_markouts(const FeatureParams& p, AccountRef a, std::int64_t now_ns, const PriceTape& tape,
                     AccountStats* stats);

//! The 16 features on both clocks, and the vector the model sees (FeatureParams::fast_weight).
struct ClockFeatures {
  FeatureVector fast{};
  FeatureVector slow{};
  FeatureVector model() const;
  //! Set by compute_clock_features from the params, so model() needs no params.
  std::array<double, kFeatureCount> fast_weight = filled_feature_weights(1.0);
};

//! The 16 features on `clock` in raw units, as of core->last_ns (positions: every slot, empty
//! ones zero; the account's overflow block, when it has one, adds its positions and underlyings).
FeatureVector compute_features(const FeatureParams& p, Clock clock, const AccountCore& core, const SlowSums& slow,
                               std::span<const HeldPosition> positions, const OverflowBlock* overflow = nullptr);
//! The features on both clocks as of core->last_ns.
ClockFeatures compute_clock_features(const FeatureParams& p, const AccountCore& core, const SlowSums& slow,
                                     std::span<const HeldPosition> positions, const OverflowBlock* overflow = nullptr);
//! What the model sees (FeatureParams::fast_weight) as of core->last_ns: the fast clock's vector
//! alone when every weight is 1.
FeatureVector compute_model_features(const FeatureParams& p, const AccountCore& core, const SlowSums& slow,
                                     std::span<const HeldPosition> positions, const OverflowBlock* overflow = nullptr);

//! The features on both clocks as of now_ns: when now_ns is after core.last_ns, the sums are
//! decayed, the gross position integrated and expired positions dropped up to now_ns on a copy
//! (exactly what the account's next fill would do first); otherwise compute_clock_features.
//! Reads only.
ClockFeatures compute_features_at(const FeatureParams& p, const AccountCore& core, const SlowSums& slow,
                                  const PositionBook& book, std::span<const InstrumentId> instruments,
                                  std::span<const HeldPosition> positions, std::int64_t now_ns,
                                  const OverflowBlock* overflow = nullptr);

//! Position aggregates used by the features (exposed for tests).
struct Exposure {
  double net_delta_usd = 0, gross_delta_usd = 0, net_vega = 0, gross_vega = 0;
};
Exposure exposure_of(std::span<const HeldPosition> positions);

}  // namespace segmentd
