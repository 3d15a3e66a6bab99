#include "service/app/console_views.h"

#include <limits>
#include <utility>

#include "core/standardizer.h"

namespace segmentd {

ConsoleViews::ConsoleViews(const AccountInterner& names, std::size_t history_capacity, std::int64_t history_spacing_ns)
    : names_(names), history_capacity_(history_capacity), history_spacing_ns_(history_spacing_ns) {}

void ConsoleViews::on_model(const ModelPtr& model) {
  if (!model || !model->ready()) return;
  SizeHistoryEntry e;
  e.ts_ns = model->ts_ns;
  e.version = model->version;
  for (const Segment& s : model->segments) e.sizes.emplace_back(s.id, s.size);
  std::lock_guard<std::mutex> lock(mu_);
  if (!history_.empty()) {
    const SizeHistoryEntry& last = history_.back();
    if (last.sizes == e.sizes) return;  // nothing new to draw
    // Sizes change at every quality evaluation; the history keeps one per spacing, except when
    // the set of segments changed (a birth or a retirement is always drawn).
    bool same_segments = last.sizes.size() == e.sizes.size();
    for (std::size_t i = 0; same_segments && i < e.sizes.size(); ++i)
      same_segments = last.sizes[i].first == e.sizes[i].first;
    if (same_segments && e.ts_ns - last.ts_ns < history_spacing_ns_) return;
  }
  history_.push_back(std::move(e));
  while (history_.size() > history_capacity_) history_.pop_front();
}

std::vector<SizeHistoryEntry> ConsoleViews::history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {history_.begin(), history_.end()};
}

double ConsoleViews::fills_per_second(std::uint64_t fills_total) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (rate_at_ == std::chrono::steady_clock::time_point{}) {
    rate_at_ = now;
    rate_total_ = fills_total;
    return rate_;
  }
  const double seconds = std::chrono::duration<double>(now - rate_at_).count();
  if (seconds >= 1.0) {
    rate_ = fills_total >= rate_total_ ? static_cast<double>(fills_total - rate_total_) / seconds : 0.0;
    rate_at_ = now;
    rate_total_ = fills_total;
  }
  return rate_;
}

MapView ConsoleViews::map(const ModelPtr& model) {
  MapView v;
  if (!model || !model->ready() || !model->population) return v;
  v.model_version = model->version;
  const PopulationSummary& pop = *model->population;
  std::vector<FeatureVector> scaled;
  scaled.reserve(pop.points.size());
  for (const auto& p : pop.points) scaled.push_back(scale(model->scaler, p.raw));
  Projection2D projection;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!projection_.valid || projection_scaler_ != model->scaler_version) {
      const Projection2D fitted = fit_projection(scaled, projection_);
      if (fitted.valid) {
        projection_ = fitted;
        projection_scaler_ = model->scaler_version;
        ++projection_version_;
      }
    }
    projection = projection_;
    v.projection_version = projection_version_;
  }
  if (!projection.valid) return v;
  v.points.reserve(scaled.size());
  for (std::size_t i = 0; i < scaled.size(); ++i) {
    MapPoint p;
    p.account = names_.name(pop.points[i].account);
    const auto xy = projection.apply(scaled[i]);
    p.x = xy[0];
    p.y = xy[1];
    double best = std::numeric_limits<double>::infinity();
    for (const Segment& s : model->segments) {
      double d = 0.0;
      for (int f = 0; f < kFeatureCount; ++f) d += (scaled[i][f] - s.centroid[f]) * (scaled[i][f] - s.centroid[f]);
      if (d < best) {
        best = d;
        p.segment = s.id;
      }
    }
    v.points.push_back(std::move(p));
  }
  for (const Segment& s : model->segments) {
    MapPoint c;
    const auto xy = projection.apply(s.centroid);
    c.x = xy[0];
    c.y = xy[1];
    c.segment = s.id;
    v.centroids.push_back(std::move(c));
  }
  return v;
}

}  // namespace segmentd
