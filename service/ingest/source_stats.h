#pragma once
// Counters of one source (all its connections), by kind. Written by the source's thread only,
// read by anyone (metrics probe, tests, `segmentd status`): relaxed atomics, each a plain count.

#include <array>
#include <atomic>
#include <cstdint>

#include "protocol/parse_error.h"
#include "protocol/venues/venue_adapter.h"

namespace segmentd {

struct SourceStats {
  using Counter = std::atomic<std::uint64_t>;

  Counter messages{0};                    //!< complete messages (frames, lines) received
  Counter bytes{0};                       //!< payload bytes received
  Counter fills{0};                       //!< fills handed to the sink
  Counter prices{0};                      //!< market-data price observations handed to the sink (the price tape)
  Counter positions{0};                   //!< venue position records (and ends of snapshots) handed to the sink
  Counter position_snapshots{0};          //!< REST position snapshots read to their end (VenuePositionsFetch)
  Counter position_snapshot_failures{0};  //!< REST position calls retried: no answer, HTTP error, bad body
  Counter duplicates{0};                  //!< fills dropped as already seen (re-sent by the venue)
  Counter sink_rejected{0};               //!< fills the sink refused (full ring under the "fail" policy)
  Counter connects{0};                    //!< successful websocket handshakes (first connect and reconnects)
  Counter disconnects{0};                 //!< connections lost or closed
  Counter connect_failures{0};            //!< resolve / connect / TLS / websocket handshake failures
  Counter auth_failures{0};               //!< venue rejected our credentials (or the ingest token was bad)
  Counter subscribe_failures{0};
  Counter test_requests_answered{0};  //!< Deribit test_request → public/test
  Counter pings_sent{0};              //!< application-level pings (OKX "ping", Bybit op ping, ...)
  Counter pongs{0};
  Counter venue_errors{0};
  std::array<Counter, kParseErrorReasonCount> errors{};  //!< bad messages by reason (skipped)
  std::array<Counter, kMessageKindCount> kinds{};        //!< good messages by kind

  static void add(Counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
  static std::uint64_t get(const Counter& c) { return c.load(std::memory_order_relaxed); }
  void add_error(ParseErrorReason r) { add(errors[static_cast<int>(r)]); }
  std::uint64_t error_count(ParseErrorReason r) const { return get(errors[static_cast<int>(r)]); }
  std::uint64_t kind_count(MessageKind k) const { return get(kinds[static_cast<int>(k)]); }
  std::uint64_t error_total() const {
    std::uint64_t t = 0;
    for (const auto& c : errors) t += get(c);
    return t;
  }
};

}  // namespace segmentd
