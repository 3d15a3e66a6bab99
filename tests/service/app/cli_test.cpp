#include "service/app/cli.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace segmentd;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tmp(const std::string& name) { return std::string(SEGMENTD_BINARY_DIR) + "/cli_test_" + name; }

int cli(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
  std::ostringstream o, e;
  int rc = run_cli(args, o, e);
  if (out) *out = o.str();
  if (err) *err = e.str();
  return rc;
}

}  // namespace

TEST_CASE("cli: --help lists the subcommands", "[cli]") {
  std::string out;
  REQUIRE(cli({"--help"}, &out) == 0);
  CHECK_THAT(out, Catch::Contains("run"));
  CHECK_THAT(out, Catch::Contains("replay"));
  CHECK_THAT(out, Catch::Contains("check-config"));
}

TEST_CASE("cli: unknown commands and options are usage errors", "[cli]") {
  std::string err;
  CHECK(cli({"frobnicate"}, nullptr, &err) == 2);
  CHECK_THAT(err, Catch::Contains("unknown command"));
  CHECK(cli({"replay", "--input", "x", "--bogus", "1"}, nullptr, &err) == 2);
  CHECK_THAT(err, Catch::Contains("--bogus"));
  CHECK(cli({"replay"}, nullptr, &err) == 2);
}

TEST_CASE("cli: a bad config file exits 2 and names file, line, key", "[cli]") {
  std::string cfg = tmp("bad.toml");
  std::ofstream(cfg) << "[shards]\ncount = \"two\"\n";
  std::string err;
  CHECK(cli({"check-config", "--config", cfg}, nullptr, &err) == 2);
  CHECK_THAT(err, Catch::Contains(cfg + ":2: shards.count: must be an integer"));
  std::remove(cfg.c_str());
}

TEST_CASE("cli: check-config refuses what run would refuse, exit 2 with file, line, key", "[cli]") {
  std::string err, out;
  // A directory as the config file.
  CHECK(cli({"check-config", "--config", std::string(SEGMENTD_BINARY_DIR)}, &out, &err) == 2);
  CHECK_THAT(err, Catch::Contains("is a directory, not a file"));
  CHECK(out.empty());
  // A token file that does not exist, and a listen port out of range.
  std::string cfg = tmp("refs.toml");
  std::ofstream(cfg) << "[[sources]]\nkind = \"ingest\"\ntoken_file = \"" << tmp("no-such-token")
                     << "\"\nlisten = \"127.0.0.1:99999\"\n";
  CHECK(cli({"check-config", "--config", cfg}, &out, &err) == 2);
  CHECK_THAT(err, Catch::Contains(cfg + ":3: sources[0].token_file: cannot open"));
  CHECK_THAT(err, Catch::Contains(cfg + ":4: sources[0].listen: must be host:port"));
  // And run says the same, before it starts anything.
  CHECK(cli({"run", "--config", cfg}, &out, &err) == 2);
  CHECK_THAT(err, Catch::Contains(cfg + ":3: sources[0].token_file: cannot open"));
  std::remove(cfg.c_str());
}

TEST_CASE("cli: replay is byte-identical across runs and shard counts, bad lines reported", "[cli][replay]") {
  std::string input = tmp("in.ndjson");
  {
    std::ofstream out(input, std::ios::binary);
    // 20 accounts, 4000 fills, one malformed line in the middle (line 2001).
    for (int i = 0; i < 4000; ++i) {
      if (i == 2000) out << "{\"ts_ns\": oops}\n";
      out << "{\"ts_ns\":" << (1700000000000000000LL + i * 1000000LL) << ",\"venue\":\"binance\",\"account\":\"acct-"
          << (i * 7919 % 20) << "\",\"symbol\":\"BTCUSDT\",\"side\":\"" << (i % 3 ? "buy" : "sell") << "\",\"qty\":0."
          << (i % 9 + 1) << ",\"price\":" << (60000 + i % 100) << ".25}\n";
    }
  }
  std::string cfg1 = tmp("s1.toml"), cfg4 = tmp("s4.toml");
  std::ofstream(cfg1) << "[shards]\ncount = 1\n";
  std::ofstream(cfg4) << "[shards]\ncount = 4\n";
  std::string err;
  REQUIRE(cli({"replay", "--input", input, "--config", cfg1, "--out", tmp("o1")}, nullptr, &err) == 0);
  CHECK_THAT(err, Catch::Contains(input + ":2001: skipped (malformed_json)"));
  CHECK_THAT(err, Catch::Contains("4000 fills"));
  REQUIRE(cli({"replay", "--input", input, "--config", cfg4, "--out", tmp("o4")}) == 0);
  REQUIRE(cli({"replay", "--input", input, "--config", cfg4, "--out", tmp("o4b")}) == 0);
  std::string a = slurp(tmp("o1")), b = slurp(tmp("o4")), c = slurp(tmp("o4b"));
  CHECK(!a.empty());
  CHECK(std::count(a.begin(), a.end(), '\n') == 20);
  CHECK(a == b);
  CHECK(b == c);
  for (auto f : {input, cfg1, cfg4, tmp("o1"), tmp("o4"), tmp("o4b")}) std::remove(f.c_str());
}

namespace {

//! A replay input where a model forms: 60 accounts of three kinds, 40 fills each, one second of
//! event time apart. `extra(i, out)` may write lines before fill i.
template <class Extra>
void write_population(const std::string& path, Extra extra, std::int64_t shift_from = -1, std::int64_t shift_ns = 0) {
  std::ofstream out(path, std::ios::binary);
  const std::int64_t t0 = 1733011200000000000LL;  // 2024-12-01
  for (int i = 0; i < 2400; ++i) {
    extra(i, out);
    const int a = i % 60;
    const std::int64_t ts = t0 + i * 1000000000LL + (shift_from >= 0 && i >= shift_from ? shift_ns : 0);
    const char* side = a % 3 == 1 ? "buy" : (i / 60) % 2 ? "sell" : "buy";
    out << "{\"ts_ns\":" << ts << ",\"venue\":\"binance\",\"account\":\"acct-" << a
        << "\",\"symbol\":\"BTCUSDT\",\"side\":\"" << side << "\",\"liquidity\":\"" << (a % 3 == 0 ? "maker" : "taker")
        << "\",\"qty\":" << (a % 3 == 2 ? 5 : 0.1) << ",\"price\":95000.5}\n";
  }
}

std::string future_line(std::int64_t ts) {
  return "{\"ts_ns\":" + std::to_string(ts) +
         ",\"venue\":\"binance\",\"account\":\"acct-7\",\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"qty\":1,\"price\":"
         "95000.5}\n";
}

//! Each test its own file: ctest runs the test cases of this file in parallel, and one that
//! removed a shared config at its end made another's replay exit 2 (a config it could not open).
std::string replay_config(const std::string& name) {
  std::string cfg = tmp(name + ".toml");
  std::ofstream(cfg) << "[clusterer]\nk = 3\nmin_accounts = 30\nmin_fills = 5\n";
  return cfg;
}

}  // namespace

TEST_CASE("cli: replay refuses fills stamped far in the future, and the model goes on as if they were absent",
          "[cli][replay][event_time]") {
  // The hostile-input report: one fill +1 h, +1 day, in 2030 or in 2200, mid-file, dropped every
  // segment's weight to 0 and stopped the model; one such line halved the mini-batches.
  const std::string cfg = replay_config("future");
  const std::string clean = tmp("clean.ndjson"), hostile = tmp("hostile.ndjson");
  write_population(clean, [](int, std::ofstream&) {});
  const std::int64_t t_mid = 1733011200000000000LL + 1200 * 1000000000LL;
  write_population(hostile, [&](int i, std::ofstream& out) {
    if (i == 1200) out << future_line(t_mid + 3600LL * 1000000000LL);   // +1 h
    if (i == 1300) out << future_line(t_mid + 86400LL * 1000000000LL);  // +1 day
    if (i == 1400) out << future_line(1893456000000000000LL);           // 2030
    if (i == 1500) out << future_line(7258118400000000000LL);           // 2200
  });
  std::string err_clean, err_hostile;
  REQUIRE(
      cli({"replay", "--input", clean, "--config", cfg, "--out", tmp("clean.out"), "--model-out", tmp("clean.model")},
          nullptr, &err_clean) == 0);
  REQUIRE(cli({"replay", "--input", hostile, "--config", cfg, "--out", tmp("hostile.out"), "--model-out",
               tmp("hostile.model")},
              nullptr, &err_hostile) == 0);
  INFO(err_hostile);
  CHECK_THAT(err_clean, Catch::Contains("2400 fills"));
  CHECK_THAT(err_hostile, Catch::Contains("2400 fills"));
  CHECK_THAT(err_hostile, Catch::Contains("4 bad lines"));
  CHECK_THAT(err_hostile, Catch::Contains("bad lines, future_time: 4"));
  CHECK_THAT(err_hostile, Catch::Contains(hostile + ":1201: skipped (future_time): ts_ns "));
  CHECK_THAT(err_hostile, Catch::Contains(hostile + ":1504: skipped (future_time)"));
  // Same accounts, features, segments and model as the file without those lines.
  const std::string model = slurp(tmp("clean.model"));
  CHECK(model.find("\"version\"") != std::string::npos);
  CHECK(slurp(tmp("hostile.out")) == slurp(tmp("clean.out")));
  CHECK(slurp(tmp("hostile.model")) == model);
  for (auto f : {clean, hostile, tmp("clean.out"), tmp("hostile.out"), tmp("clean.model"), tmp("hostile.model")})
    std::remove(f.c_str());
}

TEST_CASE("cli: replay follows a stream whose event time jumps forward once the jump is confirmed",
          "[cli][replay][event_time]") {
  // From fill 1200 on, every timestamp is a day later (a feed that resumed after an outage):
  // jump_confirm - 1 fills are refused, the rest are taken at their new time.
  const std::string cfg = replay_config("jump");
  const std::string in = tmp("jump.ndjson");
  write_population(
      in, [](int, std::ofstream&) {}, 1200, 86400LL * 1000000000LL);
  std::string err, out_text;
  REQUIRE(cli({"replay", "--input", in, "--config", cfg, "--out", tmp("jump.out"), "--model-out", tmp("jump.model")},
              nullptr, &err) == 0);
  INFO(err);
  CHECK_THAT(err, Catch::Contains("bad lines, future_time: 31"));
  CHECK_THAT(err, Catch::Contains(in + ":1232: event time jumped forward"));
  CHECK_THAT(err, Catch::Contains("2369 fills"));
  // The model's clock followed the jump: its event time is a day after the file's start.
  out_text = slurp(tmp("jump.model"));
  const std::size_t at = out_text.find("\"ts\":");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoll(out_text.substr(at + 5, 19)) >= 1733011200000000000LL + 86400LL * 1000000000LL);
  for (auto f : {in, tmp("jump.out"), tmp("jump.model"), cfg}) std::remove(f.c_str());
}
