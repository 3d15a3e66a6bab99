// The ingest websocket endpoint with a real client (segmentd's own Beast WsClient): bearer-token
// auth at the upgrade, many lines per frame, bad lines counted by reason and skipped, oversized
// frames refused with an error frame, the connection staying up through all of it.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <mutex>

#include "core/str_cat.h"
#include "protocol/venues/registry.h"
#include "service/ingest/ingest_server.h"
#include "service/net/event_loop.h"
#include "service/net/ws_client.h"
#include "sim/simulator.h"
#include "tests/integration/test_support.h"

using namespace segmentd;
using segmentd::testing::CollectingSink;
using segmentd::testing::test_certificate;
using segmentd::testing::wait_until;

namespace {

//! A feed: sends its frames once open, records what the server says and whether it was dropped.
class Feed final : public WsClientHandler {
 public:
  Feed(EventLoop& loop, WsClientOptions o, std::vector<std::string> frames)
      : frames_(std::move(frames)), client_(loop.context(), std::move(o), *this) {}
  void start() { client_.start(); }
  void stop() { client_.stop(); }

  void on_open() override {
    opened_ = true;
    for (auto& f : frames_) client_.send(f);
  }
  void on_message(std::string_view m, std::int64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.emplace_back(m);
  }
  void on_oversized(std::size_t) override {}
  void on_close(bool opened, std::string_view) override {
    if (opened)
      dropped_ = true;
    else
      refused_ = true;
  }
  std::vector<std::string> replies() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }
  std::atomic<bool> opened_{false}, dropped_{false}, refused_{false};

 private:
  std::vector<std::string> frames_;
  std::mutex mu_;
  std::vector<std::string> replies_;
  WsClient client_;
};

std::vector<std::string> native_lines(std::size_t n, std::uint64_t seed) {
  fillsim::Config c;
  c.accounts = 20;
  c.rate = 100;
  c.duration_s = 0;
  c.seed = seed;
  fillsim::Simulator sim(c);
  fillsim::SimFill f;
  std::vector<std::string> lines;
  while (lines.size() < n && sim.next(&f)) {
    std::string line;
    fillsim::append_native_line(line, f);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

SourceConfig ingest_config(bool tls) {
  ::setenv("SEGMENTD_TEST_INGEST_TOKEN", "feed-token-0123456789", 1);
  SourceConfig c;
  c.name = "ingest-test";
  c.kind = SourceKind::kIngest;
  c.listen = "127.0.0.1:0";
  c.token.env = "SEGMENTD_TEST_INGEST_TOKEN";
  c.max_frame_bytes = 16 * 1024;
  c.handshake_timeout_ns = 5'000'000'000;
  c.idle_timeout_ns = 30'000'000'000;
  if (tls) {
    c.tls_cert_file = test_certificate().cert;
    c.tls_key_file = test_certificate().key;
  }
  return c;
}

WsClientOptions feed_options(std::uint16_t port, bool tls, std::string token) {
  WsClientOptions o;
  o.url = str_cat(tls ? "wss" : "ws", "://127.0.0.1:", port, "/ingest");
  o.reconnect = false;
  o.ca_file = tls ? test_certificate().cert : "";
  o.headers.emplace_back("Authorization", "Bearer " + token);
  return o;
}

}  // namespace

TEST_CASE("ingest server takes native fills over wss and counts bad lines by reason", "[integration][ingest]") {
  REQUIRE(test_certificate().ok);
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  IngestServer server(ingest_config(true), accounts, instruments, sink);
  REQUIRE(server.start().ok());

  const auto lines = native_lines(30, 3);
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < lines.size(); i += 3)
    frames.push_back(lines[i] + "\n" + lines[i + 1] + "\n" + lines[i + 2] + "\n");
  frames.push_back(lines[0].substr(0, lines[0].size() / 2) + "\n" + lines[1]);  // a truncated line, then a good one
  std::string wrong = lines[2];
  wrong.replace(wrong.find("\"qty\":") + 6, 0, "\"x\"+");  // not valid JSON any more
  frames.push_back(wrong);
  std::string typed = lines[3];
  const auto at = typed.find("\"qty\":");
  typed.replace(at, typed.find(',', at) - at, "\"qty\":\"12\"");  // qty as a string: wrong type
  frames.push_back(typed);
  frames.push_back(std::string(20 * 1024, ' ') + lines[4]);  // > max_frame_bytes
  frames.push_back(lines[5]);                                // still up afterwards

  EventLoop loop;
  Feed feed(loop, feed_options(server.port(), true, "feed-token-0123456789"), frames);
  feed.start();
  loop.start();
  const std::size_t good = 30 + 1 + 1;
  CHECK(wait_until([&] { return sink.size() >= good && !feed.replies().empty(); }));
  CHECK(sink.size() == good);
  const SourceStats& s = server.stats();
  CHECK(s.error_count(ParseErrorReason::kMalformedJson) >= 2);
  CHECK(s.error_count(ParseErrorReason::kWrongType) == 1);
  CHECK(s.error_count(ParseErrorReason::kOversized) == 1);
  CHECK(feed.replies().front().find("oversized") != std::string::npos);
  CHECK(!feed.dropped_.load());
  CHECK(server.open_sessions() == 1);
  feed.stop();
  loop.stop();
  server.stop();
}

TEST_CASE("ingest server refuses a bad bearer token at the upgrade", "[integration][ingest]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  IngestServer server(ingest_config(false), accounts, instruments, sink);
  REQUIRE(server.start().ok());
  EventLoop loop;
  Feed feed(loop, feed_options(server.port(), false, "feed-token-0123456788"), {"{}"});
  feed.start();
  loop.start();
  CHECK(wait_until([&] { return feed.refused_.load(); }));
  CHECK(!feed.opened_.load());
  CHECK(SourceStats::get(server.stats().auth_failures) == 1);
  feed.stop();
  loop.stop();
  server.stop();
}

TEST_CASE("ingest server under concurrent feeds loses nothing", "[integration][ingest][tsan]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  IngestServer server(ingest_config(false), accounts, instruments, sink);
  REQUIRE(server.start().ok());
  constexpr int kFeeds = 4;
  constexpr std::size_t kLines = 200;
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::vector<std::unique_ptr<Feed>> feeds;
  for (int i = 0; i < kFeeds; ++i) {
    auto lines = native_lines(kLines, 100 + i);
    std::vector<std::string> frames;
    for (std::size_t k = 0; k < lines.size(); k += 10) {
      std::string frame;
      for (std::size_t j = k; j < k + 10; ++j) frame += lines[j] + "\n";
      frames.push_back(frame);
    }
    loops.push_back(std::make_unique<EventLoop>());
    feeds.push_back(
        std::make_unique<Feed>(*loops.back(), feed_options(server.port(), false, "feed-token-0123456789"), frames));
  }
  for (int i = 0; i < kFeeds; ++i) {
    feeds[i]->start();
    loops[i]->start();
  }
  CHECK(wait_until([&] { return sink.size() >= kFeeds * kLines; }));
  CHECK(sink.size() == kFeeds * kLines);
  CHECK(SourceStats::get(server.stats().fills) == kFeeds * kLines);
  CHECK(server.stats().error_total() == 0);
  for (int i = 0; i < kFeeds; ++i) {
    feeds[i]->stop();
    loops[i]->stop();
  }
  server.stop();
}
