#pragma once
// A bounded set of recently seen trade ids (64-bit hashes, Fill::trade_id) that forgets the
// oldest when full. Venues re-send fills: Bybit may push an execution twice, Hyperliquid re-sends
// its recent fills as a snapshot on every (re)subscribe, and a reconnect can replay a window.
// The window only has to cover that re-send horizon, so memory stays fixed whatever the venue does.
//
// Open addressing with linear probing over a power-of-two table at most half full, plus a ring of
// ids in insertion order for FIFO eviction. No allocation after construction.
//
// Ownership: one per session, used from that session's strand only; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace segmentd {

class TradeDedup {
 public:
  static constexpr std::size_t kDefaultCapacity = 1 << 16;

  explicit TradeDedup(std::size_t capacity = kDefaultCapacity);

  //! Records `id`; true when it was new, false when it is a duplicate. Id 0 means "no venue id"
  //! (Fill::trade_id) and is never recorded nor reported as a duplicate.
  bool insert(std::uint64_t id);
  bool contains(std::uint64_t id) const;
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ring_.size(); }
  void clear();
  //! The ids held, oldest first: insert()ing them in this order into an empty window of the same
  //! capacity rebuilds this one (a checkpoint of the window).
  std::vector<std::uint64_t> ids_oldest_first() const;

 private:
  std::size_t slot_of(std::uint64_t id) const;
  void erase(std::uint64_t id);

  std::vector<std::uint64_t> table_;  //!< 0 = empty slot
  std::vector<std::uint64_t> ring_;   //!< ids in insertion order, oldest at head_ when full
  std::size_t mask_ = 0;
  std::size_t head_ = 0;  //!< next ring slot to write (the oldest entry once the ring is full)
  std::size_t size_ = 0;
};

}  // namespace segmentd
