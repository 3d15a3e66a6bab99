#include "service/shards/shard_set.h"

#include <chrono>

namespace segmentd {
namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ShardSet::ShardSet(const ShardSetConfig& config, std::vector<std::unique_ptr<ShardHandler>> handlers)
    : config_(config) {
  for (auto& h : handlers) {
    auto shard = std::make_unique<Shard>();
    shard->index = static_cast<int>(shards_.size());
    shard->handler = std::move(h);
    for (int p = 0; p < config_.producers; ++p)
      shard->rings.push_back(std::make_unique<SpscRing<Fill>>(config_.ring_capacity));
    shards_.push_back(std::move(shard));
  }
  config_.shards = static_cast<int>(shards_.size());
}

ShardSet::~ShardSet() { stop(); }

void ShardSet::start() {
  if (started_) return;
  started_ = true;
  for (auto& s : shards_) {
    Shard* shard = s.get();
    shard->thread = std::thread([this, shard] { run(*shard); });
  }
}

bool ShardSet::push(int producer, const Fill& fill) {
  Shard& shard = *shards_[shard_of(fill.account, config_.shards)];
  SpscRing<Fill>& ring = *shard.rings[producer];
  if (ring.try_push(fill)) return true;
  shard.full_events.fetch_add(1, std::memory_order_relaxed);
  if (config_.full_policy == RingFullPolicy::kFail) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Block: back off politely until the shard makes room. The shard always drains, so this ends.
  for (int spins = 0; !ring.try_push(fill); ++spins) {
    if (spins < 64)
      cpu_relax();
    else
      std::this_thread::yield();
  }
  return true;
}

std::size_t ShardSet::depth(int shard) const {
  std::size_t n = 0;
  for (const auto& r : shards_[shard]->rings) n += r->size();
  return n;
}

void ShardSet::enqueue(int shard, std::function<void(ShardHandler&)> cmd) {
  Shard& s = *shards_[shard];
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.commands.push_back(std::move(cmd));
  }
  s.has_commands.store(true, std::memory_order_release);
  if (!started_ || stopped_) run_commands(s);  // no thread to run it: run it here
}

bool ShardSet::run_commands(Shard& shard) {
  if (!shard.has_commands.load(std::memory_order_acquire)) return false;
  std::deque<std::function<void(ShardHandler&)>> cmds;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    cmds.swap(shard.commands);
    shard.has_commands.store(false, std::memory_order_relaxed);
  }
  for (auto& c : cmds) c(*shard.handler);
  return !cmds.empty();
}

void ShardSet::run(Shard& shard) {
  ShardHandler& handler = *shard.handler;
  int idle_rounds = 0;
  for (;;) {
    // Read stopping_ before draining: a stop seen here means every push happened before, so
    // an empty pass after it proves the rings are drained for good.
    const bool stopping = stopping_.load(std::memory_order_acquire);
    std::size_t got = 0;
    for (auto& ring : shard.rings) {
      got += ring->pop_spans(config_.burst_size, [&handler](std::span<const Fill> fills) { handler.on_fills(fills); });
    }
    if (got > 0) {
      shard.processed.fetch_add(got, std::memory_order_relaxed);
      handler.on_burst_end();
      idle_rounds = 0;
    }
    bool ran = run_commands(shard);
    if (got > 0 || ran) continue;
    if (stopping) break;
    const std::int64_t now = wall_ns();
    handler.on_idle(config_.idle_clock ? config_.idle_clock(shard.index, now) : now);
    // Back off: spin, then yield, then sleep briefly (bounded added latency of ~50 µs).
    ++idle_rounds;
    if (idle_rounds < 64)
      cpu_relax();
    else if (idle_rounds < 128)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  handler.on_stop();
}

void ShardSet::stop() {
  if (stopped_) return;
  stopping_.store(true, std::memory_order_release);
  for (auto& s : shards_)
    if (s->thread.joinable()) s->thread.join();
  stopped_ = true;
  for (auto& s : shards_) run_commands(*s);
}

}  // namespace segmentd
