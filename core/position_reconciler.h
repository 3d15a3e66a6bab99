#pragma once
// Venue positions against the positions the fills build (core/features.md, "Positions from the
// venue"). A venue states an account's position on an instrument as of a time T (a
// RecordKind::kPosition), or the whole set of its derivative positions as of T (kPosition records
// of time T, then a kPositionsEnd). The book takes the venue's word. A fill of time ≤ T on that
// instrument is already inside the venue's number, whichever of the two arrived first (Binance
// sends ACCOUNT_UPDATE before the ORDER_TRADE_UPDATE of the same trade): it still counts in every
// sum, but it moves no position.
//
// Disagreement. Each record corrects the book by what the fills did not say: the venue's size
// minus the fills' view of the same moment (the venue's previous size plus the fills after it;
// the book's position for a first record). A covered fill that arrives later explains its part of
// a correction (Binance's trade after its own position; a gap-filled fill after the snapshot at
// reconnect). What stays unexplained kSettleNs of event time after the instrument's last record
// is a disagreement, counted with its size in USD: a service that started after the account
// opened its positions, or that missed a fill for good, disagrees; one that saw every fill, late
// or not, does not. Sizes are in the venue's unit: base units, USD for inverse contracts
// (InstrumentScope), whose base size moves with the price; the first record of an inverse
// instrument meets only the book's base size, converted at the mark, and is compared within 1 %.
//
// Times: a record's or fill's time is its venue time when it has one no later than kMaxAheadNs
// after its receive time, else its receive time (a venue clock far ahead must not make every
// later fill look covered).
//
// Thread ownership: one per shard, used on the shard's thread only. Its state is not in
// checkpoints: after a restart the venue's snapshot at connect sets the book again.

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/account_state.h"
#include "core/fill.h"

namespace segmentd {

//! What the reconciler needs to know of an instrument (InstrumentRegistry::get).
struct InstrumentScope {
  Venue venue = Venue::kNative;
  InstrumentKind kind = InstrumentKind::kSpot;
  //! Sized in USD by the venue (Deribit's and OKX's coin-margined futures): its base quantity
  //! moves with the price, so fills and the venue are compared in USD (qty × price of a fill,
  //! qty × mark of a position).
  bool inverse = false;
};

//! Counters of one reconciler (shard thread; copied out for metrics).
struct ReconcileStats {
  std::uint64_t records = 0;             //!< kPosition records applied to the book
  std::uint64_t stale_records = 0;       //!< records older than the venue position the book already has: ignored
  std::uint64_t snapshots = 0;           //!< kPositionsEnd: complete snapshots
  std::uint64_t closed_by_snapshot = 0;  //!< book positions a snapshot did not list, closed
  std::uint64_t fills_covered = 0;       //!< fills a venue position already included: moved no position
  std::uint64_t checked = 0;             //!< settled instruments: their corrections compared with the late fills
  std::uint64_t disagreements = 0;       //!< of those, a correction the fills did not explain
  double disagreement_usd = 0.0;         //!< Σ |unexplained correction| × USD per unit over the disagreements
  bool operator==(const ReconcileStats&) const = default;
};

class PositionReconciler {
 public:
  //! Event time after an instrument's last record when its late fills are taken to have all
  //! arrived (a gap-fill's REST pages come within seconds).
  static constexpr std::int64_t kSettleNs = 10'000'000'000;
  //! The share of an inverse position's first size from the book not counted against the fills
  //! (the book's base units were bought at other prices than the mark they are converted at).
  static constexpr double kInverseFirstSlack = 0.01;
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

  //! `inverse_of(id)`: whether an instrument is inverse (InstrumentScope), asked only when a fill
  //! meets a snapshot with no record of its instrument. Unset: none is.
  explicit PositionReconciler(std::function<bool(InstrumentId)> inverse_of = {}) : inverse_of_(std::move(inverse_of)) {}

  //! A kPosition record, before it is applied; `book_qty` is the book's position on the
  //! instrument now, `usd_per_unit` its USD per base unit when open (NaN otherwise), `inverse`
  //! the instrument's (InstrumentScope). False: the record is older than the venue position the
  //! book already has, and must not be applied.
  bool on_record(const Fill& rec, double book_qty, double usd_per_unit, bool inverse = false);

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
      const InstrumentScope scope = instrument_of(pos.instrument);
      if (scope.venue != end.venue || scope.kind == InstrumentKind::kSpot) continue;
      const auto it = entries_.find(key_of(end.account, pos.instrument));
      if (it != entries_.end() && it->second.as_of >= t) continue;  // restated by this snapshot or later
      close->push_back(pos.instrument);
      ++stats_.closed_by_snapshot;
    }
  }

  //! Settles the instruments whose last record is kSettleNs older than event time `now_ns`: an
  //! unexplained correction is counted as a disagreement, then forgotten.
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
  //! Sizes in the venue's unit (base units; USD when inverse).
  struct Entry {
    std::int64_t as_of = 0;      //!< the venue's latest position on the instrument is as of this time
    std::int64_t settle_ns = 0;  //!< event time of the last record: settles kSettleNs after it
    double venue = 0.0;          //!< the venue's position as of as_of
    double after = 0.0;          //!< fills after as_of (the next record's moment starts from venue + after)
    double unexplained = 0.0;    //!< corrections not explained by a covered fill yet
    double slack = 0.0;          //!< the part of `unexplained` that is rounding of a rough first size
    double scale = 0.0;          //!< the largest size seen (the rounding tolerance's scale)
    double usd_per_size = 0.0;
    bool unsettled = false;  //!< a record or a covered fill since the last settle
    bool inverse = false;
  };
  //! A fill's or a record's size in the entry's unit.
  static double fill_size(const Fill& f, bool inverse);
  static double record_size(const Fill& rec, double qty, bool inverse);
  //! Marks `e` for the settle kSettleNs after `event_ns`.
  void schedule(Key key, Entry& e, std::int64_t event_ns);

  bool on_fill_slow(const Fill& f);
  void compare(Entry& e);

  absl::flat_hash_map<Key, Entry> entries_;
  //! The latest complete snapshot per account and venue.
  absl::flat_hash_map<std::uint64_t, std::int64_t> snapshots_;
  std::deque<std::pair<Key, std::int64_t>> pending_;  //!< (key, settle_ns) in arrival order
  std::function<bool(InstrumentId)> inverse_of_;
  ReconcileStats stats_;
};

}  // namespace segmentd
