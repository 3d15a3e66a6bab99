#pragma once
// kind = "ingest": the websocket endpoint internal feeds push fills to (docs/architecture.md, "Data flow"). Native
// NDJSON fills (protocol/native_format.h) in text frames, one or many lines per frame.
//
//   - Auth at the upgrade: "Authorization: Bearer <token>", compared in constant time; anything
//     else gets HTTP 401 and the connection is closed.
//   - A bad line is counted by reason and skipped; the connection stays up.
//   - A frame larger than max_frame_bytes is read in pieces and discarded as it arrives (memory
//     stays bounded), counted as oversized, and answered with an error frame
//     {"error":"oversized","max_frame_bytes":N}; the connection stays up.
//   - At most max_connections sessions; more are refused with HTTP 503.
//
// Threading: one EventLoop thread (this source's producer thread) runs the listener and every
// session, each on its own strand; the line parser and the stats are used from that thread only.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "service/config/source_config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"
#include "service/net/event_loop.h"

namespace segmentd {

class IngestServer final : public Source {
 public:
  IngestServer(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments, FillSink& sink);
  ~IngestServer() override;

  std::string_view name() const override { return config_.name; }
  //! Loads the token (and TLS files), binds and starts accepting.
  absl::Status start() override;
  void stop() override;
  const SourceStats& stats() const override { return stats_; }

  //! The bound port (useful with port 0); 0 before start().
  std::uint16_t port() const { return port_.load(std::memory_order_acquire); }
  //! Sessions open now; any thread.
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
  bool stopped_ = false;
};

}  // namespace segmentd
