#pragma once
// The clusterer thread (docs/architecture.md, "Data flow"): collects the vectors that shards hand over after each
// burst, closes a mini-batch every `batch_interval` or at `batch_size` accounts (each account
// once, its latest vector), updates the Clusterer and publishes each new immutable Model by an
// atomic pointer swap. Shards read the model without locks at their next burst.
//
// Threading:
//  - offer(shard, ...) is called by shard `shard`'s thread only (one SPSC ring per shard). It
//    never blocks: when the ring is full the vectors wait in a shard-local overflow list and are
//    retried on the next offer; past a bound they are counted as dropped (a dropped vector only
//    delays learning from that account until it trades again; no fill is lost).
//  - model() may be called from any thread.
//  - on_model runs on the clusterer thread for every new model version.

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/clusterer.h"
#include "service/shards/account_shard.h"
#include "service/shards/spsc_ring.h"

namespace segmentd {

//! What a checkpoint takes of the loop: the clusterer, its last model, and the open mini-batch
//! (each account's latest vector not yet in a batch, by account id).
struct ClustererLoopState {
  ClustererState clusterer;
  ModelPtr model;
  std::vector<TouchedAccount> open_batch;
};

struct ClustererLoopOptions {
  ClustererConfig config;
  int shards = 1;
  std::size_t ring_capacity = 1 << 14;  //!< vectors per shard ring
  std::function<void(const ModelPtr&, const ClustererStats&, double batch_seconds, std::size_t batch_items)> on_model;
};

class ClustererLoop {
 public:
  explicit ClustererLoop(ClustererLoopOptions options);
  ~ClustererLoop();
  ClustererLoop(const ClustererLoop&) = delete;
  ClustererLoop& operator=(const ClustererLoop&) = delete;

  void start();
  void stop();  //!< closes the last batch, then joins

  //! Before start(): continue from a checkpoint's clusterer state, its last published model and
  //! the open mini-batch it held (closed by the usual rule once the loop runs).
  void restore(const ClustererState& state, ModelPtr model, std::span<const TouchedAccount> open_batch = {});
  //! The clusterer's state, model and open mini-batch (with every vector handed over so far),
  //! taken on its thread between two batches. Before start() or after stop(), taken at once.
  std::future<ClustererLoopState> request_state();

  //! Shard `shard`'s thread only.
  void offer(int shard, std::span<const TouchedAccount> touched);

  //! The current model (version 0 and no segments during warm-up). Any thread.
  ModelPtr model() const { return model_.load(std::memory_order_acquire); }
  const ModelSlot& model_slot() const { return model_; }

  std::uint64_t vectors_dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  std::size_t warmup_progress() const { return warmup_progress_.load(std::memory_order_relaxed); }

 private:
  struct ShardInbox {
    std::unique_ptr<SpscRing<TouchedAccount>> ring;
    std::vector<TouchedAccount> overflow;  //!< shard thread only
  };
  void run();
  void serve_state_requests();
  std::size_t drain();
  void close_batch();

  ClustererLoopOptions options_;
  Clusterer clusterer_;  //!< clusterer thread only (after start)
  std::vector<ShardInbox> inboxes_;
  absl::flat_hash_map<AccountId, TouchedAccount> pending_;  //!< clusterer thread only
  std::vector<BatchItem> batch_;                            //!< clusterer thread only
  std::int64_t batch_opened_ns_ = 0;                        //!< wall clock, clusterer thread only
  std::int64_t event_ns_ = 0;                               //!< latest event time seen
  ModelSlot model_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex requests_mu_;
  ClustererLoopState state_now();
  std::vector<std::promise<ClustererLoopState>> requests_;  // guarded by requests_mu_
  std::atomic<bool> has_requests_{false};
  alignas(kCacheLine) std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::size_t> warmup_progress_{0};
};

}  // namespace segmentd
