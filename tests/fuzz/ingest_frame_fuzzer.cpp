// libFuzzer target for the ingest frame path (service/ingest/ingest_server.h): a real
// IngestServer on 127.0.0.1 and one authenticated websocket connection to it, opened once. Each
// input is sent as one binary frame, then an empty frame; when the server has counted both, the
// session has split the first into lines, parsed each with NativeFillParser, passed it through
// the event-time guard and the de-duplication window and pushed it to the sink (the empty frame
// is read only after that, on the same strand), so a crash is reported with its own input.
//
// The frame path is a member of the session, behind the socket; driving it through the listener
// tests exactly what a feed reaches. The server keeps its state across inputs (de-duplication
// window, event-time watermark, interned accounts) as it does across a feed's frames, so an input
// can behave differently after others: libFuzzer's coverage is approximate here, which it
// tolerates.
//
// Checks: no crash or sanitizer report on either thread; the connection stays up (a bad line
// never drops the feed); no good line is counted twice (fills, duplicates and fills the sink
// refused are good lines); the sink sees exactly the fills counted; every fill pushed has finite,
// positive units.

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "protocol/venues/registry.h"
#include "service/base/log.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/ingest_server.h"

namespace {

using namespace segmentd;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

//! Takes four fills of five, refuses the fifth (the "fail" ring policy's path); called on the
//! server's loop thread.
class CheckingSink final : public FillSink {
 public:
  bool push(const Fill& f) override {
    if (!f.is_fill()) {  // a venue position record: a finite signed quantity
      require(std::isfinite(f.qty) && f.recv_ns > 0);
      return pushes.fetch_add(1, std::memory_order_relaxed) % 5 != 4;
    }
    require(std::isfinite(f.qty) && f.qty > 0 && std::isfinite(f.price) && f.price > 0);
    require(std::isfinite(f.notional_usd) && f.notional_usd >= 0 && f.recv_ns > 0);
    return pushes.fetch_add(1, std::memory_order_relaxed) % 5 != 4;
  }
  bool push_price(const PriceRecord& p) override {
    require(p.recv_ns > 0 &&
            (std::isfinite(p.price) || std::isfinite(p.mark_price) || std::isfinite(p.underlying_price)));
    return true;
  }
  std::atomic<std::uint64_t> pushes{0};
};

struct Harness {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CheckingSink sink;
  std::unique_ptr<IngestServer> server;
  net::io_context ioc;
  std::unique_ptr<websocket::stream<net::ip::tcp::socket>> ws;
  std::uint64_t frames = 0;

  Harness() {
    // Quiet (refused fills are logged), and constructed before the atexit below registers, so
    // that the logger outlives the server's last log line at exit.
    LogOptions quiet;
    quiet.level = LogLevel::kError;
    default_logger().configure(quiet);
    ::setenv("SEGMENTD_FUZZ_INGEST_TOKEN", "fuzz-token", 1);
    SourceConfig config;
    config.name = "fuzz-ingest";
    config.kind = SourceKind::kIngest;
    config.listen = "127.0.0.1:0";
    config.token.env = "SEGMENTD_FUZZ_INGEST_TOKEN";
    config.max_connections = 1;
    config.max_frame_bytes = 1 << 20;  // above -max_len: the oversized path would need a reading client
    server = std::make_unique<IngestServer>(config, accounts, instruments, sink);
    require(server->start().ok());
    ws = std::make_unique<websocket::stream<net::ip::tcp::socket>>(ioc);
    ws->next_layer().connect({net::ip::make_address("127.0.0.1"), server->port()});
    ws->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::authorization, "Bearer fuzz-token"); }));
    ws->handshake("127.0.0.1", "/");
    ws->binary(true);  // a text frame that is not UTF-8 closes the connection (1007), by design
  }
};

Harness* harness = nullptr;

//! libFuzzer leaves by exit(): the server's thread stops before the statics it uses go.
void stop_server() { harness->server->stop(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (harness == nullptr) {
    harness = new Harness;  // never destroyed: stop_server() stops its thread at exit
    std::atexit(stop_server);
  }
  Harness* h = harness;
  beast::error_code ec;
  h->ws->write(net::buffer(data, size), ec);
  require(!ec);
  h->ws->write(net::const_buffer(), ec);
  require(!ec);
  h->frames += 2;
  const SourceStats& stats = h->server->stats();
  // Wait for the server thread: a few yields, then short sleeps, so that a long input does not
  // hold a second core spinning (a run of ten million inputs shares the machine with builds).
  for (int spins = 0; SourceStats::get(stats.messages) < h->frames; ++spins) {
    if (spins < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  require(SourceStats::get(stats.disconnects) == 0);
  const std::uint64_t good = stats.kind_count(MessageKind::kFills);
  const std::uint64_t fills = SourceStats::get(stats.fills);
  const std::uint64_t rejected = SourceStats::get(stats.sink_rejected);
  // A good line may also be refused for its time (the event-time guard counts it as an error).
  require(fills + rejected + SourceStats::get(stats.duplicates) <= good);
  require(h->sink.pushes.load(std::memory_order_relaxed) == fills + rejected);
  return 0;
}
