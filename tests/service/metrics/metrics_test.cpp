#include "service/metrics/metrics.h"

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "service/metrics/checkpoint_probe.h"
#include "service/metrics/clusterer_probe.h"
#include "service/metrics/ingest_probe.h"
#include "service/metrics/latency_probe.h"
#include "service/metrics/process_probe.h"
#include "service/metrics/publisher_probe.h"
#include "service/metrics/shard_probe.h"
#include "service/shards/shard_set.h"

using namespace segmentd;
using Catch::Contains;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

Model model_with(std::uint64_t version, std::vector<std::pair<SegmentId, std::string>> segments) {
  Model m;
  m.version = version;
  for (auto& [id, label] : segments) {
    Segment s;
    s.id = id;
    s.label = label;
    s.size = id * 10;
    m.segments.push_back(s);
  }
  return m;
}

}  // namespace

TEST_CASE("metrics: HotHistogram buckets are 'le' bounds in recorded units", "[metrics]") {
  HotHistogram h({1e-6, 1e-3}, 1e-9);  // 1 µs, 1 ms, recorded in ns
  h.record(0);
  h.record(1000);       // exactly 1 µs: first bucket (le)
  h.record(1001);       // second
  h.record(1'000'000);  // exactly 1 ms: second
  h.record(5'000'000);  // +Inf
  CHECK(h.count(0) == 2);
  CHECK(h.count(1) == 2);
  CHECK(h.count(2) == 1);
  CHECK(h.sum() == 6'002'001);
}

TEST_CASE("metrics: recorder deltas reach the exposition at each render", "[metrics]") {
  Metrics m;
  LatencyProbe latency(m);
  latency.record(1'000, 301'000);  // 300 µs
  std::string text = m.render();
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_count 1"));
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_bucket{le=\"0.0002\"} 0"));
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_bucket{le=\"0.0003\"} 1"));

  // A second recorder (another thread's) feeds the same series; counts add, never reset.
  HotHistogram& mine = latency.recorder();
  mine.record(2'000'000);
  text = m.render();
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_count 2"));
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_bucket{le=\"0.001\"} 1"));
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_bucket{le=\"0.003\"} 2"));
  text = m.render();  // nothing new: unchanged
  CHECK(has_line(text, "segmentd_end_to_end_latency_seconds_count 2"));
}

TEST_CASE("metrics: ingest probe adds recorded and sampled counts", "[metrics]") {
  Metrics m;
  IngestProbe probe(m, "okx-1", "okx");
  probe.record_message(100, 2);
  probe.record_message(50, 0);
  probe.record_parse_error(ParseErrorReason::kBadSymbol);
  probe.record_lag(10'000'000'000, 10'003'000'000);  // 3 ms
  probe.record_lag(10'000'000'000, 9'000'000'000);   // venue clock ahead: 0
  IngestSample sample;
  sample.messages = 10;
  sample.parse_errors[static_cast<int>(ParseErrorReason::kBadSymbol)] = 1;
  sample.connected = true;
  probe.sample_from([&] { return sample; });
  std::string text = m.render();
  CHECK(has_line(text, "segmentd_ingest_messages_total{source=\"okx-1\",venue=\"okx\"} 12"));
  CHECK(has_line(text, "segmentd_ingest_bytes_total{source=\"okx-1\",venue=\"okx\"} 150"));
  CHECK(has_line(text, "segmentd_ingest_fills_total{source=\"okx-1\",venue=\"okx\"} 2"));
  CHECK(has_line(text, "segmentd_ingest_parse_errors_total{reason=\"bad_symbol\",source=\"okx-1\",venue=\"okx\"} 2"));
  CHECK(
      has_line(text, "segmentd_ingest_parse_errors_total{reason=\"malformed_json\",source=\"okx-1\",venue=\"okx\"} 0"));
  CHECK(has_line(text, "segmentd_ingest_source_connected{source=\"okx-1\",venue=\"okx\"} 1"));
  CHECK(has_line(text, "segmentd_ingest_source_lag_seconds_bucket{source=\"okx-1\",venue=\"okx\",le=\"0.001\"} 1"));
  CHECK(has_line(text, "segmentd_ingest_source_lag_seconds_bucket{source=\"okx-1\",venue=\"okx\",le=\"0.005\"} 2"));
  sample.messages = 20;
  text = m.render();
  CHECK(has_line(text, "segmentd_ingest_messages_total{source=\"okx-1\",venue=\"okx\"} 22"));
}

TEST_CASE("metrics: segment series follow the live segments of the model", "[metrics]") {
  Metrics m;
  ClustererProbe probe(m, 2);
  probe.record_model(model_with(1, {{1, "retail"}, {2, "market-maker"}}));
  std::string text = m.render();
  CHECK(has_line(text, "segmentd_model_version 1"));
  CHECK(has_line(text, "segmentd_segment_accounts{label=\"retail\",segment=\"1\"} 10"));
  CHECK(has_line(text, "segmentd_segment_accounts{label=\"market-maker\",segment=\"2\"} 20"));

  Model next = model_with(2, {{2, "hedger"}, {3, "retail"}});  // 1 retired, 2 relabelled, 3 born
  next.events.push_back(ModelEvent{ModelEvent::Kind::kRetired, 1, 0, "", "", "weight"});
  next.events.push_back(ModelEvent{ModelEvent::Kind::kRelabelled, 2, 0, "hedger", "market-maker", "centroid"});
  next.events.push_back(ModelEvent{ModelEvent::Kind::kBorn, 3, 2, "retail", "", "split"});
  probe.record_model(next);
  probe.record_segment_changes(0, 4);
  probe.record_segment_changes(1, 3);
  probe.record_batch(512, 1'000'000);
  text = m.render();
  CHECK_THAT(text, !Contains("segment=\"1\""));
  CHECK_THAT(text, !Contains("label=\"market-maker\""));
  CHECK(has_line(text, "segmentd_segment_accounts{label=\"hedger\",segment=\"2\"} 20"));
  CHECK(has_line(text, "segmentd_segment_accounts{label=\"retail\",segment=\"3\"} 30"));
  CHECK(has_line(text, "segmentd_model_events_total{kind=\"retired\"} 1"));
  CHECK(has_line(text, "segmentd_model_events_total{kind=\"born\"} 1"));
  CHECK(has_line(text, "segmentd_segment_changes_total 7"));
  CHECK(has_line(text, "segmentd_clusterer_batch_accounts_bucket{le=\"512\"} 1"));
  CHECK(has_line(text, "segmentd_clusterer_batch_accounts_sum 512"));
}

namespace {
struct CountingHandler : ShardHandler {
  void on_fill(const Fill&) override {}
};
}  // namespace

TEST_CASE("metrics: shard probe samples the shard set at scrape", "[metrics]") {
  Metrics m;
  ShardSetConfig cfg;
  cfg.shards = 2;
  cfg.ring_capacity = 1024;
  std::vector<std::unique_ptr<ShardHandler>> handlers;
  handlers.push_back(std::make_unique<CountingHandler>());
  handlers.push_back(std::make_unique<CountingHandler>());
  ShardSet set(cfg, std::move(handlers));
  set.start();
  for (AccountId a = 1; a <= 100; ++a) {
    Fill f;
    f.account = a;
    REQUIRE(set.push(0, f));
  }
  set.stop();
  {
    ShardProbe probe(m, 2, 1024);
    probe.attach(&set);
    probe.record_accounts(1, 42);
    std::string text = m.render();
    CHECK(has_line(text, "segmentd_shard_accounts{shard=\"1\"} 42"));
    CHECK(has_line(text, "segmentd_shard_ring_capacity{shard=\"0\"} 1024"));
    CHECK(has_line(text, "segmentd_shard_ring_depth{shard=\"0\"} 0"));
    CHECK(has_line(text, "segmentd_shard_fills_dropped_total 0"));
    CHECK(set.processed(0) + set.processed(1) == 100);
    CHECK(has_line(text, "segmentd_shard_fills_processed_total{shard=\"0\"} " + std::to_string(set.processed(0))));
    // The cap on accounts (issue 17 item 7): its gauge, and the refusals sampled at scrape.
    CHECK(has_line(text, "segmentd_shard_max_accounts{shard=\"1\"} 0"));
    CHECK(has_line(text, "segmentd_shard_fills_refused_total{shard=\"1\"} 0"));
    probe.set_max_accounts(500);
    probe.sample_refused([](int shard) { return std::uint64_t{7} * static_cast<std::uint64_t>(shard); });
    text = m.render();
    CHECK(has_line(text, "segmentd_shard_max_accounts{shard=\"0\"} 500"));
    CHECK(has_line(text, "segmentd_shard_fills_refused_total{shard=\"0\"} 0"));
    CHECK(has_line(text, "segmentd_shard_fills_refused_total{shard=\"1\"} 7"));
    // The account state's overflow counters (issue 20 item 2), sampled at scrape.
    CHECK(has_line(text, "segmentd_shard_state_overflow_total{kind=\"position\",shard=\"1\"} 0"));
    probe.sample_overflow([](int shard, int kind) { return static_cast<std::uint64_t>(10 * shard + kind); });
    text = m.render();
    CHECK(has_line(text, "segmentd_shard_state_overflow_total{kind=\"untracked_fill\",shard=\"1\"} 11"));
    CHECK(has_line(text, "segmentd_shard_state_overflow_total{kind=\"pool_full\",shard=\"0\"} 3"));
    // Markouts by who priced them (issue 20 item 4), sampled at scrape.
    CHECK(has_line(text, "segmentd_markouts_resolved_total{priced_by=\"own_fill\",shard=\"0\"} 0"));
    probe.sample_markouts_priced([](int shard, int kind) { return static_cast<std::uint64_t>(100 * shard + kind); });
    text = m.render();
    CHECK(has_line(text, "segmentd_markouts_resolved_total{priced_by=\"other_fill\",shard=\"1\"} 101"));
    CHECK(has_line(text, "segmentd_markouts_resolved_total{priced_by=\"market_data\",shard=\"0\"} 2"));
  }
  // The probe is gone: its hook no longer runs (no dangling reads of the shard set).
  CHECK_NOTHROW(m.render());
}

TEST_CASE("metrics: checkpoint age counts from start, then from the last success", "[metrics]") {
  Metrics m;
  std::int64_t now = 1'000 * 1'000'000'000LL;
  CheckpointProbe probe(m, [&] { return now; });
  now += 30'000'000'000;
  CHECK(has_line(m.render(), "segmentd_checkpoint_age_seconds 30"));
  probe.record_success(250'000'000, 4096, 10);
  now += 5'000'000'000;
  std::string text = m.render();
  CHECK(has_line(text, "segmentd_checkpoint_age_seconds 5"));
  CHECK(has_line(text, "segmentd_checkpoint_last_success_timestamp_seconds 1030"));
  CHECK(has_line(text, "segmentd_checkpoint_duration_seconds_count 1"));
  CHECK(has_line(text, "segmentd_checkpoint_size_bytes 4096"));
}

TEST_CASE("metrics: publisher probe reads the hub's counters", "[metrics]") {
  Metrics m;
  PublisherProbe probe(m);
  PublisherSample s;
  s.subscribers = 3;
  s.slow_consumer_closes = 2;
  s.replays = 1;
  probe.sample_from([&] { return s; });
  std::string text = m.render();
  CHECK(has_line(text, "segmentd_publisher_subscribers 3"));
  CHECK(has_line(text, "segmentd_publisher_slow_consumer_closes_total 2"));
  CHECK(has_line(text, "segmentd_publisher_subscriptions_total{start=\"replay\"} 1"));
}

TEST_CASE("metrics: process stats come from /proc/self", "[metrics]") {
  ProcessStats s = read_process_stats();
  CHECK(s.resident_bytes > 0);
  CHECK(s.open_fds >= 3);
  CHECK(s.max_fds >= s.open_fds);
  CHECK(s.threads >= 1);
  CHECK(s.start_time_seconds > 1e9);
}

TEST_CASE("metrics: recording races with rendering", "[metrics][tsan]") {
  Metrics m;
  LatencyProbe latency(m);
  IngestProbe ingest(m, "s", "native");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    HotHistogram& mine = latency.recorder();
    std::int64_t i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      mine.record(++i % 2'000'000);
      ingest.record_message(10, 1);
    }
  });
  for (int i = 0; i < 50; ++i) m.render();
  stop = true;
  writer.join();
  CHECK_THAT(m.render(), Contains("segmentd_ingest_messages_total"));
}
