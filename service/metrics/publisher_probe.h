#pragma once
// Metrics of the publisher (websocket pub/sub and its replay ring):
//   segmentd_publisher_subscribers                   attached (subscribed) sessions
//   segmentd_publisher_connections                   open websocket connections
//   segmentd_publisher_queued_bytes                  bytes waiting in every session's queue
//   segmentd_publisher_slow_consumer_closes_total    sessions closed with 1008 "slow consumer"
//   segmentd_publisher_catch_ups_total               queues past queue_limit_bytes that went on
//                                                    reading the replay ring instead
//   segmentd_publisher_rejected_connections_total    connections refused over max_connections
//   segmentd_publisher_auth_failures_total           upgrades refused with 401
//   segmentd_publisher_subscriptions_total{start}    subscriptions by how they began: snapshot | replay
//   segmentd_publisher_messages_total                segment changes and model messages published
//   segmentd_publisher_last_seq                      seq of the last published message
//   segmentd_publisher_replay_ring_messages          messages the replay ring holds
//   segmentd_publisher_replay_ring_first_seq         oldest seq a resume can start from (0: empty)
//
// The hub already counts in atomics: sample_from() reads them at scrape time.
//
// Threads: sample_from() from any thread; the sampler runs on the scraping thread.

#include <mutex>

#include <cstdint>
#include <functional>
#include "absl/base/thread_annotations.h"

#include "service/metrics/metrics.h"

namespace segmentd {

//! What the publisher reports at each scrape. Counters are monotonic totals.
struct PublisherSample {
  std::uint64_t subscribers = 0;
  std::uint64_t connections = 0;
  std::int64_t queued_bytes = 0;
  std::uint64_t slow_consumer_closes = 0;
  std::uint64_t catch_ups = 0;
  std::uint64_t rejected_connections = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t snapshots = 0;  //!< subscriptions started with a snapshot
  std::uint64_t replays = 0;    //!< subscriptions resumed from the replay ring
  std::uint64_t messages_published = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t ring_first_seq = 0;
  std::uint64_t ring_size = 0;
};

class PublisherProbe {
 public:
  explicit PublisherProbe(Metrics& metrics);
  PublisherProbe(const PublisherProbe&) = delete;
  PublisherProbe& operator=(const PublisherProbe&) = delete;

  void sample_from(std::function<PublisherSample()> sampler);

 private:
  void collect();

  prometheus::Gauge& subscribers_;
  prometheus::Gauge& connections_;
  prometheus::Gauge& queued_bytes_;
  prometheus::Gauge& last_seq_;
  prometheus::Gauge& ring_messages_;
  prometheus::Gauge& ring_first_seq_;
  CounterExport slow_closes_, catch_ups_, rejected_, auth_failures_, snapshots_, replays_, messages_;
  std::mutex mu_;
  std::function<PublisherSample()> sampler_ ABSL_GUARDED_BY(mu_);
  Metrics::HookHandle hook_;
};

//! What the JetStream sink reports at each scrape ([jetstream], protocol/publisher/publisher.md):
//   segmentd_jetstream_connected                 1 while the stream acknowledges, else 0
//   segmentd_jetstream_messages_total            messages the stream acknowledged
//   segmentd_jetstream_published_seq             seq of the last acknowledged message
//   segmentd_jetstream_failed_rounds_total       rounds of publishes sent again (no ack in time,
//                                                an error, the stream missing)
//   segmentd_jetstream_gap_messages_total        seqs that left the replay ring before they could
//                                                be sent: the stream lacks them
//   segmentd_jetstream_skipped_messages_total    seqs the stream already held at start
//   segmentd_jetstream_queued_bytes              delivered by the hub, not sent yet
struct JetStreamSample {
  bool connected = false;
  std::uint64_t messages = 0;
  std::uint64_t published_seq = 0;
  std::uint64_t failed_rounds = 0;
  std::uint64_t gap_messages = 0;
  std::uint64_t skipped = 0;
  std::int64_t queued_bytes = 0;
};

class JetStreamProbe {
 public:
  explicit JetStreamProbe(Metrics& metrics);
  JetStreamProbe(const JetStreamProbe&) = delete;
  JetStreamProbe& operator=(const JetStreamProbe&) = delete;

  void sample_from(std::function<JetStreamSample()> sampler);

 private:
  void collect();

  prometheus::Gauge& connected_;
  prometheus::Gauge& published_seq_;
  prometheus::Gauge& queued_bytes_;
  CounterExport messages_, failed_rounds_, gaps_, skipped_;
  std::mutex mu_;
  std::function<JetStreamSample()> sampler_ ABSL_GUARDED_BY(mu_);
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
