// Pipeline checkpoints taken while a source pushes (the cut's handshake), and a second
// pipeline that restores the last one: every account exactly as the first left it.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "service/app/pipeline.h"
#include "service/config/config.h"
#include "service/state/checkpointer.h"

using namespace segmentd;

namespace {

std::string tmp(const std::string& name) {
  return std::string(SEGMENTD_BINARY_DIR) + "/pipeline_checkpoint_test_" + name;
}

Config config_for(const std::string& input, const std::string& state) {
  std::string text = R"(
[shards]
count = 2
[publisher]
enabled = false
[admin]
enabled = false
[clusterer]
min_accounts = 50
batch_interval = "1ms"
[checkpoint]
dir = ")" + state + R"("
interval = "5ms"
[[sources]]
name = "file"
kind = "replay"
path = ")" + input + "\"\n";
  auto c = load_config_text(text, "<test>");
  REQUIRE(c.ok());
  return *c;
}

std::map<std::string, std::uint64_t> fills_by_account(Pipeline& p, int accounts) {
  std::map<std::string, std::uint64_t> out;
  for (int a = 0; a < accounts; ++a) {
    const std::string name = "acct-" + std::to_string(a);
    if (auto v = p.account_view(name)) out[name] = v->fills;
  }
  return out;
}

void wait_finished(Pipeline& p) {
  for (int i = 0; i < 2000 && !p.sources_finished(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(p.sources_finished());
}

}  // namespace

TEST_CASE("pipeline: checkpoints taken during ingest restore every account exactly", "[checkpoint][tsan]") {
  constexpr int kAccounts = 120;
  constexpr int kFills = 30000;
  const std::string input = tmp("fills.ndjson");
  const std::string state = tmp("state");
  std::filesystem::remove_all(state);
  {
    std::ofstream out(input, std::ios::binary);
    for (int i = 0; i < kFills; ++i)
      out << "{\"ts_ns\":" << (1700000000000000000LL + i * 20000000LL) << ",\"venue\":\"binance\",\"account\":\"acct-"
          << (i * 7919 % kAccounts) << "\",\"symbol\":\"" << (i % 3 ? "BTCUSDT" : "ETHUSDT") << "\",\"side\":\""
          << (i % 3 ? "buy" : "sell") << "\",\"qty\":0." << (i % 9 + 1) << ",\"price\":" << (60000 + i % 100)
          << ".25,\"trade_id\":" << (i + 1) << "}\n";
  }
  std::map<std::string, std::uint64_t> before;
  std::uint64_t checkpoints = 0;
  {
    Pipeline p(config_for(input, state), nullptr);
    REQUIRE(p.start().ok());
    // Requests on top of the 5 ms interval: cuts while the replay source pushes at full speed.
    for (int i = 0; i < 5; ++i) {
      CheckpointResult r = p.checkpointer()->request().get();
      CHECK(r.ok);
    }
    wait_finished(p);
    p.stop();  // the last checkpoint, after the source stopped
    before = fills_by_account(p, kAccounts);
    checkpoints = p.checkpointer()->writes();
  }
  CHECK(checkpoints >= 6);
  std::uint64_t total = 0;
  for (const auto& [name, n] : before) total += n;
  REQUIRE(total == kFills);

  // A second pipeline on the same directory: the replay source resumes at the end of its file, so
  // it adds nothing, and every account is what the first one left.
  Pipeline q(config_for(input, state), nullptr);
  REQUIRE(q.start().ok());
  CHECK_FALSE(q.restored_from().empty());
  wait_finished(q);
  CHECK(fills_by_account(q, kAccounts) == before);
  CHECK(q.summary().fills == kFills);
  q.stop();
  std::filesystem::remove_all(state);
  std::remove(input.c_str());
}

TEST_CASE("pipeline: a corrupt newest checkpoint falls back to the one before", "[checkpoint][tsan]") {
  const std::string input = tmp("fills2.ndjson");
  const std::string state = tmp("state2");
  std::filesystem::remove_all(state);
  {
    std::ofstream out(input, std::ios::binary);
    for (int i = 0; i < 2000; ++i)
      out << "{\"ts_ns\":" << (1700000000000000000LL + i * 1000000LL) << ",\"venue\":\"binance\",\"account\":\"acct-"
          << (i % 10) << "\",\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"qty\":1,\"price\":60000}\n";
  }
  {
    Pipeline p(config_for(input, state), nullptr);
    REQUIRE(p.start().ok());
    wait_finished(p);
    REQUIRE(p.checkpointer()->request().get().ok);
    p.stop();
  }
  CheckpointDirectory dir(state, 3);
  auto files = dir.list();
  REQUIRE(files.size() >= 2);
  {
    std::fstream f(files[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(200);
    const char c = static_cast<char>(f.get());
    f.seekp(200);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  Pipeline q(config_for(input, state), nullptr);
  REQUIRE(q.start().ok());
  CHECK(q.restored_from() == files[1].path);
  q.stop();
  std::filesystem::remove_all(state);
  std::remove(input.c_str());
}
