#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "service/app/replay.h"
#include "service/config/config.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'735'000'000LL * kSec;

Fill make_fill(AccountId acct, std::int64_t t, InstrumentId inst, Side side, double qty, double px, std::uint64_t id) {
  Fill f;
  f.recv_ns = t;
  f.account = acct;
  f.instrument = inst;
  f.kind = InstrumentKind::kPerpetual;
  f.side = side;
  f.qty = qty;
  f.price = px;
  f.notional_usd = qty * px;
  f.trade_id = id;
  return f;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("account shard: each touched account is published once per burst", "[account_shard]") {
  PriceTape tape(16, 4, 1);
  std::vector<std::vector<AccountId>> batches;
  AccountShardOptions o;
  o.tape = &tape;
  o.on_batch = [&](int, std::span<const TouchedAccount> b) {
    std::vector<AccountId> ids;
    for (const auto& t : b) ids.push_back(t.account);
    batches.push_back(ids);
  };
  AccountShard shard(0, o);
  for (int i = 0; i < 10; ++i) shard.on_fill(make_fill(i % 3, kT0 + i, 1, Side::kBuy, 1, 100, i));
  shard.on_burst_end();
  REQUIRE(batches.size() == 1);
  CHECK(batches[0] == std::vector<AccountId>{0, 1, 2});
  CHECK(shard.last_batch()[0].fills == 4);
  shard.on_fill(make_fill(2, kT0 + 20, 1, Side::kBuy, 1, 100, 99));
  shard.on_burst_end();
  REQUIRE(batches.size() == 2);
  CHECK(batches[1] == std::vector<AccountId>{2});
}

TEST_CASE("account shard: live mode resolves markouts when event time passes a tick", "[account_shard]") {
  PriceTape tape(16, 4, 1);
  AccountShardOptions o;
  o.tape = &tape;
  AccountShard shard(0, o);
  Fill buy = make_fill(1, kT0, 1, Side::kBuy, 10, 100, 1);
  tape.record(0, buy);
  shard.on_fill(buy);
  shard.on_burst_end();
  Fill other = make_fill(2, kT0 + 11 * kSec, 1, Side::kBuy, 1, 102, 2);
  tape.record(0, other);
  shard.on_fill(other);
  shard.on_burst_end();  // tick kT0 + 11 s ≥ due kT0 + 10 s: account 1 resolves and is republished
  auto snap = shard.snapshot(1);
  REQUIRE(snap);
  CHECK(snap->pending_markouts == 0);
  CHECK(snap->raw[index(Feature::kMarkoutBps)] == Approx(std::log1p(200.0)));  // log-scaled bps
  bool republished = false;
  for (const auto& t : shard.last_batch()) republished |= t.account == 1;
  CHECK(republished);
}

namespace {

//! A model whose scaler is the identity, with a segment at each given raw centroid.
ModelPtr identity_model(std::uint64_t version, const std::vector<std::pair<SegmentId, FeatureVector>>& centres) {
  auto m = std::make_shared<Model>();
  m->version = version;
  for (int j = 0; j < kFeatureCount; ++j) {
    m->scaler.stddev[j] = 1.0;
    m->scaler.weight[j] = 1.0;
  }
  for (const auto& [id, c] : centres) {
    Segment s;
    s.id = id;
    s.label = "s" + std::to_string(id);
    s.centroid = c;
    s.centroid_raw = c;
    m->segments.push_back(s);
  }
  return m;
}

FeatureVector shifted(FeatureVector v, double by) {
  for (auto& x : v) x += by;
  return v;
}

}  // namespace

//! A shard's surroundings for the assignment tests: the tape, the model slot, and every change
//! the shard hands on, with no minimum dwell.
struct AssignWorld {
  PriceTape tape{16, 4, 1};
  ModelSlot slot;
  std::vector<SegmentChange> changes;

  AccountShardOptions options(bool live) {
    AccountShardOptions o;
    o.tape = &tape;
    o.auto_resolve = live;
    o.model = &slot;
    o.assigner.min_dwell_ns = 0;
    o.on_changes = [this](int, std::span<const SegmentChange> c) { changes.insert(changes.end(), c.begin(), c.end()); };
    return o;
  }
};

TEST_CASE("account shard: a segment born or retired re-assigns idle accounts too", "[account_shard]") {
  AssignWorld w;
  auto& [tape, slot, changes] = w;
  AccountShard shard(0, w.options(false));
  // Accounts 1 (goes idle) and 2 (keeps trading) trade alike.
  std::uint64_t id = 0;
  for (int i = 0; i < 4; ++i)
    for (AccountId a : {1, 2}) shard.on_fill(make_fill(a, kT0 + i * kSec, 1, Side::kBuy, 1, 100, ++id));
  const FeatureVector x = shard.snapshot(1)->raw;

  slot.store(identity_model(1, {{1, x}, {2, shifted(x, 10)}}));
  shard.on_burst_end();
  REQUIRE(changes.size() == 2);  // first assignment of both
  CHECK(shard.snapshot(1)->segment == 1);
  changes.clear();

  // Segment 1 retired, 3 born where it was: account 1 does not trade and still moves, at the
  // shard's current event time, with the retirement as cause.
  slot.store(identity_model(2, {{2, shifted(x, 10)}, {3, shifted(x, 0.01)}}));
  shard.on_fill(make_fill(2, kT0 + 100 * kSec, 1, Side::kBuy, 1, 100, ++id));
  shard.on_burst_end();
  REQUIRE(changes.size() == 2);
  for (const auto& c : changes) {
    CHECK(c.from == 1);
    CHECK(c.to == 3);
    CHECK(c.cause == SegmentChange::Cause::kSegmentRetired);
    CHECK(c.ts_ns == kT0 + 100 * kSec);
  }
  CHECK(shard.snapshot(1)->segment == 3);
  changes.clear();

  // Segment 4 born right on account 1's vector, 3 drifts off: account 1 moves without a fill.
  slot.store(identity_model(3, {{2, shifted(x, 10)}, {3, shifted(x, 3)}, {4, x}}));
  shard.on_fill(make_fill(2, kT0 + 200 * kSec, 1, Side::kBuy, 1, 100, ++id));
  shard.on_burst_end();
  bool moved_idle = false;
  for (const auto& c : changes) moved_idle |= c.account == 1 && c.from == 3 && c.to == 4;
  CHECK(moved_idle);
  CHECK(shard.snapshot(1)->segment == 4);
  changes.clear();

  // Same segments, new version (centres only moved): only the traded account is looked at.
  slot.store(identity_model(4, {{2, shifted(x, 10)}, {3, shifted(x, 0.001)}, {4, shifted(x, 5)}}));
  shard.on_fill(make_fill(2, kT0 + 300 * kSec, 1, Side::kBuy, 1, 100, ++id));
  shard.on_burst_end();
  for (const auto& c : changes) CHECK(c.account == 2);
  CHECK(shard.snapshot(1)->segment == 4);
}

TEST_CASE("account shard: a live shard with no fills follows a retirement while idle", "[account_shard]") {
  AssignWorld w;
  auto& [tape, slot, changes] = w;
  AccountShard shard(0, w.options(true));
  std::uint64_t id = 0;
  for (int i = 0; i < 4; ++i) shard.on_fill(make_fill(1, kT0 + i * kSec, 1, Side::kBuy, 1, 100, ++id));
  const FeatureVector x = shard.snapshot(1)->raw;
  slot.store(identity_model(1, {{1, x}, {2, shifted(x, 10)}}));
  shard.on_burst_end();
  REQUIRE(changes.size() == 1);
  changes.clear();

  // Idle with the same model: nothing to do.
  shard.on_idle(kT0 + 10 * kSec);
  CHECK(changes.empty());

  // Segment 1 retired while no fill arrives: the idle shard moves its account, at its event time.
  slot.store(identity_model(2, {{2, shifted(x, 10)}, {3, shifted(x, 0.01)}}));
  shard.on_idle(kT0 + 20 * kSec);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].from == 1);
  CHECK(changes[0].to == 3);
  CHECK(changes[0].cause == SegmentChange::Cause::kSegmentRetired);
  CHECK(changes[0].ts_ns == kT0 + 3 * kSec);
  CHECK(shard.snapshot(1)->segment == 3);
  changes.clear();

  // Centres moved, same segments: an idle shard does not re-decide anything.
  slot.store(identity_model(3, {{2, x}, {3, shifted(x, 10)}}));
  shard.on_idle(kT0 + 30 * kSec);
  CHECK(changes.empty());
  CHECK(shard.snapshot(1)->segment == 3);
}

TEST_CASE("account shard: a live sweep runs in chunks, and newer segments restart it", "[account_shard]") {
  AssignWorld w;
  auto& [tape, slot, changes] = w;
  AccountShardOptions o = w.options(true);
  o.sweep_chunk = 2;
  AccountShard shard(0, o);
  std::uint64_t id = 0;
  for (AccountId a = 1; a <= 5; ++a) shard.on_fill(make_fill(a, kT0 + a * kSec, 1, Side::kBuy, 1, 100, ++id));
  const FeatureVector x = shard.snapshot(1)->raw;
  slot.store(identity_model(1, {{1, x}, {2, shifted(x, 10)}}));
  shard.on_burst_end();  // the first model: all 5 traded in this burst and are assigned with it
  REQUIRE(changes.size() == 5);
  changes.clear();
  for (int i = 0; i < 4; ++i) shard.on_idle(kT0 + (10 + i) * kSec);  // the rest of the sweep
  CHECK(changes.empty());                                            // decides nothing new

  // Segment 1 retired: 5 idle accounts move in chunks of 2, one chunk per idle round.
  slot.store(identity_model(2, {{2, shifted(x, 10)}, {3, shifted(x, 0.01)}}));
  shard.on_idle(kT0 + 14 * kSec);
  CHECK(changes.size() == 2);
  shard.on_idle(kT0 + 15 * kSec);
  CHECK(changes.size() == 4);
  shard.on_idle(kT0 + 16 * kSec);
  REQUIRE(changes.size() == 5);
  std::set<AccountId> moved;
  for (const auto& c : changes) moved.insert(c.account);
  CHECK(moved.size() == 5);  // each once
  changes.clear();
  shard.on_idle(kT0 + 17 * kSec);
  CHECK(changes.empty());  // done: nothing more to sweep

  // Segment 3 retired for 4: the sweep starts; before it ends, 4 is retired for 6 too. The sweep
  // starts over, and every account ends in 6 (those already moved to 4 move again).
  slot.store(identity_model(3, {{2, shifted(x, 10)}, {4, shifted(x, 0.01)}}));
  shard.on_idle(kT0 + 20 * kSec);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].to == 4);
  slot.store(identity_model(4, {{2, shifted(x, 10)}, {6, shifted(x, 0.02)}}));
  for (int i = 0; i < 3; ++i) shard.on_idle(kT0 + (21 + i) * kSec);
  std::size_t into6 = 0;
  for (const auto& c : changes) into6 += c.to == 6;
  CHECK(into6 == 5);
  CHECK(changes.size() == 7);
  for (AccountId a = 1; a <= 5; ++a) CHECK(shard.snapshot(a)->segment == 6);

  // A busy shard continues the sweep after each burst, besides assigning what the burst touched.
  slot.store(identity_model(5, {{2, shifted(x, 10)}, {5, shifted(x, 0.03)}}));
  changes.clear();
  shard.on_fill(make_fill(5, kT0 + 30 * kSec, 1, Side::kBuy, 1, 100, ++id));
  shard.on_burst_end();
  CHECK(changes.size() == 3);  // account 5 (traded) and the first chunk, accounts 1 and 2
  shard.on_fill(make_fill(5, kT0 + 31 * kSec, 1, Side::kBuy, 1, 100, ++id));
  shard.on_burst_end();
  CHECK(changes.size() == 5);  // accounts 3 and 4; 5 has already moved
  for (AccountId a = 1; a <= 5; ++a) CHECK(shard.snapshot(a)->segment == 5);
}

TEST_CASE("multi-producer multi-shard stress: every fill applied once, readers race-free [tsan]",
          "[account_shard][tsan]") {
  constexpr int kProducers = 3, kShards = 4, kPerProducer = 60000;
  PriceTape tape(64, 8, kProducers);
  ShardSetConfig sc;
  sc.shards = kShards;
  sc.producers = kProducers;
  sc.ring_capacity = 1024;  // small: exercises the full-ring (block) path too
  std::atomic<std::uint64_t> published{0};
  std::vector<std::unique_ptr<ShardHandler>> handlers;
  for (int s = 0; s < kShards; ++s) {
    AccountShardOptions o;
    o.tape = &tape;
    o.markout_tick_ns = 100'000'000;
    o.on_batch = [&](int, std::span<const TouchedAccount> b) { published.fetch_add(b.size()); };
    handlers.push_back(std::make_unique<AccountShard>(s, std::move(o)));
  }
  ShardSet shards(sc, std::move(handlers));
  shards.start();

  std::atomic<std::uint64_t> sent_count{0}, sent_sum{0}, refused{0}, non_finite{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(p) + 1);
      std::uint64_t sum = 0;
      for (int i = 0; i < kPerProducer; ++i) {
        Fill f = make_fill(static_cast<AccountId>(rng() % 5000), kT0 + i * 1'000'000LL,
                           static_cast<InstrumentId>(rng() % 64), rng() % 2 ? Side::kBuy : Side::kSell,
                           0.01 * static_cast<double>(1 + rng() % 100), 100.0 + static_cast<double>(rng() % 10),
                           static_cast<std::uint64_t>(p) << 32 | static_cast<std::uint64_t>(i));
        tape.record(p, f);                             // this producer owns tape row p
        if (!shards.push(p, f)) refused.fetch_add(1);  // Catch2 assertions are not thread-safe
        sum += fill_hash(f);
      }
      sent_count.fetch_add(kPerProducer);
      sent_sum.fetch_add(sum);
    });
  }
  // Outside readers while the shards run: through the shard's own thread.
  std::atomic<bool> stop_reading{false};
  std::uint64_t reads = 0, found = 0;
  std::thread reader([&] {
    std::mt19937_64 rng(99);
    while (!stop_reading.load()) {
      auto snap = read_account(shards, static_cast<AccountId>(rng() % 5000)).get();
      ++reads;
      if (snap) {
        ++found;
        for (double x : snap->raw)
          if (!std::isfinite(x)) non_finite.fetch_add(1);
      }
    }
  });
  for (auto& t : producers) t.join();
  stop_reading.store(true);
  reader.join();
  shards.stop();

  std::uint64_t got_count = 0, got_sum = 0, processed = 0;
  for (int s = 0; s < kShards; ++s) {
    auto& h = static_cast<AccountShard&>(shards.handler(s));
    got_count += h.fills_seen();
    got_sum += h.fill_checksum();
    processed += shards.processed(s);
  }
  CHECK(refused.load() == 0);
  CHECK(non_finite.load() == 0);
  CHECK(got_count == sent_count.load());
  CHECK(got_sum == sent_sum.load());
  CHECK(processed == sent_count.load());
  CHECK(published.load() > 0);
  CHECK(reads > 0);
}

TEST_CASE("replay: byte-identical features for 1 and 4 shards", "[replay]") {
  const std::string input = std::string(SEGMENTD_SOURCE_DIR) + "/config/samples/sample_fills.ndjson";
  std::string outputs[2];
  int i = 0;
  for (int count : {1, 4}) {
    auto config = load_config_text("[shards]\ncount = " + std::to_string(count) + "\n", "test.toml");
    REQUIRE(config.ok());
    ReplayOptions ro;
    ro.input = input;
    ro.output =
        (std::filesystem::temp_directory_path() / ("segmentd_features_" + std::to_string(count) + ".jsonl")).string();
    std::ostringstream log;
    auto summary = run_replay(*config, ro, log);
    REQUIRE(summary.ok());
    CHECK(summary->fills == 3000);
    outputs[i++] = slurp(ro.output);
    std::filesystem::remove(ro.output);
  }
  REQUIRE(!outputs[0].empty());
  CHECK(outputs[0] == outputs[1]);
  // One line per account, each with all 16 features and some resolved markouts somewhere.
  std::istringstream lines(outputs[0]);
  std::string line;
  int n = 0;
  bool any_markout = false;
  while (std::getline(lines, line)) {
    ++n;
    for (auto name : kFeatureNames) CHECK(line.find("\"" + std::string(name) + "\":") != std::string::npos);
    any_markout |= line.find("\"markout_bps\":0,") == std::string::npos;
  }
  CHECK(n == 19);
  CHECK(any_markout);
}

TEST_CASE("config: [features] is read and validated", "[config]") {
  auto c = load_config_text(
      "[features]\nhalf_life = \"30m\"\nmarkout_horizon = \"5s\"\nmax_positions = 4\nmarkout_slots = 6\n", "t.toml");
  REQUIRE(c.ok());
  CHECK(c->features.params.half_life_ns == 1800 * kSec);
  CHECK(c->features.params.markout_horizon_ns == 5 * kSec);
  CHECK(c->features.params.max_positions == 4);
  CHECK(c->features.params.markout_slots == 6);
  auto bad =
      load_config_text("[features]\nmarkout_horizon = \"1s\"\nmarkout_tick = \"2s\"\nmax_positions = 0\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("features.markout_tick") != std::string_view::npos);
  CHECK(bad.status().message().find("features.max_positions") != std::string_view::npos);
}
