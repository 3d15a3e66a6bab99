#pragma once
// The metrics registry of the process, and the two recorders probes use on hot paths.
//
// Only service/*_probe.* and this file see prometheus-cpp (STYLE.md 9): domain and I/O code calls
// a probe's record_*() methods. Metric naming: `segmentd_` prefix, base units (seconds, bytes),
// counters end in `_total`; labels come from bounded sets only (source names from the config,
// shard numbers, parse-error reasons, live segment ids) — never an account.
//
// Why our own recorders: prometheus::Histogram::Observe takes a mutex and Counter::Increment is
// a CAS loop on a shared double. A HotCounter / HotHistogram is a set of relaxed integer atomics
// on the recorder's own cache lines; at scrape time, Metrics::render() runs the probes' collect
// hooks, which move the deltas since the previous scrape into the registry (Counter::Increment,
// Histogram::ObserveMultiple). Several recorders may feed one series: each adds its own delta.
//
// Threads: recorders may be written from any thread (give each hot thread its own recorder to
// keep its cache lines private). render() may be called from any thread; concurrent renders
// are serialized.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <mutex>  // std::mutex: Debian's Abseil is not TSan-instrumented
#include "absl/base/thread_annotations.h"
#include "service/shards/spsc_ring.h"  // kCacheLine

namespace segmentd {

//! A monotonic count, written on a hot path, read at scrape.
class HotCounter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  alignas(kCacheLine) std::atomic<std::uint64_t> value_{0};
};

//! A histogram of integer observations (ns, bytes, counts) with fixed buckets. `scale` converts
//! the recorded unit into the exported one (1e-9 for ns → seconds).
class HotHistogram {
 public:
  static constexpr std::size_t kMaxBuckets = 32;
  //! `bounds` in exported units, increasing, at most kMaxBuckets.
  HotHistogram(const std::vector<double>& bounds, double scale);

  void record(std::int64_t value) {
    std::size_t i = 0;
    while (i < bucket_count_ && value > bounds_[i]) ++i;  // `le` buckets; i == bucket_count_ is +Inf
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }
  std::size_t bucket_count() const { return bucket_count_; }
  double scale() const { return scale_; }
  //! Non-cumulative count of bucket i (i == bucket_count(): above every bound).
  std::uint64_t count(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::int64_t sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::array<std::int64_t, kMaxBuckets> bounds_{};  //!< in recorded units
  std::size_t bucket_count_ = 0;
  double scale_;
  alignas(kCacheLine) std::array<std::atomic<std::uint64_t>, kMaxBuckets + 1> counts_{};
  std::atomic<std::int64_t> sum_{0};
};

//! Moves a HotCounter's (or any monotonic source's) growth into a prometheus::Counter. Owned
//! and called by one collect hook.
class CounterExport {
 public:
  explicit CounterExport(prometheus::Counter& counter) : counter_(&counter) {}
  void sync(std::uint64_t current) {
    if (current > last_) counter_->Increment(static_cast<double>(current - last_));
    last_ = current;
  }

 private:
  prometheus::Counter* counter_;
  std::uint64_t last_ = 0;
};

//! Moves a HotHistogram's new observations into a prometheus::Histogram with the same bounds.
class HistogramExport {
 public:
  HistogramExport(const HotHistogram& source, prometheus::Histogram& target);
  void sync();

 private:
  const HotHistogram* source_;
  prometheus::Histogram* target_;
  std::array<std::uint64_t, HotHistogram::kMaxBuckets + 1> last_{};
  std::int64_t last_sum_ = 0;
  std::vector<double> increments_;
};

class Metrics {
 public:
  using Hook = std::function<void()>;

  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& shared_registry() const { return registry_; }

  //! Unregisters its hook when destroyed: a probe holds one and dies before its recorders.
  class HookHandle {
   public:
    HookHandle() = default;
    HookHandle(Metrics* owner, std::list<Hook>::iterator it) : owner_(owner), it_(it) {}
    HookHandle(HookHandle&& o) noexcept : owner_(o.owner_), it_(o.it_) { o.owner_ = nullptr; }
    HookHandle& operator=(HookHandle&& o) noexcept;
    HookHandle(const HookHandle&) = delete;
    HookHandle& operator=(const HookHandle&) = delete;
    ~HookHandle() { reset(); }
    void reset();

   private:
    Metrics* owner_ = nullptr;
    std::list<Hook>::iterator it_;
  };
  //! `hook` runs before every render, on the rendering thread, with no other hook running.
  [[nodiscard]] HookHandle on_collect(Hook hook);

  //! Runs the hooks (moves recorder deltas and samples into the registry).
  void collect();
  //! collect(), then the Prometheus text exposition format (version 0.0.4) of the registry.
  std::string render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;  //!< one collect at a time; guards hooks_
  std::list<Hook> hooks_ ABSL_GUARDED_BY(mu_);
};

// Family lookups for probe constructors (never on a hot path). Registering an existing name
// with the same type returns the existing family, so several probes share one.
prometheus::Family<prometheus::Counter>& counter_family(Metrics& m, const std::string& name, const std::string& help);
prometheus::Family<prometheus::Gauge>& gauge_family(Metrics& m, const std::string& name, const std::string& help);
prometheus::Family<prometheus::Histogram>& histogram_family(Metrics& m, const std::string& name,
                                                            const std::string& help);

//! The process-wide metrics that segmentd's probes register in.
Metrics& default_metrics();
//! default_metrics().render(): the body of GET /metrics (Content-Type: text/plain; version=0.0.4).
std::string render_metrics();
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Bucket sets shared by probes (seconds unless said otherwise).
//! End-to-end latency: fine around the 1 ms p99 goal, coarse up to 1 s.
const std::vector<double>& latency_buckets_seconds();
//! Venue time → receive: network plus venue batching, 1 ms .. 60 s.
const std::vector<double>& lag_buckets_seconds();
//! Durations of batch work (clusterer updates, checkpoints): 100 µs .. 60 s.
const std::vector<double>& duration_buckets_seconds();
//! Sizes in items (accounts per batch): powers of two 1 .. 65536.
const std::vector<double>& size_buckets();

}  // namespace segmentd
