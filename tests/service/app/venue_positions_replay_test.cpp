// Venue positions in `segmentd replay` (issue 20, item 3): native position records and the end of a
// snapshot correct the book that fills alone build wrong (a service started after the account
// opened its positions, a fill missed), and the replay says how much the two disagreed.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "service/app/replay.h"
#include "service/config/config.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kT0 = 1'730'678'400'000'000'000;  // 2024-11-04T00:00:00Z
constexpr std::int64_t kMs = 1'000'000;

std::string fill_line(std::int64_t ms, const char* symbol, const char* side, double qty, double price) {
  std::ostringstream s;
  s << R"({"ts_ns":)" << kT0 + ms * kMs << R"(,"venue":"binance","account":"acct","symbol":")" << symbol
    << R"(","side":")" << side << R"(","qty":)" << qty << R"(,"price":)" << price << "}\n";
  return s.str();
}

std::string position_line(std::int64_t ms, const char* symbol, double qty, double mark) {
  std::ostringstream s;
  s << R"({"record":"position","ts_ns":)" << kT0 + ms * kMs << R"(,"venue":"binance","account":"acct","symbol":")"
    << symbol << R"(","qty":)" << qty << R"(,"mark_price":)" << mark << "}\n";
  return s.str();
}

std::string end_line(std::int64_t ms) {
  std::ostringstream s;
  s << R"({"record":"positions_end","ts_ns":)" << kT0 + ms * kMs << R"(,"venue":"binance","account":"acct"})"
    << "\n";
  return s.str();
}

//! A feature of the account in a replay's --out file (the fast clock's vector).
double feature_of(const std::string& out, const std::string& name) {
  const auto at = out.find("\"features_fast\":{");
  REQUIRE(at != std::string::npos);
  const auto f = out.find("\"" + name + "\":", at);
  REQUIRE(f != std::string::npos);
  return std::strtod(out.c_str() + f + name.size() + 3, nullptr);
}

struct Run {
  ReplaySummary summary;
  std::string out;
  std::string log;
};

Run replay(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string input = (dir / ("segmentd_pos_" + name + ".ndjson")).string();
  std::ofstream(input) << text;
  auto config = load_config_text("", "test.toml");
  REQUIRE(config.ok());
  ReplayOptions ro;
  ro.input = input;
  ro.output = (dir / ("segmentd_pos_" + name + ".out.jsonl")).string();
  std::ostringstream log;
  auto summary = run_replay(*config, ro, log);
  INFO(log.str());
  REQUIRE(summary.ok());
  Run r{*summary, "", log.str()};
  std::ifstream in(ro.output);
  r.out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(input);
  std::filesystem::remove(ro.output);
  return r;
}

}  // namespace

TEST_CASE("replay: a positions snapshot corrects the book the fills built", "[replay][positions]") {
  // The account held 2 BTC long and 30 ETH short before the file starts. The file sees a buy of
  // 1 BTC and a sell of 10 ETH (which reads as a hedger: long BTC, short ETH), then the venue's
  // snapshot: 3 BTC long, ETH flat (closed by trades the file missed).
  const std::string fills_only =
      fill_line(0, "BTCUSDT", "buy", 1, 100000) + fill_line(500, "ETHUSDT", "sell", 10, 3000);
  const std::string with_snapshot = fills_only + position_line(1000, "BTCUSDT", 3, 100000) + end_line(1000) +
                                    fill_line(5000, "BTCUSDT", "sell", 0.5, 100000);

  const Run before = replay("fills", fills_only);
  // Fills alone: gross 100k + 30k, net 70k: delta_neutrality 1 − 70/130.
  CHECK(std::expm1(feature_of(before.out, "exposure")) == Approx(130000).epsilon(1e-9));
  CHECK(feature_of(before.out, "delta_neutrality") == Approx(1 - 70.0 / 130.0).epsilon(1e-9));

  const Run after = replay("snapshot", with_snapshot);
  CHECK(after.summary.fills == 3);
  CHECK(after.summary.positions == 2);
  // The venue's word, then the sell of 0.5: 2.5 BTC long, nothing else.
  CHECK(std::expm1(feature_of(after.out, "exposure")) == Approx(250000).epsilon(1e-9));
  CHECK(feature_of(after.out, "delta_neutrality") == 0.0);
  const ReconcileStats& r = after.summary.reconcile;
  CHECK(r.records == 2);  // BTC stated, ETH closed by the snapshot
  CHECK(r.snapshots == 1);
  CHECK(r.closed_by_snapshot == 1);
  CHECK(r.checked == 2);
  CHECK(r.disagreements == 2);
  // BTC: the fills said 1, the venue 3 (2 × 100k); ETH: −10 against 0 (10 × 3k).
  CHECK(r.disagreement_usd == Approx(2 * 100000 + 10 * 3000));
  std::ostringstream printed;
  print_summary(after.summary, printed);
  CHECK_THAT(printed.str(), Catch::Contains("2 compared, 2 disagreed with the fills (230000.00 USD)"));
}
