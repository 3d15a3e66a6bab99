#pragma once
// `segmentd replay`: the deterministic batch path. Reads a native NDJSON file, routes every fill
// through the same shards the live service uses, and writes one line per account, sorted by
// account name with its feature vector in raw units. The same input and config give
// byte-identical output, whatever the shard count (markouts resolve behind a barrier).

#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/model.h"
#include "protocol/parse_error.h"
#include "service/config.h"

namespace segmentd {

struct ReplayOptions {
  std::string input;
  std::string output;          //!< "-" = stdout
  std::string model_output;    //!< the final model as JSON; "" = not written
  std::size_t max_errors_shown = 20;  //!< bad lines printed to `log`; all are counted
};

struct ReplaySummary {
  std::uint64_t lines = 0;
  std::uint64_t fills = 0;
  std::uint64_t accounts = 0;
  double notional_usd = 0.0;
  ParseErrorCounts errors;
  double seconds = 0.0;
  std::uint64_t changes = 0;   //!< segment changes (first assignments included)
  std::uint64_t batches = 0;   //!< clusterer mini-batches
  ModelPtr model;              //!< the final model
};

//! Runs a replay. Bad lines are reported to `log` with their line number and counted.
absl::StatusOr<ReplaySummary> run_replay(const Config& config, const ReplayOptions& options, std::ostream& log);

void print_summary(const ReplaySummary& s, std::ostream& out);

}  // namespace segmentd
