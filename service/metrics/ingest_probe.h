#pragma once
// Metrics of one source (a venue connection, the ingest websocket, a replay file, NATS):
//   segmentd_ingest_messages_total{source,venue}        complete messages received
//   segmentd_ingest_bytes_total{source,venue}           payload bytes received
//   segmentd_ingest_fills_total{source,venue}           fills handed to the shards
//   segmentd_ingest_parse_errors_total{source,venue,reason}  messages skipped, by ParseErrorReason
//   segmentd_ingest_reconnects_total{source,venue}      connections re-established after a loss
//   segmentd_ingest_duplicates_total{source,venue}      fills dropped as already seen (re-sent)
//   segmentd_ingest_auth_failures_total{source,venue}   credentials refused (ours by a venue, or a
//                                                       feed's token by the ingest server)
//   segmentd_ingest_source_connected{source,venue}      1 while connected
//   segmentd_ingest_source_lag_seconds{source,venue}    histogram: venue timestamp → receive
//   segmentd_ingest_last_message_timestamp_seconds{source,venue}  wall clock of the last scrape
//                                                       that saw new messages (0: none yet)
//
// Two ways to feed it, which add up: call record_*() on the source's thread, or hand
// sample_from() a function returning the counters the source already keeps (it runs at scrape
// time, costing the hot path nothing).
//
// Threads: record_*() from the source's thread (any thread is safe; one writer keeps the cache
// lines private). The probe must outlive neither its Metrics nor what its sampler reads.

#include <mutex>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include "absl/base/thread_annotations.h"

#include "protocol/parse_error.h"
#include "service/metrics/metrics.h"

namespace segmentd {

//! Counters a source keeps itself, read at scrape. All monotonic except `connected`.
struct IngestSample {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t fills = 0;
  std::uint64_t prices = 0;                      //!< SourceStats::prices
  std::uint64_t positions = 0;                   //!< SourceStats::positions
  std::uint64_t position_snapshots = 0;          //!< SourceStats::position_snapshots
  std::uint64_t position_snapshot_failures = 0;  //!< SourceStats::position_snapshot_failures
  std::uint64_t reconnects = 0;
  std::uint64_t duplicates = 0;     //!< SourceStats::duplicates
  std::uint64_t auth_failures = 0;  //!< SourceStats::auth_failures
  std::array<std::uint64_t, kParseErrorReasonCount> parse_errors{};
  bool connected = false;
};

class IngestProbe {
 public:
  IngestProbe(Metrics& metrics, const std::string& source, const std::string& venue);
  IngestProbe(const IngestProbe&) = delete;
  IngestProbe& operator=(const IngestProbe&) = delete;

  //! One message of `bytes` bytes that produced `fills` fills.
  void record_message(std::size_t bytes, std::size_t fills) {
    messages_.add();
    bytes_.add(bytes);
    if (fills > 0) fills_.add(fills);
  }
  void record_parse_error(ParseErrorReason reason) { parse_errors_[static_cast<int>(reason)].add(); }
  void record_reconnect() { reconnects_.add(); }
  void record_connected(bool connected) { connected_.store(connected, std::memory_order_relaxed); }
  //! Once per message (its first fill is enough): venue time → our receive time, both ns since
  //! the epoch. A venue clock ahead of ours counts as 0.
  void record_lag(std::int64_t venue_ts_ns, std::int64_t receive_ts_ns) {
    lag_.record(receive_ts_ns > venue_ts_ns ? receive_ts_ns - venue_ts_ns : 0);
  }

  //! Reads the source's own counters at every scrape (replaces a previous sampler).
  void sample_from(std::function<IngestSample()> sampler);

 private:
  void collect();

  HotCounter messages_, bytes_, fills_, reconnects_;
  std::array<HotCounter, kParseErrorReasonCount> parse_errors_;
  HotHistogram lag_;
  std::atomic<bool> connected_{false};

  // Scrape side (collect hook only).
  std::mutex sampler_mu_;
  std::function<IngestSample()> sampler_ ABSL_GUARDED_BY(sampler_mu_);
  std::uint64_t last_messages_ = 0;
  CounterExport messages_out_, bytes_out_, fills_out_, prices_out_, positions_out_, position_snapshots_out_,
      position_snapshot_failures_out_, reconnects_out_, duplicates_out_, auth_failures_out_;
  std::vector<CounterExport> parse_errors_out_;
  HistogramExport lag_out_;
  prometheus::Gauge& connected_gauge_;
  prometheus::Gauge& last_message_gauge_;
  Metrics::HookHandle hook_;  // last: unregistered before the members it reads go away
};

}  // namespace segmentd
