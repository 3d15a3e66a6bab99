#pragma once
// kind = "replay": a native NDJSON file (protocol/native_format.h) read on its own thread, at
// full speed, once. Bad lines are counted by reason and skipped. Fills pass the source's
// EventTimeGuard (core/event_time_guard.h; a file has no wall-clock reference: its first fill sets
// the watermark): one too far ahead is skipped, counted as "future_time" and logged with its line.

#include <atomic>
#include <thread>

#include "core/account_interner.h"
#include "core/event_time_guard.h"
#include "core/instrument_registry.h"
#include "service/config/source_config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"

namespace segmentd {

class ReplaySource final : public Source {
 public:
  ReplaySource(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments, FillSink& sink);
  ~ReplaySource() override;

  std::string_view name() const override { return config_.name; }
  absl::Status start() override;
  void stop() override;
  bool finished() const override { return finished_.load(std::memory_order_acquire); }
  bool behind() const override { return thread_started_.load(std::memory_order_acquire) && !finished(); }
  const SourceStats& stats() const override { return stats_; }
  //! The byte offset of the next line to read (u64), then the event-time guard's state
  //! (watermark, candidate time: i64; candidates: u32): a restart reads on from there and
  //! decides as the uninterrupted run would. An offset alone (older checkpoints) is accepted.
  void save_position(std::string& out) const override;
  absl::Status check_position(std::string_view bytes) const override;
  absl::Status restore_position(std::string_view bytes) override;

 private:
  void run();

  SourceConfig config_;
  AccountInterner& accounts_;
  InstrumentRegistry& instruments_;
  FillSink& sink_;
  SourceStats stats_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> thread_started_{false};
  std::thread thread_;
  std::uint64_t offset_ = 0;   //!< of the next line; written in units only (save_position reads it)
  std::uint64_t line_no_ = 0;  //!< lines read so far (for log lines; not saved: restarts count anew)
  EventTimeGuard clock_;       //!< written in units only, like offset_
};

}  // namespace segmentd
