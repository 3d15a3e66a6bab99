#include "sim/open_interest.h"

#include <algorithm>
#include <cmath>

namespace fillsim {

double OpenInterestTracker::on_fill(std::uint32_t account, std::uint32_t instrument, double signed_qty) {
  if (instrument >= longs_.size()) {
    longs_.resize(instrument + 1, 0.0);
    shorts_.resize(instrument + 1, 0.0);
  }
  double& pos = positions_[(static_cast<std::uint64_t>(account) << 32) | instrument];
  const double before = pos;
  double after = before + signed_qty;
  // A position closed by fills of rounded sizes is flat, not a float residue.
  if (std::abs(after) <= 1e-9 * std::max(std::abs(before), std::abs(signed_qty))) after = 0.0;
  pos = after;
  longs_[instrument] += std::max(after, 0.0) - std::max(before, 0.0);
  shorts_[instrument] += std::max(-after, 0.0) - std::max(-before, 0.0);
  // Sums of many small differences drift by rounding; nothing open is never below zero.
  longs_[instrument] = std::max(longs_[instrument], 0.0);
  shorts_[instrument] = std::max(shorts_[instrument], 0.0);
  return open_interest(instrument);
}

double OpenInterestTracker::open_interest(std::uint32_t instrument) const {
  if (instrument >= longs_.size()) return 0.0;
  return std::max(longs_[instrument], shorts_[instrument]);
}

}  // namespace fillsim
