#include "service/publisher_hub.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "core/str_cat.h"
#include "service/token_auth.h"

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

TEST_CASE("publisher hub: seq is gap-free across changes and models; the ring is bounded", "[publisher_hub]") {
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
  REQUIRE(start.replay->entries.size() == 4);
  CHECK(start.replay->entries.front().seq == 3);
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
