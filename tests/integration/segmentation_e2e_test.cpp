// End to end: the venue simulator's fills → segmentd replay (parser, shards, features, clusterer,
// hysteresis) → segments, compared with the simulator's ground truth (issue 5, DESIGN.md §7:
// ARI ≥ 0.9 against the archetypes; drifted accounts re-segmented within 2 half-lives).

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "service/app/replay.h"
#include "service/config/config.h"
#include "sim/simulator.h"
#include "sim/truth.h"
#include "tools/precision_report/precision.h"

namespace {

struct Run {
  precision::Report report;
  segmentd::ReplaySummary replay;
};

Run simulate_and_replay(const fillsim::Config& c, const std::string& tag) {
  const std::string dir = std::string(SEGMENTD_BINARY_DIR) + "/e2e_" + tag;
  std::filesystem::create_directories(dir);
  const std::string fills = dir + "/fills.ndjson", truth = dir + "/truth.csv";
  {
    fillsim::Simulator sim(c);
    std::FILE* f = std::fopen(fills.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::string buf;
    fillsim::SimFill sf;
    while (sim.next(&sf)) fillsim::append_native_line(buf, sf);
    std::fwrite(buf.data(), 1, buf.size(), f);
    std::fclose(f);
    REQUIRE(fillsim::write_truth_csv(sim, truth).ok());
  }
  auto t = fillsim::read_truth_csv(truth);
  REQUIRE(t.ok());
  auto config = segmentd::load_config(std::string(SEGMENTD_SOURCE_DIR) + "/config/default.toml");
  REQUIRE(config.ok());
  segmentd::ReplayOptions ro;
  ro.input = fills;
  ro.output = dir + "/accounts.ndjson";
  ro.keep_changes = true;
  std::ostringstream log;
  auto replay = segmentd::run_replay(*config, ro, log);
  INFO(log.str());
  REQUIRE(replay.ok());
  CHECK(replay->errors.total() == 0);
  Run run{precision::evaluate(*replay, *t, config->features.params.half_life_ns), *replay};
  std::ostringstream report;
  segmentd::print_summary(run.replay, report);
  precision::print(run.report, report);
  WARN(report.str());  // the figures, in the test log
  std::filesystem::remove_all(dir);
  return run;
}

}  // namespace

TEST_CASE(
    "e2e: segments recover the simulator's archetypes (ARI goal 0.95 met, churn a regression bound 1.2 %/h, goal 1 "
    "%/h)",
    "[e2e]") {
  fillsim::Config c;
  c.seed = 11;
  c.accounts = 1500;
  c.rate = 25;  // fills per simulated second: ~360 fills per account over the run
  // 6 h: the first hours are warm-up and the restarts' reorganisation; the report's churn is over
  // the second half (hours 3-6), the steady state the goal is about.
  c.duration_s = 6 * 3600;
  Run run = simulate_and_replay(c, "archetypes");
  REQUIRE(run.replay.model);
  REQUIRE(run.replay.model->ready());
  CHECK(run.report.accounts > 1400);
  // Issue 5's goals: ARI >= 0.9 and churn < 1 %/h. Measured (release, seed 11): ARI 0.992, purity
  // 0.994, churn 0.78 %/h. Churn is asserted with a little room (builds with other flags, e.g. the
  // sanitizers' -O1, may round differently); bench/README.md "Segmentation" has the figures.
  CHECK(run.report.ari >= 0.95);
  CHECK(run.report.purity >= 0.95);
  CHECK(run.report.churn_per_hour < 0.012);
}

TEST_CASE(
    "e2e: drift regression bounds (45 % re-segmented within 2 half-lives, ARI 0.88), below the goals of 100 % and 0.9",
    "[e2e]") {
  fillsim::Config c;
  c.seed = 12;
  c.accounts = 1500;
  c.rate = 25;
  c.duration_s = 5 * 3600;
  c.drift.push_back({2 * 3600.0, 0.1});  // 10 % of accounts switch archetype after 2 h
  Run run = simulate_and_replay(c, "drift");
  REQUIRE(run.report.drifted > 50);
  // Issue 5's goal is every drifted account re-segmented within 2 half-lives; measured: 83 of
  // 150 (median 2163 s, half-life 3600 s). Switches into a smaller-notional archetype (anything
  // → perp gambler or lottery buyer) are the ones that lag: the features are notional-weighted
  // decayed sums, so a retail flow needs log2(old/new notional rate) half-lives to outweigh the
  // old one. A regression bound until the goal is met.
  CHECK(run.report.resegmented_within_2_half_lives >= run.report.drifted * 45 / 100);
  CHECK(run.report.ari >= 0.88);
  // The breakdown by the archetype switched into adds up to the totals, and shows the lag where
  // the features put it: switches into a larger-notional archetype follow (measured: into market
  // maker 12 of 12, into vol arb 20 of 20), switches into perp gambler do not (1 of 34).
  std::size_t switched = 0, within = 0;
  for (const auto& d : run.report.drift_by_new_archetype) {
    switched += d.switched;
    within += d.within_2_half_lives;
    if (d.into == "market_maker" || d.into == "vol_arb") CHECK(d.within_2_half_lives * 10 >= d.switched * 9);
  }
  CHECK(switched == run.report.drifted);
  CHECK(within == run.report.resegmented_within_2_half_lives);
}
