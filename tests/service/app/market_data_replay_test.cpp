// Market data in `segmentd replay` (issue 20, item 4): native price records put the market's
// prices on the tape, and markouts are priced by them instead of by the next fill. The values
// below are worked out by hand from core/features.md (#15): m = 10⁴·side·(P′ − P)/P, feature =
// sign(m)·log1p(|m|), P′ = the tape's price at the first tick at or after t + 10 s.
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

std::string price_line(std::int64_t ms, double mark) {
  std::ostringstream s;
  s << R"({"record":"price","ts_ns":)" << kT0 + ms * kMs
    << R"(,"venue":"deribit","symbol":"BTC-PERPETUAL","mark_price":)" << mark << "}\n";
  return s.str();
}

std::string fill_line(std::int64_t ms, const char* account, const char* side, double price) {
  std::ostringstream s;
  s << R"({"ts_ns":)" << kT0 + ms * kMs << R"(,"venue":"deribit","account":")" << account
    << R"(","symbol":"BTC-PERPETUAL","side":")" << side << R"(","qty":1,"price":)" << price
    << R"(,"liquidity":"taker"})"
    << "\n";
  return s.str();
}

//! The model's markout_bps of `account` in a replay's --out file (the first "features" object).
double markout_of(const std::string& out, const std::string& account) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("\"account\":\"" + account + "\"") == std::string::npos) continue;
    const auto at = line.find("\"markout_bps\":");
    REQUIRE(at != std::string::npos);
    return std::strtod(line.c_str() + at + 14, nullptr);
  }
  FAIL("no line for " << account);
  return 0;
}

struct Run {
  ReplaySummary summary;
  std::string out;
};

Run replay(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string input = (dir / ("segmentd_md_" + name + ".ndjson")).string();
  std::ofstream(input) << text;
  auto config = load_config_text("", "test.toml");
  REQUIRE(config.ok());
  ReplayOptions ro;
  ro.input = input;
  ro.output = (dir / ("segmentd_md_" + name + ".out.jsonl")).string();
  std::ostringstream log;
  auto summary = run_replay(*config, ro, log);
  INFO(log.str());
  REQUIRE(summary.ok());
  Run r{*summary, ""};
  std::ifstream in(ro.output);
  r.out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(input);
  std::filesystem::remove(ro.output);
  return r;
}

double feature(double m_bps) { return std::copysign(std::log1p(std::abs(m_bps)), m_bps); }

}  // namespace

TEST_CASE("replay: price records price the markouts, not the next fill", "[replay][market_data]") {
  // a buys at 100,000 at +0.5 s; b sells at 100,500 at +9.5 s; the mark is 101,000 from +10 s.
  // a's markout is due at +10.5 s and resolves at the tick of +11 s: the mark (101,000) is the
  // newest price there. b's is due at +19.5 s, resolves at +20 s: the mark of +19.9 s (100,000)
  // holds against c's print of +19.95 s (99,000), 50 ms newer, within the hold (markout_tick, 1 s).
  std::string with_md = price_line(0, 100000) + fill_line(500, "a", "buy", 100000) +
                        fill_line(9500, "b", "sell", 100500) + price_line(10000, 101000) + price_line(11000, 101000) +
                        price_line(19900, 100000) + fill_line(19950, "c", "buy", 99000) + price_line(20000, 100000) +
                        price_line(25000, 100000);
  const Run md = replay("with", with_md);
  CHECK(md.summary.fills == 3);
  CHECK(md.summary.prices == 6);
  CHECK(md.summary.markouts_priced[2] == 2);  // market data
  CHECK(md.summary.markouts_priced[0] + md.summary.markouts_priced[1] == 0);
  CHECK(markout_of(md.out, "a") == Approx(feature(1e4 * (101000.0 - 100000.0) / 100000.0)).epsilon(1e-12));
  CHECK(markout_of(md.out, "b") == Approx(feature(-1e4 * (100000.0 - 100500.0) / 100500.0)).epsilon(1e-12));
  CHECK(markout_of(md.out, "c") == 0.0);  // due at +29.95 s, after the last line: pending

  // The same fills alone: a's markout is priced by b's print (another account's fill), b's by c's.
  const Run fills_only =
      replay("without", fill_line(500, "a", "buy", 100000) + fill_line(9500, "b", "sell", 100500) +
                            fill_line(19950, "c", "buy", 99000) + fill_line(25000, "c", "buy", 99000));
  CHECK(fills_only.summary.prices == 0);
  CHECK(fills_only.summary.markouts_priced[1] == 2);  // another account's fill
  CHECK(fills_only.summary.markouts_priced[2] == 0);
  CHECK(markout_of(fills_only.out, "a") == Approx(feature(1e4 * (100500.0 - 100000.0) / 100000.0)).epsilon(1e-12));
  CHECK(markout_of(fills_only.out, "b") == Approx(feature(-1e4 * (99000.0 - 100500.0) / 100500.0)).epsilon(1e-12));
}

TEST_CASE("replay: stale market data gives way to a newer fill print", "[replay][market_data]") {
  // The last mark is at +2 s; b's print at +9.5 s is 7.5 s newer, beyond the 1 s hold: it prices a.
  const Run r = replay("stale", price_line(0, 100000) + fill_line(500, "a", "buy", 100000) + price_line(2000, 100200) +
                                    fill_line(9500, "b", "sell", 100300) + fill_line(12000, "b", "sell", 100300));
  CHECK(r.summary.markouts_priced[1] == 1);
  CHECK(r.summary.markouts_priced[2] == 0);
  CHECK(markout_of(r.out, "a") == Approx(feature(1e4 * (100300.0 - 100000.0) / 100000.0)).epsilon(1e-12));
}

TEST_CASE("replay: a price record too far in the future is refused and moves nothing", "[replay][market_data]") {
  // 10 days ahead of the file's event time (max_ahead 1 h by default): refused, counted as a bad
  // line; the tape keeps the mark of +10 s, which prices a's markout.
  const Run r =
      replay("future", price_line(0, 100000) + fill_line(500, "a", "buy", 100000) + price_line(10000, 101000) +
                           price_line(864'000'000, 1) + price_line(12000, 101000));
  CHECK(r.summary.prices == 3);
  CHECK(r.summary.errors.total() == 1);
  CHECK(r.summary.markouts_priced[2] == 1);
  CHECK(markout_of(r.out, "a") == Approx(feature(100.0)).epsilon(1e-12));
}
