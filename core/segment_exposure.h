#pragma once
// Segment exposure (issue 22, item 1): what the accounts of each segment hold, summed per segment
// and per instrument, with the share of the segment's exposure its largest accounts hold
// (core/features.md, "Segment exposure").
//
// A position's exposure is read as the features read it: its delta in USD is qty × the
// delta_usd_per_unit of its last fill or venue record (Black-76 delta × forward for options, the
// price for delta-one), its vega qty × vega_per_unit (USD per 1.00 of implied vol). Positions
// expired by the scan's time are left out (the book drops them at the account's next fill).
//
// ExposureScan sums accounts one at a time (a shard scans its own; core/account_store.h) and
// merges with the scans of other shards; the result does not depend on the order of accounts or
// of merges, except the order of exactly equal accounts in the top list (by account id then).
//
// Not thread-safe: one scan per thread, merged on one.

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/account_state.h"
#include "core/types.h"

namespace segmentd {

//! One instrument's positions within a segment.
struct InstrumentExposure {
  double net_delta_usd = 0.0;    //!< Σ qty × delta_usd_per_unit
  double long_delta_usd = 0.0;   //!< Σ of the positive position deltas
  double short_delta_usd = 0.0;  //!< Σ of the negative ones (≤ 0)
  double net_vega_usd = 0.0;     //!< Σ qty × vega_per_unit
  double long_qty = 0.0;         //!< Σ of the long positions' qty, base units
  double short_qty = 0.0;        //!< Σ of the short positions' |qty|, base units
  std::uint64_t positions = 0;   //!< open positions (one per account holding it)
};

//! One account's exposure, for the segment's largest accounts.
struct AccountExposure {
  AccountId account = 0;
  double gross_delta_usd = 0.0;  //!< Σ |position delta| over the account's positions
  double net_delta_usd = 0.0;
};

//! A segment's sums (kNoSegment: accounts not yet assigned).
struct SegmentExposureSums {
  std::uint64_t accounts = 0;    //!< accounts with at least one open position
  double gross_delta_usd = 0.0;  //!< Σ over accounts of Σ |position delta|
  double net_delta_usd = 0.0;
  double net_vega_usd = 0.0;
  std::uint64_t positions = 0;
  std::unordered_map<InstrumentId, InstrumentExposure> by_instrument;
  //! The largest accounts by gross delta, largest first, at most ExposureScan::kTopAccounts.
  std::vector<AccountExposure> top;

  //! The share of gross_delta_usd held by the `n` largest accounts (n ≤ kTopAccounts); 0 for an
  //! empty segment.
  double top_share(std::size_t n) const;
};

class ExposureScan {
 public:
  static constexpr std::size_t kTopAccounts = 10;

  //! Positions with an expiry at or before `as_of_ns` are left out (0: none is).
  explicit ExposureScan(std::int64_t as_of_ns = 0) : as_of_ns_(as_of_ns) {}

  //! Adds one account (its segment and its open positions); an account with none counts nowhere.
  void add_account(SegmentId segment, AccountId account, std::span<const Position> positions);
  //! Adds another scan's sums (another shard's); the newer as_of_ns is kept.
  void merge(const ExposureScan& other);

  const std::map<SegmentId, SegmentExposureSums>& segments() const { return segments_; }
  std::int64_t as_of_ns() const { return as_of_ns_; }
  std::uint64_t accounts_scanned() const { return scanned_; }

 private:
  static void keep_top(std::vector<AccountExposure>& top, const AccountExposure& a);

  std::int64_t as_of_ns_ = 0;
  std::uint64_t scanned_ = 0;
  std::map<SegmentId, SegmentExposureSums> segments_;
};

}  // namespace segmentd
