#pragma once
// A websocket client connection that keeps itself connected: ws:// or wss:// (OpenSSL, SNI and
// host-name verification), connect and handshake timeouts, websocket keep-alive pings with an
// idle timeout, and reconnection with capped exponential backoff and jitter. What to say on the
// connection (auth, subscribe, heartbeats) is the handler's business; this class knows only
// frames. Beast lives in ws_client.cpp only, so that the venue logic compiles without it.
//
// Messages larger than max_frame_bytes are read in pieces and thrown away as they arrive (memory
// stays bounded), reported through on_oversized(), and the connection stays up.
//
// Threading: all work runs on one strand of the given io_context. Handler callbacks run on that
// strand; send(), close_and_reconnect(), mark_healthy() and set_tick_interval() must be called on
// it too (i.e. from inside a callback or via post()). start(), stop() and post() are safe from any
// thread. After stop() has been called no callback starts any more.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "service/net/backoff.h"

namespace boost::asio {
class io_context;
}

namespace segmentd {

struct WsClientOptions {
  std::string url;  //!< ws://host:port/path or wss://...
  std::int64_t connect_timeout_ns = 10'000'000'000;
  std::int64_t handshake_timeout_ns = 10'000'000'000;
  std::int64_t idle_timeout_ns = 60'000'000'000;  //!< silence → websocket ping; twice that → drop
  std::size_t max_frame_bytes = 1 << 20;
  BackoffConfig backoff;
  bool reconnect = true;  //!< false: one connection only (tests, tools)
  bool tls_verify = true;
  std::string ca_file;
  std::vector<std::pair<std::string, std::string>> headers;  //!< extra upgrade request headers
  std::size_t max_queued_sends = 256;  //!< outgoing messages waiting to be written; more drops the link
};

class WsClientHandler {
 public:
  virtual ~WsClientHandler() = default;
  //! Before every connection attempt. Call `proceed` (on the strand, possibly later) with the URL
  //! to use ("" = the configured one) or an error, which counts as a failed attempt.
  virtual void before_connect(std::function<void(absl::StatusOr<std::string>)> proceed) { proceed(std::string()); }
  //! The websocket handshake is done: authenticate and subscribe.
  virtual void on_open() = 0;
  //! One complete message, followed by at least 64 readable bytes (simdjson padding).
  virtual void on_message(std::string_view message, std::int64_t recv_ns) = 0;
  //! A message larger than max_frame_bytes was skipped.
  virtual void on_oversized(std::size_t bytes) = 0;
  //! A connection attempt failed (`opened` false) or an open connection was lost. `reason` never
  //! holds secrets (URLs with a listenKey are not in it).
  virtual void on_close(bool opened, std::string_view reason) = 0;
  //! Every tick interval while a connection is open (application-level heartbeats).
  virtual void on_tick(std::int64_t now_ns) {}
};

class WsClient {
 public:
  WsClient(boost::asio::io_context& ioc, WsClientOptions options, WsClientHandler& handler);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void start();
  void stop();
  void post(std::function<void()> fn);

  // Strand only:
  void send(std::string text);
  //! Drops the current connection (auth refused, missed heartbeat); reconnects after the backoff.
  void close_and_reconnect(std::string_view reason);
  void mark_healthy();
  void set_tick_interval(std::int64_t ns);
  bool is_open() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

//! Nanoseconds since the Unix epoch (receive timestamps).
std::int64_t wall_clock_ns();

}  // namespace segmentd
