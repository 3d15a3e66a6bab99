#pragma once
// Shock scenarios (issue 22, item 2; core/features.md, "Shock scenarios"): every account's open
// positions revalued under moves of the underlying and of implied vol, summed per segment, with
// the accounts whose loss would exceed their margin.
//
// A shock moves every underlying's price by the same relative amount and every option's implied
// vol by the same number of vol points. An instrument's P&L per base unit held is computed once
// per scan (Revaluation): Black-76 repricing for options, at the underlying's index price from
// the price tape and the instrument's latest implied vol (core/instrument_board.h; `default_vol` when it
// has none), minus the price before the shock; the index price × the move for delta-one.
// A position on an instrument with no row (no index price yet) is revalued from its greeks
// (delta × move + vega × vol shift), counted as approximated.
//
// An account's margin is the margin its venues hold against its positions, where their position
// snapshots state it (core/venue_margin_board.h), else an estimate: base_margin_rate × its gross
// delta in USD; either × the margin multiplier of its segment's policy in the market regime in
// force. An account whose loss in a
// shock exceeds it counts as over margin, and its gross delta as the notional its liquidation
// would put on the book.
//
// ScenarioScan sums accounts one at a time (each shard its own) and merges; sums are exact
// whatever the order, except for floating-point rounding.
//
// Not thread-safe: one scan per thread, merged on one. A ScenarioSetup is immutable once built and
// shared by the scans.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/account_state.h"
#include "core/types.h"
#include "core/venue_margin_board.h"

namespace segmentd {

struct Shock {
  double price = 0.0;       //!< relative move of every underlying: −0.10 = −10 %
  double vol_points = 0.0;  //!< shift of every implied vol, in vol points: 10 = +0.10
};
//! "spot-10%/vol+25": a stable name for labels and JSON.
std::string shock_name(const Shock& s);

struct ScenarioParams {
  std::vector<double> price_moves = {-0.20, -0.10, -0.05, 0.05, 0.10, 0.20};
  std::vector<double> vol_shifts = {-25, -10, 10, 25};  //!< vol points
  double base_margin_rate = 0.10;  //!< margin estimate per USD of gross delta, before the policy's multiplier
  double default_vol = 0.60;       //!< implied vol of an option with none observed yet
  double min_vol = 0.01;           //!< a shifted vol never goes below this
  //! The service publishes the scenarios (a `risk` message) this often; 0 = never.
  std::int64_t publish_interval_ns = 60'000'000'000;
  //! The service re-scans the segments' exposure this often, so that each `model` message
  //! carries one this recent; 0 = only when asked (the admin API, a publication).
  std::int64_t exposure_interval_ns = 10'000'000'000;
};

//! The grid: each price move alone, each vol shift alone, and every combination (no zero shock).
//! Ordered by price move, then vol shift.
std::vector<Shock> shock_grid(const ScenarioParams& p);

//! P&L per base unit held, USD, of each instrument in each shock.
class Revaluation {
 public:
  explicit Revaluation(std::vector<Shock> shocks) : shocks_(std::move(shocks)) {}

  //! A delta-one instrument whose underlying trades at `usd` now.
  void set_linear(InstrumentId id, double usd);
  //! An option: Black-76 at forward `forward_usd`, strike `strike_usd`, `years` to expiry, vol
  //! `sigma`; shifted vols are floored at `min_vol`. Nothing is set for years ≤ 0 (expired).
  void set_option(InstrumentId id, bool is_call, double forward_usd, double strike_usd, double years, double sigma,
                  double min_vol);
  //! The instrument's row, or null when it has none: one value per shock, then its dollar gamma
  //! per unit (row[shocks]: the change of its delta in USD for a 1 % move, Γ·F²/100; 0 for
  //! delta-one) and its notional per unit (row[shocks + 1]: the underlying's price, USD).
  const double* row(InstrumentId id) const {
    return id < offset_.size() && offset_[id] != kNone ? rows_.data() + offset_[id] : nullptr;
  }
  const std::vector<Shock>& shocks() const { return shocks_; }
  std::size_t instruments() const { return rows_.size() / width(); }
  std::size_t width() const { return shocks_.size() + 2; }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  double* slot(InstrumentId id);

  std::vector<Shock> shocks_;
  std::vector<std::uint32_t> offset_;  //!< by instrument id: where its row starts in rows_
  std::vector<double> rows_;
};

//! What one scan needs besides the accounts: the shocks and rows, the margin multipliers.
struct ScenarioSetup {
  explicit ScenarioSetup(std::vector<Shock> shocks) : table(std::move(shocks)) {}
  Revaluation table;
  std::unordered_map<SegmentId, double> margin_multiplier;  //!< by segment, in the regime in force
  double fallback_multiplier = 1.0;                         //!< a segment the model does not know
  double base_margin_rate = 0.10;
  Regime regime = Regime::kCalm;          //!< the market regime whose margin multipliers these are
  std::int64_t as_of_ns = 0;              //!< positions expiring at or before are left out (0: none is)
  std::uint64_t options_assumed_vol = 0;  //!< option rows priced at default_vol (no vol observed)
  //! The venues' stated margins (null: every account's margin is the estimate). Outlives the scan.
  const VenueMarginBoard* venue_margins = nullptr;
};

//! The margin multiplier of a segment whose policy has a dynamic margin (core/features.md,
//! "Dynamic margin"): the multiplier that makes the segment's margin estimate cover its worst
//! shock scenario loss, never under the policy's own multiplier and never over `cap`:
//!   clamp(worst_loss / (base_margin_rate × gross_delta), policy, max(policy, cap)),
//! where worst_loss = max(0, −min over shocks of the segment's P&L). The policy's multiplier when
//! the segment holds nothing or base_margin_rate is 0.
double dynamic_margin_multiplier(double policy, double cap, double worst_loss_usd, double gross_delta_usd,
                                 double base_margin_rate);

struct SegmentScenarioSums {
  std::uint64_t accounts = 0;               //!< accounts with at least one open position
  double gross_delta_usd = 0.0;             //!< Σ over accounts of Σ |position delta|
  double net_gamma_usd = 0.0;               //!< Σ qty × dollar gamma: the delta USD gained on a 1 % up-move, now
  double open_notional_usd = 0.0;           //!< Σ |qty| × the underlying's price now
  double margin_usd = 0.0;                  //!< Σ of the accounts' margins (the venue's or the estimate) × policy
  std::uint64_t venue_margin_accounts = 0;  //!< accounts whose margin a venue stated
  std::vector<double> pnl_usd;              //!< per shock: Σ of the accounts' P&L
  std::vector<std::uint64_t> over_margin;   //!< per shock: accounts whose loss exceeds their margin
  std::vector<double> liquidation_usd;      //!< per shock: their gross delta in USD
  std::vector<double> worst_account_usd;    //!< per shock: the largest loss of one account (≤ 0; 0 = none lost)
};

class ScenarioScan {
 public:
  explicit ScenarioScan(std::shared_ptr<const ScenarioSetup> setup);

  //! `account` finds the venues' stated margin (ScenarioSetup::venue_margins).
  void add_account(SegmentId segment, AccountId account, std::span<const Position> positions);
  void merge(const ScenarioScan& other);

  const std::map<SegmentId, SegmentScenarioSums>& segments() const { return segments_; }
  const ScenarioSetup& setup() const { return *setup_; }
  std::uint64_t positions_repriced() const { return repriced_; }
  std::uint64_t positions_approximated() const { return approximated_; }

 private:
  SegmentScenarioSums& sums(SegmentId segment);

  std::shared_ptr<const ScenarioSetup> setup_;
  std::map<SegmentId, SegmentScenarioSums> segments_;
  std::vector<double> account_;  //!< scratch: the current account's P&L per shock
  // The previous account's segment, its sums and margin multiplier (std::map nodes are stable).
  SegmentId last_segment_ = kNoSegment;
  SegmentScenarioSums* last_sums_ = nullptr;
  double last_multiplier_ = 1.0;
  std::uint64_t repriced_ = 0, approximated_ = 0;
};

}  // namespace segmentd
