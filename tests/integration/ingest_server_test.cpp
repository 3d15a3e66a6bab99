// The ingest websocket endpoint with a real client (segmentd's own Beast WsClient): bearer-token
// auth at the upgrade, many lines per frame, bad lines counted by reason and skipped, oversized
// frames refused with an error frame, the connection staying up through all of it.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdlib>
#include <mutex>

#include "core/str_cat.h"
#include "protocol/venues/registry.h"
#include "service/base/log.h"
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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

//! A feed driven by hand, blocking, on the test's thread: frames WsClient never sends (binary,
//! invalid UTF-8), and the HTTP status of a refused upgrade.
class RawFeed {
 public:
  //! Connects and upgrades; the HTTP status of the answer (101 when open, 0 when none came).
  int open(std::uint16_t port, const std::string& token) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return 0;
    ws_.set_option(websocket::stream_base::decorator(
        [token](websocket::request_type& r) { r.set(beast::http::field::authorization, "Bearer " + token); }));
    websocket::response_type res;
    ws_.handshake(res, "127.0.0.1", "/ingest", ec);
    return res.result_int();
  }
  void send(std::string_view payload, bool text) {
    ws_.text(text);
    ws_.write(asio::buffer(payload.data(), payload.size()));
  }
  //! Reads until the server closes; the close code (0 when the connection ended without one).
  int close_code() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!ec) ws_.read(buffer, ec);
    return ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : 0;
  }

 private:
  asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
};

//! The HTTP status an upgrade request with `token` is answered with (the request sent by hand:
//! Beast's client handshake does not hand back the response of a declined upgrade).
int upgrade_status(std::uint16_t port, const std::string& token) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return 0;
  beast::http::request<beast::http::empty_body> req(beast::http::verb::get, "/ingest", 11);
  req.set(beast::http::field::host, "127.0.0.1");
  req.set(beast::http::field::upgrade, "websocket");
  req.set(beast::http::field::connection, "Upgrade");
  req.set(beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(beast::http::field::sec_websocket_version, "13");
  req.set(beast::http::field::authorization, "Bearer " + token);
  beast::http::write(stream, req, ec);
  if (ec) return 0;
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res, ec);
  return ec ? 0 : res.result_int();
}

//! Captures the process-wide logger's lines while it lives.
class LogCapture {
 public:
  LogCapture()
      : previous_(default_logger().set_sink([this](std::string_view line) {
          std::lock_guard<std::mutex> lock(mu_);
          text_.append(line).push_back('\n');
        })) {}
  ~LogCapture() { default_logger().set_sink(std::move(previous_)); }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::string text_;
  Logger::Sink previous_;
};

constexpr const char* kToken = "feed-token-0123456789";

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

  // Fills the feed has not sent before (the server de-duplicates: a re-sent line counts once).
  const auto lines = native_lines(36, 3);
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < 30; i += 3) frames.push_back(lines[i] + "\n" + lines[i + 1] + "\n" + lines[i + 2] + "\n");
  frames.push_back(lines[30].substr(0, lines[30].size() / 2) + "\n" + lines[31]);  // a truncated line, then a good one
  std::string wrong = lines[32];
  wrong.replace(wrong.find("\"qty\":") + 6, 0, "\"x\"+");  // not valid JSON any more
  frames.push_back(wrong);
  std::string typed = lines[33];
  const auto at = typed.find("\"qty\":");
  typed.replace(at, typed.find(',', at) - at, "\"qty\":\"12\"");  // qty as a string: wrong type
  frames.push_back(typed);
  frames.push_back(std::string(20 * 1024, ' ') + lines[34]);  // > max_frame_bytes
  frames.push_back(lines[35]);                                // still up afterwards

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

TEST_CASE(
    "ingest server: a text frame that is not UTF-8 is closed 1007, counted and logged, and binary frames are text",
    "[integration][ingest]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  IngestServer server(ingest_config(false), accounts, instruments, sink);
  REQUIRE(server.start().ok());
  LogCapture log;
  const auto lines = native_lines(3, 11);
  RawFeed feed;
  REQUIRE(feed.open(server.port(), kToken) == 101);
  feed.send(lines[0] + "\n" + lines[1] + "\n", /*text=*/false);  // binary: read as the same NDJSON
  CHECK(wait_until([&] { return sink.size() >= 2; }));
  feed.send("{\"ts_ns\":\xff\xfe}\n" + lines[2], /*text=*/true);
  CHECK(feed.close_code() == 1007);
  CHECK(wait_until([&] { return SourceStats::get(server.stats().disconnects) >= 1; }));
  CHECK(sink.size() == 2);
  CHECK(server.stats().error_count(ParseErrorReason::kMalformedJson) == 1);
  CHECK_THAT(log.text(), Catch::Contains("\"feed closed 1007: a text frame is not valid UTF-8\" source=ingest-test "
                                         "peer=127.0.0.1"));
  server.stop();
}

TEST_CASE("ingest server: the same fill sent 20 times counts once, also across connections", "[integration][ingest]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  IngestServer server(ingest_config(false), accounts, instruments, sink);
  REQUIRE(server.start().ok());
  auto line = [](const std::string& account, const std::string& side, double qty, const std::string& trade_id) {
    return str_cat(R"({"ts_ns":1700000000000000000,"venue":"binance","account":")", account,
                   R"(","symbol":"BTCUSDT","side":")", side, R"(","qty":)", qty, R"(,"price":60000.5)",
                   trade_id.empty() ? std::string() : str_cat(R"(,"trade_id":")", trade_id, "\""), "}");
  };
  const std::string maker = line("acct-1", "buy", 0.5, "T-1");
  const std::string taker = line("acct-2", "sell", 0.5, "T-1");  // the other side of the same trade
  const std::string plain = line("acct-3", "buy", 0.25, "");     // no trade id: its content is the key
  const std::string other = line("acct-3", "buy", 0.75, "");     // differs in qty: another fill
  RawFeed feed;
  REQUIRE(feed.open(server.port(), kToken) == 101);
  for (int i = 0; i < 20; ++i) feed.send(maker + "\n" + taker + "\n" + plain + "\n", true);
  feed.send(other, true);
  auto seen = [&] { return SourceStats::get(server.stats().fills) + SourceStats::get(server.stats().duplicates); };
  CHECK(wait_until([&] { return seen() >= 61; }));
  // A feed that reconnects and re-sends: still the same fills.
  RawFeed again;
  REQUIRE(again.open(server.port(), kToken) == 101);
  again.send(maker + "\n" + other, true);
  CHECK(wait_until([&] { return seen() >= 63; }));
  CHECK(sink.size() == 4);
  CHECK(SourceStats::get(server.stats().fills) == 4);
  CHECK(SourceStats::get(server.stats().duplicates) == 59);
  server.stop();
}

TEST_CASE("ingest server: the de-duplication window is its checkpoint position and a restart still drops re-sent fills",
          "[integration][ingest][checkpoint]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  auto line = [](int k) {
    return str_cat(R"({"ts_ns":)", 1'700'000'000'000'000'000LL + k * 1'000'000LL,
                   R"(,"venue":"binance","account":"acct-)", k % 3,
                   R"(","symbol":"BTCUSDT","side":"buy","qty":0.5,"price":60000.5,"trade_id":"T-)", k, "\"}\n");
  };
  std::string first;  // fills 0..9
  for (int k = 0; k < 10; ++k) first += line(k);
  std::string position;
  {
    CollectingSink sink;
    IngestServer server(ingest_config(false), accounts, instruments, sink);
    REQUIRE(server.start().ok());
    RawFeed feed;
    REQUIRE(feed.open(server.port(), kToken) == 101);
    feed.send(first, true);
    CHECK(wait_until([&] { return SourceStats::get(server.stats().fills) >= 10; }));
    server.stop();  // its loop thread joined: what it wrote is seen here (a pipeline pauses the sink instead)
    server.save_position(position);
  }
  // The restarted source, given the saved window: the feed re-sends 5..9 and sends 10..14.
  CollectingSink sink;
  IngestServer server(ingest_config(false), accounts, instruments, sink);
  REQUIRE(server.restore_position(position).ok());
  REQUIRE(server.start().ok());
  std::string again;
  for (int k = 5; k < 15; ++k) again += line(k);
  RawFeed feed;
  REQUIRE(feed.open(server.port(), kToken) == 101);
  feed.send(again, true);
  auto seen = [&] { return SourceStats::get(server.stats().fills) + SourceStats::get(server.stats().duplicates); };
  CHECK(wait_until([&] { return seen() >= 10; }));
  CHECK(SourceStats::get(server.stats().duplicates) == 5);
  CHECK(SourceStats::get(server.stats().fills) == 5);
  CHECK(sink.size() == 5);
  // What it saves now holds all fifteen keys, oldest first.
  server.stop();
  std::string now;
  server.save_position(now);
  CHECK(now.size() == position.size() + 5 * 8);
  CHECK(now.substr(0, 4) == position.substr(0, 4));

  // A damaged position is refused with the source's name and the reason; none leaves the default.
  IngestServer fresh(ingest_config(false), accounts, instruments, sink);
  CHECK(fresh.check_position(position).ok());
  CHECK(fresh.restore_position("").ok());
  std::string bad_version = position;
  bad_version[0] = 9;
  absl::Status st = fresh.restore_position(bad_version);
  CHECK(absl::IsDataLoss(st));
  CHECK(fresh.check_position(bad_version).message() == st.message());  // checked before a checkpoint is applied
  CHECK(std::string(st.message()).find("ingest-test") != std::string::npos);
  CHECK(std::string(st.message()).find("version 9") != std::string::npos);
  CHECK(!fresh.restore_position(position.substr(0, position.size() - 3)).ok());
  CHECK(!fresh.restore_position(position + "x").ok());
  std::string zero_key = position;
  std::fill(zero_key.end() - 8, zero_key.end(), '\0');
  CHECK(std::string(fresh.restore_position(zero_key).message()).find("a key of 0") != std::string::npos);
}

TEST_CASE("ingest server: silent connections do not lock the feed out, and past max_connections a feed gets 503",
          "[integration][ingest]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  SourceConfig config = ingest_config(false);
  config.max_connections = 4;
  IngestServer server(config, accounts, instruments, sink);
  REQUIRE(server.start().ok());
  LogCapture log;
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> silent;
  for (int i = 0; i < 64; ++i) {
    silent.push_back(std::make_unique<asio::ip::tcp::socket>(ioc));
    silent.back()->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  }
  // The real feed still gets in, and its fills count.
  const auto lines = native_lines(1, 5);
  RawFeed feed;
  REQUIRE(feed.open(server.port(), kToken) == 101);
  feed.send(lines[0], true);
  CHECK(wait_until([&] { return sink.size() == 1; }));
  // Slots are taken after authentication: four feeds fit, the fifth is told 503.
  std::vector<std::unique_ptr<RawFeed>> more;
  for (int i = 0; i < 3; ++i) {
    more.push_back(std::make_unique<RawFeed>());
    CHECK(more.back()->open(server.port(), kToken) == 101);
  }
  CHECK(wait_until([&] { return server.open_sessions() == 4; }));
  CHECK(upgrade_status(server.port(), kToken) == 503);
  // A wrong token is logged with the peer, never with what was presented.
  CHECK(upgrade_status(server.port(), "not-the-token-42") == 401);
  CHECK_THAT(log.text(), Catch::Contains("\"feed login failed\" source=ingest-test peer=127.0.0.1 "
                                         "reason=\"bad bearer token\""));
  CHECK_THAT(log.text(), Catch::Contains("\"feed refused: max_connections open\" source=ingest-test"));
  CHECK(log.text().find("not-the-token-42") == std::string::npos);
  server.stop();
}
