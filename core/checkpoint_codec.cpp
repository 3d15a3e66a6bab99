#include "core/checkpoint_codec.h"

#include "core/str_cat.h"

namespace segmentd {
namespace {

void save_fv(ByteWriter& w, const FeatureVector& v) { w.pod(v); }
FeatureVector load_fv(ByteReader& r) { return r.pod<FeatureVector>(); }

void save_scaler(ByteWriter& w, const Scaler& s) {
  save_fv(w, s.mean);
  save_fv(w, s.stddev);
  save_fv(w, s.weight);
}
Scaler load_scaler(ByteReader& r) {
  Scaler s;
  s.mean = load_fv(r);
  s.stddev = load_fv(r);
  s.weight = load_fv(r);
  return s;
}

void save_quality(ByteWriter& w, const ModelQuality& q) {
  w.f64(q.inertia);
  w.f64(q.silhouette);
  w.f64(q.churn_per_hour);
  w.f64(q.centroid_drift);
  w.f64(q.adjusted_rand);
}
ModelQuality load_quality(ByteReader& r) {
  ModelQuality q;
  q.inertia = r.f64();
  q.silhouette = r.f64();
  q.churn_per_hour = r.f64();
  q.centroid_drift = r.f64();
  q.adjusted_rand = r.f64();
  return q;
}

void save_event(ByteWriter& w, const ModelEvent& e) {
  w.u8(static_cast<std::uint8_t>(e.kind));
  w.u32(e.segment);
  w.u32(e.parent);
  w.str(e.label);
  w.str(e.previous_label);
  w.str(e.why);
}
ModelEvent load_event(ByteReader& r) {
  ModelEvent e;
  const std::uint8_t kind = r.u8();
  if (kind > static_cast<std::uint8_t>(ModelEvent::Kind::kRelabelled)) r.fail("bad model event kind");
  e.kind = static_cast<ModelEvent::Kind>(kind);
  e.segment = r.u32();
  e.parent = r.u32();
  e.label = r.str();
  e.previous_label = r.str();
  e.why = r.str();
  return e;
}

void save_policy(ByteWriter& w, const SegmentPolicy& p) {
  w.f64(p.margin_multiplier);
  w.f64(p.quote_width_bps);
  w.f64(p.max_order_notional_usd);
}
SegmentPolicy load_policy(ByteReader& r) {
  SegmentPolicy p;
  p.margin_multiplier = r.f64();
  p.quote_width_bps = r.f64();
  p.max_order_notional_usd = r.f64();
  return p;
}

static_assert(sizeof(SegmentId) == 4, "segment ids are written as u32");

}  // namespace

void save_model(ByteWriter& w, const Model& m) {
  w.u64(m.version);
  w.i64(m.ts_ns);
  save_scaler(w, m.scaler);
  w.u64(m.segments.size());
  for (const Segment& s : m.segments) {
    w.u32(s.id);
    w.str(s.label);
    save_fv(w, s.centroid);
    save_fv(w, s.centroid_raw);
    w.f64(s.weight);
    w.u64(s.size);
    save_policy(w, s.policy);
  }
  w.u64(m.events.size());
  for (const ModelEvent& e : m.events) save_event(w, e);
  save_quality(w, m.quality);
  w.u64(m.scaler_version);
  // Since the market regimes: each segment's stressed and extreme policies, in segment order.
  // A checkpoint written before has none; its segments keep their calm policy in every regime.
  for (const Segment& s : m.segments) {
    save_policy(w, s.stressed_policy);
    save_policy(w, s.extreme_policy);
    w.str(s.base_label);
  }
}

ModelPtr load_model(ByteReader& r) {
  auto m = std::make_shared<Model>();
  m->version = r.u64();
  m->ts_ns = r.i64();
  m->scaler = load_scaler(r);
  const std::uint64_t n = r.count(4 + 4 + 2 * sizeof(FeatureVector));
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    Segment s;
    s.id = r.u32();
    s.label = r.str();
    s.centroid = load_fv(r);
    s.centroid_raw = load_fv(r);
    s.weight = r.f64();
    s.size = r.u64();
    s.policy = load_policy(r);
    m->segments.push_back(std::move(s));
  }
  const std::uint64_t events = r.count(1 + 4 + 4 + 12);
  for (std::uint64_t i = 0; i < events && r.ok(); ++i) m->events.push_back(load_event(r));
  m->quality = load_quality(r);
  m->scaler_version = r.u64();
  const bool regimes = r.ok() && !r.at_end();
  for (Segment& s : m->segments) {
    s.stressed_policy = regimes ? load_policy(r) : s.policy;
    s.extreme_policy = regimes ? load_policy(r) : s.policy;
    s.base_label = regimes ? r.str() : s.label;
  }
  if (!r.ok()) return nullptr;
  return m;
}

void save_clusterer_state(ByteWriter& w, const ClustererState& s) {
  w.u32(s.format_version);
  w.boolean(s.warm);
  w.boolean(s.started);
  w.u32(s.next_id);
  w.u64(s.version);
  w.u64(s.scaler_version);
  w.i64(s.ts_ns);
  w.i64(s.last_publish_ns);
  w.i64(s.last_quality_ns);
  w.i64(s.last_restart_ns);
  w.pod(s.rng);
  w.f64(s.standardizer.weight);
  save_fv(w, s.standardizer.mean);
  save_fv(w, s.standardizer.m2);
  w.i64(s.standardizer.ts_ns);
  w.boolean(s.standardizer.started);
  save_scaler(w, s.scaler);
  w.u64(s.centres.size());
  for (const CentreState& c : s.centres) {
    w.u32(c.id);
    save_fv(w, c.raw);
    w.f64(c.weight);
    w.f64(c.sse);
    w.i64(c.born_ns);
    w.str(c.base_label);
    w.str(c.label);
    w.u64(c.size);
  }
  static_assert(std::is_trivially_copyable_v<SampleEntry>);
  w.pods(s.sample);
  w.pods(s.warmup_accounts);
  w.u64(s.last_vote.size());
  for (const auto& [account, t] : s.last_vote) {
    w.u32(account);
    w.i64(t);
  }
  w.f64(s.inertia.sum);
  w.f64(s.inertia.count);
  save_quality(w, s.quality);
  w.u64(s.pending_events.size());
  for (const ModelEvent& e : s.pending_events) save_event(w, e);
  w.u64(s.published.size());
  for (const auto& [id, raw] : s.published) {
    w.u32(id);
    save_fv(w, raw);
  }
}

ClustererState load_clusterer_state(ByteReader& r) {
  ClustererState s;
  s.format_version = r.u32();
  if (s.format_version != ClustererState{}.format_version) r.fail("clusterer state of another version");
  s.warm = r.boolean();
  s.started = r.boolean();
  s.next_id = r.u32();
  s.version = r.u64();
  s.scaler_version = r.u64();
  s.ts_ns = r.i64();
  s.last_publish_ns = r.i64();
  s.last_quality_ns = r.i64();
  s.last_restart_ns = r.i64();
  s.rng = r.pod<Rng::State>();
  s.standardizer.weight = r.f64();
  s.standardizer.mean = load_fv(r);
  s.standardizer.m2 = load_fv(r);
  s.standardizer.ts_ns = r.i64();
  s.standardizer.started = r.boolean();
  s.scaler = load_scaler(r);
  const std::uint64_t centres = r.count(4 + sizeof(FeatureVector));
  for (std::uint64_t i = 0; i < centres && r.ok(); ++i) {
    CentreState c;
    c.id = r.u32();
    c.raw = load_fv(r);
    c.weight = r.f64();
    c.sse = r.f64();
    c.born_ns = r.i64();
    c.base_label = r.str();
    c.label = r.str();
    c.size = r.u64();
    s.centres.push_back(std::move(c));
  }
  s.sample = r.pods<SampleEntry>();
  s.warmup_accounts = r.pods<AccountId>();
  const std::uint64_t votes = r.count(12);
  for (std::uint64_t i = 0; i < votes && r.ok(); ++i) {
    const AccountId account = r.u32();
    s.last_vote.emplace_back(account, r.i64());
  }
  s.inertia.sum = r.f64();
  s.inertia.count = r.f64();
  s.quality = load_quality(r);
  const std::uint64_t events = r.count(1 + 4 + 4 + 12);
  for (std::uint64_t i = 0; i < events && r.ok(); ++i) s.pending_events.push_back(load_event(r));
  const std::uint64_t published = r.count(4 + sizeof(FeatureVector));
  for (std::uint64_t i = 0; i < published && r.ok(); ++i) {
    const SegmentId id = r.u32();
    s.published.emplace_back(id, load_fv(r));
  }
  return s;
}

std::uint64_t check_interner(ByteReader& r) {
  const std::uint64_t n = r.count(4);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) r.raw(r.u32());
  return n;
}

void save_interner(ByteWriter& w, const AccountInterner& names) {
  const std::size_t n = names.size();
  w.u64(n);
  for (std::size_t i = 0; i < n; ++i) w.str(names.name(static_cast<AccountId>(i)));
}

void load_interner(ByteReader& r, AccountInterner& names) {
  if (names.size() != 0) {
    r.fail("the interner is not empty");
    return;
  }
  const std::uint64_t n = r.count(4);
  names.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    const std::uint32_t len = r.u32();
    const std::string_view name = r.raw(len);
    if (!r.ok()) break;
    if (names.intern(name) != static_cast<AccountId>(i)) r.fail(str_cat("account name repeated: ", name));
  }
}

void save_registry(ByteWriter& w, const InstrumentRegistry& registry) {
  const std::size_t u = registry.underlying_count();
  w.u64(u);
  for (std::size_t i = 0; i < u; ++i) w.str(registry.underlying_name(static_cast<UnderlyingId>(i)));
  const std::size_t n = registry.size();
  w.u64(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Instrument& ins = registry.get(static_cast<InstrumentId>(i));
    w.u8(static_cast<std::uint8_t>(ins.venue));
    w.str(ins.symbol);
  }
}

void load_registry(ByteReader& r, InstrumentRegistry& registry) {
  if (registry.size() != 0 || registry.underlying_count() != 0) {
    r.fail("the instrument registry is not empty");
    return;
  }
  const std::uint64_t u = r.count(4);
  for (std::uint64_t i = 0; i < u && r.ok(); ++i) {
    const std::string base = r.str();
    if (r.ok() && registry.underlying_id(base) != static_cast<UnderlyingId>(i))
      r.fail(str_cat("underlying repeated: ", base));
  }
  const std::uint64_t n = r.count(5);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    const auto venue = static_cast<Venue>(r.u8());
    const std::string symbol = r.str();
    if (!r.ok()) break;
    absl::StatusOr<InstrumentId> id = registry.resolve(venue, symbol);
    if (!id.ok()) {
      r.fail(str_cat("instrument ", symbol, " no longer parses: ", id.status().message()));
    } else if (*id != static_cast<InstrumentId>(i)) {
      r.fail(str_cat("instrument ", symbol, " got id ", *id, ", was ", i));
    }
  }
}

void save_tape(ByteWriter& w, const PriceTape& tape) {
  // Sparse: (id, ts, price) of every slot with a price: the fills' prices, the indices, then
  // (since market data) the market-data prices. A section without the last part (an older build)
  // loads with no market data.
  std::vector<std::tuple<std::uint32_t, std::int64_t, double>> rows;
  for (std::size_t i = 0; i < tape.instrument_capacity(); ++i)
    if (auto p = tape.fill_price(static_cast<InstrumentId>(i))) rows.emplace_back(i, p->ts_ns, p->price);
  w.u64(rows.size());
  for (const auto& [id, ts, price] : rows) {
    w.u32(id);
    w.i64(ts);
    w.f64(price);
  }
  rows.clear();
  for (std::size_t i = 0; i < tape.underlying_capacity(); ++i)
    if (auto p = tape.index(static_cast<UnderlyingId>(i))) rows.emplace_back(i, p->ts_ns, p->price);
  w.u64(rows.size());
  for (const auto& [id, ts, price] : rows) {
    w.u32(id);
    w.i64(ts);
    w.f64(price);
  }
  rows.clear();
  for (std::size_t i = 0; i < tape.instrument_capacity(); ++i)
    if (auto p = tape.market_price(static_cast<InstrumentId>(i))) rows.emplace_back(i, p->ts_ns, p->price);
  w.u64(rows.size());
  for (const auto& [id, ts, price] : rows) {
    w.u32(id);
    w.i64(ts);
    w.f64(price);
  }
}

void load_tape(ByteReader& r, PriceTape& tape) {
  const std::uint64_t n = r.count(20);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    const std::uint32_t id = r.u32();
    const std::int64_t ts = r.i64();
    const double price = r.f64();
    if (r.ok()) tape.record_instrument(0, static_cast<InstrumentId>(id), ts, price);
  }
  const std::uint64_t u = r.count(20);
  for (std::uint64_t i = 0; i < u && r.ok(); ++i) {
    const std::uint32_t id = r.u32();
    const std::int64_t ts = r.i64();
    const double price = r.f64();
    if (r.ok()) tape.record_index(0, static_cast<UnderlyingId>(id), ts, price);
  }
  if (r.at_end()) return;  // written before market data
  const std::uint64_t m = r.count(20);
  for (std::uint64_t i = 0; i < m && r.ok(); ++i) {
    const std::uint32_t id = r.u32();
    const std::int64_t ts = r.i64();
    const double price = r.f64();
    if (r.ok()) tape.record_market(0, static_cast<InstrumentId>(id), ts, price);
  }
}

void save_segment_changes(ByteWriter& w, std::span<const SegmentChange> changes) {
  w.u64(changes.size());
  for (const SegmentChange& c : changes) {
    w.i64(c.ts_ns);
    w.i64(c.recv_ns);
    w.u32(c.account);
    w.u32(c.from);
    w.u32(c.to);
    w.f64(c.confidence);
    w.u64(c.model_version);
    w.u8(static_cast<std::uint8_t>(c.cause));
    for (const ChangeReason& r : c.reasons) {
      w.pod(r.feature);
      w.f64(r.value);
      w.f64(r.centroid_from);
      w.f64(r.centroid_to);
    }
  }
}

std::vector<SegmentChange> load_segment_changes(ByteReader& r, std::uint64_t accounts) {
  constexpr std::size_t kBytes = 8 + 8 + 4 * 3 + 8 + 8 + 1 + kMaxReasons * (1 + 8 * 3);
  const std::uint64_t n = r.count(kBytes);
  std::vector<SegmentChange> out;
  out.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    SegmentChange c;
    c.ts_ns = r.i64();
    c.recv_ns = r.i64();
    c.account = r.u32();
    c.from = r.u32();
    c.to = r.u32();
    c.confidence = r.f64();
    c.model_version = r.u64();
    const std::uint8_t cause = r.u8();
    for (ChangeReason& reason : c.reasons) {
      reason.feature = r.pod<std::int8_t>();
      reason.value = r.f64();
      reason.centroid_from = r.f64();
      reason.centroid_to = r.f64();
      if (reason.feature < -1 || reason.feature >= kFeatureCount) r.fail("a change reason names no feature");
    }
    if (cause > static_cast<std::uint8_t>(SegmentChange::Cause::kSegmentRetired)) r.fail("unknown change cause");
    c.cause = static_cast<SegmentChange::Cause>(cause);
    if (c.account >= accounts) r.fail("a change of an account without a name");
    out.push_back(c);
  }
  if (!r.ok()) out.clear();
  return out;
}

}  // namespace segmentd
