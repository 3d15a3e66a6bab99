#pragma once
// The segmentation precision report (issue 5): how well segments recover the simulator's trader
// archetypes, how stable they are, and how fast drifted accounts are re-segmented.
//
//   purity, adjusted Rand index, normalized mutual information — final segment of every
//     assigned account against its archetype at the end of the run;
//   churn per hour — segment moves per account per hour of event time over the second half of
//     the run, not counting first assignments nor the moves of drifted accounts after their
//     switch (those are wanted);
//   re-segmentation time — for each account whose archetype switched, the event time from the
//     switch to its first move into a segment whose majority archetype is the new one.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "service/app/replay.h"
#include "sim/truth.h"

namespace precision {

struct SegmentRow {
  segmentd::SegmentId id = segmentd::kNoSegment;
  std::string label;
  std::size_t accounts = 0;
  std::string majority;  //!< archetype most of its accounts have at the end
  double majority_share = 0.0;
};

struct Report {
  std::size_t accounts = 0;    //!< accounts with a truth row and a final segment
  std::size_t unassigned = 0;  //!< accounts with a truth row but no segment
  double purity = 0.0;
  double ari = 0.0;
  double nmi = 0.0;
  double churn_per_hour = 0.0;  //!< share of accounts moving per hour (0.01 = 1 %)
  std::size_t drifted = 0;      //!< accounts whose archetype switched during the run
  std::size_t resegmented = 0;  //!< ... and that moved to their new archetype's segment
  double reseg_median_s = 0.0;  //!< event-time seconds from switch to the move
  double reseg_p90_s = 0.0;
  double half_life_s = 0.0;  //!< the features' half-life, for reading the times above
  std::size_t resegmented_within_2_half_lives = 0;
  double hours = 0.0;  //!< event-time span of the run
  //! The churn's moves by the moving account's archetype (same window and exclusions as churn).
  std::vector<std::pair<std::string, std::size_t>> moves_by_archetype;
  //! Drifted accounts by the archetype they switched into: how many, and how many of those were
  //! re-segmented within 2 half-lives (which switches the features follow, and which they do not).
  struct DriftRow {
    std::string into;
    std::size_t switched = 0;
    std::size_t within_2_half_lives = 0;
  };
  std::vector<DriftRow> drift_by_new_archetype;
  std::vector<SegmentRow> segments;
};

Report evaluate(const segmentd::ReplaySummary& replay, const std::vector<fillsim::TruthEntry>& truth,
                std::int64_t half_life_ns);
void print(const Report& r, std::ostream& out);

}  // namespace precision
