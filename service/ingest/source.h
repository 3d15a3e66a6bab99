#pragma once
// A source of fills (docs/architecture.md, "Data flow"): a venue's private streams, the internal ingest websocket,
// a replay file, the simulator. Every source runs on its own thread (an I/O thread for the
// websocket ones) and pushes what it decodes into its FillSink, which the service binds to the
// source's own ShardSet producer index. Sources own their connections; the service owns sources.
//
//   auto source = make_source(config, {&accounts, &instruments, &sink});
//   source->start();  ...  source->stop();
//
// Threading: start(), stop(), name(), stats() and finished() may be called from any thread (the
// owner's, typically); stop() is idempotent and, once it returns, the source pushes no more.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "service/ingest/source_stats.h"

namespace segmentd {

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  //! Starts the source's thread. Fails (and starts nothing) when credentials or files are missing.
  virtual absl::Status start() = 0;
  virtual void stop() = 0;
  //! A finite source (replay, a bounded simulation) read everything; live sources never finish.
  virtual bool finished() const { return false; }
  //! The source knows it has not read all there is yet (a stream's backlog, the rest of a file,
  //! or a server it cannot reach that holds what comes next): its fills so far are the past, and
  //! what it has not pushed yet is in time after them. The shards' idle clock then waits for it
  //! (Pipeline::idle_clock): markouts due later resolve only once their prices have come. Any
  //! thread.
  virtual bool behind() const { return false; }
  virtual const SourceStats& stats() const = 0;

  // Durable state (core/checkpoint.md). A checkpoint stores each source's resume position as
  // opaque bytes under its name; a restart hands them back before start().
  //  - save_position() is called by the checkpointer while the source's FillSink is paused at a
  //    unit boundary (service/ingest/fill_sink.h): every fill pushed before is in the cut, none
  //    after. It runs on the checkpointer's thread; the source keeps what it writes here
  //    up to date inside its units only, so that the pause orders the accesses.
  //  - restore_position() is called once, before start(), with what save_position wrote.
  //    An error names what is wrong; the service then refuses that checkpoint.
  //  A source with nothing to resume keeps the defaults. (The ingest feed's peers push, so its
  //  position is only its de-duplication window: what they re-send after a restart is dropped.)
  virtual void save_position(std::string& out) const { out.clear(); }
  //! Whether restore_position(bytes) would succeed, with no effect: a checkpoint is checked
  //! whole before any of it is applied (never a half-loaded state).
  virtual absl::Status check_position(std::string_view bytes) const {
    (void)bytes;
    return absl::OkStatus();
  }
  virtual absl::Status restore_position(std::string_view bytes) {
    (void)bytes;
    return absl::OkStatus();
  }
  //! The checkpoint that holds what save_position() last wrote is durable on disk (fsync'd and
  //! renamed). Called on the checkpointer's thread, after each successful write, including the
  //! one at shutdown (after stop()). A source whose upstream keeps messages until they are
  //! acknowledged (kind "nats") acknowledges here what that checkpoint holds, and no earlier.
  virtual void checkpoint_committed() {}
  //! Whether the service writes checkpoints at all (called once, before start()). Without them a
  //! source that acknowledges upstream does so as soon as it has pushed a message's fills.
  virtual void set_checkpointed(bool checkpointed) { (void)checkpointed; }
};

}  // namespace segmentd
