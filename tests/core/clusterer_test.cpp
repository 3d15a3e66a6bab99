#include "core/clusterer.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "core/cluster_metrics.h"
#include "tests/core/blob_world.h"

using namespace segmentd;
using segmentd::testing::BlobWorld;
using segmentd::testing::kSec;
using segmentd::testing::model_bytes;
using segmentd::testing::nearest_of_all;

namespace {

ClustererConfig test_config() {
  ClustererConfig c;
  c.k = 8;
  c.min_accounts = 2000;
  c.min_fills = 5;
  c.half_life_ns = 60 * kSec;
  c.scaler_half_life_ns = 240 * kSec;
  c.publish_interval_ns = 0;
  c.quality_interval_ns = 10 * kSec;
  c.sample_size = 2048;
  c.silhouette_points = 256;
  c.seed = 42;
  c.reseed_ratio = 0.02;  // retirement within the tests' few hundred seconds
  // BlobWorld brings each account back about every 10 s: one vote each time, as before votes.
  c.vote_horizon_ns = 10 * kSec;
  return c;
}

double ari_vs_truth(BlobWorld& w, const Model& m) {
  const auto got = nearest_of_all(w, m);
  std::vector<std::int64_t> truth(w.truth.begin(), w.truth.end());
  return adjusted_rand_index(std::span<const std::int64_t>(truth), std::span<const std::int64_t>(got));
}

//! Segment id holding most accounts of each blob.
std::map<int, SegmentId> blob_to_segment(BlobWorld& w, const Model& m) {
  const auto got = nearest_of_all(w, m);
  std::map<int, std::map<SegmentId, int>> votes;
  for (std::size_t a = 0; a < got.size(); ++a) ++votes[w.truth[a]][static_cast<SegmentId>(got[a])];
  std::map<int, SegmentId> out;
  for (const auto& [blob, v] : votes)
    out[blob] = std::max_element(v.begin(), v.end(), [](auto& x, auto& y) { return x.second < y.second; })->first;
  return out;
}

std::size_t count_events(const std::vector<ModelEvent>& events, ModelEvent::Kind kind) {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [kind](const ModelEvent& e) { return e.kind == kind; }));
}

}  // namespace

TEST_CASE("no segments until min_accounts accounts have min_fills", "[clusterer]") {
  ClustererConfig cfg = test_config();
  Clusterer c(cfg);
  BlobWorld w(8, 5000, 1.0, 1);
  std::int64_t now = 0;
  // Accounts with too few fills never count toward warm-up.
  for (int i = 0; i < 5; ++i) {
    auto b = w.batch(1024);
    for (auto& item : b) item.fills = 4;
    CHECK_FALSE(c.update(b, now += kSec)->ready());
  }
  CHECK(c.warmup_progress() == 0);
  CHECK_FALSE(c.update(w.batch(1024), now += kSec)->ready());
  CHECK(c.warmup_progress() == 1024);
  ModelPtr m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  CHECK(m->version == 1);
  CHECK(m->segments.size() == 8);
  CHECK(count_events(m->events, ModelEvent::Kind::kBorn) == 8);
  for (std::size_t i = 0; i < m->segments.size(); ++i) {
    CHECK(m->segments[i].id == i + 1);
    CHECK_FALSE(m->segments[i].label.empty());
    CHECK(m->events[i].why == "warm-up");
    CHECK(m->events[i].label == m->segments[i].label);
  }
}

TEST_CASE("planted clusters are recovered", "[clusterer]") {
  Clusterer c(test_config());
  BlobWorld w(8, 20000, 1.0, 2);
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 60; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  CHECK(ari_vs_truth(w, *m) >= 0.95);
  // Centroids sit on the planted centres (raw units).
  for (const auto& s : m->segments) {
    double best = 1e300;
    for (const auto& t : w.centres) {
      double d = 0.0;
      for (int j = 0; j < kFeatureCount; ++j) d += (s.centroid_raw[j] - t[j]) * (s.centroid_raw[j] - t[j]);
      best = std::min(best, d);
    }
    CHECK(std::sqrt(best) < 0.3);
  }
  CHECK(m->quality.silhouette > 0.5);
  CHECK(m->quality.adjusted_rand > 0.95);
  double expected_inertia = 0.0;  // Σⱼ σ² / stddevⱼ²: the blobs' own spread, scaled
  for (double sd : m->scaler.stddev) expected_inertia += 1.0 / (sd * sd);
  CHECK(m->quality.inertia == Approx(expected_inertia).epsilon(0.1));
  std::uint64_t total = 0;
  for (const auto& s : m->segments) total += s.size;
  CHECK(total > 0);
}

TEST_CASE("segment ids stay put while clusters drift slowly", "[clusterer]") {
  Clusterer c(test_config());
  BlobWorld w(8, 10000, 1.0, 3);
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 20; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  const auto before = blob_to_segment(w, *m);
  std::set<SegmentId> ids_before;
  for (const auto& s : m->segments) ids_before.insert(s.id);

  // Each blob drifts 4σ in its own direction over 400 s (≈ 7 half-lives).
  std::vector<FeatureVector> dir(w.centres.size());
  for (auto& d : dir) {
    double n = 0.0;
    for (auto& x : d) {
      x = w.rng.normal();
      n += x * x;
    }
    for (auto& x : d) x /= std::sqrt(n);
  }
  std::size_t structural_events = 0;
  for (int i = 0; i < 400; ++i) {
    for (std::size_t b = 0; b < w.centres.size(); ++b)
      for (int j = 0; j < kFeatureCount; ++j) w.centres[b][j] += 4.0 / 400 * dir[b][j];
    m = c.update(w.batch(512), now += kSec);
    structural_events +=
        count_events(m->events, ModelEvent::Kind::kBorn) + count_events(m->events, ModelEvent::Kind::kRetired);
  }
  CHECK(structural_events == 0);
  std::set<SegmentId> ids_after;
  for (const auto& s : m->segments) ids_after.insert(s.id);
  CHECK(ids_after == ids_before);
  CHECK(blob_to_segment(w, *m) == before);  // same blob, same id
  CHECK(ari_vs_truth(w, *m) >= 0.95);
}

TEST_CASE("an emptied cluster is retired and a split gives a fresh id", "[clusterer]") {
  Clusterer c(test_config());
  BlobWorld w(8, 10000, 1.0, 4);
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 20; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  const SegmentId doomed = blob_to_segment(w, *m).at(5);
  const std::uint64_t version_before = m->version;

  // Blob 5's accounts stop trading; its centre gets no vectors and its weight decays.
  w.silent = {5};
  std::vector<ModelEvent> events;
  for (int i = 0; i < 900; ++i) {
    m = c.update(w.batch(1024), now += kSec);
    // Structural events only: relabels depend on the label rules, not on retirement.
    for (const auto& e : m->events)
      if (e.kind != ModelEvent::Kind::kRelabelled) events.push_back(e);
  }
  CHECK(m->version > version_before);
  REQUIRE(events.size() >= 2);
  CHECK(events[0].kind == ModelEvent::Kind::kRetired);
  CHECK(events[0].segment == doomed);
  CHECK_FALSE(events[0].label.empty());
  CHECK(events[1].kind == ModelEvent::Kind::kBorn);
  CHECK(events[1].segment == 9);  // fresh, never a reused id
  CHECK(events[1].parent != kNoSegment);
  CHECK(events[1].parent != doomed);
  CHECK(m->find(doomed) == nullptr);
  CHECK(m->segments.size() == 8);
  CHECK(c.stats().retired >= 1);

  // An account of the retired segment is moved at once, with an explicit cause.
  const AssignDecision d = assign(*m, c.config().assigner, 7, w.centres[5], doomed, now - kSec, now);
  REQUIRE(d.changed);
  CHECK(d.change.cause == SegmentChange::Cause::kSegmentRetired);
  CHECK(d.change.from == doomed);
  CHECK(m->find(d.change.to) != nullptr);

  // The other blobs still map one-to-one onto live segments (the split divides one of them).
  const auto mapping = blob_to_segment(w, *m);
  std::set<SegmentId> distinct;
  for (const auto& [blob, id] : mapping)
    if (blob != 5) distinct.insert(id);
  CHECK(distinct.size() == 7);
}

TEST_CASE("after a regime change the model follows within a few half-lives", "[clusterer]") {
  Clusterer c(test_config());
  BlobWorld w(8, 10000, 1.0, 5);
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 30; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  const auto mapping = blob_to_segment(w, *m);

  // Every blob jumps 3σ at once (a new market regime: everyone trades differently).
  for (auto& centre : w.centres) {
    FeatureVector d;
    double n = 0.0;
    for (auto& x : d) {
      x = w.rng.normal();
      n += x * x;
    }
    for (int j = 0; j < kFeatureCount; ++j) centre[j] += 3.0 * d[j] / std::sqrt(n);
  }
  // Five half-lives later.
  for (int i = 0; i < 300; ++i) m = c.update(w.batch(1024), now += kSec);
  CHECK(ari_vs_truth(w, *m) >= 0.95);
  for (const auto& [blob, id] : mapping) {
    const Segment* s = m->find(id);
    REQUIRE(s != nullptr);
    double d2 = 0.0;
    for (int j = 0; j < kFeatureCount; ++j)
      d2 += (s->centroid_raw[j] - w.centres[blob][j]) * (s->centroid_raw[j] - w.centres[blob][j]);
    CHECK(std::sqrt(d2) < 0.3);  // was 3 right after the jump
  }
}

TEST_CASE("a segment whose centroid crosses a rule threshold is relabelled with an event", "[clusterer]") {
  ClustererConfig cfg = test_config();
  cfg.labels.rules = {{"active", {{Feature::kTradeRate, CompareOp::kGreater, 0.0}}}};
  cfg.labels.fallback = "quiet";
  Clusterer c(cfg);
  BlobWorld w(8, 8000, 1.0, 9);
  for (auto& centre : w.centres) centre[0] = -5.0;
  w.centres[0][0] = 5.0;
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 20; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  const SegmentId moving = blob_to_segment(w, *m).at(0);
  REQUIRE(m->find(moving)->label == "active");
  std::map<SegmentId, std::string> labels_before;
  for (const auto& s : m->segments) labels_before[s.id] = s.label;

  // Blob 0 slows down: trade_rate drifts from 5 to −5 over 200 s.
  std::vector<ModelEvent> events;
  for (int i = 0; i < 300; ++i) {
    if (i < 200) w.centres[0][0] -= 10.0 / 200;
    m = c.update(w.batch(1024), now += kSec);
    events.insert(events.end(), m->events.begin(), m->events.end());
  }
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == ModelEvent::Kind::kRelabelled);
  CHECK(events[0].segment == moving);
  CHECK(events[0].previous_label == "active");
  CHECK(events[0].label == "quiet-8");  // the first free name; the other seven keep theirs
  for (const auto& s : m->segments)
    if (s.id != moving) CHECK(s.label == labels_before[s.id]);
}

TEST_CASE("same input gives byte-identical models", "[clusterer]") {
  BlobWorld w1(8, 8000, 1.0, 6), w2(8, 8000, 1.0, 6);
  Clusterer a(test_config()), b(test_config());
  std::int64_t now = 0;
  for (int i = 0; i < 40; ++i) {
    now += kSec;
    const auto ma = a.update(w1.batch(1024), now);
    const auto mb = b.update(w2.batch(1024), now);
    REQUIRE(model_bytes(*ma) == model_bytes(*mb));
  }
  CHECK(a.model()->version > 10);
}

TEST_CASE("batch order and partition into shards do not change the result", "[clusterer]") {
  BlobWorld w(8, 8000, 1.0, 7);
  Clusterer canonical(test_config()), sharded(test_config());
  Rng shuffle(99);
  std::int64_t now = 0;
  for (int i = 0; i < 40; ++i) {
    now += kSec;
    const std::vector<BatchItem> batch = w.batch(1024);
    // The same batch as 3 shards would hand it over: partitioned by account hash, each shard's
    // part in its own order, shards concatenated in arbitrary order.
    std::vector<std::vector<BatchItem>> shards(3);
    for (const auto& item : batch) shards[mix64(item.account, 5) % 3].push_back(item);
    std::vector<BatchItem> merged;
    for (int s : {2, 0, 1}) {
      auto part = shards[s];
      for (std::size_t k = part.size(); k > 1; --k) std::swap(part[k - 1], part[shuffle.below(k)]);
      merged.insert(merged.end(), part.begin(), part.end());
    }
    const auto ma = canonical.update(batch, now);
    const auto mb = sharded.update(merged, now);
    REQUIRE(model_bytes(*ma) == model_bytes(*mb));
  }
}

TEST_CASE("a restored state continues exactly like the original", "[clusterer]") {
  BlobWorld w(8, 8000, 1.0, 8);
  ClustererConfig cfg = test_config();
  cfg.restart_interval_ns = 10 * kSec;  // restarts are tried across the restore (their clock is state)
  Clusterer a(cfg);
  std::int64_t now = 0;
  for (int i = 0; i < 25; ++i) a.update(w.batch(1024), now += kSec);
  const std::uint64_t tried_before = a.stats().restarts_tried;
  Clusterer b(cfg, a.state());
  REQUIRE(model_bytes(*a.model()) == model_bytes(*b.model()));  // same snapshot
  for (int i = 0; i < 25; ++i) {
    now += kSec;
    const auto batch = w.batch(1024);
    REQUIRE(model_bytes(*a.update(batch, now)) == model_bytes(*b.update(batch, now)));
  }
  // The id allocator survives too: the next id handed out is the same.
  CHECK(a.state().next_id == b.state().next_id);
  CHECK(b.stats().restarts_tried >= 2);
  CHECK(b.stats().restarts_tried == a.stats().restarts_tried - tried_before);
}

TEST_CASE("a restart leaves a local optimum and keeps ids by majority overlap", "[clusterer]") {
  ClustererConfig cfg = test_config();
  cfg.k = 3;
  cfg.min_accounts = 1000;
  cfg.restart_interval_ns = 120 * kSec;
  BlobWorld w(3, 6000, 1.0, 11);
  // Blob 1 sits 4σ from blob 0; blob 2 (half the accounts) is far from both.
  for (int j = 0; j < kFeatureCount; ++j) w.centres[1][j] = w.centres[0][j] + 1.0;
  for (std::size_t a = 0; a < w.truth.size(); ++a) w.truth[a] = a % 4 == 0 ? 0 : a % 4 == 1 ? 1 : 2;
  // Warm-up sees blobs 0 and 2 only: with k = 3 the big blob 2 is cut in two.
  w.silent = {1};
  Clusterer c(cfg);
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 10; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  REQUIRE(m->segments.size() == 3);
  const std::set<SegmentId> warm_ids = {1, 2, 3};

  // Blob 1 starts trading next to blob 0 and shares its centre: a local optimum that online
  // updates do not leave (blob 2's two halves are equally heavy, neither is retired).
  w.silent.clear();
  for (int i = 0; i < 100; ++i) m = c.update(w.batch(1024), now += kSec);
  CHECK(c.stats().restarts_adopted == 0);
  CHECK(ari_vs_truth(w, *m) < 0.9);
  const auto trapped = blob_to_segment(w, *m);
  CHECK(trapped.at(0) == trapped.at(1));

  // The restart at 120 s finds the three blobs; the model adopts it with explicit events.
  std::vector<ModelEvent> events;
  for (int i = 0; i < 60; ++i) {
    m = c.update(w.batch(1024), now += kSec);
    for (const auto& e : m->events)
      if (e.kind != ModelEvent::Kind::kRelabelled) events.push_back(e);
  }
  CHECK(c.stats().restarts_adopted >= 1);
  CHECK(ari_vs_truth(w, *m) >= 0.9);  // blobs 0 and 1 overlap a little: 4σ apart
  REQUIRE(m->segments.size() == 3);
  REQUIRE_FALSE(events.empty());
  std::size_t born = 0;
  for (const auto& e : events) {
    CHECK(e.why.rfind("restart:", 0) == 0);
    if (e.kind == ModelEvent::Kind::kBorn) {
      ++born;
      CHECK(warm_ids.count(e.segment) == 0);  // fresh ids only
      CHECK(e.parent != kNoSegment);
    }
  }
  CHECK(born == count_events(events, ModelEvent::Kind::kRetired));
  // Ids are kept where a fresh cluster is mostly one current segment: at least one survives, and
  // the three blobs map to three distinct segments.
  const auto after = blob_to_segment(w, *m);
  std::set<SegmentId> live;
  for (const auto& s : m->segments) live.insert(s.id);
  CHECK(std::count_if(live.begin(), live.end(), [&](SegmentId id) { return warm_ids.count(id) > 0; }) >= 1);
  CHECK(std::set<SegmentId>{after.at(0), after.at(1), after.at(2)}.size() == 3);
}

TEST_CASE("votes: an account weighs by time, not by how often it trades", "[clusterer]") {
  // 500 busy accounts in every batch, 500 quiet ones each once a minute; two far-apart blobs.
  auto run = [](std::int64_t vote_horizon_ns) {
    ClustererConfig cfg = test_config();
    cfg.k = 2;
    cfg.min_accounts = 900;
    cfg.half_life_ns = 600 * kSec;
    cfg.vote_horizon_ns = vote_horizon_ns;
    cfg.restart_interval_ns = 0;
    cfg.reseed_ratio = 0.0;  // without votes the quiet centre would be retired: see the next case
    Clusterer c(cfg);
    Rng rng(3);
    auto vec = [&](double at) {
      FeatureVector v;
      for (auto& x : v) x = at + 0.3 * rng.normal();
      return v;
    };
    ModelPtr m;
    for (int i = 0; i < 1800; ++i) {
      std::vector<BatchItem> batch;
      for (AccountId a = 0; a < 500; ++a) batch.push_back({a, 100, vec(0.0)});
      for (AccountId a = 500 + static_cast<AccountId>(i % 60); a < 1000; a += 60) batch.push_back({a, 100, vec(5.0)});
      m = c.update(batch, (i + 1) * kSec);
    }
    REQUIRE(m->segments.size() == 2);
    const Segment& busy = m->segments[0].centroid_raw[0] < 2.5 ? m->segments[0] : m->segments[1];
    const Segment& quiet = &busy == &m->segments[0] ? m->segments[1] : m->segments[0];
    return busy.weight / quiet.weight;
  };
  CHECK(run(60 * kSec) == Approx(1.0).epsilon(0.15));  // one vote per account-minute each
  CHECK(run(0) > 30.0);                                // one vote per vector: 60 to 1
}

TEST_CASE("votes: a quiet archetype's segment is not retired for trading rarely", "[clusterer]") {
  ClustererConfig cfg = test_config();
  cfg.k = 3;
  cfg.min_accounts = 900;
  cfg.half_life_ns = 600 * kSec;
  cfg.vote_horizon_ns = 120 * kSec;
  cfg.restart_interval_ns = 0;
  Clusterer c(cfg);
  Rng rng(4);
  auto vec = [&](double at) {
    FeatureVector v;
    for (auto& x : v) x = at + 0.3 * rng.normal();
    return v;
  };
  ModelPtr m;
  std::vector<ModelEvent> events;
  for (int i = 0; i < 1800; ++i) {
    std::vector<BatchItem> batch;
    for (AccountId a = 0; a < 500; ++a) batch.push_back({a, 100, vec(a < 250 ? 0.0 : -5.0)});
    for (AccountId a = 500 + static_cast<AccountId>(i % 120); a < 1000; a += 120) batch.push_back({a, 100, vec(5.0)});
    m = c.update(batch, (i + 1) * kSec);
    for (const auto& e : m->events)
      if (e.kind == ModelEvent::Kind::kRetired) events.push_back(e);
  }
  CHECK(events.empty());  // per vector the quiet blob gets 1/60 of a busy one's weight: 0.017 < 0.02
  REQUIRE(m->segments.size() == 3);
  std::set<long> at;
  for (const auto& s : m->segments) at.insert(std::lround(s.centroid_raw[0]));
  CHECK(at == std::set<long>{-5, 0, 5});
}

TEST_CASE("restarts that do not beat the model change nothing", "[clusterer]") {
  ClustererConfig cfg = test_config();
  cfg.restart_interval_ns = 20 * kSec;
  Clusterer c(cfg);
  BlobWorld w(8, 10000, 1.0, 12);
  std::int64_t now = 0;
  ModelPtr m;
  for (int i = 0; i < 20; ++i) m = c.update(w.batch(1024), now += kSec);
  REQUIRE(m->ready());
  std::set<SegmentId> ids;
  for (const auto& s : m->segments) ids.insert(s.id);
  for (int i = 0; i < 200; ++i) {
    m = c.update(w.batch(1024), now += kSec);
    CHECK(count_events(m->events, ModelEvent::Kind::kBorn) == 0);
    CHECK(count_events(m->events, ModelEvent::Kind::kRetired) == 0);
  }
  CHECK(c.stats().restarts_tried >= 9);
  CHECK(c.stats().restarts_adopted == 0);
  std::set<SegmentId> still;
  for (const auto& s : m->segments) still.insert(s.id);
  CHECK(still == ids);
}

TEST_CASE("duplicates in a batch and non-finite vectors are canonicalized away", "[clusterer]") {
  std::vector<BatchItem> items = {{5, 10, {}}, {2, 3, {}}, {5, 12, {}}, {5, 12, {}}, {9, 1, {}}};
  items[2].raw[0] = 1.0;
  items[3].raw[0] = 2.0;  // same fills: the larger vector wins, whatever the order
  items[4].raw[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK(canonicalize_batch(items) == 3);
  REQUIRE(items.size() == 2);
  CHECK(items[0].account == 2);
  CHECK(items[1].account == 5);
  CHECK(items[1].fills == 12);
  CHECK(items[1].raw[0] == 2.0);
}

TEST_CASE("config validation names the bad field", "[clusterer]") {
  CHECK(validate(ClustererConfig{}).ok());
  ClustererConfig c;
  c.k = 0;
  CHECK(std::string(validate(c).message()).find("clusterer.k") != std::string::npos);
  c = {};
  c.reseed_ratio = 1.5;
  CHECK_FALSE(validate(c).ok());
  c = {};
  c.restart_gain = 1.0;
  CHECK(std::string(validate(c).message()).find("clusterer.restart_gain") != std::string::npos);
  c = {};
  c.min_accounts = 3;
  CHECK_FALSE(validate(c).ok());
  c = {};
  c.feature_weights = StandardizerConfig::filled(0.0);
  CHECK_FALSE(validate(c).ok());
  c = {};
  c.assigner.hysteresis_margin = 1.0;
  CHECK_FALSE(validate(c).ok());
  c = {};
  c.sample_size = 15;
  CHECK_FALSE(validate(c).ok());
}

TEST_CASE("clusterer: last vote times by account, dense ids and sparse ones alike", "[clusterer]") {
  LastVotes v;
  const AccountId far = LastVotes::kDenseIds + 7;  // past the dense array: kept in the map
  CHECK(v.exchange(5, 100) == LastVotes::kNever);
  CHECK(v.exchange(far, 150) == LastVotes::kNever);
  CHECK(v.exchange(0, 200) == LastVotes::kNever);
  CHECK(v.exchange(5, 300) == 100);  // the previous time, and the new one kept
  CHECK(v.exchange(far, 350) == 150);
  CHECK(v.size() == 3);
  using Votes = std::vector<std::pair<AccountId, std::int64_t>>;
  CHECK(v.sorted() == Votes{{0, 200}, {5, 300}, {far, 350}});
  v.erase_before(250);  // account 0's vote is older
  CHECK(v.size() == 2);
  CHECK(v.sorted() == Votes{{5, 300}, {far, 350}});
  CHECK(v.exchange(0, 400) == LastVotes::kNever);
  v.erase_before(1000);
  CHECK(v.size() == 0);
  CHECK(v.sorted().empty());
}
