// The terminal summary of `segmentd run`, the first thing a newcomer reads (issue 21, item 6): a
// policy's 0 reads "no limit", segments the label rules named alike say how they differ, and
// the moves are given over the summary's own window, never extrapolated to an hour.
#include <catch2/catch.hpp>

#include <memory>
#include <sstream>

#include "service/app/run_command.h"

using namespace segmentd;

namespace {

Segment segment(SegmentId id, const std::string& label, Feature high, double z, double raw) {
  Segment s;
  s.id = id;
  s.label = label;
  s.centroid[static_cast<std::size_t>(index(high))] = z;
  s.centroid_raw[static_cast<std::size_t>(index(high))] = raw;
  return s;
}

}  // namespace

TEST_CASE("run summary: no limit, how alike-named segments differ, and moves over the window", "[app]") {
  auto model = std::make_shared<Model>();
  model->version = 12;
  Segment neutral = segment(3, "delta-neutral", Feature::kDeltaNeutrality, 2.0, 0.97);
  neutral.centroid[static_cast<std::size_t>(index(Feature::kOptionShare))] = 1.5;
  neutral.centroid_raw[static_cast<std::size_t>(index(Feature::kOptionShare))] = 0.81;
  neutral.centroid[static_cast<std::size_t>(index(Feature::kTradeRate))] = 0.1;
  neutral.centroid_raw[static_cast<std::size_t>(index(Feature::kTradeRate))] = 1.2;
  Segment neutral2 = neutral;
  neutral2.id = 7;
  neutral2.label = "delta-neutral-2";
  neutral2.centroid[static_cast<std::size_t>(index(Feature::kTradeRate))] = 2.6;
  neutral2.centroid_raw[static_cast<std::size_t>(index(Feature::kTradeRate))] = 4.1;
  Segment quiet;
  quiet.id = 9;
  quiet.label = "retail";
  model->segments = {neutral, neutral2, quiet};

  PipelineSummary before;
  before.seconds = 50;
  before.moves = 100;
  PipelineSummary now;
  now.seconds = 60;
  now.fills = 120'000;
  now.accounts = 2'000;
  now.moves = 250;  // 150 moves in 10 s
  now.model_version = 12;
  now.model = model;
  now.segments = {{3, "delta-neutral", 700, SegmentPolicy{1.2, 2.0, 0.0}},
                  {7, "delta-neutral-2", 500, SegmentPolicy{1.2, 2.0, 250'000.0}},
                  {9, "retail", 300, SegmentPolicy{1.0, 0.0, 1'500'000.0}}};
  std::ostringstream out;
  print_pipeline_summary(now, before, out);
  const std::string text = out.str();
  INFO(text);
  CHECK_THAT(text, Catch::Contains("no limit"));
  CHECK_THAT(text, Catch::Contains("250,000 USD"));
  CHECK_THAT(text, Catch::Contains("1,500,000 USD"));
  CHECK_THAT(text, Catch::Contains("high delta_neutrality 0.97, high option_share 0.81"));
  CHECK_THAT(text, Catch::Contains("like #3 but higher trade_rate: 59.3 fills/h vs 2.32 fills/h"));
  CHECK_THAT(text, Catch::Contains("close to the population on every feature"));
  CHECK_THAT(text, Catch::Contains("in the last 10.0 s (wall clock) 150 accounts changed segment: 10.0% of the 1500"));
  CHECK_THAT(text, !Catch::Contains("of accounts/h"));  // no extrapolation to an hour

  // During warm-up: progress, not a table.
  PipelineSummary warm;
  warm.seconds = 5;
  warm.warmup_progress = 120;
  warm.warmup_target = 400;
  std::ostringstream w;
  print_pipeline_summary(warm, PipelineSummary{}, w);
  CHECK_THAT(w.str(), Catch::Contains("warming up: 120 of 400 accounts have enough fills"));
  CHECK_THAT(w.str(), !Catch::Contains("changed segment"));
}
