#pragma once
// kind = "nats": fills from a NATS JetStream stream (config/README.md, "[[sources]]"; DESIGN §6).
// Producers publish native NDJSON (protocol/native_format.h), one fill or a batch of lines per
// message, to subjects such as segmentd.fills.<partition>; the source reads them through a
// durable pull consumer (filter `subject`), in stream order, one message per unit
// (FillSink::begin_unit): a checkpoint holds a message's fills wholly or not at all, with the
// stream sequence after it.
//
// Acknowledgement follows the checkpoints. The consumer acknowledges by position (AckAll): when a
// checkpoint is durable (Source::checkpoint_committed), the last message it holds is acked, and
// with it everything before. A restart therefore re-reads exactly what the checkpoint lacks: the
// source recreates its consumer to start right after the checkpoint's stream sequence, so the
// final state equals that of a run that never stopped. Without checkpoints ([checkpoint] enabled
// = false) each fetched batch is acked once its fills are pushed.
//
// Order is strict. A message the server sends again (its AckWait passed before a checkpoint
// acked it) has a stream sequence the source has passed: it is dropped and counted (duplicates).
// A message lost on the way (the consumer sequence jumps: a reconnect, a server restart) makes
// the source recreate its consumer at the next stream sequence it lacks, rather than read past
// it. A bad message (no valid line, larger than max_message_bytes) is counted by reason, logged,
// and terminated (+TERM): never redelivered.
//
//   NatsSource source(config, accounts, instruments, sink);
//   source.set_checkpointed(true);
//   source.start();  ...  source.stop();  // then the last checkpoint, checkpoint_committed()
//
// Threads: the source's own (connect, fetch, decode, push); save_position(), checkpoint_committed()
// on the checkpointer's (see Source); start/stop from the owner's.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/account_interner.h"
#include "core/event_time_guard.h"
#include "core/instrument_registry.h"
#include "service/config/source_config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"

namespace segmentd {

class NatsSource final : public Source {
 public:
  NatsSource(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments, FillSink& sink);
  ~NatsSource() override;  //!< stop(), then closes the connection

  std::string_view name() const override { return config_.name; }
  absl::Status start() override;
  //! Stops fetching and joins the thread. The connection stays open until destruction, so that
  //! the shutdown checkpoint's acknowledgement still reaches the server.
  void stop() override;
  const SourceStats& stats() const override { return stats_; }
  //! The stream sequence of the last message in the cut (u64), then the event-time guard's
  //! state (watermark, candidate time: i64; candidates: u32), then the stream's name.
  void save_position(std::string& out) const override;
  absl::Status check_position(std::string_view bytes) const override;
  absl::Status restore_position(std::string_view bytes) override;
  void checkpoint_committed() override;
  void set_checkpointed(bool checkpointed) override { checkpointed_ = checkpointed; }
  //! Until a fetch finds the consumer at the end of the stream, and again whenever the server or
  //! the consumer is lost: the stream holds what comes next.
  bool behind() const override { return behind_.load(std::memory_order_relaxed); }

  //! For tests and status: the stream sequence of the last message read, and of the last one
  //! acknowledged to the server.
  std::uint64_t read_seq() const { return read_seq_.load(std::memory_order_relaxed); }
  std::uint64_t acked_seq() const { return acked_seq_.load(std::memory_order_relaxed); }
  //! Messages the stream holds for the consumer after the last one read (0 at the end).
  std::uint64_t pending() const { return pending_.load(std::memory_order_relaxed); }

 private:
  struct Nats;
  void run();
  bool prepare();
  void teardown_subscription();
  //! Handles one fetched message; false when the consumer must be recreated (a lost message).
  bool handle(void* msg);
  void ack(const std::string& reply, std::uint64_t seq, std::uint64_t generation);
  bool wait_for_stop(std::int64_t ns);

  SourceConfig config_;
  AccountInterner& accounts_;
  InstrumentRegistry& instruments_;
  FillSink& sink_;
  SourceStats stats_;
  bool checkpointed_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::unique_ptr<Nats> nats_;

  // Written inside units only (save_position reads them while the source is paused).
  std::uint64_t last_seq_ = 0;         //!< stream sequence of the last message applied (or restored)
  std::string last_reply_;             //!< its ack subject ("" when restored: not this consumer's)
  std::uint64_t last_generation_ = 0;  //!< the consumer (re)creation its reply belongs to
  EventTimeGuard clock_;
  // The source's thread only.
  std::uint64_t last_consumer_seq_ = 0;  //!< of the current consumer; 0 right after it is made
  std::uint64_t generation_ = 0;         //!< consumer (re)creations so far
  std::string last_failure_;             //!< logged once per kind in a row
  bool restored_ = false;

  // The cut of the checkpoint being written (save_position → checkpoint_committed, serialized
  // by the checkpointer).
  mutable std::uint64_t cut_seq_ = 0;
  mutable std::string cut_reply_;
  mutable std::uint64_t cut_generation_ = 0;

  std::mutex ack_mu_;  //!< acks from the checkpointer's thread and the source's
  std::atomic<bool> behind_{true};
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<std::uint64_t> read_seq_{0};
  std::atomic<std::uint64_t> acked_seq_{0};
  std::atomic<std::uint64_t> current_generation_{0};  //!< generation_, for the checkpointer's thread
};

}  // namespace segmentd
