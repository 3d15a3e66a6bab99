#include "service/config/config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "service/app/cli.h"
#include "service/config/config_reader.h"

using namespace segmentd;

TEST_CASE("config: the embedded default loads", "[config]") {
  auto c = load_config_text(embedded_default_config(), "default");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->shards.shards >= 1);
}

TEST_CASE("config: config/default.toml on disk equals the embedded default", "[config]") {
  const std::string path = std::string(SEGMENTD_SOURCE_DIR) + "/config/default.toml";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream on_disk;
  on_disk << in.rdbuf();
  // Byte for byte: the binary runs on exactly the file users read (a stale build fails here).
  CHECK(on_disk.str() == std::string(embedded_default_config()));
  auto c = load_config(path);
  INFO(c.status().message());
  REQUIRE(c.ok());
}

TEST_CASE("config: errors name file, line, key and reason", "[config]") {
  auto c = load_config_text(
      "[shards]\n"
      "count = 0\n"                    // line 2: out of range
      "ring_full_policy = \"drop\"\n"  // line 3: not an allowed value
      "ring_capacity = \"big\"\n"      // line 4: wrong type
      "colour = 1\n"                   // line 5: unknown key
      "[nonsense]\n"                   // line 6: unknown section
      "x = 1\n",
      "test.toml");
  REQUIRE_FALSE(c.ok());
  std::string msg(c.status().message());
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("test.toml:2: shards.count: must be in 1..256, got 0"));
  CHECK_THAT(msg,
             Catch::Contains("test.toml:3: shards.ring_full_policy: must be one of \"block\", \"fail\", got \"drop\""));
  CHECK_THAT(msg, Catch::Contains("test.toml:4: shards.ring_capacity: must be an integer"));
  CHECK_THAT(msg, Catch::Contains("test.toml:5: shards.colour: unknown key"));
  CHECK_THAT(msg, Catch::Contains("test.toml:6: nonsense: unknown key"));
}

TEST_CASE("config: TOML syntax errors carry the line", "[config]") {
  auto c = load_config_text("[shards]\ncount = = 3\n", "broken.toml");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::StartsWith("broken.toml:2:"));
}

TEST_CASE("config: a missing file is an error naming it", "[config]") {
  auto c = load_config("/nonexistent/segmentd.toml");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::Contains("/nonexistent/segmentd.toml"));
}

TEST_CASE("config: durations", "[config]") {
  CHECK(parse_duration_ns("250ms") == 250'000'000);
  CHECK(parse_duration_ns("10s") == 10'000'000'000);
  CHECK(parse_duration_ns("1.5h") == 5'400'000'000'000);
  CHECK(parse_duration_ns("2d") == 172'800'000'000'000);
  CHECK_FALSE(parse_duration_ns("10").has_value());
  CHECK_FALSE(parse_duration_ns("ten s").has_value());
  CHECK_FALSE(parse_duration_ns("-1s").has_value());
}

TEST_CASE("config: contract overrides", "[config]") {
  auto c = load_config_text(
      "[[contracts]]\nvenue = \"okx\"\nsymbol_prefix = \"BTC-USD-\"\ncontract_value = 100\ninverse = true\n", "c.toml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  REQUIRE(c->contracts.size() == 1);
  CHECK(c->contracts[0].venue == Venue::kOkx);
  CHECK(c->contracts[0].contract_value == 100);
  CHECK(c->contracts[0].inverse);
  auto bad = load_config_text("[[contracts]]\nvenue = \"okx\"\ncontract_value = -1\n", "c.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("contracts[].symbol_prefix: is required"));
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("contracts[].contract_value: must be in"));
}
