#include "service/clustering/clusterer_loop.h"

#include <algorithm>
#include <chrono>

namespace segmentd {
namespace {

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClustererLoop::ClustererLoop(ClustererLoopOptions options)
    : options_(std::move(options)), clusterer_(options_.config), model_(clusterer_.model()) {
  inboxes_.resize(static_cast<std::size_t>(options_.shards));
  for (auto& in : inboxes_) in.ring = std::make_unique<SpscRing<TouchedAccount>>(options_.ring_capacity);
  if (!model_.load()) model_.store(std::make_shared<const Model>());
}

ClustererLoop::~ClustererLoop() { stop(); }

void ClustererLoop::start() {
  if (thread_.joinable()) return;
  batch_opened_ns_ = steady_ns();
  thread_ = std::thread([this] { run(); });
}

void ClustererLoop::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  thread_.join();
  thread_ = std::thread();
  serve_state_requests();  // any asked meanwhile
}

void ClustererLoop::restore(const ClustererState& state, ModelPtr model, std::span<const TouchedAccount> open_batch) {
  clusterer_ = Clusterer(options_.config, state, model);
  pending_.clear();
  for (const TouchedAccount& t : open_batch) {
    pending_[t.account] = t;
    event_ns_ = std::max(event_ns_, t.as_of_ns);
  }
  model_.store(clusterer_.model() ? clusterer_.model() : std::make_shared<const Model>());
  warmup_progress_.store(clusterer_.warmup_progress(), std::memory_order_relaxed);
}

ClustererLoopState ClustererLoop::state_now() {
  drain();  // every vector handed over so far joins the open batch
  ClustererLoopState s{clusterer_.state(), model_.load(), {}};
  s.open_batch.reserve(pending_.size());
  for (const auto& [account, t] : pending_) s.open_batch.push_back(t);
  std::sort(s.open_batch.begin(), s.open_batch.end(),
            [](const TouchedAccount& a, const TouchedAccount& b) { return a.account < b.account; });
  return s;
}

std::future<ClustererLoopState> ClustererLoop::request_state() {
  std::promise<ClustererLoopState> p;
  auto f = p.get_future();
  if (!thread_.joinable()) {
    p.set_value(state_now());
    return f;
  }
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    requests_.push_back(std::move(p));
  }
  has_requests_.store(true, std::memory_order_release);
  return f;
}

void ClustererLoop::serve_state_requests() {
  if (!has_requests_.load(std::memory_order_acquire)) return;
  std::vector<std::promise<ClustererLoopState>> asked;
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    asked.swap(requests_);
    has_requests_.store(false, std::memory_order_relaxed);
  }
  for (auto& p : asked) p.set_value(state_now());
}

void ClustererLoop::offer(int shard, std::span<const TouchedAccount> touched) {
  ShardInbox& in = inboxes_[static_cast<std::size_t>(shard)];
  std::size_t kept = 0;
  for (const TouchedAccount& t : in.overflow) {
    if (!in.ring->try_push(t)) in.overflow[kept++] = t;
  }
  in.overflow.resize(kept);
  for (const TouchedAccount& t : touched) {
    if (!in.overflow.empty() || !in.ring->try_push(t)) in.overflow.push_back(t);
  }
  // The overflow never holds more than two rings' worth: past that the oldest are dropped.
  const std::size_t bound = 2 * in.ring->capacity();
  if (in.overflow.size() > bound) {
    const std::size_t excess = in.overflow.size() - bound;
    in.overflow.erase(in.overflow.begin(), in.overflow.begin() + static_cast<std::ptrdiff_t>(excess));
    dropped_.fetch_add(excess, std::memory_order_relaxed);
  }
}

std::size_t ClustererLoop::drain() {
  std::size_t n = 0;
  for (auto& in : inboxes_) {
    n += in.ring->pop_burst(4096, [this](const TouchedAccount& t) {
      auto [it, inserted] = pending_.try_emplace(t.account, t);
      if (!inserted &&
          (t.fills > it->second.fills || (t.fills == it->second.fills && t.as_of_ns >= it->second.as_of_ns)))
        it->second = t;
      event_ns_ = std::max(event_ns_, t.as_of_ns);
    });
  }
  return n;
}

void ClustererLoop::close_batch() {
  batch_.clear();
  batch_.reserve(pending_.size());
  for (const auto& [account, t] : pending_)
    batch_.push_back(
        BatchItem{account, static_cast<std::uint32_t>(std::min<std::uint64_t>(t.fills, UINT32_MAX)), t.raw});
  pending_.clear();
  canonicalize_batch(batch_);
  auto t0 = std::chrono::steady_clock::now();
  ModelPtr before = model_.load(std::memory_order_relaxed);
  ModelPtr after = clusterer_.update(batch_, event_ns_);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  batches_.fetch_add(1, std::memory_order_relaxed);
  warmup_progress_.store(clusterer_.warmup_progress(), std::memory_order_relaxed);
  if (after && after != before) {
    model_.store(after, std::memory_order_release);
    if (options_.on_model) options_.on_model(after, clusterer_.stats(), secs, batch_.size());
  } else if (options_.on_model && after) {
    options_.on_model(nullptr, clusterer_.stats(), secs, batch_.size());
  }
}

void ClustererLoop::run() {
  const auto& cfg = options_.config;
  int idle = 0;
  for (;;) {
    const bool stopping = stopping_.load(std::memory_order_acquire);
    std::size_t got = drain();
    const std::int64_t now = steady_ns();
    const bool full = pending_.size() >= cfg.batch_size;
    const bool due = !pending_.empty() && now - batch_opened_ns_ >= cfg.batch_interval_ns;
    if (full || due || (stopping && !pending_.empty())) {
      close_batch();
      batch_opened_ns_ = now;
    } else if (pending_.empty()) {
      batch_opened_ns_ = now;  // the interval counts from the first vector of a batch
    }
    serve_state_requests();
    if (stopping && got == 0 && pending_.empty()) break;
    if (got == 0) {
      if (++idle > 16) std::this_thread::sleep_for(std::chrono::microseconds(200));
    } else {
      idle = 0;
    }
  }
}

}  // namespace segmentd
