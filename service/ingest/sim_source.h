#pragma once
// The simulator as a live Source of the service: the embedded default of `segmentd run`, and the
// driver of the end-to-end tests. It runs a fillsim::Simulator on its own thread, paces its fills
// onto the wall clock (optionally faster than real time) and pushes them, re-resolved against the
// service's own account interner and instrument registry, into its FillSink, with the simulated
// venue's open interest of each instrument traded (sim/open_interest.h) as price records, at most
// once a second of event time per instrument. That open interest counts the fills since the
// source started (after a restart, not those a checkpoint restored).
//
// Threading: start()/stop() from the owner's thread; the emitting thread is the only one that
// touches the Simulator and calls the sink.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"
#include "service/ingest/source_stats.h"
#include "sim/open_interest.h"
#include "sim/simulator.h"

namespace fillsim {

struct SimSourceOptions {
  Config sim;            //!< the simulation (accounts, rate, seed, mix, drift, start, duration)
  double speedup = 1.0;  //!< simulated seconds per wall-clock second; <= 0: as fast as possible
  std::string name = "simulator";
};

class SimSource final : public segmentd::Source {
 public:
  SimSource(SimSourceOptions options, segmentd::AccountInterner& accounts, segmentd::InstrumentRegistry& instruments,
            segmentd::FillSink& sink);
  ~SimSource() override;

  std::string_view name() const override { return options_.name; }
  absl::Status start() override;
  void stop() override;
  bool finished() const override { return finished_.load(std::memory_order_acquire); }
  const segmentd::SourceStats& stats() const override { return stats_; }
  //! The event time of the last fill pushed (i64): a restart starts the simulated clock just
  //! after it, so event time never runs backwards across a restart. The same seed keeps every
  //! account's archetype; the fills after the restart are a new stretch of the same market.
  void save_position(std::string& out) const override;
  absl::Status check_position(std::string_view bytes) const override;
  absl::Status restore_position(std::string_view bytes) override;

  //! Ground truth (archetype of every account, in the service's account ids). After finished()
  //! or stop(): the simulator's thread has ended.
  std::vector<std::pair<segmentd::AccountId, TruthRow>> truth() const;
  //! Event time of the last fill emitted (any thread).
  std::int64_t event_ns() const { return event_ns_.load(std::memory_order_relaxed); }

 private:
  void run();

  SimSourceOptions options_;
  segmentd::AccountInterner& accounts_;
  segmentd::InstrumentRegistry& instruments_;
  segmentd::FillSink& sink_;
  std::unique_ptr<Simulator> sim_;
  std::vector<segmentd::AccountId> account_ids_;        //!< sim account → service id (0xFFFFFFFF unseen)
  std::vector<segmentd::InstrumentId> instrument_ids_;  //!< sim instrument → service id
  std::vector<segmentd::UnderlyingId> underlying_ids_;  //!< sim instrument → service underlying
  OpenInterestTracker open_interest_;                   //!< the simulated venue's, per sim instrument
  std::vector<std::int64_t> next_open_interest_ns_;     //!< per sim instrument: when its next is pushed
  static constexpr std::int64_t kOpenInterestEveryNs = 1'000'000'000;
  segmentd::SourceStats stats_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<std::int64_t> event_ns_{0};
  std::int64_t resume_after_ns_ = 0;  //!< restore_position: start the clock after this
  std::thread thread_;
};

}  // namespace fillsim
