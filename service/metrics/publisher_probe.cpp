#include "service/metrics/publisher_probe.h"

namespace segmentd {
namespace {

prometheus::Gauge& gauge(Metrics& m, const std::string& name, const std::string& help) {
  return gauge_family(m, name, help).Add({});
}
prometheus::Counter& counter(Metrics& m, const std::string& name, const std::string& help,
                             const prometheus::Labels& labels = {}) {
  return counter_family(m, name, help).Add(labels);
}

}  // namespace

PublisherProbe::PublisherProbe(Metrics& m)
    : subscribers_(gauge(m, "segmentd_publisher_subscribers", "Websocket sessions attached with a subscription.")),
      connections_(gauge(m, "segmentd_publisher_connections", "Open publisher websocket connections.")),
      queued_bytes_(gauge(m, "segmentd_publisher_queued_bytes", "Bytes waiting in the send queues of all sessions.")),
      last_seq_(gauge(m, "segmentd_publisher_last_seq", "Sequence number of the last published message.")),
      ring_messages_(gauge(m, "segmentd_publisher_replay_ring_messages", "Messages held by the replay ring.")),
      ring_first_seq_(gauge(m, "segmentd_publisher_replay_ring_first_seq",
                            "Oldest sequence number a resume can start from (0 when the ring is empty).")),
      slow_closes_(counter(m, "segmentd_publisher_slow_consumer_closes_total",
                           "Sessions closed with 1008 slow consumer because their queue passed its byte limit.")),
      catch_ups_(counter(m, "segmentd_publisher_catch_ups_total",
                         "Subscriber queues past queue_limit_bytes that went on reading the replay ring.")),
      rejected_(counter(m, "segmentd_publisher_rejected_connections_total",
                        "Connections refused because max_connections were open.")),
      auth_failures_(
          counter(m, "segmentd_publisher_auth_failures_total", "Upgrades refused for a missing or bad token.")),
      snapshots_(counter(m, "segmentd_publisher_subscriptions_total", "Subscriptions by how they started.",
                         {{"start", "snapshot"}})),
      replays_(counter(m, "segmentd_publisher_subscriptions_total", "Subscriptions by how they started.",
                       {{"start", "replay"}})),
      messages_(counter(m, "segmentd_publisher_messages_total", "Segment change and model messages published.")),
      hook_(m.on_collect([this] { collect(); })) {}

void PublisherProbe::sample_from(std::function<PublisherSample()> sampler) {
  std::lock_guard<std::mutex> lock(mu_);
  sampler_ = std::move(sampler);
}

void PublisherProbe::collect() {
  PublisherSample s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sampler_) return;
    s = sampler_();
  }
  subscribers_.Set(static_cast<double>(s.subscribers));
  connections_.Set(static_cast<double>(s.connections));
  queued_bytes_.Set(static_cast<double>(s.queued_bytes));
  last_seq_.Set(static_cast<double>(s.last_seq));
  ring_messages_.Set(static_cast<double>(s.ring_size));
  ring_first_seq_.Set(static_cast<double>(s.ring_first_seq));
  slow_closes_.sync(s.slow_consumer_closes);
  catch_ups_.sync(s.catch_ups);
  rejected_.sync(s.rejected_connections);
  auth_failures_.sync(s.auth_failures);
  snapshots_.sync(s.snapshots);
  replays_.sync(s.replays);
  messages_.sync(s.messages_published);
}

JetStreamProbe::JetStreamProbe(Metrics& m)
    : connected_(gauge(m, "segmentd_jetstream_connected",
                       "1 while the JetStream stream acknowledges the changes sent to it, else 0.")),
      published_seq_(gauge(m, "segmentd_jetstream_published_seq",
                           "Publisher seq of the last message the JetStream stream acknowledged.")),
      queued_bytes_(gauge(m, "segmentd_jetstream_queued_bytes", "Published messages waiting to be sent to JetStream.")),
      messages_(counter(m, "segmentd_jetstream_messages_total", "Messages the JetStream stream acknowledged.")),
      failed_rounds_(counter(m, "segmentd_jetstream_failed_rounds_total",
                             "Rounds of publishes sent again: no ack in time, an error, or the stream missing.")),
      gaps_(counter(m, "segmentd_jetstream_gap_messages_total",
                    "Messages that left the replay ring before they could be sent: the stream lacks them.")),
      skipped_(counter(m, "segmentd_jetstream_skipped_messages_total",
                       "Messages the stream already held when the sink started (not sent again).")),
      hook_(m.on_collect([this] { collect(); })) {}

void JetStreamProbe::sample_from(std::function<JetStreamSample()> sampler) {
  std::lock_guard<std::mutex> lock(mu_);
  sampler_ = std::move(sampler);
}

void JetStreamProbe::collect() {
  JetStreamSample s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sampler_) return;
    s = sampler_();
  }
  connected_.Set(s.connected ? 1.0 : 0.0);
  published_seq_.Set(static_cast<double>(s.published_seq));
  queued_bytes_.Set(static_cast<double>(s.queued_bytes));
  messages_.sync(s.messages);
  failed_rounds_.sync(s.failed_rounds);
  gaps_.sync(s.gap_messages);
  skipped_.sync(s.skipped);
}

}  // namespace segmentd
