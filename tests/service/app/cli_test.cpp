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
