#pragma once
// kind = "ingest": the websocket endpoint internal feeds push fills to (docs/architecture.md, "Data flow"). Native
// NDJSON fills (protocol/native_format.h), one or many lines per frame.
//
//   - Auth at the upgrade: "Authorization: Bearer <token>", compared in constant time; anything
//     else gets HTTP 401 and the connection is closed. Each failure is logged (source, peer
//     address and whether a token was presented; never the token) and counted (auth_failures).
//   - A bad line is counted by reason and skipped; the connection stays up.
//   - Text and binary frames are read alike: a binary frame is taken as the same UTF-8 NDJSON
//     text (feeds that cannot choose the frame type work unchanged). A TEXT frame that is not
//     valid UTF-8 is closed with 1007, as RFC 6455 requires; its lines are lost with the
//     connection, so it counts one malformed_json error and logs a warning. Invalid UTF-8 in a
//     binary frame fails its line's JSON parse and counts like any malformed line.
//   - A frame larger than max_frame_bytes is read in pieces and discarded as it arrives (memory
//     stays bounded), counted as oversized, and answered with an error frame
//     {"error":"oversized","max_frame_bytes":N}; the connection stays up.
//
// Event time (why: one line stamped a day ahead would move every feature's and the model's clock
// there): each fill's ts_ns passes the source's EventTimeGuard (core/event_time_guard.h, keys
// [event_time]); before the source's first fill the reference is the wall clock. A fill too far
// ahead is skipped, counted as error reason "future_time" and logged (rate-limited) with the
// peer; the connection stays up. A feed whose whole stream moved forward is followed after
// jump_confirm such fills in a row (logged).
//
// Connections (why: a listener whose slots silent sockets can take locks the real feed out):
//   - A connection that has not authenticated waits in a ConnectionGate
//     (service/base/connection_gate.h): at most max_connections wait, at most 16 from one
//     address; a newer one displaces the oldest waiting one. It has handshake_timeout to send
//     its upgrade.
//   - max_connections counts authenticated connections only; one more is answered HTTP 503
//     "too many connections" after its authentication, then closed.
//
// De-duplication (why: a feed that re-sends after a reconnect, or a producer that retries, must
// not count a fill twice): the source remembers the keys of its last kDedupWindow (65,536) fills
// over all its connections, and a fill whose key it has seen is dropped and counted
// (SourceStats::duplicates). The key is the fill's venue, account and side with
//   - its trade_id, when the line has one (protocol/README.md): the same trade id is the same fill;
//   - else its whole content: ts_ns, venue_ts_ns, symbol, qty and price. Two fills without a
//     trade_id equal in all of these are taken for one re-sent fill; a feed that can produce two
//     such distinct fills (two partial fills at the same nanosecond, size and price) must send
//     trade_id.
//   The window is a count, not a time: at 65,536 fills it reaches back 65,536 fills, whatever
//   their age. It is the source's checkpoint position (save_position): after a restart, a fill
//   the feed re-sends that was in the checkpoint is still dropped. The key and the fill's push
//   are one sink unit, so a cut never holds one without the other.
//
// Threading: one EventLoop thread (this source's producer thread) runs the listener and every
// session, each on its own strand; the line parser, the de-duplication window and the stats are
// used from that thread only.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "service/config/source_config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"
#include "service/net/event_loop.h"

namespace segmentd {

class IngestServer final : public Source {
 public:
  //! Fills remembered for de-duplication (the header's "De-duplication").
  static constexpr std::size_t kDedupWindow = std::size_t{1} << 16;

  IngestServer(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments, FillSink& sink);
  ~IngestServer() override;

  std::string_view name() const override { return config_.name; }
  //! Loads the token (and TLS files), binds and starts accepting.
  absl::Status start() override;
  void stop() override;
  const SourceStats& stats() const override { return stats_; }
  //! The de-duplication window (keys, oldest first): a restart keeps dropping what the feed
  //! re-sends. Checkpointer's thread, the sink paused (Source::save_position).
  void save_position(std::string& out) const override;
  //! Before start(): the window to start with. An error names the source and what is wrong.
  absl::Status check_position(std::string_view bytes) const override;
  absl::Status restore_position(std::string_view bytes) override;

  //! The bound port (useful with port 0); 0 before start().
  std::uint16_t port() const { return port_.load(std::memory_order_acquire); }
  //! Authenticated sessions open now; any thread.
  std::uint64_t open_sessions() const { return open_sessions_.load(std::memory_order_relaxed); }

  struct State;  //!< shared with the sessions (ingest_server.cpp)

 private:
  void do_accept();

  SourceConfig config_;
  AccountInterner& accounts_;
  InstrumentRegistry& instruments_;
  FillSink& sink_;
  SourceStats stats_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::uint64_t> open_sessions_{0};
  EventLoop loop_;
  std::shared_ptr<State> state_;
  std::vector<std::uint64_t> restored_window_;  //!< restore_position → start()
  bool stopped_ = false;
};

}  // namespace segmentd
