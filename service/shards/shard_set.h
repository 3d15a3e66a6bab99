#pragma once
// Shard workers (docs/architecture.md, "Data flow"). Fills are routed by hash(account) to one of S shard threads;
// each shard thread is the only writer of its accounts' state, so the hot path takes no lock.
//
// Rings: one SpscRing per (producer, shard) pair (see service/shards/spsc_ring.h for why SPSC). Producers
// are the ingest threads, numbered 0..P-1, fixed at construction; producer p only ever calls
// push(p, ...) from its own thread.
//
// A full ring is never silent: it is counted (ring_full_events) and handled by the configured
// policy — block the producer until there is room, or fail loudly (push returns false and the
// caller reports it). Nothing that push() accepted is ever dropped: stop() drains every ring.
//
// Reading shard state from outside: call(shard, fn) runs fn on the shard's own thread, between
// two bursts, and returns a future of its result.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include <mutex>
#include "core/fill.h"
#include "service/shards/spsc_ring.h"

namespace segmentd {

//! The per-shard logic, run on the shard's thread only.
class ShardHandler {
 public:
  virtual ~ShardHandler() = default;
  virtual void on_fill(const Fill& fill) = 0;
  //! A run of consecutive fills of one ring, in order (the shard thread calls this; a burst may
  //! come as two runs where the ring wraps). Default: on_fill for each. Override to look ahead.
  virtual void on_fills(std::span<const Fill> fills) {
    for (const Fill& f : fills) on_fill(f);
  }
  //! After each burst of fills (up to burst_size per ring): recompute what the burst touched.
  virtual void on_burst_end() {}
  //! When every ring was empty; also a chance to run timers. now_ns is wall-clock time.
  virtual void on_idle(std::int64_t now_ns) {}
  //! Once, after the last fill, before the thread exits.
  virtual void on_stop() {}
};

enum class RingFullPolicy { kBlock, kFail };

struct ShardSetConfig {
  int shards = 2;
  int producers = 1;
  std::size_t ring_capacity = 1 << 16;  //!< fills per (producer, shard) ring
  std::size_t burst_size = 256;         //!< fills taken from one ring before moving on
  RingFullPolicy full_policy = RingFullPolicy::kBlock;
  //! The time an idle shard is told (ShardHandler::on_idle), from the wall clock's: called on
  //! shard `shard`'s own thread. Unset: the wall clock itself. The pipeline bounds it by how far
  //! its busy sources have read (Pipeline::idle_clock), so that a backlog's markouts wait for
  //! its prices.
  std::function<std::int64_t(int shard, std::int64_t wall_ns)> idle_clock;
};

//! Routes an account to a shard: a multiplicative mix of the dense id, so that consecutive ids
//! spread evenly. Same id and shard count always give the same shard.
inline int shard_of(AccountId account, int shards) {
  std::uint64_t x = (static_cast<std::uint64_t>(account) + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 31;
  return static_cast<int>(x % static_cast<std::uint64_t>(shards));
}

class ShardSet {
 public:
  ShardSet(const ShardSetConfig& config, std::vector<std::unique_ptr<ShardHandler>> handlers);
  ~ShardSet();
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  void start();
  //! Producer `producer`'s thread only. False only under RingFullPolicy::kFail with a full ring.
  bool push(int producer, const Fill& fill);
  //! Drains every ring, calls on_stop on each handler and joins the threads. Producers must
  //! have stopped pushing. Idempotent.
  void stop();

  //! Runs fn on shard `shard`'s thread and returns its result.
  template <class Fn>
  auto call(int shard, Fn fn) -> std::future<decltype(fn(std::declval<ShardHandler&>()))> {
    using R = decltype(fn(std::declval<ShardHandler&>()));
    auto task = std::make_shared<std::packaged_task<R(ShardHandler&)>>(std::move(fn));
    auto fut = task->get_future();
    enqueue(shard, [task](ShardHandler& h) { (*task)(h); });
    return fut;
  }

  int shards() const { return static_cast<int>(shards_.size()); }
  int producers() const { return config_.producers; }
  //! The handler of a shard; only for use after stop() or from that shard's thread.
  ShardHandler& handler(int shard) { return *shards_[shard]->handler; }

  // Counters, readable from any thread.
  std::uint64_t processed(int shard) const { return shards_[shard]->processed.load(std::memory_order_relaxed); }
  std::uint64_t ring_full_events(int shard) const {
    return shards_[shard]->full_events.load(std::memory_order_relaxed);
  }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  //! Fills queued for a shard across all its rings (approximate while running).
  std::size_t depth(int shard) const;

 private:
  struct Shard {
    int index = 0;
    std::unique_ptr<ShardHandler> handler;
    std::vector<std::unique_ptr<SpscRing<Fill>>> rings;  //!< one per producer
    std::thread thread;
    alignas(kCacheLine) std::atomic<std::uint64_t> processed{0};
    alignas(kCacheLine) std::atomic<std::uint64_t> full_events{0};
    std::atomic<bool> has_commands{false};
    std::mutex mu;                                            //!< std::mutex: Debian's Abseil is not TSan-instrumented
    std::deque<std::function<void(ShardHandler&)>> commands;  // guarded by mu
  };
  void enqueue(int shard, std::function<void(ShardHandler&)> cmd);
  void run(Shard& shard);
  bool run_commands(Shard& shard);

  ShardSetConfig config_;
  std::vector<std::unique_ptr<Shard>> shards_;
  alignas(kCacheLine) std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace segmentd
