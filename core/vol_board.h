#pragma once
// The latest implied vol of every option (core/scenario.h): what a fill that carried one said
// (Deribit's, OKX's and Bybit's trades carry the trade's implied vol; so do the simulator's).
// Shock scenarios reprice options at it.
//
// Lock-free: any thread records (the sources' threads, one relaxed store per option fill with a
// vol), any thread reads. Not ordered across instruments and not in checkpoints: after a restart
// an option has no vol until its next fill (scenarios then use their default vol, counted).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/types.h"

namespace segmentd {

class VolBoard {
 public:
  //! Instrument ids >= instruments are not recorded.
  explicit VolBoard(std::size_t instruments);

  //! `iv` as a fraction (0.55 = 55 %); non-positive and non-finite values are ignored.
  void record(InstrumentId id, double iv);
  //! The latest vol recorded for the instrument, if any.
  std::optional<double> iv(InstrumentId id) const;
  std::size_t capacity() const { return n_; }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<double>[]> iv_;  //!< 0 = none
};

}  // namespace segmentd
