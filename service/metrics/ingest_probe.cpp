#include "service/metrics/ingest_probe.h"

#include <chrono>

namespace segmentd {
namespace {

prometheus::Labels labels_of(const std::string& source, const std::string& venue) {
  return {{"source", source}, {"venue", venue}};
}

std::vector<CounterExport> parse_error_counters(Metrics& m, const std::string& source, const std::string& venue) {
  auto& family = counter_family(m, "segmentd_ingest_parse_errors_total",
                                "Messages skipped because they could not be parsed, by reason.");
  std::vector<CounterExport> out;
  for (int r = 0; r < kParseErrorReasonCount; ++r) {
    prometheus::Labels l = labels_of(source, venue);
    l["reason"] = std::string(to_string(static_cast<ParseErrorReason>(r)));
    out.emplace_back(family.Add(l));  // every reason from the start: rate() sees the first error
  }
  return out;
}

}  // namespace

IngestProbe::IngestProbe(Metrics& m, const std::string& source, const std::string& venue)
    : lag_(lag_buckets_seconds(), 1e-9),
      messages_out_(counter_family(m, "segmentd_ingest_messages_total", "Complete messages received from the source.")
                        .Add(labels_of(source, venue))),
      bytes_out_(counter_family(m, "segmentd_ingest_bytes_total", "Payload bytes received from the source.")
                     .Add(labels_of(source, venue))),
      fills_out_(counter_family(m, "segmentd_ingest_fills_total", "Fills decoded from the source and routed to shards.")
                     .Add(labels_of(source, venue))),
      prices_out_(counter_family(m, "segmentd_ingest_prices_total",
                                 "Market-data prices (trade, mark, index) from the source put on the price tape.")
                      .Add(labels_of(source, venue))),
      positions_out_(counter_family(m, "segmentd_ingest_positions_total",
                                    "Venue position records (and ends of position snapshots) from the source, "
                                    "routed to the accounts' shards.")
                         .Add(labels_of(source, venue))),
      position_snapshots_out_(counter_family(m, "segmentd_ingest_position_snapshots_total",
                                             "Snapshots of the account positions read over the venue's REST API "
                                             "(Binance USD-M, Bybit), one per connect.")
                                  .Add(labels_of(source, venue))),
      position_snapshot_failures_out_(counter_family(m, "segmentd_ingest_position_snapshot_failures_total",
                                                     "REST position-snapshot calls that failed and were retried: no "
                                                     "answer, an HTTP error, a rate limit, an answer refused.")
                                          .Add(labels_of(source, venue))),
      reconnects_out_(counter_family(m, "segmentd_ingest_reconnects_total",
                                     "Connections to the source re-established after a loss.")
                          .Add(labels_of(source, venue))),
      duplicates_out_(counter_family(m, "segmentd_ingest_duplicates_total",
                                     "Fills dropped because the source had already delivered them (re-sent).")
                          .Add(labels_of(source, venue))),
      auth_failures_out_(
          counter_family(m, "segmentd_ingest_auth_failures_total",
                         "Credentials refused: ours by the venue, or a feed's token by the ingest server.")
              .Add(labels_of(source, venue))),
      parse_errors_out_(parse_error_counters(m, source, venue)),
      lag_out_(lag_, histogram_family(m, "segmentd_ingest_source_lag_seconds",
                                      "Venue timestamp to receive time of messages, in seconds.")
                         .Add(labels_of(source, venue), lag_buckets_seconds())),
      connected_gauge_(gauge_family(m, "segmentd_ingest_source_connected", "1 while the source is connected.")
                           .Add(labels_of(source, venue))),
      last_message_gauge_(gauge_family(m, "segmentd_ingest_last_message_timestamp_seconds",
                                       "Wall-clock time of the last message received from the source.")
                              .Add(labels_of(source, venue))),
      hook_(m.on_collect([this] { collect(); })) {}

void IngestProbe::sample_from(std::function<IngestSample()> sampler) {
  std::lock_guard<std::mutex> lock(sampler_mu_);
  sampler_ = std::move(sampler);
}

void IngestProbe::collect() {
  IngestSample s;
  {
    std::lock_guard<std::mutex> lock(sampler_mu_);
    if (sampler_) s = sampler_();
  }
  const std::uint64_t messages = messages_.value() + s.messages;
  if (messages != last_messages_) {
    last_messages_ = messages;
    last_message_gauge_.Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  }
  messages_out_.sync(messages);
  bytes_out_.sync(bytes_.value() + s.bytes);
  fills_out_.sync(fills_.value() + s.fills);
  prices_out_.sync(s.prices);
  positions_out_.sync(s.positions);
  position_snapshots_out_.sync(s.position_snapshots);
  position_snapshot_failures_out_.sync(s.position_snapshot_failures);
  reconnects_out_.sync(reconnects_.value() + s.reconnects);
  duplicates_out_.sync(s.duplicates);
  auth_failures_out_.sync(s.auth_failures);
  for (int r = 0; r < kParseErrorReasonCount; ++r)
    parse_errors_out_[r].sync(parse_errors_[r].value() + s.parse_errors[r]);
  lag_out_.sync();
  connected_gauge_.Set(connected_.load(std::memory_order_relaxed) || s.connected ? 1.0 : 0.0);
}

}  // namespace segmentd
