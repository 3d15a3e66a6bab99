#pragma once
// Metrics of a source of kind "nats" (service/ingest/nats_source.h), one set per source:
//   segmentd_nats_source_pending_messages{source}  messages the stream holds for the consumer
//                                                  after the last one read (its lag; 0 once it
//                                                  reads at the stream's end)
//   segmentd_nats_source_read_seq{source}          stream sequence of the last message read
//   segmentd_nats_source_acked_seq{source}         stream sequence acknowledged to the server
//                                                  (after the checkpoint that holds it)
//   segmentd_nats_source_behind{source}            1 while the source has not reached the end of
//                                                  the stream, or has lost the server
//
// Why: pending that grows is a consumer falling behind its producers; read − acked that grows
// is checkpoints not landing (the server keeps those messages for the next start).
// Messages, fills, bad messages and duplicates are in segmentd_ingest_* like every source's.
//
// Threads: sample_from() from any thread; the sampler runs on the scraping thread.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "service/metrics/metrics.h"

namespace segmentd {

struct NatsSourceSample {
  std::uint64_t pending = 0;
  std::uint64_t read_seq = 0;
  std::uint64_t acked_seq = 0;
  bool behind = false;
};

class NatsSourceProbe {
 public:
  NatsSourceProbe(Metrics& metrics, const std::string& source);
  NatsSourceProbe(const NatsSourceProbe&) = delete;
  NatsSourceProbe& operator=(const NatsSourceProbe&) = delete;

  void sample_from(std::function<NatsSourceSample()> sampler);

 private:
  void collect();

  prometheus::Gauge& pending_;
  prometheus::Gauge& read_seq_;
  prometheus::Gauge& acked_seq_;
  prometheus::Gauge& behind_;
  std::mutex mu_;
  std::function<NatsSourceSample()> sampler_ ABSL_GUARDED_BY(mu_);
  Metrics::HookHandle hook_;
};

}  // namespace segmentd
