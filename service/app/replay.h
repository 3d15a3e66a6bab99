#pragma once
// `segmentd replay`: the deterministic batch path. Reads a native NDJSON file, routes every fill
// through the same shards the live service uses, and writes one line per account, sorted by
// account name with its feature vector in raw units. The same input and config give
// byte-identical output, whatever the shard count (markouts resolve behind a barrier).

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/position_reconciler.h"
#include "core/segment_change.h"
#include "protocol/parse_error.h"
#include "service/config/config.h"

namespace segmentd {

struct ReplayOptions {
  std::string input;
  std::string output;                 //!< "-" = stdout
  std::string model_output;           //!< the final model as JSON; "" = not written
  bool keep_changes = false;          //!< fill ReplaySummary::change_log and assignments (precision report)
  std::size_t max_errors_shown = 20;  //!< bad lines printed to `log`; all are counted
  //! Durable replay: "" = none. Otherwise a checkpoint is written there every
  //! `checkpoint_interval_ns` of wall time (at the first barrier after it) and at the end, and a
  //! replay that finds one for the same input and config resumes from it: killed at any point and
  //! run again with the same arguments, it writes exactly what an uninterrupted run writes.
  std::string checkpoint_dir;
  std::int64_t checkpoint_interval_ns = 30'000'000'000;
  int checkpoint_keep = 3;
};

struct ReplaySummary {
  std::uint64_t lines = 0;
  std::uint64_t fills = 0;
  std::uint64_t prices = 0;  //!< price records (market data) put on the tape
  std::uint64_t accounts = 0;
  double notional_usd = 0.0;
  ParseErrorCounts errors;
  double seconds = 0.0;
  std::uint64_t changes = 0;  //!< segment changes (first assignments included)
  std::uint64_t batches = 0;  //!< clusterer mini-batches
  ModelPtr model;             //!< the final model
  std::int64_t first_ns = 0;  //!< event time of the first and last fill
  std::int64_t last_ns = 0;
  std::string resumed_from;       //!< the checkpoint this run continued ("" = from the start)
  std::uint64_t checkpoints = 0;  //!< written by this run
  //! Markouts this run resolved, by who set the price (AccountShard::markouts_priced): the
  //! account's own fill, another account's fill, market data.
  std::array<std::uint64_t, 3> markouts_priced{};
  std::uint64_t positions = 0;  //!< venue position records and ends of snapshots read
  ReconcileStats reconcile;     //!< what they did, summed over the shards (PositionReconciler)
  // With ReplayOptions::keep_changes:
  std::vector<SegmentChange> change_log;                       //!< every change, in barrier order
  std::vector<std::pair<std::string, SegmentId>> assignments;  //!< final segment per account, by name
  std::vector<std::string> account_names;                      //!< by AccountId (names in change_log)
};

//! Runs a replay. Bad lines are reported to `log` with their line number and counted.
absl::StatusOr<ReplaySummary> run_replay(const Config& config, const ReplayOptions& options, std::ostream& log);

void print_summary(const ReplaySummary& s, std::ostream& out);

}  // namespace segmentd
