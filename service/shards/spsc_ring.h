#pragma once
// A bounded single-producer single-consumer ring. One ring per (producer, shard) pair: with a
// fixed set of ingest threads and shards that is P×S rings, each needing only acquire/release
// on two indices and no compare-and-swap, so a push or pop costs a few nanoseconds and never
// contends. (An MPSC ring per shard would need a CAS per push by every producer.)
//
// Thread-safety: exactly one thread calls try_push/push_burst, exactly one calls
// try_pop/pop_burst/pop_spans.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

namespace segmentd {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "ring elements are copied with plain assignment");

 public:
  //! capacity is rounded up to a power of two.
  explicit SpscRing(std::size_t capacity)
      : mask_(std::bit_ceil(capacity < 2 ? 2 : capacity) - 1), slots_(new T[mask_ + 1]) {}

  std::size_t capacity() const { return mask_ + 1; }

  bool try_push(const T& v) {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = v;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  bool try_pop(T& out) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  //! Consumer: calls fn(const T&) for up to max elements, publishing the new head once.
  template <class Fn>
  std::size_t pop_burst(std::size_t max, Fn&& fn) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) tail_cache_ = tail_.load(std::memory_order_acquire);
    std::uint64_t n = tail_cache_ - head;
    if (n > max) n = max;
    for (std::uint64_t i = 0; i < n; ++i) fn(slots_[(head + i) & mask_]);
    if (n) head_.store(head + n, std::memory_order_release);
    return static_cast<std::size_t>(n);
  }

  //! Consumer: calls fn(std::span<const T>) with up to max elements in ring order — one span, or
  //! two where the elements wrap around the end of the ring — publishing the new head once,
  //! after fn returns. For consumers that look ahead within a burst (prefetching).
  template <class Fn>
  std::size_t pop_spans(std::size_t max, Fn&& fn) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) tail_cache_ = tail_.load(std::memory_order_acquire);
    std::uint64_t n = tail_cache_ - head;
    if (n > max) n = max;
    if (n == 0) return 0;
    const std::uint64_t first = head & mask_;
    const std::uint64_t until_end = mask_ + 1 - first;
    if (n <= until_end) {
      fn(std::span<const T>(&slots_[first], static_cast<std::size_t>(n)));
    } else {
      fn(std::span<const T>(&slots_[first], static_cast<std::size_t>(until_end)));
      fn(std::span<const T>(&slots_[0], static_cast<std::size_t>(n - until_end)));
    }
    head_.store(head + n, std::memory_order_release);
    return static_cast<std::size_t>(n);
  }

  //! Approximate number of queued elements (exact when called by either owner thread at rest).
  std::size_t size() const {
    return static_cast<std::size_t>(tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire));
  }

 private:
  const std::uint64_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(kCacheLine) std::atomic<std::uint64_t> head_{0};  //!< written by the consumer
  std::uint64_t tail_cache_ = 0;                            //!< consumer's copy of tail_
  alignas(kCacheLine) std::atomic<std::uint64_t> tail_{0};  //!< written by the producer
  std::uint64_t head_cache_ = 0;                            //!< producer's copy of head_
  char pad_[kCacheLine - sizeof(std::uint64_t)]{};
};

}  // namespace segmentd
