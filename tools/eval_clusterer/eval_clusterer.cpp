// eval_clusterer: the clusterer on a fixed feature matrix, for comparison with scikit-learn.
//
//   eval_clusterer --out DIR [--n 200000] [--k 8] [--std 1.0] [--seed 42] [--batch 1024]
//                  [--input FILE.csv]
//
// Without --input it generates planted blobs (d = 16, centres uniform in [−10, 10]^16, isotropic
// Gaussian noise of --std, a uniformly random blob per row, like scikit-learn's make_blobs) and
// writes DIR/data.csv (16 feature columns, then the true label). With --input it reads that same
// format. It then feeds the rows in order, --batch rows per batch (row i is account i), to the
// clusterer, timing only the update() calls (process CPU time, and wall time), and writes DIR/ours_centroids.csv (raw
// units, one row per segment) and DIR/ours_labels.csv (nearest segment per row). It prints one JSON line with the
// throughput, the inertia in raw units and the ARI against the true labels.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/assigner.h"
#include "core/cluster_metrics.h"
#include "core/clusterer.h"
#include "core/kmeans.h"
#include "core/rng.h"

namespace {

using namespace segmentd;

struct Options {
  std::string out;
  std::string input;
  std::size_t n = 200'000;
  int k = 8;
  double stddev = 1.0;
  std::uint64_t seed = 42;
  std::size_t batch = 1024;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "eval_clusterer: %s\nusage: eval_clusterer --out DIR [--n N] [--k K] [--std S] [--seed S] "
               "[--batch B] [--input FILE.csv]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--out")
      o.out = v;
    else if (a == "--input")
      o.input = v;
    else if (a == "--n")
      o.n = std::stoull(v);
    else if (a == "--k")
      o.k = std::stoi(v);
    else if (a == "--std")
      o.stddev = std::stod(v);
    else if (a == "--seed")
      o.seed = std::stoull(v);
    else if (a == "--batch")
      o.batch = std::stoull(v);
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.out.empty()) usage("--out is required");
  if (o.k < 1 || o.batch < 1 || o.n < 1) usage("k, batch and n must be positive");
  return o;
}

void generate(const Options& o, std::vector<FeatureVector>* x, std::vector<std::int64_t>* y) {
  Rng rng(o.seed);
  std::vector<FeatureVector> centres(o.k);
  for (auto& c : centres)
    for (auto& v : c) v = -10.0 + 20.0 * rng.uniform();
  x->resize(o.n);
  y->resize(o.n);
  for (std::size_t i = 0; i < o.n; ++i) {
    const int label = static_cast<int>(rng.below(o.k));
    (*y)[i] = label;
    for (int j = 0; j < kFeatureCount; ++j) (*x)[i][j] = centres[label][j] + o.stddev * rng.normal();
  }
}

void read_csv(const std::string& path, std::vector<FeatureVector>* x, std::vector<std::int64_t>* y) {
  std::ifstream in(path);
  if (!in) usage(("cannot open " + path).c_str());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == 'f') continue;  // header
    std::stringstream ss(line);
    FeatureVector v{};
    std::string cell;
    for (int j = 0; j < kFeatureCount; ++j) {
      if (!std::getline(ss, cell, ',')) usage("a CSV row has fewer than 17 columns");
      v[j] = std::stod(cell);
    }
    std::getline(ss, cell, ',');
    x->push_back(v);
    y->push_back(std::stoll(cell));
  }
}

void write_csv(const std::string& path, const std::vector<FeatureVector>& x, const std::vector<std::int64_t>& y) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) usage(("cannot write " + path).c_str());
  for (int j = 0; j < kFeatureCount; ++j) std::fprintf(f, "f%d,", j);
  std::fprintf(f, "label\n");
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (int j = 0; j < kFeatureCount; ++j) std::fprintf(f, "%.17g,", x[i][j]);
    std::fprintf(f, "%lld\n", static_cast<long long>(y[i]));
  }
  std::fclose(f);
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<FeatureVector> x;
  std::vector<std::int64_t> y;
  if (o.input.empty()) {
    generate(o, &x, &y);
    write_csv(o.out + "/data.csv", x, y);
  } else {
    read_csv(o.input, &x, &y);
  }

  // Stationary data, one pass, as MiniBatchKMeans.partial_fit sees it: warm start on the first
  // batch, no forgetting (the data has no time), a model per batch.
  ClustererConfig cfg;
  cfg.k = o.k;
  cfg.batch_size = o.batch;
  cfg.min_accounts = std::max<std::size_t>(o.batch, static_cast<std::size_t>(o.k));
  cfg.min_fills = 1;
  cfg.half_life_ns = 0;
  cfg.scaler_half_life_ns = 0;
  cfg.seeds = 3;
  cfg.sample_size = 4096;
  cfg.publish_interval_ns = 0;
  cfg.seed = o.seed;
  if (auto st = validate(cfg); !st.ok()) usage(std::string(st.message()).c_str());

  std::vector<std::vector<BatchItem>> batches;
  for (std::size_t i = 0; i < x.size(); i += o.batch) {
    std::vector<BatchItem> b;
    for (std::size_t r = i; r < std::min(x.size(), i + o.batch); ++r) b.push_back({static_cast<AccountId>(r), 1, x[r]});
    batches.push_back(std::move(b));
  }

  Clusterer clusterer(cfg);
  const std::int64_t step = kNanosPerSecond / 10;
  std::int64_t now = 0;
  // CPU time of this (single-threaded) process is the figure to compare on a shared machine; wall
  // time is printed alongside.
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& b : batches) clusterer.update(b, now += step);
  const auto t1 = std::chrono::steady_clock::now();
  const double seconds = cpu_seconds() - c0;
  const double wall = std::chrono::duration<double>(t1 - t0).count();
  const ModelPtr model = clusterer.model();

  // Labels (our own metric: the model's scaled space) and inertia in raw units (nearest centroid
  // in raw space, as scikit-learn measures it).
  std::vector<FeatureVector> raw_centres;
  for (const auto& s : model->segments) raw_centres.push_back(s.centroid_raw);
  std::vector<std::int64_t> labels(x.size());
  double inertia = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    labels[i] = assign(*model, AssignerConfig{0.0, 0}, 0, x[i], kNoSegment, 0, 0).segment;
    double d2 = 0.0;
    nearest_index(raw_centres, x[i], &d2);
    inertia += d2;
  }
  const double ari = adjusted_rand_index(std::span<const std::int64_t>(y), std::span<const std::int64_t>(labels));

  std::FILE* f = std::fopen((o.out + "/ours_centroids.csv").c_str(), "w");
  for (const auto& c : raw_centres) {
    for (int j = 0; j < kFeatureCount; ++j) std::fprintf(f, j ? ",%.17g" : "%.17g", c[j]);
    std::fprintf(f, "\n");
  }
  std::fclose(f);
  f = std::fopen((o.out + "/ours_labels.csv").c_str(), "w");
  for (auto l : labels) std::fprintf(f, "%lld\n", static_cast<long long>(l));
  std::fclose(f);

  std::printf(
      "{\"n\": %zu, \"batch\": %zu, \"batches\": %zu, \"seconds\": %.6f, \"wall_seconds\": %.6f, \"rows_per_s\": %.1f, "
      "\"batches_per_s\": %.1f, \"us_per_batch\": %.2f, \"segments\": %zu, \"model_version\": %llu, "
      "\"inertia\": %.6f, \"ari\": %.6f}\n",
      x.size(), o.batch, batches.size(), seconds, wall, x.size() / seconds, batches.size() / seconds,
      seconds / batches.size() * 1e6, model->segments.size(), static_cast<unsigned long long>(model->version), inertia,
      ari);
  return 0;
}
