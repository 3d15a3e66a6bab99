#pragma once
// Venue positions against the positions the fills build (core/features.md, "Positions from the
// venue"). A venue states an account's position on an instrument as of a time T (a
// RecordKind::kPosition), or the whole set of its derivative positions as of T (kPosition records
// of time T, then a kPositionsEnd). The book takes the venue's word. A fill of time ≤ T on that
// instrument is already inside the venue's number, whichever of the two arrived first (Binance
// sends ACCOUNT_UPDATE before the ORDER_TRADE_UPDATE of the same trade): it still counts in every
// sum, but it moves no position.
//
// Disagreement. When a record arrives the reconciler keeps what the fills say of the same moment:
// the book's quantity then, plus every covered fill that arrives later (the "shadow"). Once the
// moment is over — a later record or a fill after T on the instrument, or kSettleNs of event time
// after T — the shadow is compared with the venue's quantity: a difference (beyond rounding) is a
// disagreement, counted with its size in USD. A service that started after the account opened its
// positions, or that missed a fill, disagrees; one that saw every fill does not.
//
// Times: a record's or fill's time is its venue time when it has one no later than kMaxAheadNs
// after its receive time, else its receive time (a venue clock far ahead must not make every
// later fill look covered).
//
// Thread ownership: one per shard, used on the shard's thread only. Its state is not in
// checkpoints: after a restart the venue's snapshot at connect sets the book again.

#include <cstdint>
#include <deque>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/account_state.h"
#include "core/fill.h"

namespace segmentd {

//! Counters of one reconciler (shard thread; copied out for metrics).
struct ReconcileStats {
  std::uint64_t records = 0;             //!< kPosition records applied to the book
  std::uint64_t stale_records = 0;       //!< records older than the venue position the book already has: ignored
  std::uint64_t snapshots = 0;           //!< kPositionsEnd: complete snapshots
  std::uint64_t closed_by_snapshot = 0;  //!< book positions a snapshot did not list, closed
  std::uint64_t fills_covered = 0;       //!< fills a venue position already included: moved no position
  std::uint64_t checked = 0;             //!< venue positions compared with the fills of their moment
  std::uint64_t disagreements = 0;       //!< of those, the fills said another quantity
  double disagreement_usd = 0.0;         //!< Σ |venue − fills| × USD per unit over the disagreements
};

class PositionReconciler {
 public:
  //! Event time after a venue position's time when its fills are taken to have all arrived.
  static constexpr std::int64_t kSettleNs = 2'000'000'000;
  //! How far a venue time may be ahead of its receive time and still be used.
  static constexpr std::int64_t kMaxAheadNs = 60'000'000'000;

  //! A record's or fill's time (see the top of this file).
  static std::int64_t time_of(const Fill& f) {
    return f.venue_ns > 0 && f.venue_ns - f.recv_ns <= kMaxAheadNs ? f.venue_ns : f.recv_ns;
  }

  //! A fill of an account: true when it moves the book's position, false when a venue position
  //! already includes it (counted; its quantity goes to that position's shadow).
  bool on_fill(const Fill& f) {
    if (entries_.empty() && snapshots_.empty()) return true;
    return on_fill_slow(f);
  }

  //! A kPosition record, before it is applied; `book_qty` is the book's position on the
  //! instrument now, `usd_per_unit` its USD per base unit when open (NaN otherwise). False: the
  //! record is older than the venue position the book already has, and must not be applied.
  bool on_record(const Fill& rec, double book_qty, double usd_per_unit);

  //! A kPositionsEnd: `held` are the account's open positions now; `instrument_of(id)` gives an
  //! instrument's venue and kind (std::pair<Venue, InstrumentKind>). Appends to *close the
  //! account's derivative positions on the snapshot's venue that it did not restate (the caller
  //! closes each with a kPosition of qty 0 and the same time, through on_record).
  template <class InstrumentOf>
  void on_snapshot_end(const Fill& end, std::span<const Position> held, InstrumentOf&& instrument_of,
                       std::vector<InstrumentId>* close) {
    const std::int64_t t = time_of(end);
    ++stats_.snapshots;
    std::int64_t& at = snapshots_[snapshot_key(end.account, end.venue)];
    at = std::max(at, t);
    for (const Position& pos : held) {
      const auto [venue, kind] = instrument_of(pos.instrument);
      if (venue != end.venue || kind == InstrumentKind::kSpot) continue;
      const auto it = entries_.find(key_of(end.account, pos.instrument));
      if (it != entries_.end() && it->second.as_of >= t) continue;  // restated by this snapshot or later
      close->push_back(pos.instrument);
      ++stats_.closed_by_snapshot;
    }
  }

  //! Compares the venue positions whose moment is over by event time `now_ns`.
  void settle(std::int64_t now_ns);

  const ReconcileStats& stats() const { return stats_; }
  //! Venue positions kept (for tests and memory accounting).
  std::size_t size() const { return entries_.size(); }

 private:
  //! (account, instrument) in one word: both are 32-bit ids.
  using Key = std::uint64_t;
  static Key key_of(AccountId account, InstrumentId instrument) {
    return (static_cast<std::uint64_t>(account) << 32) | instrument;
  }
  //! (account, venue) likewise.
  static std::uint64_t snapshot_key(AccountId account, Venue venue) {
    return (static_cast<std::uint64_t>(account) << 8) | static_cast<std::uint8_t>(venue);
  }
  struct Entry {
    std::int64_t as_of = 0;
    double venue_qty = 0.0;
    double shadow_qty = 0.0;  //!< what the fills say of the same moment
    double usd_per_unit = 0.0;
    bool pending = false;  //!< not compared yet
  };

  bool on_fill_slow(const Fill& f);
  void compare(Entry& e);

  absl::flat_hash_map<Key, Entry> entries_;
  //! The latest complete snapshot per account and venue.
  absl::flat_hash_map<std::uint64_t, std::int64_t> snapshots_;
  std::deque<std::pair<Key, std::int64_t>> pending_;  //!< (key, as_of) in arrival order
  ReconcileStats stats_;
};

}  // namespace segmentd
