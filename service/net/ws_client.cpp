#include "service/net/ws_client.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>

#include "core/str_cat.h"
#include "service/net/stream_ops.h"
#include "service/net/url.h"

namespace segmentd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using beast::error_code;

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kPadding = 64;  // == kJsonPadding (protocol/native_format.h)

using Handler = std::function<void(error_code, std::size_t)>;

//! One connection's stream, plain or TLS, behind one interface so that the session logic is
//! written once. A Link is never reused: every connection attempt makes a new one, and every
//! pending operation holds its Link alive.
class Link {
 public:
  virtual ~Link() = default;
  virtual void connect(const Tcp::resolver::results_type& endpoints, std::int64_t timeout_ns, Handler h) = 0;
  virtual void handshake(const Url& url, const WsClientOptions& o, Handler h) = 0;
  virtual void read_some(beast::flat_buffer& buffer, Handler h) = 0;
  //! The message stays alive until h runs (the op reads it in chunks while it masks and writes).
  virtual void write(std::shared_ptr<const std::string> text, Handler h) = 0;
  virtual void close(Handler h) = 0;
  virtual void abort() = 0;  //!< closes the socket: every pending operation completes with an error
  virtual bool is_message_done() const = 0;
  virtual void on_control(std::function<void(websocket::frame_type)> fn) = 0;
};

template <class Next>
class LinkOf final : public Link {
 public:
  template <class... Args>
  explicit LinkOf(Args&&... args) : ws_(std::forward<Args>(args)...) {}

  void connect(const Tcp::resolver::results_type& endpoints, std::int64_t timeout_ns, Handler h) override {
    auto& tcp_stream = beast::get_lowest_layer(ws_);
    tcp_stream.expires_after(std::chrono::nanoseconds(timeout_ns));
    tcp_stream.async_connect(endpoints, [h = std::move(h)](error_code ec, const Tcp::endpoint&) { h(ec, 0); });
  }

  void handshake(const Url& url, const WsClientOptions& o, Handler h) override {
    if constexpr (std::is_same_v<Next, beast::ssl_stream<beast::tcp_stream>>) {
      // SNI, so that a venue behind a shared front end presents the right certificate.
      if (!SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), url.host.c_str())) {
        h(error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()), 0);
        return;
      }
      if (o.tls_verify) ws_.next_layer().set_verify_callback(ssl::host_name_verification(url.host));
      beast::get_lowest_layer(ws_).expires_after(std::chrono::nanoseconds(o.handshake_timeout_ns));
      beast_ops::tls_handshake(ws_.next_layer(), ssl::stream_base::client,
                               [this, &url, &o, h = std::move(h)](error_code ec) mutable {
                                 if (ec) return h(ec, 0);
                                 ws_handshake(url, o, std::move(h));
                               });
    } else {
      ws_handshake(url, o, std::move(h));
    }
  }

  void read_some(beast::flat_buffer& buffer, Handler h) override {
    beast_ops::read_some(ws_, buffer, kReadChunk, std::move(h));
  }
  void write(std::shared_ptr<const std::string> text, Handler h) override {
    ws_.text(true);
    const auto buffer = asio::buffer(*text);
    beast_ops::write(ws_, buffer,
                     [text = std::move(text), h = std::move(h)](error_code ec, std::size_t n) { h(ec, n); });
  }
  void close(Handler h) override {
    beast_ops::close(ws_, websocket::close_code::normal, [h = std::move(h)](error_code ec) { h(ec, 0); });
  }
  void abort() override {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }
  bool is_message_done() const override { return ws_.is_message_done(); }
  void on_control(std::function<void(websocket::frame_type)> fn) override {
    ws_.control_callback([fn = std::move(fn)](websocket::frame_type kind, beast::string_view) { fn(kind); });
  }

 private:
  void ws_handshake(const Url& url, const WsClientOptions& o, Handler h) {
    // From here the websocket's own timeouts apply (Beast wants the TCP timer off).
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::nanoseconds(o.handshake_timeout_ns);
    t.idle_timeout = std::chrono::nanoseconds(o.idle_timeout_ns);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(0);  // we bound messages ourselves, to skip an oversized one and stay up
    ws_.set_option(websocket::stream_base::decorator([&o](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "segmentd");
      for (const auto& [k, v] : o.headers) req.set(k, v);
    }));
    host_ = url.host + ":" + url.port;
    beast_ops::handshake(ws_, host_, url.target, [h = std::move(h)](error_code ec) { h(ec, 0); });
  }

  websocket::stream<Next> ws_;
  std::string host_;
};

}  // namespace

// Notes on threading: every member below is touched on strand_ only, except stopping_ (atomic,
// set by stop() from any thread so that no new callback starts once stop() returns).
class WsClient::Impl : public std::enable_shared_from_this<WsClient::Impl> {
 public:
  Impl(asio::io_context& ioc, WsClientOptions options, WsClientHandler& handler)
      : strand_(asio::make_strand(ioc)),
        options_(std::move(options)),
        handler_(handler),
        backoff_(options_.backoff),
        resolver_(strand_),
        retry_timer_(strand_),
        tick_timer_(strand_),
        tls_(ssl::context::tls_client) {
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options_.tls_verify) {
      tls_.set_verify_mode(ssl::verify_peer);
      error_code ec;
      tls_.set_default_verify_paths(ec);
    } else {
      tls_.set_verify_mode(ssl::verify_none);
    }
    if (!options_.ca_file.empty()) {
      error_code ec;
      tls_.load_verify_file(options_.ca_file, ec);
      if (ec) ca_error_ = str_cat("cannot load ca_file ", options_.ca_file, ": ", ec.message());
    }
  }

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->do_attempt(); });
  }

  void stop() {
    stopping_.store(true, std::memory_order_release);
    asio::post(strand_, [self = shared_from_this()] { self->do_stop(); });
  }

  void post(std::function<void()> fn) {
    asio::post(strand_, [self = shared_from_this(), fn = std::move(fn)] {
      if (!self->stopped()) fn();
    });
  }

  void send(std::string text) {
    if (!open_ || stopped()) return;
    if (out_.size() >= options_.max_queued_sends) {
      fail_open("send queue full");
      return;
    }
    out_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (out_.size() == 1) do_write();
  }

  void close_and_reconnect(std::string_view reason) {
    if (link_ == nullptr) return;
    fail_open(reason);
  }

  void mark_healthy() { backoff_.reset(); }
  void set_tick_interval(std::int64_t ns) {
    tick_ns_ = ns;
    if (open_) do_tick_wait();
  }
  bool is_open() const { return open_; }

 private:
  bool stopped() const { return stopping_.load(std::memory_order_acquire); }

  // --- one connection attempt: before_connect → resolve → connect → handshake → read loop ---

  void do_attempt() {
    if (stopped()) return;
    ++generation_;
    handler_.before_connect([self = shared_from_this(), gen = generation_](absl::StatusOr<std::string> url) {
      // May be called from another executor (an HTTP client): come back to the strand.
      asio::post(self->strand_,
                 [self, gen, url = std::move(url)]() mutable { self->on_before_connect(gen, std::move(url)); });
    });
  }

  void on_before_connect(std::uint64_t gen, absl::StatusOr<std::string> url) {
    if (stopped() || gen != generation_) return;
    if (!url.ok()) return attempt_failed(std::string(url.status().message()));
    if (!ca_error_.empty()) return attempt_failed(ca_error_);
    auto parsed = parse_url(url->empty() ? options_.url : *url);
    if (!parsed.ok()) return attempt_failed(str_cat("bad url: ", std::string(parsed.status().message())));
    url_ = *std::move(parsed);
    resolver_.async_resolve(url_.host, url_.port,
                            [self = shared_from_this(), gen](error_code ec, Tcp::resolver::results_type results) {
                              self->on_resolve(gen, ec, std::move(results));
                            });
  }

  void on_resolve(std::uint64_t gen, error_code ec, Tcp::resolver::results_type results) {
    if (stopped() || gen != generation_) return;
    if (ec) return attempt_failed(str_cat("resolve ", url_.host, ": ", ec.message()));
    if (url_.tls) {
      link_ = std::make_shared<LinkOf<beast::ssl_stream<beast::tcp_stream>>>(strand_, tls_);
    } else {
      link_ = std::make_shared<LinkOf<beast::tcp_stream>>(strand_);
    }
    auto link = link_;
    link->connect(results, options_.connect_timeout_ns,
                  [self = shared_from_this(), link, gen](error_code ec, std::size_t) { self->on_connect(gen, ec); });
  }

  void on_connect(std::uint64_t gen, error_code ec) {
    if (stopped() || gen != generation_) return;
    if (ec) return attempt_failed(str_cat("connect ", url_.host, ":", url_.port, ": ", ec.message()));
    auto link = link_;
    link->handshake(url_, options_, [self = shared_from_this(), link, gen](error_code ec, std::size_t) {
      self->on_handshake(gen, ec);
    });
  }

  void on_handshake(std::uint64_t gen, error_code ec) {
    if (stopped() || gen != generation_) return;
    // The target may carry a secret (Binance's listenKey): name only the host in errors.
    if (ec) return attempt_failed(str_cat("handshake with ", url_.host, ": ", ec.message()));
    open_ = true;
    buffer_.clear();
    message_bytes_ = 0;
    discarding_ = false;
    link_->on_control([](websocket::frame_type) {});
    handler_.on_open();
    if (!open_ || gen != generation_) return;  // the handler gave up on this connection
    do_tick_wait();
    do_read();
  }

  void do_read() {
    auto link = link_;
    link->read_some(buffer_, [self = shared_from_this(), link, gen = generation_](error_code ec, std::size_t n) {
      self->on_read(gen, ec, n);
    });
  }

  void on_read(std::uint64_t gen, error_code ec, std::size_t n) {
    if (stopped() || gen != generation_) return;
    if (ec) return fail_open(ec == websocket::error::closed ? "closed by peer" : str_cat("read: ", ec.message()));
    message_bytes_ += n;
    if (message_bytes_ > options_.max_frame_bytes) {
      discarding_ = true;  // keep reading the rest of it, keep none of it
      buffer_.clear();
    }
    if (link_->is_message_done()) {
      if (discarding_) {
        handler_.on_oversized(message_bytes_);
      } else {
        const std::size_t size = buffer_.size();
        buffer_.prepare(kPadding);  // flat_buffer: the padding sits right after the message
        const auto data = buffer_.data();
        handler_.on_message(std::string_view(static_cast<const char*>(data.data()), size), wall_clock_ns());
      }
      buffer_.clear();
      message_bytes_ = 0;
      discarding_ = false;
      if (!open_ || gen != generation_ || stopped()) return;
    }
    do_read();
  }

  void do_write() {
    auto link = link_;
    link->write(out_.front(), [self = shared_from_this(), link, gen = generation_](error_code ec, std::size_t) {
      self->on_write(gen, ec);
    });
  }

  void on_write(std::uint64_t gen, error_code ec) {
    if (stopped() || gen != generation_) return;
    if (ec) return fail_open(str_cat("write: ", ec.message()));
    out_.pop_front();
    if (!out_.empty()) do_write();
  }

  void do_tick_wait() {
    if (tick_ns_ <= 0) return;
    tick_timer_.expires_after(std::chrono::nanoseconds(tick_ns_));
    tick_timer_.async_wait([self = shared_from_this(), gen = generation_](error_code ec) {
      if (ec || self->stopped() || gen != self->generation_ || !self->open_) return;
      self->handler_.on_tick(wall_clock_ns());
      if (gen == self->generation_ && self->open_) self->do_tick_wait();
    });
  }

  // --- failures and reconnects ---

  //! A connection attempt that never opened.
  void attempt_failed(std::string_view reason) {
    drop_link();
    handler_.on_close(false, reason);
    schedule_retry();
  }

  //! An open connection that is lost or given up.
  void fail_open(std::string_view reason) {
    const bool was_open = open_;
    drop_link();
    handler_.on_close(was_open, reason);
    schedule_retry();
  }

  void drop_link() {
    ++generation_;  // every callback of the old connection now returns at once
    open_ = false;
    out_.clear();
    tick_timer_.cancel();
    if (link_) link_->abort();
    link_.reset();
  }

  void schedule_retry() {
    if (stopped() || !options_.reconnect) return;
    retry_timer_.expires_after(std::chrono::nanoseconds(backoff_.next_delay_ns()));
    retry_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->do_attempt();
    });
  }

  void do_stop() {
    ++generation_;
    retry_timer_.cancel();
    tick_timer_.cancel();
    resolver_.cancel();
    // A polite close only on an open connection with no write in flight: Beast's close is a
    // write, and closing a stream still in its handshake or while a message is being written is
    // an overlapping operation (it trips Beast's assertions in a debug build, and is undefined
    // behaviour without them). Anything else is dropped at once.
    const bool polite = open_ && out_.empty();
    open_ = false;
    out_.clear();
    if (link_) {
      auto link = link_;
      link_.reset();
      if (polite)  // Beast's close timeout bounds it; abort() ends it either way
        link->close([link](error_code, std::size_t) { link->abort(); });
      else
        link->abort();
    }
  }

  asio::strand<asio::io_context::executor_type> strand_;
  WsClientOptions options_;
  WsClientHandler& handler_;
  Backoff backoff_;
  Tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  asio::steady_timer tick_timer_;
  ssl::context tls_;
  std::string ca_error_;
  std::atomic<bool> stopping_{false};

  Url url_;
  std::shared_ptr<Link> link_;
  std::uint64_t generation_ = 0;  //!< bumped whenever a connection ends: stale callbacks see it
  bool open_ = false;
  beast::flat_buffer buffer_;
  std::size_t message_bytes_ = 0;
  bool discarding_ = false;
  //! Front is being written; the write holds its own reference, so clearing the queue on a drop
  //! or a stop (while the op may still be masking and writing it) frees nothing under it.
  std::deque<std::shared_ptr<const std::string>> out_;
  std::int64_t tick_ns_ = 0;
};

WsClient::WsClient(asio::io_context& ioc, WsClientOptions options, WsClientHandler& handler)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), handler)) {}
WsClient::~WsClient() { impl_->stop(); }
void WsClient::start() { impl_->start(); }
void WsClient::stop() { impl_->stop(); }
void WsClient::post(std::function<void()> fn) { impl_->post(std::move(fn)); }
void WsClient::send(std::string text) { impl_->send(std::move(text)); }
void WsClient::close_and_reconnect(std::string_view reason) { impl_->close_and_reconnect(reason); }
void WsClient::mark_healthy() { impl_->mark_healthy(); }
void WsClient::set_tick_interval(std::int64_t ns) { impl_->set_tick_interval(ns); }
bool WsClient::is_open() const { return impl_->is_open(); }

}  // namespace segmentd
