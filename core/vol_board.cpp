#include "core/vol_board.h"

#include <cmath>

namespace segmentd {

VolBoard::VolBoard(std::size_t instruments) : n_(instruments), iv_(new std::atomic<double>[instruments]) {
  for (std::size_t i = 0; i < n_; ++i) iv_[i].store(0.0, std::memory_order_relaxed);
}

void VolBoard::record(InstrumentId id, double iv) {
  if (id >= n_ || !std::isfinite(iv) || iv <= 0) return;
  iv_[id].store(iv, std::memory_order_relaxed);
}

std::optional<double> VolBoard::iv(InstrumentId id) const {
  if (id >= n_) return std::nullopt;
  const double v = iv_[id].load(std::memory_order_relaxed);
  if (v > 0) return v;
  return std::nullopt;
}

}  // namespace segmentd
