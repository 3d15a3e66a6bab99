#include "service/metrics/metrics.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include <prometheus/text_serializer.h>

namespace segmentd {

HotHistogram::HotHistogram(const std::vector<double>& bounds, double scale) : scale_(scale) {
  if (bounds.size() > kMaxBuckets) throw std::invalid_argument("HotHistogram: too many buckets");
  bucket_count_ = bounds.size();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    bounds_[i] = static_cast<std::int64_t>(std::llround(bounds[i] / scale));
    if (i > 0 && bounds_[i] <= bounds_[i - 1]) throw std::invalid_argument("HotHistogram: bounds must increase");
  }
}

HistogramExport::HistogramExport(const HotHistogram& source, prometheus::Histogram& target)
    : source_(&source), target_(&target), increments_(source.bucket_count() + 1, 0.0) {}

void HistogramExport::sync() {
  bool any = false;
  // The sum is read before the counts: a racing record() may show in a count and not yet in the
  // sum, never the other way round, and the next scrape catches the rest up.
  const std::int64_t sum = source_->sum();
  for (std::size_t i = 0; i <= source_->bucket_count(); ++i) {
    const std::uint64_t c = source_->count(i);
    increments_[i] = static_cast<double>(c - last_[i]);
    any = any || c != last_[i];
    last_[i] = c;
  }
  if (!any && sum == last_sum_) return;
  target_->ObserveMultiple(increments_, static_cast<double>(sum - last_sum_) * source_->scale());
  last_sum_ = sum;
}

Metrics::HookHandle& Metrics::HookHandle::operator=(HookHandle&& o) noexcept {
  if (this != &o) {
    reset();
    owner_ = o.owner_;
    it_ = o.it_;
    o.owner_ = nullptr;
  }
  return *this;
}

void Metrics::HookHandle::reset() {
  if (owner_ == nullptr) return;
  std::lock_guard<std::mutex> lock(owner_->mu_);
  owner_->hooks_.erase(it_);
  owner_ = nullptr;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

Metrics::HookHandle Metrics::on_collect(Hook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
  return HookHandle(this, std::prev(hooks_.end()));
}

void Metrics::collect() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Hook& h : hooks_) h();
}

std::string Metrics::render() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Hook& h : hooks_) h();
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

prometheus::Family<prometheus::Counter>& counter_family(Metrics& m, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(m.registry());
}

prometheus::Family<prometheus::Gauge>& gauge_family(Metrics& m, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(m.registry());
}

prometheus::Family<prometheus::Histogram>& histogram_family(Metrics& m, const std::string& name,
                                                            const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(m.registry());
}

Metrics& default_metrics() {
  static Metrics metrics;
  return metrics;
}

std::string render_metrics() { return default_metrics().render(); }

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> b = {10e-6,  25e-6,  50e-6,  100e-6, 200e-6, 300e-6,  400e-6, 500e-6,
                                        600e-6, 700e-6, 800e-6, 900e-6, 1e-3,   1.25e-3, 1.5e-3, 2e-3,
                                        3e-3,   5e-3,   10e-3,  25e-3,  50e-3,  100e-3,  250e-3, 1.0};
  return b;
}

const std::vector<double>& lag_buckets_seconds() {
  static const std::vector<double> b = {1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3,
                                        0.5,  1.0,    2.5,  5.0,   10.0,  30.0,  60.0};
  return b;
}

const std::vector<double>& duration_buckets_seconds() {
  static const std::vector<double> b = {100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3,
                                        100e-3, 250e-3, 0.5,    1.0,  2.5,    5.0,  10.0,  30.0,  60.0};
  return b;
}

const std::vector<double>& size_buckets() {
  static const std::vector<double> b = {1,   2,    4,    8,    16,   32,    64,    128,  256,
                                        512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
  return b;
}

}  // namespace segmentd
