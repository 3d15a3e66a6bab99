#pragma once
// The margin each venue holds against an account's positions, as its position snapshots state it
// (Hyperliquid's clearinghouseState marginSummary.totalMarginUsed, the sum of Deribit's
// get_positions initial_margin, a native positions_end's margin_usd): USD, per account and venue,
// the latest snapshot's. Shock scenarios (core/scenario.h) take it, times the segment policy's
// margin multiplier, as the account's margin instead of the estimate from its gross delta.
//
// Lock-free for readers and for the one writer per account (the source thread of its venue):
// blocks of accounts are allocated on first write (under a mutex), values are relaxed atomics.
// Not in checkpoints: after a restart an account has no stated margin until its venue's next
// snapshot (the estimate stands in meanwhile).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "core/types.h"

namespace segmentd {

class VenueMarginBoard {
 public:
  static constexpr std::size_t kBlockAccounts = 1u << 16;
  static constexpr std::size_t kMaxBlocks = 1u << 12;  //!< accounts ids up to 2^28

  VenueMarginBoard();
  ~VenueMarginBoard();
  VenueMarginBoard(const VenueMarginBoard&) = delete;
  VenueMarginBoard& operator=(const VenueMarginBoard&) = delete;

  //! The venue's latest statement of the account's margin; NaN or a negative value clears it
  //! (a snapshot that stated none). Ids past the board's reach are ignored.
  void record(AccountId account, Venue venue, double margin_usd);
  //! The sum over the venues that stated one; nullopt when none did.
  std::optional<double> margin(AccountId account) const;

 private:
  using Block = std::array<std::atomic<double>, kBlockAccounts * kVenueCount>;
  std::unique_ptr<std::atomic<Block*>[]> blocks_;
  std::mutex grow_mu_;
};

}  // namespace segmentd
