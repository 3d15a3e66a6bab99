#include "service/publisher/publisher_hub.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "core/checkpoint_io.h"
#include "core/str_cat.h"
#include "service/net/token_auth.h"

using namespace segmentd;

namespace {

// Records what the hub delivers (deliver() runs with the hub's mutex held, from publishers).
struct Recorder : Subscriber {
  std::mutex mu;
  std::vector<PublishedEntry> got;
  void deliver(BatchPtr batch) override {
    std::lock_guard lock(mu);
    for (const auto& e : batch->entries) got.push_back(e);
  }
  void shutdown() override {}
};

SegmentChange change(AccountId a, SegmentId from, SegmentId to) {
  SegmentChange c;
  c.account = a;
  c.from = from;
  c.to = to;
  c.ts_ns = 1000 + a;
  c.confidence = 0.5;
  return c;
}

struct World {
  AccountInterner names;
  PublisherHub hub;
  explicit World(std::size_t ring = 100) : hub(PublisherHubOptions{ring, 8}, names) {
    for (int i = 0; i < 10; ++i) names.intern(str_cat("a", i));
  }
};

}  // namespace

TEST_CASE("publisher hub: seq is gap-free across changes and models, and the ring is bounded", "[publisher_hub]") {
  World w(5);
  auto model = std::make_shared<Model>();
  model->version = 1;
  model->segments.push_back(Segment{.id = 1, .label = "maker"});
  w.hub.publish_model(model);
  std::vector<SegmentChange> cs = {change(0, kNoSegment, 1), change(1, kNoSegment, 1), change(0, 1, 2)};
  w.hub.publish_changes(cs);
  w.hub.publish_heartbeat(5);  // takes no seq
  w.hub.publish_changes(cs);
  PublisherStats s = w.hub.stats();
  CHECK(s.last_seq == 7);
  CHECK(s.ring_size == 5);
  CHECK(s.ring_first_seq == 3);
  CHECK(s.messages_published == 7);
  CHECK(s.model_version == 1);
}

TEST_CASE("publisher hub: attach chooses replay or snapshot from since_seq", "[publisher_hub]") {
  World w(4);
  auto rec = std::make_shared<Recorder>();
  std::uint64_t id = w.hub.add_session(rec);
  std::vector<SegmentChange> cs;
  for (AccountId a = 0; a < 6; ++a) cs.push_back(change(a, kNoSegment, 1 + a % 2));
  w.hub.publish_changes(cs);  // seqs 1..6; the ring keeps 3..6

  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart start;
  w.hub.attach(id, 2, all, &start);
  CHECK(start.mode == pubmsg::StartMode::kReplay);
  // A replay is read from the ring by the session (catch_up), not captured.
  std::shared_ptr<PublishBatch> chunk;
  REQUIRE(w.hub.catch_up(id, 3, 1 << 20, &chunk) == CatchUp::kEntries);
  REQUIRE(chunk->entries.size() == 4);
  CHECK(chunk->entries.front().seq == 3);
  CHECK(w.hub.catch_up(id, 7, 1 << 20, &chunk) == CatchUp::kAttached);
  w.hub.detach(id);

  start = {};
  w.hub.attach(id, 1, all, &start);
  CHECK(start.mode == pubmsg::StartMode::kSnapshot);
  CHECK(start.why == pubmsg::SnapshotWhy::kNotInRing);
  CHECK(start.seq == 6);
  CHECK(start.rows.size() == 6);
  w.hub.detach(id);

  start = {};
  w.hub.attach(id, 99, all, &start);
  CHECK(start.why == pubmsg::SnapshotWhy::kAhead);
  w.hub.detach(id);

  pubmsg::Filter f;
  f.kind = pubmsg::Filter::Kind::kSegments;
  f.segments = {2};
  SubscriberFilter seg2(f, w.names);
  start = {};
  w.hub.attach(id, std::nullopt, seg2, &start);
  CHECK(start.rows.size() == 3);  // accounts 1, 3, 5
  for (const auto& r : start.rows) CHECK(r.assignment.segment == 2);

  // Attached: later batches are delivered; detached: not.
  w.hub.publish_changes(cs);
  CHECK(rec->got.size() == 6);
  w.hub.detach(id);
  w.hub.publish_changes(cs);
  CHECK(rec->got.size() == 6);
  CHECK(w.hub.stats().subscribers == 0);
}

TEST_CASE("publisher hub: an account filter matches names interned later", "[publisher_hub]") {
  World w;
  pubmsg::Filter f;
  f.kind = pubmsg::Filter::Kind::kAccounts;
  f.accounts = {"a3", "later"};
  SubscriberFilter filter(f, w.names);
  PublishedEntry e;
  e.account = 3;
  CHECK(filter.matches(e));
  e.account = 4;
  CHECK_FALSE(filter.matches(e));
  e.account = w.names.intern("later");
  CHECK(filter.matches(e));
  e.kind = PublishedEntry::Kind::kModel;
  e.account = 7;
  CHECK(filter.matches(e));  // models go to everyone
}

TEST_CASE("publisher hub: concurrent publishers keep every subscriber's stream in seq order", "[publisher_hub][tsan]") {
  World w(1000);
  auto rec = std::make_shared<Recorder>();
  std::uint64_t id = w.hub.add_session(rec);
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart start;
  w.hub.attach(id, 0, all, &start);
  auto publish = [&](AccountId base) {
    for (int i = 0; i < 200; ++i) {
      std::vector<SegmentChange> cs = {change(base, 1, 2), change(base + 1, 2, 1)};
      w.hub.publish_changes(cs);
    }
  };
  std::thread t1(publish, 0), t2(publish, 2);
  std::thread reader([&] {
    for (int i = 0; i < 100; ++i) (void)w.hub.stats();
  });
  t1.join();
  t2.join();
  reader.join();
  REQUIRE(rec->got.size() == 800);
  for (std::size_t i = 0; i < rec->got.size(); ++i) CHECK(rec->got[i].seq == i + 1);
}

TEST_CASE("token auth: bearer tokens, constant-time compare, nothing configured refuses", "[publisher_hub]") {
  TokenSet t = TokenSet::of({"alpha", " beta "});
  CHECK(t.check_header("Bearer alpha"));
  CHECK(t.check_header("bearer beta"));
  CHECK_FALSE(t.check_header("Bearer alph"));
  CHECK_FALSE(t.check_header("Bearer "));
  CHECK_FALSE(t.check_header("Basic alpha"));
  CHECK_FALSE(t.check_header(""));
  auto none = TokenSet::load("", "SEGMENTD_TEST_SURELY_UNSET_VAR", false);
  CHECK_FALSE(none.ok());
  auto anon = TokenSet::load("", "", true);
  REQUIRE(anon.ok());
  CHECK(anon->check_header(""));
  CHECK_FALSE(TokenSet::load("/nonexistent/tokens", "", false).ok());
}

namespace {

// Keeps every delivered batch (to check what sessions share).
struct BatchRecorder : Subscriber {
  std::vector<BatchPtr> batches;
  void deliver(BatchPtr batch) override { batches.push_back(std::move(batch)); }
  void shutdown() override {}
};

std::string joined_texts(const PublishBatch& b, std::size_t i, std::size_t j) {
  std::string out;
  for (std::size_t k = i; k < j; ++k) {
    if (k > i) out += ',';
    out += b.entries[k].text();
  }
  return out;
}

}  // namespace

TEST_CASE("publisher hub: a batch's joined text is its messages joined by ',', and ranges are exact",
          "[publisher_hub]") {
  World w;
  auto rec = std::make_shared<BatchRecorder>();
  std::uint64_t id = w.hub.add_session(rec);
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart start;
  w.hub.attach(id, 0, all, &start);
  std::vector<SegmentChange> cs = {change(0, kNoSegment, 1), change(1, 1, 2), change(2, 2, 3), change(3, 3, 1)};
  w.hub.publish_changes(cs);
  REQUIRE(rec->batches.size() == 1);
  const PublishBatch& b = *rec->batches[0];
  REQUIRE(b.entries.size() == 4);
  CHECK(b.joined == joined_texts(b, 0, 4));
  std::size_t bytes = 0;
  for (const auto& e : b.entries) {
    bytes += e.size;
    CHECK(e.text().starts_with(R"({"type":"segment_change","seq":)"));
    CHECK(e.text().ends_with("}"));
  }
  CHECK(b.bytes == bytes);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = i + 1; j <= 4; ++j) CHECK(b.joined_range(i, j) == joined_texts(b, i, j));
  // The messages of one call share one buffer (one allocation per call, not per message).
  CHECK(b.entries[0].chunk == b.entries[3].chunk);
  // A replay's chunks are joined the same way (outside the hub's mutex), from the ring.
  SubscribeStart resume;
  const std::uint64_t resumer = w.hub.add_session(std::make_shared<BatchRecorder>());
  w.hub.attach(resumer, 1, all, &resume);
  REQUIRE(resume.mode == pubmsg::StartMode::kReplay);
  std::shared_ptr<PublishBatch> replay;
  REQUIRE(w.hub.catch_up(resumer, 2, 1 << 20, &replay) == CatchUp::kEntries);
  REQUIRE(replay->entries.size() == 3);
  CHECK(replay->entries[0].seq == 2);
  CHECK(replay->joined == joined_texts(b, 1, 4));
  CHECK(replay->joined_range(1, 3) == b.joined_range(2, 4));
  CHECK(replay->bytes == bytes - b.entries[0].size);
}

TEST_CASE("publisher hub: with a flush scheduler, publishes are coalesced into one batch per flush",
          "[publisher_hub]") {
  World w;
  std::vector<std::int64_t> asked;  // delays the hub asked for
  w.hub.set_flush_scheduler([&](std::int64_t delay_ns) { asked.push_back(delay_ns); }, 1'000'000'000, 1u << 20);
  auto early = std::make_shared<BatchRecorder>();
  std::uint64_t early_id = w.hub.add_session(early);
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart start;
  w.hub.attach(early_id, 0, all, &start);
  std::vector<SegmentChange> cs = {change(0, 1, 2), change(1, 2, 1)};
  w.hub.publish_changes(cs);
  w.hub.publish_heartbeat(77);
  w.hub.publish_changes(cs);
  CHECK(early->batches.empty());  // nothing delivered before the flush
  REQUIRE(asked.size() == 1);     // one flush asked for, however many publishes
  CHECK(asked[0] == 0);           // the first flush is due at once (none for an interval)

  // A session attaching now starts after everything published: the pending batch goes to the
  // sessions attached before it, not to the new one.
  auto late = std::make_shared<BatchRecorder>();
  std::uint64_t late_id = w.hub.add_session(late);
  SubscribeStart late_start;
  w.hub.attach(late_id, std::nullopt, all, &late_start);
  CHECK(late_start.seq == 4);
  REQUIRE(early->batches.size() == 1);
  const PublishBatch& b = *early->batches[0];
  REQUIRE(b.entries.size() == 5);
  CHECK(b.entries[0].seq == 1);
  CHECK(b.entries[2].kind == PublishedEntry::Kind::kHeartbeat);
  CHECK(b.entries[4].seq == 4);
  CHECK(b.joined == joined_texts(b, 0, 5));
  CHECK(late->batches.empty());

  // Within the interval: the next flush is asked for later, and once only.
  asked.clear();
  w.hub.publish_changes(cs);
  w.hub.publish_changes(cs);
  REQUIRE(asked.size() == 1);
  CHECK(asked[0] > 0);
  w.hub.flush();
  REQUIRE(early->batches.size() == 2);
  REQUIRE(late->batches.size() == 1);
  CHECK(early->batches[1] == late->batches[0]);  // one shared batch for every session
  CHECK(late->batches[0]->entries.front().seq == 5);
  CHECK(late->batches[0]->entries.back().seq == 8);
  w.hub.flush();  // nothing pending: nothing delivered
  CHECK(early->batches.size() == 2);
}

TEST_CASE("publisher hub: past flush_bytes a flush is asked for at once", "[publisher_hub]") {
  World w;
  std::vector<std::int64_t> asked;
  w.hub.set_flush_scheduler([&](std::int64_t delay_ns) { asked.push_back(delay_ns); }, 1'000'000'000, 1000);
  std::vector<SegmentChange> one = {change(0, 1, 2)};
  w.hub.publish_changes(one);
  w.hub.flush();
  asked.clear();
  w.hub.publish_changes(one);  // small: a delayed flush
  REQUIRE(asked.size() == 1);
  CHECK(asked[0] > 0);
  std::vector<SegmentChange> many(10, change(1, 2, 1));
  w.hub.publish_changes(many);  // > 1000 bytes pending: now
  REQUIRE(asked.size() == 2);
  CHECK(asked[1] == 0);
  w.hub.publish_changes(many);  // already asked
  CHECK(asked.size() == 2);
}

TEST_CASE("publisher hub: a snapshot is the state at its seq, whatever is published after it", "[publisher_hub]") {
  World w;
  for (int i = 0; i < 10; ++i) w.names.intern(str_cat("b", i));
  std::vector<SegmentChange> cs;
  for (AccountId a = 0; a < 20; ++a) cs.push_back(change(a, kNoSegment, 1));
  w.hub.publish_changes(cs);
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart first;
  w.hub.attach(w.hub.add_session(std::make_shared<BatchRecorder>()), std::nullopt, all, &first);
  // After the capture: every account moves to 2, in several calls.
  for (AccountId a = 0; a < 20; ++a) {
    std::vector<SegmentChange> move = {change(a, 1, 2)};
    w.hub.publish_changes(move);
  }
  CHECK(first.seq == 20);
  REQUIRE(first.rows.size() == 20);
  for (const auto& r : first.rows) {
    CHECK(r.assignment.segment == 1);
    CHECK(r.assignment.seq == r.account + 1);
  }
  // The capture itself still reads as it was (the hub wrote to copies of its pages).
  for (AccountId a = 0; a < 20; ++a) CHECK(first.pages[0]->rows[a].segment == 1);
  SubscribeStart second;
  w.hub.attach(w.hub.add_session(std::make_shared<BatchRecorder>()), std::nullopt, all, &second);
  CHECK(second.seq == 40);
  REQUIRE(second.rows.size() == 20);
  for (const auto& r : second.rows) CHECK(r.assignment.segment == 2);
  SubscriberFilter seg2(pubmsg::Filter{.kind = pubmsg::Filter::Kind::kSegments, .segments = {2}, .accounts = {}},
                        w.names);
  SubscribeStart third;
  w.hub.attach(w.hub.add_session(std::make_shared<BatchRecorder>()), std::nullopt, seg2, &third);
  CHECK(third.rows.size() == 20);
}

TEST_CASE("publisher hub: snapshots taken while publishers run see a consistent table", "[publisher_hub][tsan]") {
  World w;
  std::vector<SegmentChange> init;
  for (AccountId a = 0; a < 10; ++a) init.push_back(change(a, kNoSegment, 1));
  w.hub.publish_changes(init);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::uint64_t n = 0;
    while (!stop.load()) {
      std::vector<SegmentChange> cs = {change(static_cast<AccountId>(n % 10), 1, 2)};
      w.hub.publish_changes(cs);
      ++n;
    }
  });
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  std::vector<std::string> problems;  // checked after the join (Catch2 is not thread-safe)
  for (int i = 0; i < 200; ++i) {
    SubscribeStart s;
    auto rec = std::make_shared<BatchRecorder>();
    w.hub.attach(w.hub.add_session(rec), std::nullopt, all, &s);
    if (s.rows.size() != 10) problems.push_back(str_cat("rows ", s.rows.size()));
    for (const auto& r : s.rows)
      if (r.assignment.seq > s.seq) problems.push_back(str_cat("row seq ", r.assignment.seq, " > ", s.seq));
  }
  stop = true;
  producer.join();
  CHECK(problems.empty());
}

TEST_CASE("publisher hub: a resume reads the ring in bounded chunks, then joins the live stream without a gap",
          "[publisher_hub]") {
  World w(1000);
  auto rec = std::make_shared<Recorder>();
  const std::uint64_t id = w.hub.add_session(rec);
  std::vector<SegmentChange> cs;
  for (AccountId a = 0; a < 10; ++a) cs.push_back(change(a, kNoSegment, 1));
  for (int i = 0; i < 20; ++i) w.hub.publish_changes(cs);  // seqs 1..200
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart start;
  w.hub.attach(id, 50, all, &start);
  REQUIRE(start.mode == pubmsg::StartMode::kReplay);
  // Nothing is delivered while the session catches up: a resume is not queued at once.
  w.hub.publish_changes(cs);  // 201..210
  CHECK(rec->got.empty());
  std::vector<std::uint64_t> seqs;
  std::uint64_t next = 51;
  std::shared_ptr<PublishBatch> chunk;
  CatchUp r;
  const std::size_t one = w.hub.stats().last_seq > 0 ? 1 : 0;  // at least one message per chunk
  while ((r = w.hub.catch_up(id, next, 2000, &chunk)) == CatchUp::kEntries) {
    CHECK(chunk->entries.size() >= one);
    CHECK(chunk->bytes < 2000 + chunk->entries.back().size);  // bounded by the byte budget
    for (const auto& e : chunk->entries) seqs.push_back(e.seq);
    next = chunk->entries.back().seq + 1;
  }
  CHECK(r == CatchUp::kAttached);
  w.hub.publish_changes(cs);  // 211..220, delivered live
  for (const auto& e : rec->got) seqs.push_back(e.seq);
  REQUIRE(seqs.size() == 170);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == 51 + i);
  CHECK(w.hub.stats().subscribers == 1);
}

TEST_CASE("publisher hub: a session catching up whose next message leaves the ring is told it fell behind",
          "[publisher_hub]") {
  struct Behind : Recorder {
    int told = 0;
    void fell_behind() override { ++told; }
  };
  World w(20);
  auto rec = std::make_shared<Behind>();
  const std::uint64_t id = w.hub.add_session(rec);
  SubscriberFilter all(pubmsg::Filter{}, w.names);
  SubscribeStart start;
  w.hub.attach(id, std::nullopt, all, &start);  // live
  std::vector<SegmentChange> cs;
  for (AccountId a = 0; a < 10; ++a) cs.push_back(change(a, kNoSegment, 1));
  w.hub.publish_changes(cs);        // 1..10
  w.hub.detach_to_catch_up(id, 5);  // its queue passed the limit at seq 5
  w.hub.publish_changes(cs);        // 11..20: the ring still holds 1..20
  CHECK(rec->told == 0);
  w.hub.publish_changes(cs);  // 21..30: the ring holds 11..30, seq 5 is gone
  CHECK(rec->told == 1);
  w.hub.publish_changes(cs);
  CHECK(rec->told == 1);  // once
  std::shared_ptr<PublishBatch> chunk;
  CHECK(w.hub.catch_up(id, 5, 1 << 20, &chunk) == CatchUp::kGone);
  CHECK(w.hub.stats().catch_ups == 1);
}

TEST_CASE("publisher hub: the market regime picks the policy of later changes and survives a restart",
          "[publisher_hub]") {
  World w;
  auto model = std::make_shared<Model>();
  model->version = 1;
  Segment s{.id = 1, .label = "maker"};
  s.policy = SegmentPolicy{1.0, 1.0, 0};
  s.stressed_policy = SegmentPolicy{1.5, 3.0, 0};
  s.extreme_policy = SegmentPolicy{2.0, 9.0, 1e5};
  model->segments.push_back(s);
  w.hub.publish_model(model);
  std::vector<SegmentChange> cs = {change(0, kNoSegment, 1)};
  w.hub.publish_changes(cs);  // seq 2, calm
  pubmsg::RegimeChangeInfo c;
  c.underlying = "BTC";
  c.to = Regime::kExtreme;
  c.market = Regime::kExtreme;
  c.reason = "drawdown 11 % >= 10 %";
  w.hub.publish_regime(c);  // seq 3
  CHECK(w.hub.regime() == Regime::kExtreme);
  cs = {change(1, kNoSegment, 1)};
  w.hub.publish_changes(cs);  // seq 4, extreme

  ByteWriter out;
  w.hub.save_state(out);
  World restored;
  REQUIRE(restored.hub.load_state(out.view(), model).ok());
  CHECK(restored.hub.regime() == Regime::kExtreme);
  Recorder r;
  auto sub = std::shared_ptr<Subscriber>(&r, [](Subscriber*) {});
  const std::uint64_t id = restored.hub.add_session(sub);
  SubscriberFilter all;
  SubscribeStart start;
  restored.hub.attach(id, 1, all, &start);  // replay of seqs 2..4 from the restored ring
  CHECK(start.mode == pubmsg::StartMode::kReplay);
  std::vector<PublishedEntry> ring;
  auto read = [&](std::uint64_t from) {
    std::shared_ptr<PublishBatch> batch;
    restored.hub.catch_up(id, from, 1 << 20, &batch);
    if (batch)
      for (const auto& e : batch->entries) ring.push_back(e);
  };
  read(2);
  REQUIRE(ring.size() == 3);
  CHECK_THAT(std::string(ring[0].text()), Catch::Contains(R"("regime":"calm")"));
  CHECK_THAT(std::string(ring[1].text()), Catch::Contains(R"("type":"regime_change")"));
  CHECK(ring[1].kind == PublishedEntry::Kind::kRegime);
  CHECK_THAT(std::string(ring[2].text()),
             Catch::Contains(R"("policy":{"margin_multiplier":2,"quote_width_bps":9,"max_order_notional_usd":1e+05},)"
                             R"("regime":"extreme")"));
  // After the restart the stressed and extreme policies were restored with the segment table.
  cs = {change(2, kNoSegment, 1)};
  restored.hub.publish_changes(cs);
  read(5);
  REQUIRE(ring.size() == 4);
  CHECK_THAT(std::string(ring[3].text()), Catch::Contains(R"("quote_width_bps":9)"));
  restored.hub.remove_session(id);
}

TEST_CASE("publisher hub: a risk message sets the dynamic margins later changes carry", "[publisher_hub]") {
  World w;
  auto model = std::make_shared<Model>();
  model->version = 1;
  Segment s{.id = 1, .label = "whale"};
  s.policy = SegmentPolicy{1.2, 1.0, 0};
  s.stressed_policy = SegmentPolicy{1.6, 2.0, 0};
  s.extreme_policy = s.stressed_policy;
  model->segments.push_back(s);
  model->segments.push_back(Segment{.id = 2, .label = "maker"});
  w.hub.publish_model(model);
  Recorder r;
  auto sub = std::shared_ptr<Subscriber>(&r, [](Subscriber*) {});
  const std::uint64_t id = w.hub.add_session(sub);
  SubscriberFilter all;
  SubscribeStart start;
  w.hub.attach(id, std::nullopt, all, &start);
  // The last scan: segment 1's worst loss is 2.5 × base_margin_rate × its gross delta; cap 2.
  const std::vector<double> pnl = {-250.0};
  const std::vector<std::uint64_t> over = {1};
  const std::vector<Shock> shocks = {{-0.2, 0}};
  std::vector<pubmsg::RiskSegment> rows = {{1, "whale", 1, 1000.0, 120.0, 0.0, 1000.0, 2.0, true, pnl, over, pnl}};
  pubmsg::RiskInfo info;
  info.shocks = shocks;
  info.segments = rows;
  w.hub.publish_risk(info, DynamicMargins{{1, DynamicMargin{2.5, 2.0}}});
  std::vector<SegmentChange> cs = {change(0, kNoSegment, 1), change(1, kNoSegment, 2)};
  w.hub.publish_changes(cs);
  pubmsg::RegimeChangeInfo c;
  c.to = c.market = Regime::kStressed;
  c.reason = "vol ratio 2.1 >= 2";
  w.hub.publish_regime(c);
  cs = {change(2, kNoSegment, 1)};
  w.hub.publish_changes(cs);
  std::lock_guard lock(r.mu);
  REQUIRE(r.got.size() == 5);
  CHECK(r.got[0].kind == PublishedEntry::Kind::kRisk);
  CHECK_THAT(std::string(r.got[0].text()), Catch::Contains(R"("type":"risk")"));
  // Calm: the policy says 1.2, the dynamic margin min(2.5, cap 2) = 2; segment 2 has none.
  CHECK_THAT(std::string(r.got[1].text()), Catch::Contains(R"("policy":{"margin_multiplier":2,)"));
  CHECK_THAT(std::string(r.got[2].text()), Catch::Contains(R"("policy":{"margin_multiplier":1,)"));
  // Stressed: the policy's 1.6 is under the cap, the dynamic margin still 2, listed in the change.
  CHECK_THAT(std::string(r.got[3].text()),
             Catch::Contains(R"({"segment":1,"label":"whale","policy":{"margin_multiplier":2,"quote_width_bps":2,)"));
  CHECK_THAT(std::string(r.got[4].text()), Catch::Contains(R"("policy":{"margin_multiplier":2,"quote_width_bps":2,)"));
  w.hub.remove_session(id);
}
