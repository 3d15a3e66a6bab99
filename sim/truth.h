#pragma once
// Reading the ground truth CSV back (the precision report and the end-to-end tests compare
// segments against it). The writer is write_truth_csv() in simulator.h.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/archetype.h"

namespace fillsim {

struct TruthEntry {
  std::string account;
  Archetype archetype = Archetype::kMarketMaker;  //!< from the start
  std::int64_t switch_ns = 0;                     //!< 0: never switches
  Archetype new_archetype = Archetype::kMarketMaker;

  //! The account's archetype at event time ts.
  Archetype at(std::int64_t ts_ns) const { return switch_ns != 0 && ts_ns >= switch_ns ? new_archetype : archetype; }
};

//! Parses `account,archetype,switch_ts_ns,new_archetype` (header required). Errors name the line.
absl::StatusOr<std::vector<TruthEntry>> read_truth_csv(const std::string& path);
absl::StatusOr<std::vector<TruthEntry>> parse_truth_csv(const std::string& text);

}  // namespace fillsim
