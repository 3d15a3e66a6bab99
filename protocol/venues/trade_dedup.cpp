#include "protocol/venues/trade_dedup.h"

#include <algorithm>

namespace segmentd {
namespace {

std::size_t table_size_for(std::size_t capacity) {
  std::size_t n = 16;
  while (n < 2 * capacity) n <<= 1;  // load factor <= 1/2 keeps probe sequences short
  return n;
}

//! Trade ids are already hashes (FNV-1a), but FNV's low bits are weak for short inputs; a final
//! mix spreads them over the table (splitmix64 finalizer).
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

TradeDedup::TradeDedup(std::size_t capacity)
    : table_(table_size_for(std::max<std::size_t>(capacity, 1)), 0),
      ring_(std::max<std::size_t>(capacity, 1), 0),
      mask_(table_.size() - 1) {}

std::size_t TradeDedup::slot_of(std::uint64_t id) const {
  std::size_t i = mix(id) & mask_;
  while (table_[i] != 0 && table_[i] != id) i = (i + 1) & mask_;
  return i;
}

bool TradeDedup::contains(std::uint64_t id) const { return id != 0 && table_[slot_of(id)] == id; }

bool TradeDedup::insert(std::uint64_t id) {
  if (id == 0) return true;
  std::size_t i = slot_of(id);
  if (table_[i] == id) return false;
  if (size_ == ring_.size()) {
    erase(ring_[head_]);  // forget the oldest; the table may have shifted, so probe again
    i = slot_of(id);
  } else {
    ++size_;
  }
  table_[i] = id;
  ring_[head_] = id;
  head_ = head_ + 1 == ring_.size() ? 0 : head_ + 1;
  return true;
}

void TradeDedup::erase(std::uint64_t id) {
  std::size_t i = slot_of(id);
  if (table_[i] != id) return;
  // Backward-shift deletion: move later members of the probe run into the hole so that every
  // remaining id stays reachable from its home slot without tombstones.
  std::size_t hole = i;
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (table_[j] == 0) break;
    const std::size_t home = mix(table_[j]) & mask_;
    // table_[j] may move into the hole only if its home is not cyclically within (hole, j].
    const bool home_in_between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_in_between) {
      table_[hole] = table_[j];
      hole = j;
    }
  }
  table_[hole] = 0;
}

std::vector<std::uint64_t> TradeDedup::ids_oldest_first() const {
  std::vector<std::uint64_t> out;
  out.reserve(size_);
  const std::size_t start = size_ == ring_.size() ? head_ : 0;  // full: the oldest is the next to go
  for (std::size_t k = 0; k < size_; ++k) out.push_back(ring_[(start + k) % ring_.size()]);
  return out;
}

void TradeDedup::clear() {
  std::fill(table_.begin(), table_.end(), 0);
  std::fill(ring_.begin(), ring_.end(), 0);
  head_ = 0;
  size_ = 0;
}

}  // namespace segmentd
