#include "service/base/log.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "service/config/config.h"
#include "service/config/credentials.h"

using namespace segmentd;

namespace {

// A logger writing into a vector, on a clock the test moves by hand (no wall clock anywhere).
struct Captured {
  absl::Mutex mu;
  std::vector<std::string> lines;
  std::int64_t now_ns = 1'700'000'000'123'456'789;  // 2023-11-14T22:13:20.123456Z

  Logger make(LogOptions o) {
    return Logger(
        o,
        [this](std::string_view line) {
          absl::MutexLock lock(&mu);
          lines.emplace_back(line);
        },
        [this] { return now_ns; });
  }
};

constexpr std::int64_t kSecond = 1'000'000'000;

}  // namespace

TEST_CASE("log: text lines are ts level component msg key=value", "[log]") {
  Captured c;
  Logger log = c.make(LogOptions{});
  log.write(LogLevel::kWarn, "ingest", "source disconnected",
            {{"source", "deribit"}, {"attempt", 3}, {"lag_s", 0.25}, {"ok", false}, {"bytes", std::uint64_t{42}}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0] ==
        "2023-11-14T22:13:20.123456Z warn ingest \"source disconnected\" source=deribit attempt=3 lag_s=0.25 "
        "ok=false bytes=42");
}

TEST_CASE("log: JSON lines", "[log]") {
  Captured c;
  LogOptions o;
  o.format = LogFormat::kJson;
  Logger log = c.make(o);
  log.write(LogLevel::kInfo, "shard", "started", {{"shard", 1}, {"name", "a \"b\""}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0] ==
        "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"level\":\"info\",\"component\":\"shard\",\"msg\":\"started\","
        "\"shard\":1,\"name\":\"a \\\"b\\\"\"}");
}

TEST_CASE("log: a value cannot forge a line", "[log]") {
  Captured c;
  Logger log = c.make(LogOptions{});
  log.write(LogLevel::kInfo, "ingest", "bad symbol", {{"symbol", "X\n2023-01-01T00:00:00Z error fake"}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find('\n') == std::string::npos);
  CHECK_THAT(c.lines[0], Catch::Contains("symbol=\"X\\n2023"));
}

TEST_CASE("log: levels below the configured one are not written nor formatted", "[log]") {
  Captured c;
  LogOptions o;
  o.level = LogLevel::kWarn;
  Logger log = c.make(o);
  CHECK_FALSE(log.enabled(LogLevel::kInfo));
  CHECK(log.enabled(LogLevel::kError));
  log.write(LogLevel::kInfo, "x", "quiet");
  log.write(LogLevel::kError, "x", "loud");
  REQUIRE(c.lines.size() == 1);
  CHECK_THAT(c.lines[0], Catch::Contains("error x loud"));

  // The macros do not evaluate their arguments when the level is off.
  default_logger().configure(o);
  int evaluated = 0;
  auto expensive = [&] {
    ++evaluated;
    return 1;
  };
  SEGMENTD_LOG_DEBUG("x", "not evaluated", {"v", expensive()});
  CHECK(evaluated == 0);
  default_logger().configure(LogOptions{});
}

TEST_CASE("log: secrets never appear", "[log]") {
  Captured c;
  Logger log = c.make(LogOptions{});
  Secret api_secret("hunter2-api-secret");
  log.write(LogLevel::kInfo, "auth", "login",
            {{"credential", api_secret},
             {"api_key", "AKIA-visible?"},
             {"Authorization_Token", "Bearer abc.def"},
             {"password", "pw123"},
             {"signature", "deadbeef"},
             {"clientSecret", "s3"},
             {"account", "acct-7"}});
  log.configure(LogOptions{LogLevel::kInfo, LogFormat::kJson, 20, 10 * kSecond});
  log.write(LogLevel::kInfo, "auth", "login", {{"credential", api_secret}, {"token", "abc"}});
  REQUIRE(c.lines.size() == 2);
  for (const std::string& line : c.lines) {
    for (const char* s : {"hunter2", "AKIA", "abc", "pw123", "deadbeef", "s3"}) {
      INFO(line);
      CHECK(line.find(s) == std::string::npos);
    }
  }
  CHECK_THAT(c.lines[0], Catch::Contains("credential=*** api_key=*** Authorization_Token=*** password=*** "
                                         "signature=*** clientSecret=*** account=acct-7"));
  CHECK_THAT(c.lines[1], Catch::Contains("\"credential\":\"***\",\"token\":\"***\""));
  CHECK(is_sensitive_key("x_API_KEY"));
  CHECK_FALSE(is_sensitive_key("venue"));
}

TEST_CASE("log: repeats past the burst are suppressed and reported later", "[log]") {
  Captured c;
  LogOptions o;
  o.rate_limit_burst = 3;
  o.rate_limit_interval_ns = 10 * kSecond;
  Logger log = c.make(o);
  for (int i = 0; i < 10; ++i) log.write(LogLevel::kWarn, "ingest", "reconnecting", {{"attempt", i}});
  log.write(LogLevel::kWarn, "ingest", "other message");  // another key: its own budget
  REQUIRE(c.lines.size() == 4);
  CHECK(log.suppressed_total() == 7);

  // Inside the window nothing is reported yet.
  c.now_ns += 5 * kSecond;
  log.flush_suppressed();
  CHECK(c.lines.size() == 4);

  SECTION("the next line of the key, after the window, brings the summary first") {
    c.now_ns += 6 * kSecond;
    log.write(LogLevel::kWarn, "ingest", "reconnecting", {{"attempt", 10}});
    REQUIRE(c.lines.size() == 6);
    CHECK_THAT(c.lines[4], Catch::Contains("warn ingest \"suppressed 7 repeats\" of=reconnecting suppressed=7"));
    CHECK_THAT(c.lines[5], Catch::Contains("reconnecting attempt=10"));
  }
  SECTION("flush_suppressed reports a key that went quiet") {
    c.now_ns += 6 * kSecond;
    log.flush_suppressed();
    REQUIRE(c.lines.size() == 5);
    CHECK_THAT(c.lines[4], Catch::Contains("\"suppressed 7 repeats\" of=reconnecting suppressed=7"));
    log.flush_suppressed();  // reported once only
    CHECK(c.lines.size() == 5);
  }
}

TEST_CASE("log: burst 0 means no rate limit", "[log]") {
  Captured c;
  LogOptions o;
  o.rate_limit_burst = 0;
  Logger log = c.make(o);
  for (int i = 0; i < 100; ++i) log.write(LogLevel::kInfo, "x", "same");
  CHECK(c.lines.size() == 100);
}

TEST_CASE("log: options come from the [log] config section", "[log]") {
  auto config = load_config_text(
      "[log]\nlevel = \"debug\"\nformat = \"json\"\nrate_limit_burst = 5\nrate_limit_interval = \"1m\"\n", "t.toml");
  INFO(config.status().message());
  REQUIRE(config.ok());
  LogOptions o = log_options_from(config->log);
  CHECK(o.level == LogLevel::kDebug);
  CHECK(o.format == LogFormat::kJson);
  CHECK(o.rate_limit_burst == 5);
  CHECK(o.rate_limit_interval_ns == 60 * kSecond);
}

TEST_CASE("log: concurrent writers never interleave lines", "[log][tsan]") {
  Captured c;
  LogOptions o;
  o.rate_limit_burst = 0;
  Logger log = c.make(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 500; ++i) log.write(LogLevel::kInfo, "t", "line", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  absl::MutexLock lock(&c.mu);
  REQUIRE(c.lines.size() == 2000);
  for (const std::string& line : c.lines)
    CHECK_THAT(line, Catch::StartsWith("2023-11-14T22:13:20.123456Z info t line thread="));
}
