#include "core/instrument_board.h"

#include <cmath>
#include <limits>

namespace segmentd {

InstrumentBoard::InstrumentBoard(std::size_t instruments)
    : n_(instruments), value_(new std::atomic<double>[instruments]) {
  for (std::size_t i = 0; i < n_; ++i)
    value_[i].store(std::numeric_limits<double>::quiet_NaN(), std::memory_order_relaxed);
}

void InstrumentBoard::record(InstrumentId id, double value) {
  if (id >= n_ || !std::isfinite(value) || value < 0) return;
  value_[id].store(value, std::memory_order_relaxed);
}

std::optional<double> InstrumentBoard::latest(InstrumentId id) const {
  if (id >= n_) return std::nullopt;
  const double v = value_[id].load(std::memory_order_relaxed);
  if (std::isnan(v)) return std::nullopt;
  return v;
}

}  // namespace segmentd
