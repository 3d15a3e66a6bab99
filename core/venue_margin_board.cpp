#include "core/venue_margin_board.h"

#include <cmath>
#include <limits>

namespace segmentd {

VenueMarginBoard::VenueMarginBoard() : blocks_(new std::atomic<Block*>[kMaxBlocks]) {
  for (std::size_t i = 0; i < kMaxBlocks; ++i) blocks_[i].store(nullptr, std::memory_order_relaxed);
}

VenueMarginBoard::~VenueMarginBoard() {
  for (std::size_t i = 0; i < kMaxBlocks; ++i) delete blocks_[i].load(std::memory_order_relaxed);
}

void VenueMarginBoard::record(AccountId account, Venue venue, double margin_usd) {
  const std::size_t b = account / kBlockAccounts;
  const auto v = static_cast<std::size_t>(venue);
  if (b >= kMaxBlocks || v >= static_cast<std::size_t>(kVenueCount)) return;
  const double value =
      std::isfinite(margin_usd) && margin_usd >= 0 ? margin_usd : std::numeric_limits<double>::quiet_NaN();
  Block* block = blocks_[b].load(std::memory_order_acquire);
  if (block == nullptr) {
    if (std::isnan(value)) return;  // nothing to clear
    const std::lock_guard lock(grow_mu_);
    block = blocks_[b].load(std::memory_order_acquire);
    if (block == nullptr) {
      block = new Block;
      for (std::atomic<double>& x : *block)
        x.store(std::numeric_limits<double>::quiet_NaN(), std::memory_order_relaxed);
      blocks_[b].store(block, std::memory_order_release);
    }
  }
  (*block)[(account % kBlockAccounts) * kVenueCount + v].store(value, std::memory_order_relaxed);
}

std::optional<double> VenueMarginBoard::margin(AccountId account) const {
  const std::size_t b = account / kBlockAccounts;
  if (b >= kMaxBlocks) return std::nullopt;
  const Block* block = blocks_[b].load(std::memory_order_acquire);
  if (block == nullptr) return std::nullopt;
  double sum = 0.0;
  bool any = false;
  const std::size_t base = (account % kBlockAccounts) * kVenueCount;
  for (int v = 0; v < kVenueCount; ++v) {
    const double x = (*block)[base + static_cast<std::size_t>(v)].load(std::memory_order_relaxed);
    if (std::isnan(x)) continue;
    sum += x;
    any = true;
  }
  if (!any) return std::nullopt;
  return sum;
}

}  // namespace segmentd
