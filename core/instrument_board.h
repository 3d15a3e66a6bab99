#pragma once
// The latest value of one quantity per instrument, as the sources observe it. Two boards:
//  * the options' latest implied vols (core/scenario.h): what a fill that carried one said
//    (Deribit's, OKX's and Bybit's trades carry the trade's implied vol; so do the simulator's);
//    shock scenarios reprice options at it;
//  * the venues' open interest (base units; core/features.md, "Segment exposure"), from market
//    data (Bybit's tickers, Hyperliquid's activeAssetCtx, native price records): a segment's
//    share of it is its open positions over the open contracts' two sides.
//
// Lock-free: any thread records (the sources' threads, one relaxed store per observation), any
// thread reads. Not ordered across instruments and not in checkpoints: after a restart an
// instrument has no value until its next observation.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/types.h"

namespace segmentd {

class InstrumentBoard {
 public:
  //! Instrument ids >= instruments are not recorded.
  explicit InstrumentBoard(std::size_t instruments);

  //! Negative and non-finite values are ignored (callers that need a positive value filter 0).
  void record(InstrumentId id, double value);
  //! The latest value recorded for the instrument, if any.
  std::optional<double> latest(InstrumentId id) const;
  std::size_t capacity() const { return n_; }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<double>[]> value_;  //!< NaN = none
};

}  // namespace segmentd
