#include "core/clusterer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/kmeans.h"
#include "core/str_cat.h"

namespace segmentd {
namespace {

//! The population's percentiles and a picture-sized sample (core/model.h, PopulationSummary).
std::shared_ptr<const PopulationSummary> summarize_population(const std::vector<SampleEntry>& sample) {
  auto p = std::make_shared<PopulationSummary>();
  p->sample_size = sample.size();
  if (sample.empty()) return p;
  p->quantiles.assign(PopulationSummary::kQuantiles, FeatureVector{});
  std::vector<double> column(sample.size());
  for (int f = 0; f < kFeatureCount; ++f) {
    for (std::size_t i = 0; i < sample.size(); ++i) column[i] = sample[i].raw[f];
    std::sort(column.begin(), column.end());
    for (int q = 0; q < PopulationSummary::kQuantiles; ++q) {
      // Linear interpolation between order statistics (the "type 7" quantile of R and numpy).
      const double pos = static_cast<double>(column.size() - 1) * q / (PopulationSummary::kQuantiles - 1);
      const auto lo = static_cast<std::size_t>(pos);
      const std::size_t hi = std::min(lo + 1, column.size() - 1);
      p->quantiles[q][f] = column[lo] + (column[hi] - column[lo]) * (pos - static_cast<double>(lo));
    }
  }
  const std::size_t n = std::min(sample.size(), PopulationSummary::kMaxPoints);
  p->points.reserve(n);
  for (std::size_t i = 0; i < n; ++i) p->points.push_back({sample[i].account, sample[i].raw});
  return p;
}

StandardizerConfig standardizer_config(const ClustererConfig& c) {
  StandardizerConfig s;
  s.half_life_ns = c.scaler_half_life_ns;
  s.min_stddev = c.min_stddev;
  s.weight = c.feature_weights;
  return s;
}

bool finite(const FeatureVector& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

double decay_factor(std::int64_t dt_ns, std::int64_t half_life_ns) {
  if (half_life_ns <= 0 || dt_ns <= 0) return 1.0;
  return std::exp2(-static_cast<double>(dt_ns) / static_cast<double>(half_life_ns));
}

constexpr double kHalfNormalMean = 0.7978845608028654;  // sqrt(2/π): split offset in σ

}  // namespace

absl::Status validate(const ClustererConfig& c) {
  auto bad = [](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(std::string("clusterer.").append(field).append(": ").append(why));
  };
  if (c.k < 1) return bad("k", "must be at least 1");
  if (c.batch_size < 1) return bad("batch_size", "must be at least 1");
  if (c.batch_interval_ns <= 0) return bad("batch_interval", "must be positive");
  if (c.min_accounts < static_cast<std::size_t>(c.k)) return bad("min_accounts", "must be at least k");
  if (c.sample_size < 2 * static_cast<std::size_t>(c.k)) return bad("sample_size", "must hold at least 2·k accounts");
  if (c.silhouette_points > 4096) return bad("silhouette_points", "at most 4096 (the silhouette is O(n²))");
  if (!(c.reseed_ratio >= 0.0 && c.reseed_ratio < 1.0)) return bad("reseed_ratio", "must be in [0, 1)");
  if (!(c.restart_gain >= 0.0 && c.restart_gain < 1.0)) return bad("restart_gain", "must be in [0, 1)");
  if (c.vote_horizon_ns < 0) return bad("vote_horizon", "must be >= 0");
  if (c.seeds < 1) return bad("seeds", "must be at least 1");
  if (c.warmup_iterations < 1) return bad("warmup_iterations", "must be at least 1");
  if (!(c.rescale_tolerance >= 0.0)) return bad("rescale_tolerance", "must be >= 0");
  if (!(c.assigner.hysteresis_margin >= 0.0 && c.assigner.hysteresis_margin < 1.0))
    return bad("hysteresis_margin", "must be in [0, 1)");
  if (c.assigner.min_dwell_ns < 0) return bad("min_dwell", "must be >= 0");
  bool any = false;
  for (int j = 0; j < kFeatureCount; ++j) {
    if (!(c.feature_weights[j] >= 0.0) || !std::isfinite(c.feature_weights[j]))
      return bad(std::string("weights.").append(kFeatureNames[j]), "must be finite and >= 0");
    if (!(c.min_stddev[j] > 0.0)) return bad(std::string("min_stddev.").append(kFeatureNames[j]), "must be > 0");
    any |= c.feature_weights[j] > 0.0;
  }
  if (!any) return bad("weights", "at least one feature needs a non-zero weight");
  for (const auto& r : c.labels.rules)
    if (r.label.empty()) return bad("labels", "a rule has an empty label");
  if (c.labels.fallback.empty()) return bad("labels.fallback", "must not be empty");
  return absl::OkStatus();
}

std::size_t canonicalize_batch(std::vector<BatchItem>& items) {
  const std::size_t before = items.size();
  std::erase_if(items, [](const BatchItem& b) { return !finite(b.raw); });
  // A total order on (account, fills, raw): equal keys are identical items, so the result does not
  // depend on the input order even for duplicates.
  const auto less = [](const BatchItem& a, const BatchItem& b) {
    if (a.account != b.account) return a.account < b.account;
    if (a.fills != b.fills) return a.fills < b.fills;
    return a.raw < b.raw;
  };
  if (!std::is_sorted(items.begin(), items.end(), less)) std::sort(items.begin(), items.end(), less);
  // One per account: the last of its run, i.e. the most fills (the newest vector).
  std::size_t out = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (out > 0 && items[out - 1].account == items[i].account) {
      items[out - 1] = items[i];
      continue;
    }
    if (out != i) items[out] = items[i];
    ++out;
  }
  items.resize(out);
  return before - out;
}

Clusterer::Clusterer(ClustererConfig config)
    : config_(std::move(config)),
      rng_(config_.seed),
      standardizer_(standardizer_config(config_)),
      sample_(config_.sample_size, config_.seed),
      model_(std::make_shared<const Model>()) {}

Clusterer::Clusterer(ClustererConfig config, const ClustererState& s, ModelPtr published)
    : config_(std::move(config)),
      rng_(config_.seed),
      standardizer_(standardizer_config(config_), s.standardizer),
      sample_(config_.sample_size, config_.seed, s.sample),
      scaler_(s.scaler),
      scaler_version_(s.scaler_version),
      centres_(s.centres),
      next_id_(s.next_id),
      version_(s.version),
      warm_(s.warm),
      started_(s.started),
      ts_ns_(s.ts_ns),
      last_publish_ns_(s.last_publish_ns),
      last_quality_ns_(s.last_quality_ns),
      last_restart_ns_(s.last_restart_ns),
      warmup_accounts_(s.warmup_accounts.begin(), s.warmup_accounts.end()),
      inertia_(s.inertia),
      quality_(s.quality),
      pending_events_(s.pending_events),
      published_(s.published) {
  rng_.set_state(s.rng);
  for (const auto& [account, t] : s.last_vote) last_vote_.exchange(account, t);
  if (published) {
    model_ = std::move(published);
  } else if (warm_) {
    auto m = assemble();
    m->version = version_;
    m->ts_ns = last_publish_ns_;
    model_ = std::move(m);
  } else {
    model_ = std::make_shared<const Model>();
  }
}

ClustererState Clusterer::state() const {
  ClustererState s;
  s.warm = warm_;
  s.started = started_;
  s.next_id = next_id_;
  s.version = version_;
  s.scaler_version = scaler_version_;
  s.ts_ns = ts_ns_;
  s.last_publish_ns = last_publish_ns_;
  s.last_quality_ns = last_quality_ns_;
  s.last_restart_ns = last_restart_ns_;
  s.rng = rng_.state();
  s.standardizer = standardizer_.state();
  s.scaler = scaler_;
  s.centres = centres_;
  s.sample = sample_.entries();
  s.warmup_accounts.assign(warmup_accounts_.begin(), warmup_accounts_.end());
  std::sort(s.warmup_accounts.begin(), s.warmup_accounts.end());
  s.last_vote = last_vote_.sorted();
  s.inertia = inertia_;
  s.quality = quality_;
  s.pending_events = pending_events_;
  s.published = published_;
  return s;
}

std::int64_t LastVotes::exchange(AccountId a, std::int64_t now_ns) {
  std::int64_t before = kNever;
  if (a < kDenseIds) {
    if (a >= dense_.size()) dense_.resize(std::max<std::size_t>(std::size_t{a} + 1, dense_.size() * 2), kNever);
    before = std::exchange(dense_[a], now_ns);
  } else {
    auto [it, fresh] = sparse_.try_emplace(a, now_ns);
    if (!fresh) before = std::exchange(it->second, now_ns);
  }
  if (before == kNever) ++count_;
  return before;
}

void LastVotes::erase_before(std::int64_t cutoff_ns) {
  for (std::int64_t& t : dense_) {
    if (t != kNever && t < cutoff_ns) {
      t = kNever;
      --count_;
    }
  }
  count_ -= absl::erase_if(sparse_, [cutoff_ns](const auto& kv) { return kv.second < cutoff_ns; });
}

std::vector<std::pair<AccountId, std::int64_t>> LastVotes::sorted() const {
  std::vector<std::pair<AccountId, std::int64_t>> out;
  out.reserve(count_);
  for (std::size_t a = 0; a < dense_.size(); ++a)
    if (dense_[a] != kNever) out.emplace_back(static_cast<AccountId>(a), dense_[a]);
  const std::size_t dense_end = out.size();
  for (const auto& kv : sparse_) out.push_back(kv);
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(dense_end), out.end());
  return out;
}

ModelPtr Clusterer::update(std::span<const BatchItem> batch, std::int64_t now_ns) {
  ++stats_.updates;
  batch_.clear();
  for (const auto& b : batch) {
    if (b.fills < config_.min_fills) {
      ++stats_.items_few_fills;
      continue;
    }
    batch_.push_back(b);
  }
  stats_.items_dropped += canonicalize_batch(batch_);
  stats_.items_learned += batch_.size();

  if (!started_) {
    started_ = true;
    ts_ns_ = now_ns;
    last_publish_ns_ = now_ns;
    last_quality_ns_ = now_ns;
  }
  now_ns = std::max(now_ns, ts_ns_);

  // Votes: the share of vote_horizon since each account's previous vector.
  votes_.resize(batch_.size());
  double total_votes = 0.0;
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    double w = 1.0;
    if (config_.vote_horizon_ns > 0) {
      const std::int64_t before = last_vote_.exchange(batch_[i].account, now_ns);
      if (before != LastVotes::kNever) {
        const std::int64_t dt = std::clamp<std::int64_t>(now_ns - before, 0, config_.vote_horizon_ns);
        w = static_cast<double>(dt) / static_cast<double>(config_.vote_horizon_ns);
      }
    }
    votes_[i] = w;
    total_votes += w;
  }

  standardizer_.decay_to(now_ns);
  if (total_votes > 0.0) {
    // The batch's own weighted moments (two passes, in canonical order), merged in one step.
    FeatureVector mean{}, m2{};
    for (std::size_t i = 0; i < batch_.size(); ++i)
      for (int j = 0; j < kFeatureCount; ++j) mean[j] += votes_[i] * batch_[i].raw[j];
    for (auto& m : mean) m /= total_votes;
    for (std::size_t i = 0; i < batch_.size(); ++i)
      for (int j = 0; j < kFeatureCount; ++j) {
        const double d = batch_[i].raw[j] - mean[j];
        m2[j] += votes_[i] * d * d;
      }
    standardizer_.merge(total_votes, mean, m2);
  }
  for (const auto& b : batch_) sample_.offer(b.account, b.raw, now_ns);

  if (!warm_) {
    for (const auto& b : batch_) warmup_accounts_.insert(b.account);
    if (warmup_accounts_.size() >= config_.min_accounts && sample_.size() >= static_cast<std::size_t>(config_.k)) {
      warm_start(now_ns);
      publish(now_ns);
    }
    ts_ns_ = now_ns;
    return model_;
  }

  train(now_ns);
  retire_and_split(now_ns);
  maybe_restart(now_ns);
  ts_ns_ = now_ns;
  if (!pending_events_.empty() || (!batch_.empty() && now_ns - last_publish_ns_ >= config_.publish_interval_ns))
    publish(now_ns);
  return model_;
}

void Clusterer::warm_start(std::int64_t now_ns) {
  scaler_ = standardizer_.freeze();
  scaler_version_ = 1;
  const auto& entries = sample_.entries();
  std::vector<FeatureVector> pts(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) pts[i] = scale(scaler_, entries[i].raw);
  const KMeansResult r = kmeans_best_of(pts, config_.k, config_.seeds, config_.warmup_iterations, rng_);

  // Raw centroids are the raw means of their members (exact: scaling is affine per feature), which
  // also gives features with weight 0 a meaningful value.
  const std::size_t k = r.centres.size();
  std::vector<FeatureVector> raw_sum(k, FeatureVector{});
  std::vector<double> sse(k, 0.0);
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const int l = r.labels[i];
    for (int j = 0; j < kFeatureCount; ++j) raw_sum[l][j] += entries[i].raw[j];
    sse[l] += squared_distance(pts[i], r.centres[l]);
  }
  centres_.clear();
  for (std::size_t c = 0; c < k; ++c) {
    CentreState cs;
    cs.id = next_id_++;
    if (r.counts[c] > 0.0) {
      for (int j = 0; j < kFeatureCount; ++j) cs.raw[j] = raw_sum[c][j] / r.counts[c];
    } else {
      cs.raw = unscale(scaler_, r.centres[c], scaler_.mean);
    }
    cs.weight = r.counts[c];
    cs.sse = sse[c];
    cs.born_ns = now_ns;
    centres_.push_back(std::move(cs));
    ModelEvent e;
    e.kind = ModelEvent::Kind::kBorn;
    e.segment = centres_.back().id;
    e.why = "warm-up";
    pending_events_.push_back(std::move(e));
  }
  stats_.born += k;
  inertia_ = {};
  inertia_.add(r.inertia, static_cast<double>(pts.size()));
  warm_ = true;
  warmup_accounts_ = {};
  last_restart_ns_ = now_ns;
}

std::vector<FeatureVector> Clusterer::scaled_centres() const {
  std::vector<FeatureVector> out(centres_.size());
  for (std::size_t i = 0; i < centres_.size(); ++i) out[i] = scale(scaler_, centres_[i].raw);
  return out;
}

void Clusterer::train(std::int64_t now_ns) {
  const double a = decay_factor(now_ns - ts_ns_, config_.half_life_ns);
  for (auto& c : centres_) {
    c.weight *= a;
    c.sse *= a;
  }
  inertia_.decay(a);

  const std::size_t k = centres_.size();
  table_.assign(scaled_centres());
  const FeatureVector factors = scale_factors(scaler_);
  const std::size_t n = batch_.size();
  nearest_.resize(n);
  sums_.assign(k, FeatureVector{});
  counts_.assign(k, 0.0);
  double total_d2 = 0.0;
  double total_w = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const FeatureVector& raw = batch_[i].raw;
    const double w = votes_[i];
    double d2 = 0.0;
    const int c = table_.nearest(scale(scaler_.mean, factors, raw), &d2);
    nearest_[i] = c;
    FeatureVector& sum = sums_[c];
    for (int j = 0; j < kFeatureCount; ++j) sum[j] += w * raw[j];
    counts_[c] += w;
    centres_[c].sse += w * d2;
    total_d2 += w * d2;
    total_w += w;
  }
  inertia_.add(total_d2, total_w);
  for (std::size_t c = 0; c < k; ++c) {
    if (counts_[c] == 0.0) continue;
    CentreState& ce = centres_[c];
    const double w = ce.weight + counts_[c];
    for (int j = 0; j < kFeatureCount; ++j) ce.raw[j] = (ce.raw[j] * ce.weight + sums_[c][j]) / w;
    ce.weight = w;
  }
}

void Clusterer::retire_and_split(std::int64_t now_ns) {
  if (centres_.size() < 2 || config_.reseed_ratio <= 0.0) return;
  // Each pass retires at most one centre and splits one; a newborn is exempt for one half-life, so
  // the loop ends after at most k passes.
  for (std::size_t pass = 0; pass < centres_.size(); ++pass) {
    double max_w = 0.0;
    for (const auto& c : centres_) max_w = std::max(max_w, c.weight);
    const std::int64_t grace = std::max<std::int64_t>(config_.half_life_ns, 0);
    std::size_t victim = centres_.size();
    for (std::size_t i = 0; i < centres_.size(); ++i) {
      if (centres_[i].weight < config_.reseed_ratio * max_w && now_ns - centres_[i].born_ns >= grace) {
        victim = i;
        break;
      }
    }
    if (victim == centres_.size()) return;

    ModelEvent e;
    e.kind = ModelEvent::Kind::kRetired;
    e.segment = centres_[victim].id;
    e.label = centres_[victim].label;
    e.why = "weight below reseed_ratio × largest";
    pending_events_.push_back(std::move(e));
    ++stats_.retired;
    // The vectors the batch gave the victim no longer have a centre: mark them unassigned.
    for (auto& l : nearest_) {
      if (l == static_cast<int>(victim))
        l = -1;
      else if (l > static_cast<int>(victim))
        --l;
    }
    centres_.erase(centres_.begin() + static_cast<std::ptrdiff_t>(victim));

    std::size_t parent = 0;
    for (std::size_t i = 1; i < centres_.size(); ++i)
      if (centres_[i].sse > centres_[parent].sse) parent = i;
    split(parent, now_ns);
  }
}

void Clusterer::maybe_restart(std::int64_t now_ns) {
  if (config_.restart_interval_ns <= 0 || now_ns - last_restart_ns_ < config_.restart_interval_ns) return;
  last_restart_ns_ = now_ns;
  const auto& entries = sample_.entries();
  const std::size_t n = entries.size();
  if (n < 2 * static_cast<std::size_t>(config_.k) || centres_.empty()) return;
  ++stats_.restarts_tried;

  std::vector<FeatureVector> pts(n);
  for (std::size_t i = 0; i < n; ++i) pts[i] = scale(scaler_, entries[i].raw);
  table_.assign(scaled_centres());
  std::vector<int> current(n);
  double current_inertia = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double d2 = 0.0;
    current[i] = table_.nearest(pts[i], &d2);
    current_inertia += d2;
  }
  const KMeansResult r = kmeans_best_of(pts, config_.k, config_.seeds, config_.warmup_iterations, rng_);
  if (!(r.inertia < (1.0 - config_.restart_gain) * current_inertia)) return;
  ++stats_.restarts_adopted;

  // overlap[j][c]: sample accounts in fresh cluster j that are nearest to current centre c.
  const std::size_t nf = r.centres.size();
  const std::size_t nc = centres_.size();
  std::vector<std::vector<double>> overlap(nf, std::vector<double>(nc, 0.0));
  std::vector<FeatureVector> raw_sum(nf, FeatureVector{});
  std::vector<double> sse(nf, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const int j = r.labels[i];
    overlap[j][current[i]] += 1.0;
    for (int f = 0; f < kFeatureCount; ++f) raw_sum[j][f] += entries[i].raw[f];
    sse[j] += squared_distance(pts[i], r.centres[j]);
  }
  // Fresh cluster j claims the current segment holding more than half of its members; a segment
  // claimed twice goes to the larger overlap (ties: the lower j).
  std::vector<int> heir(nc, -1);  // current centre → fresh cluster inheriting its id
  for (std::size_t j = 0; j < nf; ++j) {
    if (r.counts[j] <= 0.0) continue;
    const auto best = std::max_element(overlap[j].begin(), overlap[j].end()) - overlap[j].begin();
    if (!(overlap[j][best] > 0.5 * r.counts[j])) continue;
    const int h = heir[best];
    if (h < 0 || overlap[j][best] > overlap[h][best]) heir[best] = static_cast<int>(j);
  }
  double total_weight = 0.0;
  double total_sse = 0.0;
  for (const auto& c : centres_) {
    total_weight += c.weight;
    total_sse += c.sse;
  }
  const double weight_per_point = total_weight / static_cast<double>(n);
  const double sse_scale = r.inertia > 0.0 ? total_sse / r.inertia : 0.0;
  auto fill_centre = [&](CentreState& cs, std::size_t j) {
    for (int f = 0; f < kFeatureCount; ++f) cs.raw[f] = raw_sum[j][f] / r.counts[j];
    cs.weight = r.counts[j] * weight_per_point;
    cs.sse = sse[j] * sse_scale;
  };
  const std::string why = str_cat("restart: k-means on the sample lowered its inertia by ",
                                  std::to_string(static_cast<int>(100.0 * (1.0 - r.inertia / current_inertia))), "%");
  std::vector<CentreState> next;
  std::vector<bool> placed(nf, false);
  for (std::size_t c = 0; c < nc; ++c) {
    if (heir[c] < 0) {
      ModelEvent e;
      e.kind = ModelEvent::Kind::kRetired;
      e.segment = centres_[c].id;
      e.label = centres_[c].label;
      e.why = why;
      pending_events_.push_back(std::move(e));
      ++stats_.retired;
      continue;
    }
    CentreState cs = centres_[c];
    fill_centre(cs, static_cast<std::size_t>(heir[c]));
    placed[heir[c]] = true;
    next.push_back(std::move(cs));
  }
  for (std::size_t j = 0; j < nf; ++j) {
    if (placed[j] || r.counts[j] <= 0.0) continue;
    CentreState cs;
    cs.id = next_id_++;
    cs.born_ns = now_ns;
    fill_centre(cs, j);
    ModelEvent e;
    e.kind = ModelEvent::Kind::kBorn;
    e.segment = cs.id;
    const auto from = std::max_element(overlap[j].begin(), overlap[j].end()) - overlap[j].begin();
    e.parent = centres_[from].id;
    e.why = why;
    pending_events_.push_back(std::move(e));
    ++stats_.born;
    next.push_back(std::move(cs));
  }
  centres_ = std::move(next);  // inheritors in id order, then newborns with larger ids: ordered
  std::fill(nearest_.begin(), nearest_.end(), -1);
}

void Clusterer::split(std::size_t parent, std::int64_t now_ns) {
  const std::vector<FeatureVector> cs = scaled_centres();
  const FeatureVector& c = cs[parent];
  // Members of the parent: sample entries nearest to it now, and this batch's vectors it got.
  std::vector<FeatureVector> members;
  for (const auto& e : sample_.entries()) {
    const FeatureVector x = scale(scaler_, e.raw);
    if (nearest_index(cs, x, nullptr) == static_cast<int>(parent)) members.push_back(x);
  }
  for (std::size_t i = 0; i < nearest_.size(); ++i)
    if (nearest_[i] == static_cast<int>(parent)) members.push_back(scale(scaler_, batch_[i].raw));
  PrincipalDirection pd = principal_direction(members, c, rng_);
  CentreState& p = centres_[parent];
  if (pd.variance <= 0.0) pd.variance = p.weight > 0.0 ? p.sse / p.weight : 1.0;
  const double delta = kHalfNormalMean * std::sqrt(pd.variance);

  // Offset in raw units: scaled offset / weight × stddev (features with weight 0 do not move).
  FeatureVector offset_raw{};
  for (int j = 0; j < kFeatureCount; ++j)
    offset_raw[j] = scaler_.weight[j] != 0.0 ? delta * pd.direction[j] / scaler_.weight[j] * scaler_.stddev[j] : 0.0;

  CentreState child;
  child.id = next_id_++;
  for (int j = 0; j < kFeatureCount; ++j) {
    child.raw[j] = p.raw[j] - offset_raw[j];
    p.raw[j] += offset_raw[j];
  }
  p.weight *= 0.5;
  p.sse *= 0.25;
  child.weight = p.weight;
  child.sse = p.sse;
  child.born_ns = now_ns;
  ModelEvent e;
  e.kind = ModelEvent::Kind::kBorn;
  e.segment = child.id;
  e.parent = p.id;
  e.why = "split of highest-SSE segment";
  pending_events_.push_back(std::move(e));
  ++stats_.born;
  centres_.push_back(std::move(child));  // the largest id: centres_ stays ordered by id
}

std::shared_ptr<Model> Clusterer::assemble() const {
  auto m = std::make_shared<Model>();
  m->ts_ns = ts_ns_;
  m->scaler = scaler_;
  m->scaler_version = scaler_version_;
  m->segments.reserve(centres_.size());
  for (const auto& c : centres_) {
    Segment s;
    s.id = c.id;
    s.label = c.label;
    s.base_label = c.base_label;
    s.centroid = scale(scaler_, c.raw);
    s.centroid_raw = c.raw;
    s.weight = c.weight;
    s.size = c.size;
    const RegimePolicies& policies = policies_for(config_.policies, c.base_label);
    s.policy = policies[static_cast<std::size_t>(Regime::kCalm)];
    s.stressed_policy = policies[static_cast<std::size_t>(Regime::kStressed)];
    s.extreme_policy = policies[static_cast<std::size_t>(Regime::kExtreme)];
    m->segments.push_back(std::move(s));
  }
  m->quality = quality_;
  m->quality.inertia = inertia_.value();
  return m;
}

void Clusterer::publish(std::int64_t now_ns) {
  // 1. A new scaler only at a version boundary, and only when the statistics drifted.
  const Scaler fresh = standardizer_.freeze();
  if (scaler_drifted(scaler_, fresh, config_.rescale_tolerance)) {
    scaler_ = fresh;
    ++scaler_version_;
    ++stats_.rescales;
  }

  // 2. Labels from the raw centroids; a changed label of a segment that existed is an event.
  std::vector<FeatureVector> raws(centres_.size());
  std::vector<SegmentLabel> previous(centres_.size());
  for (std::size_t i = 0; i < centres_.size(); ++i) {
    raws[i] = centres_[i].raw;
    previous[i] = {centres_[i].base_label, centres_[i].label};
  }
  const std::vector<SegmentLabel> labels = assign_labels(config_.labels, raws, previous);
  for (std::size_t i = 0; i < centres_.size(); ++i) {
    CentreState& c = centres_[i];
    if (!c.label.empty() && c.label != labels[i].unique) {
      ModelEvent e;
      e.kind = ModelEvent::Kind::kRelabelled;
      e.segment = c.id;
      e.label = labels[i].unique;
      e.previous_label = c.label;
      e.why = "centroid matched another label rule";
      pending_events_.push_back(std::move(e));
      ++stats_.relabelled;
    }
    c.base_label = labels[i].base;
    c.label = labels[i].unique;
  }
  for (auto& e : pending_events_) {
    if (e.kind != ModelEvent::Kind::kBorn) continue;
    for (const auto& c : centres_)
      if (c.id == e.segment) e.label = c.label;
  }

  // 3. The model, its quality signals and events.
  std::shared_ptr<Model> m = assemble();
  m->version = ++version_;
  m->ts_ns = now_ns;
  if (version_ == 1 || now_ns - last_quality_ns_ >= config_.quality_interval_ns) {
    if (config_.sample_ttl_ns > 0) {
      sample_.expire_before(now_ns - config_.sample_ttl_ns);
      const std::int64_t cutoff = now_ns - config_.sample_ttl_ns;
      last_vote_.erase_before(cutoff);
    }
    const double hours = static_cast<double>(now_ns - last_quality_ns_) / (3600.0 * kNanosPerSecond);
    SampleQuality q = evaluate_sample(*m, sample_.mutable_entries(), hours, config_.silhouette_points,
                                      sample_.estimated_population());
    quality_.silhouette = q.silhouette;
    quality_.churn_per_hour = q.churn_per_hour;
    quality_.adjusted_rand = q.adjusted_rand;
    for (std::size_t i = 0; i < centres_.size(); ++i) {
      centres_[i].size = q.sizes[i];
      m->segments[i].size = q.sizes[i];
    }
    population_ = summarize_population(sample_.entries());
    last_quality_ns_ = now_ns;
  }
  m->population = population_;
  Model previous_model;
  for (const auto& [id, raw] : published_) {
    Segment s;
    s.id = id;
    s.centroid_raw = raw;
    previous_model.segments.push_back(std::move(s));
  }
  quality_.centroid_drift = centroid_drift(previous_model, *m);
  m->quality = quality_;
  m->quality.inertia = inertia_.value();
  m->events = std::move(pending_events_);
  pending_events_.clear();

  published_.clear();
  for (const auto& c : centres_) published_.emplace_back(c.id, c.raw);
  last_publish_ns_ = now_ns;
  ++stats_.models_published;
  model_ = std::move(m);
}

}  // namespace segmentd
