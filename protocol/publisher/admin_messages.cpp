#include "protocol/publisher/admin_messages.h"

#include <algorithm>

#include "protocol/json_writer.h"
#include "protocol/publisher/publisher_messages.h"

namespace segmentd::adminmsg {
namespace {

using json::append_double;
using json::append_int;
using json::append_string;
using json::append_uint;

void append_features(std::string& out, const FeatureVector& v) {
  out.push_back('{');
  for (int i = 0; i < kFeatureCount; ++i) {
    if (i) out.push_back(',');
    append_string(out, kFeatureNames[i]);
    out.push_back(':');
    append_double(out, v[i]);
  }
  out.push_back('}');
}

void append_segment_ref(std::string& out, SegmentId id, const Model* model) {
  if (id == kNoSegment) {
    out.append("null");
    return;
  }
  append_uint(out, id);
}

void append_label(std::string& out, SegmentId id, const Model* model) {
  const Segment* s = model != nullptr ? model->find(id) : nullptr;
  if (s != nullptr) {
    append_string(out, s->label);
  } else {
    out.append("null");
  }
}

}  // namespace

void append_readiness(std::string& out, const std::vector<ReadinessCheck>& checks) {
  bool ready = true;
  for (const auto& c : checks) ready = ready && c.ok;
  out.append("{\"ready\":");
  out.append(ready ? "true" : "false");
  out.append(",\"checks\":[");
  bool first = true;
  for (const auto& c : checks) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"name\":");
    append_string(out, c.name);
    out.append(",\"ok\":");
    out.append(c.ok ? "true" : "false");
    out.append(",\"detail\":");
    append_string(out, c.detail);
    out.push_back('}');
  }
  out.append("]}");
}

void append_segments(std::string& out, const Model* model, const ExposureView* exposure) {
  const bool ready = model != nullptr && model->ready();
  out.append("{\"ready\":");
  out.append(ready ? "true" : "false");
  out.append(",\"model\":");
  if (model != nullptr && model->version != 0) {
    pubmsg::append_model_object(out, *model);
  } else {
    out.append("null");
  }
  out.append(",\"exposure\":");
  if (exposure == nullptr) {
    out.append("null}");
    return;
  }
  append_exposure_summary(out, *exposure, model);
  out.push_back('}');
}

void append_exposure_summary(std::string& out, const ExposureView& exposure, const Model* model) {
  constexpr std::size_t kUnderlyings = 5;
  out.append("{\"as_of\":");
  append_int(out, exposure.as_of_ns);
  out.append(",\"scanned_at\":");
  append_int(out, exposure.scanned_at_ns);
  out.append(",\"segments\":[");
  for (std::size_t i = 0; i < exposure.segments.size(); ++i) {
    const SegmentExposureView& s = exposure.segments[i];
    const SegmentScenarioSums* sums = nullptr;
    if (exposure.scenarios)
      for (const ScenarioView::Row& r : exposure.scenarios->segments)
        if (r.segment == s.segment) sums = &r.sums;
    if (i > 0) out.push_back(',');
    out.append("{\"segment\":");
    append_segment_ref(out, s.segment, model);
    out.append(",\"accounts\":");
    append_uint(out, s.accounts);
    out.append(",\"positions\":");
    append_uint(out, s.positions);
    out.append(",\"gross_delta_usd\":");
    append_double(out, s.gross_delta_usd);
    out.append(",\"net_delta_usd\":");
    append_double(out, s.net_delta_usd);
    out.append(",\"net_vega_usd\":");
    append_double(out, s.net_vega_usd);
    out.append(",\"net_gamma_usd\":");
    append_double(out, sums != nullptr ? sums->net_gamma_usd : kNaN);
    out.append(",\"open_notional_usd\":");
    append_double(out, sums != nullptr ? sums->open_notional_usd : kNaN);
    out.append(",\"top5_share\":");
    append_double(out, s.top5_share);
    out.append(",\"open_interest_share\":");
    append_double(out, s.open_interest_share);
    out.append(",\"underlyings\":[");
    for (std::size_t k = 0; k < std::min(kUnderlyings, s.underlyings.size()); ++k) {
      const UnderlyingExposureView& u = s.underlyings[k];
      if (k > 0) out.push_back(',');
      out.append("{\"underlying\":");
      append_string(out, u.underlying);
      out.append(",\"net_delta_usd\":");
      append_double(out, u.net_delta_usd);
      out.append(",\"gross_delta_usd\":");
      append_double(out, u.long_delta_usd - u.short_delta_usd);
      out.append(",\"open_interest_share\":");
      append_double(out, u.open_interest_share);
      out.push_back('}');
    }
    out.append("]}");
  }
  out.append("]}");
}

void append_account(std::string& out, const AccountView& v, const Model* model) {
  out.append("{\"account\":");
  append_string(out, v.account);
  out.append(",\"segment\":");
  append_segment_ref(out, v.segment, model);
  out.append(",\"label\":");
  append_label(out, v.segment, model);
  out.append(",\"confidence\":");
  append_double(out, v.confidence);
  out.append(",\"segment_since\":");
  append_int(out, v.segment_since_ns);
  out.append(",\"last_fill\":");
  append_int(out, v.last_fill_ns);
  out.append(",\"fills\":");
  append_uint(out, v.fills);
  out.append(",\"model_version\":");
  append_uint(out, v.model_version);
  out.append(",\"features\":{\"raw\":");
  append_features(out, v.features_raw);
  out.append(",\"scaled\":");
  append_features(out, v.features_scaled);
  out.append(",\"fast\":");
  append_features(out, v.features_fast);
  out.append(",\"slow\":");
  append_features(out, v.features_slow);
  out.append("},\"distances\":[");
  bool first = true;
  for (const SegmentDistance& d : v.distances) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"segment\":");
    append_uint(out, d.segment);
    out.append(",\"label\":");
    append_label(out, d.segment, model);
    out.append(",\"distance\":");
    append_double(out, d.distance);
    out.push_back('}');
  }
  out.append("],\"recent_changes\":[");
  first = true;
  for (const SegmentChange& c : v.recent_changes) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"ts\":");
    append_int(out, c.ts_ns);
    out.append(",\"from\":");
    append_segment_ref(out, c.from, model);
    out.append(",\"to\":");
    append_segment_ref(out, c.to, model);
    out.append(",\"confidence\":");
    append_double(out, c.confidence);
    out.append(",\"model_version\":");
    append_uint(out, c.model_version);
    out.append(",\"cause\":");
    append_string(out, pubmsg::to_string(c.cause));
    out.append(",\"reason\":");
    pubmsg::append_reasons(out, c.reasons);
    out.push_back('}');
  }
  out.append("]}");
}

void append_overview(std::string& out, const Overview& o) {
  const Model* m = o.model;
  out.append("{\"model_version\":");
  append_uint(out, m != nullptr ? m->version : 0);
  out.append(",\"model_ts\":");
  append_int(out, m != nullptr ? m->ts_ns : 0);
  out.append(",\"segments\":");
  append_uint(out, m != nullptr ? m->segments.size() : 0);
  out.append(",\"quality\":");
  if (m != nullptr && m->ready()) {
    out.append("{\"inertia\":");
    append_double(out, m->quality.inertia);
    out.append(",\"silhouette\":");
    append_double(out, m->quality.silhouette);
    out.append(",\"churn_per_hour\":");
    append_double(out, m->quality.churn_per_hour);
    out.append(",\"centroid_drift\":");
    append_double(out, m->quality.centroid_drift);
    out.append(",\"adjusted_rand\":");
    append_double(out, m->quality.adjusted_rand);
    out.push_back('}');
  } else {
    out.append("null");
  }
  out.append(",\"readiness\":");
  append_readiness(out, o.checks);
  out.append(",\"throughput\":{\"fills_total\":");
  append_uint(out, o.fills_total);
  out.append(",\"fills_per_second\":");
  if (o.fills_per_second >= 0) {
    append_double(out, o.fills_per_second);
  } else {
    out.append("null");
  }
  out.append(",\"accounts\":");
  append_uint(out, o.accounts);
  out.append("},\"publisher\":{\"enabled\":");
  out.append(o.publisher_enabled ? "true" : "false");
  out.append(",\"port\":");
  append_uint(out, o.publisher_port);
  out.append(",\"tls\":");
  out.append(o.publisher_tls ? "true" : "false");
  out.append(",\"path\":\"/v1/stream\",\"seq\":");
  append_uint(out, o.publisher_seq);
  out.append("},\"quantiles\":");
  const PopulationSummary* p = m != nullptr ? m->population.get() : nullptr;
  if (p != nullptr && !p->quantiles.empty()) {
    out.push_back('{');
    for (int f = 0; f < kFeatureCount; ++f) {
      if (f) out.push_back(',');
      append_string(out, kFeatureNames[f]);
      out.append(":[");
      for (std::size_t q = 0; q < p->quantiles.size(); ++q) {
        if (q) out.push_back(',');
        append_double(out, p->quantiles[q][f]);
      }
      out.push_back(']');
    }
    out.push_back('}');
  } else {
    out.append("null");
  }
  out.append(",\"sample_size\":");
  append_uint(out, p != nullptr ? p->sample_size : 0);
  out.append(",\"history\":[");
  bool first = true;
  for (const SizeHistoryEntry& h : o.history) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"ts\":");
    append_int(out, h.ts_ns);
    out.append(",\"version\":");
    append_uint(out, h.version);
    out.append(",\"sizes\":{");
    bool first_size = true;
    for (const auto& [id, size] : h.sizes) {
      if (!first_size) out.push_back(',');
      first_size = false;
      out.push_back('"');
      append_uint(out, id);
      out.append("\":");
      append_uint(out, size);
    }
    out.append("}}");
  }
  out.append("]}");
}

void append_scenarios(std::string& out, const ScenarioView& v, const Model* model) {
  const std::size_t n = v.shocks.size();
  out.append("{\"as_of\":");
  append_int(out, v.as_of_ns);
  out.append(",\"regime\":");
  append_string(out, to_string(v.regime));
  out.append(",\"base_margin_rate\":");
  append_double(out, v.base_margin_rate);
  out.append(",\"instruments_repriced\":");
  append_uint(out, v.instruments_repriced);
  out.append(",\"options_assumed_vol\":");
  append_uint(out, v.options_assumed_vol);
  out.append(",\"positions_repriced\":");
  append_uint(out, v.positions_repriced);
  out.append(",\"positions_approximated\":");
  append_uint(out, v.positions_approximated);
  out.append(",\"shocks\":[");
  for (std::size_t s = 0; s < n; ++s) {
    if (s > 0) out.push_back(',');
    out.append("{\"shock\":");
    append_string(out, shock_name(v.shocks[s]));
    out.append(",\"price\":");
    append_double(out, v.shocks[s].price);
    out.append(",\"vol_points\":");
    append_double(out, v.shocks[s].vol_points);
    out.push_back('}');
  }
  // One shock's sums: the venue's total and each segment's.
  const auto append_row = [&](std::size_t s, double pnl, std::uint64_t over, double liquidation, double worst) {
    out.append("{\"shock\":");
    append_string(out, shock_name(v.shocks[s]));
    out.append(",\"pnl_usd\":");
    append_double(out, pnl);
    out.append(",\"accounts_over_margin\":");
    append_uint(out, over);
    out.append(",\"liquidation_usd\":");
    append_double(out, liquidation);
    out.append(",\"worst_account_usd\":");
    append_double(out, worst);
    out.push_back('}');
  };
  out.append("],\"total\":[");
  for (std::size_t s = 0; s < n; ++s) {
    double pnl = 0, liquidation = 0, worst = 0;
    std::uint64_t over = 0;
    for (const ScenarioView::Row& r : v.segments) {
      pnl += r.sums.pnl_usd[s];
      over += r.sums.over_margin[s];
      liquidation += r.sums.liquidation_usd[s];
      worst = std::min(worst, r.sums.worst_account_usd[s]);
    }
    if (s > 0) out.push_back(',');
    append_row(s, pnl, over, liquidation, worst);
  }
  out.append("],\"segments\":[");
  bool first = true;
  for (const ScenarioView::Row& r : v.segments) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"segment\":");
    append_segment_ref(out, r.segment, model);
    out.append(",\"label\":");
    append_label(out, r.segment, model);
    out.append(",\"accounts\":");
    append_uint(out, r.sums.accounts);
    out.append(",\"gross_delta_usd\":");
    append_double(out, r.sums.gross_delta_usd);
    out.append(",\"margin_usd\":");
    append_double(out, r.sums.margin_usd);
    out.append(",\"venue_margin_accounts\":");
    append_uint(out, r.sums.venue_margin_accounts);
    out.append(",\"net_gamma_usd\":");
    append_double(out, r.sums.net_gamma_usd);
    out.append(",\"open_notional_usd\":");
    append_double(out, r.sums.open_notional_usd);
    std::size_t worst = 0;
    for (std::size_t s = 1; s < n; ++s)
      if (r.sums.pnl_usd[s] < r.sums.pnl_usd[worst]) worst = s;
    out.append(",\"worst_shock\":");
    if (n > 0) {
      append_string(out, shock_name(v.shocks[worst]));
    } else {
      out.append("null");
    }
    out.append(",\"scenarios\":[");
    for (std::size_t s = 0; s < n; ++s) {
      if (s > 0) out.push_back(',');
      append_row(s, r.sums.pnl_usd[s], r.sums.over_margin[s], r.sums.liquidation_usd[s], r.sums.worst_account_usd[s]);
    }
    out.append("]}");
  }
  out.append("]}");
}

void append_exposure(std::string& out, const ExposureView& v, const Model* model) {
  out.append("{\"as_of\":");
  append_int(out, v.as_of_ns);
  out.append(",\"scanned_at\":");
  append_int(out, v.scanned_at_ns);
  out.append(",\"scan_seconds\":");
  append_double(out, v.scan_seconds);
  out.append(",\"accounts_scanned\":");
  append_uint(out, v.accounts_scanned);
  out.append(",\"segments\":[");
  bool first = true;
  for (const SegmentExposureView& s : v.segments) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"segment\":");
    append_segment_ref(out, s.segment, model);
    out.append(",\"label\":");
    append_label(out, s.segment, model);
    out.append(",\"accounts\":");
    append_uint(out, s.accounts);
    out.append(",\"positions\":");
    append_uint(out, s.positions);
    out.append(",\"gross_delta_usd\":");
    append_double(out, s.gross_delta_usd);
    out.append(",\"net_delta_usd\":");
    append_double(out, s.net_delta_usd);
    out.append(",\"net_vega_usd\":");
    append_double(out, s.net_vega_usd);
    out.append(",\"concentration\":{\"top1\":");
    append_double(out, s.top1_share);
    out.append(",\"top5\":");
    append_double(out, s.top5_share);
    out.append(",\"top10\":");
    append_double(out, s.top10_share);
    out.append("},\"open_interest_share\":");
    append_double(out, s.open_interest_share);
    out.append(",\"largest_accounts\":[");
    for (std::size_t i = 0; i < s.largest.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append("{\"account\":");
      append_string(out, s.largest[i].account);
      out.append(",\"gross_delta_usd\":");
      append_double(out, s.largest[i].gross_delta_usd);
      out.append(",\"net_delta_usd\":");
      append_double(out, s.largest[i].net_delta_usd);
      out.push_back('}');
    }
    out.append("],\"underlyings\":[");
    for (std::size_t i = 0; i < s.underlyings.size(); ++i) {
      const UnderlyingExposureView& u = s.underlyings[i];
      if (i > 0) out.push_back(',');
      out.append("{\"underlying\":");
      append_string(out, u.underlying);
      out.append(",\"net_delta_usd\":");
      append_double(out, u.net_delta_usd);
      out.append(",\"long_delta_usd\":");
      append_double(out, u.long_delta_usd);
      out.append(",\"short_delta_usd\":");
      append_double(out, u.short_delta_usd);
      out.append(",\"net_vega_usd\":");
      append_double(out, u.net_vega_usd);
      out.append(",\"positions\":");
      append_uint(out, u.positions);
      out.append(",\"open_interest_share\":");
      append_double(out, u.open_interest_share);
      out.push_back('}');
    }
    out.append("]}");
  }
  out.append("],\"open_interest\":[");
  for (std::size_t i = 0; i < v.open_interest.size(); ++i) {
    const OpenInterestView& x = v.open_interest[i];
    if (i > 0) out.push_back(',');
    out.append("{\"underlying\":");
    append_string(out, x.underlying);
    out.append(",\"open_interest\":");
    append_double(out, x.open_interest);
    out.append(",\"open_interest_usd\":");
    append_double(out, x.open_interest_usd);
    out.append(",\"instruments\":");
    append_uint(out, x.instruments);
    out.push_back('}');
  }
  out.append("]}");
}

void append_regime(std::string& out, const RegimeReport& r) {
  out.append("{\"market\":");
  append_string(out, to_string(r.market));
  out.append(",\"switches\":");
  append_uint(out, r.switches);
  out.append(",\"index_prices\":");
  append_uint(out, r.index_prices);
  out.append(",\"underlyings\":[");
  for (std::size_t i = 0; i < r.underlyings.size(); ++i) {
    const auto& [name, u] = r.underlyings[i];
    if (i > 0) out.push_back(',');
    out.append("{\"underlying\":");
    append_string(out, name);
    out.append(",\"regime\":");
    append_string(out, to_string(u.regime));
    out.append(",\"since\":");
    append_int(out, u.since_ns);
    out.append(",\"last_sample\":");
    append_int(out, u.last_ns);
    out.append(",\"price\":");
    append_double(out, u.price);
    out.append(",\"fast_vol\":");
    append_double(out, u.fast_vol);
    out.append(",\"slow_vol\":");
    append_double(out, u.slow_vol);
    out.append(",\"vol_ratio\":");
    append_double(out, u.vol_ratio);
    out.append(",\"drawdown\":");
    append_double(out, u.drawdown);
    out.append(",\"samples\":");
    append_uint(out, u.samples);
    out.append(",\"outliers\":");
    append_uint(out, u.outliers);
    out.append(",\"warm\":");
    out.append(u.warm ? "true" : "false");
    out.push_back('}');
  }
  out.append("],\"events\":[");
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const auto& [name, e] = r.events[i];
    if (i > 0) out.push_back(',');
    out.append("{\"underlying\":");
    append_string(out, name);
    out.append(",\"from\":");
    append_string(out, to_string(e.from));
    out.append(",\"to\":");
    append_string(out, to_string(e.to));
    out.append(",\"time\":");
    append_int(out, e.ts_ns);
    out.append(",\"reason\":");
    append_string(out, e.reason);
    out.push_back('}');
  }
  out.append("]}");
}

void append_map(std::string& out, const MapView& v, const Model* model) {
  out.append("{\"model_version\":");
  append_uint(out, v.model_version);
  out.append(",\"projection_version\":");
  append_uint(out, v.projection_version);
  out.append(",\"points\":[");
  bool first = true;
  for (const MapPoint& p : v.points) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"account\":");
    append_string(out, p.account);
    out.append(",\"x\":");
    append_double(out, p.x);
    out.append(",\"y\":");
    append_double(out, p.y);
    out.append(",\"segment\":");
    append_segment_ref(out, p.segment, model);
    out.push_back('}');
  }
  out.append("],\"centroids\":[");
  first = true;
  for (const MapPoint& p : v.centroids) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"segment\":");
    append_segment_ref(out, p.segment, model);
    out.append(",\"label\":");
    append_label(out, p.segment, model);
    out.append(",\"x\":");
    append_double(out, p.x);
    out.append(",\"y\":");
    append_double(out, p.y);
    out.push_back('}');
  }
  out.append("]}");
}

void append_error(std::string& out, std::string_view error, std::string_view message) {
  out.append("{\"error\":");
  append_string(out, error);
  out.append(",\"message\":");
  append_string(out, message);
  out.push_back('}');
}

}  // namespace segmentd::adminmsg
