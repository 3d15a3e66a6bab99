// Micro benchmarks of the clusterer (bench/README.md, "Current results": update at d = 16, k = 8, batch 1024) and of
// the per-account assignment shards run on the hot path.
//
//   ./build/release/bench/clusterer_bench --benchmark_min_time=2

#include <benchmark/benchmark.h>

#include <vector>

#include "core/assigner.h"
#include "core/clusterer.h"
#include "core/rng.h"

namespace {

using namespace segmentd;

constexpr int kK = 8;

//! Planted blobs: `batches` batches of `batch` distinct accounts each, rows in random blob order.
std::vector<std::vector<BatchItem>> make_batches(std::size_t batches, std::size_t batch, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<FeatureVector> centres(kK);
  for (auto& c : centres)
    for (auto& v : c) v = -10.0 + 20.0 * rng.uniform();
  std::vector<std::vector<BatchItem>> out(batches);
  AccountId next = 0;
  for (auto& b : out) {
    b.resize(batch);
    for (auto& item : b) {
      const auto& c = centres[rng.below(kK)];
      item.account = next++;
      item.fills = 100;
      for (int j = 0; j < kFeatureCount; ++j) item.raw[j] = c[j] + rng.normal();
    }
  }
  return out;
}

ClustererConfig bench_config(std::size_t batch) {
  ClustererConfig cfg;
  cfg.k = kK;
  cfg.batch_size = batch;
  cfg.min_accounts = batch;
  cfg.publish_interval_ns = 0;  // worst case: a new Model every batch
  return cfg;
}

void BM_ClustererUpdate(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  const auto batches = make_batches(64, batch, 1);
  Clusterer c(bench_config(batch));
  std::int64_t now = 0;
  for (int i = 0; i < 8; ++i) c.update(batches[i], now += kNanosPerSecond / 10);  // past warm-up
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.update(batches[i], now += kNanosPerSecond / 10));
    i = (i + 1) % batches.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.counters["batches/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ClustererUpdate)->Arg(1024)->Arg(4096)->Unit(benchmark::kMicrosecond);

void BM_Assign(benchmark::State& state) {
  const auto batches = make_batches(16, 1024, 2);
  Clusterer c(bench_config(1024));
  std::int64_t now = 0;
  for (const auto& b : batches) c.update(b, now += kNanosPerSecond / 10);
  const ModelPtr model = c.model();
  const AssignerConfig cfg;
  std::size_t i = 0;
  SegmentId seg = model->segments.front().id;
  for (auto _ : state) {
    const BatchItem& item = batches[i / 1024][i % 1024];
    const AssignDecision d = assign(*model, cfg, item.account, item.raw, seg, 0, now);
    benchmark::DoNotOptimize(d);
    i = (i + 1) % (16 * 1024);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Assign);

}  // namespace
