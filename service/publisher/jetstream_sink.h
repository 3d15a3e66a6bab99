#pragma once
// The JetStream sink: every segment change and model message the publisher numbers also goes to
// a NATS JetStream stream, for the consumers that want a durable, replayable stream (the margin
// engine's replicas, the quoting engines, the risk desk's tools) rather than a websocket they
// must never drop. protocol/publisher/publisher.md ("JetStream") documents the subjects and
// headers; config/README.md the [jetstream] keys.
//
//   JetStreamSink sink(config.jetstream, hub);
//   sink.start();      // its thread connects, makes sure of the stream, and publishes
//   sink.stats();      // metrics, any thread
//   sink.stop();       // publishes what the hub holds (at most ack_timeout), then stops
//
// The sink is one more subscriber of the publisher's hub, with no filter. At its first
// connection it reads the seq of the stream's last message (its Nats-Msg-Id), and publishes from
// the next one: it reads the hub's replay ring up to the end, then receives every batch as the
// websocket sessions do. A restart from a checkpoint therefore republishes nothing the stream has
// and loses nothing the ring still holds; what had left the ring is counted as a gap and logged.
// Each message carries Nats-Msg-Id = its seq, so that the server drops a copy sent again within
// the stream's duplicate window (after a lost ack).
//
// A round of publishes (one batch) is acknowledged as a whole; a round not acknowledged within
// ack_timeout, or with an error, is sent again every retry_interval until it is, while the
// server is away. Batches queue meanwhile; past kQueueLimitBytes the sink stops taking them and
// reads the ring instead when the server is back, as a slow websocket session does. The sink
// never slows the hub or the pipeline.
//
// Threads: start/stop from one thread; deliver/shutdown/fell_behind from the hub (under its
// mutex: they only queue); everything else on the sink's own thread; stats() from any thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "service/config/publisher_config.h"
#include "service/publisher/publisher_hub.h"

namespace segmentd {

//! Counters for metrics (relaxed atomic reads).
struct JetStreamStats {
  bool connected = false;           //!< the stream is known and the last round was acknowledged
  std::uint64_t messages = 0;       //!< acknowledged by the server (a duplicate it dropped included)
  std::uint64_t published_seq = 0;  //!< seq of the last acknowledged message
  std::uint64_t failed_rounds = 0;  //!< rounds sent again (no ack in time, an error, or no stream)
  std::uint64_t gap_messages = 0;   //!< seqs that had left the replay ring before they could be sent
  std::uint64_t skipped = 0;        //!< seqs the stream already held at start (not sent again)
  std::int64_t queued_bytes = 0;    //!< delivered by the hub, not yet sent
};

class JetStreamSink {
 public:
  //! Past this many queued bytes (the server is away or slow), the sink reads the ring instead.
  static constexpr std::int64_t kQueueLimitBytes = 64ll << 20;

  JetStreamSink(const JetStreamConfig& config, std::shared_ptr<PublisherHub> hub);
  ~JetStreamSink();  //!< stop()
  JetStreamSink(const JetStreamSink&) = delete;
  JetStreamSink& operator=(const JetStreamSink&) = delete;

  //! Starts the sink's thread, which connects (and keeps trying every retry_interval). Fails only
  //! when the NATS library cannot be set up (a bad URL is a config error before this).
  absl::Status start();
  //! Publishes what the hub has published so far (waiting at most ack_timeout for the server),
  //! then closes the connection and joins the thread. Idempotent.
  void stop();
  JetStreamStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace segmentd
