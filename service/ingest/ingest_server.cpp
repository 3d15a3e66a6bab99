#include "service/ingest/ingest_server.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstring>
#include <optional>

#include "core/checkpoint_io.h"
#include "core/str_cat.h"
#include "protocol/native_format.h"
#include "protocol/venues/trade_dedup.h"
#include "service/base/connection_gate.h"
#include "service/base/log.h"
#include "service/config/credentials.h"
#include "service/net/stream_ops.h"
#include "service/net/url.h"
#include "service/net/ws_client.h"

namespace segmentd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using beast::error_code;

namespace {

//! A connection that has not authenticated waits in the gate; from one address at most this
//! many wait at once (ingest_server.h).
constexpr std::size_t kMaxPendingPerPeer = 16;

//! The de-duplication key of a fill (ingest_server.h, "De-duplication"): its trade id when it has
//! one, else its whole content; with venue, account and side, so that the two sides of one trade
//! (or a self-trade) are two fills. Never 0, which TradeDedup reads as "no id".
std::uint64_t dedup_key(const Fill& f) {
  auto mix = [](std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
  };
  auto bits = [](double d) {
    std::uint64_t u = 0;
    std::memcpy(&u, &d, sizeof u);
    return u;
  };
  std::uint64_t h = mix(0x5eed, static_cast<std::uint64_t>(f.venue));
  h = mix(h, f.account);
  h = mix(h, static_cast<std::uint64_t>(f.side));
  if (f.trade_id != 0) {
    h = mix(h, f.trade_id);
  } else {
    h = mix(h, static_cast<std::uint64_t>(f.recv_ns));
    h = mix(h, static_cast<std::uint64_t>(f.venue_ns));
    h = mix(h, f.instrument);
    h = mix(h, bits(f.qty));
    h = mix(h, bits(f.price));
  }
  return h == 0 ? 1 : h;
}

std::string peer_of(const Tcp::socket& socket) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string("?") : endpoint.address().to_string();
}

}  // namespace

//! What the listener and all sessions share. Used on the loop thread only (the gate is
//! thread-safe anyway).
struct IngestServer::State {
  State(FillSink& sink, asio::io_context& ioc, std::size_t max_pending, std::size_t dedup_window,
        EventTimeGuardOptions event_time)
      : sink(sink),
        acceptor(asio::make_strand(ioc)),
        gate(std::make_shared<ConnectionGate>(max_pending, kMaxPendingPerPeer)),
        dedup(dedup_window),
        clock(event_time) {}
  FillSink& sink;
  Tcp::acceptor acceptor;
  Secret token;
  std::optional<ssl::context> tls;
  std::unique_ptr<NativeFillParser> parser;  //!< one, because every session runs on the one loop thread
  Fill fill;
  PriceRecord price;
  NativeLine kind = NativeLine::kFill;
  ParseError error;
  std::shared_ptr<ConnectionGate> gate;  //!< connections not authenticated yet
  TradeDedup dedup;                      //!< every connection of the source: a feed re-sends after a reconnect
  EventTimeGuard clock;                  //!< the source's event time: every connection's fills
  bool stopping = false;
};

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxHeaderBytes = 8 * 1024;

void fail(error_code ec, std::string_view) {
  if (ec == asio::error::operation_aborted || ec == websocket::error::closed) return;
  // Per-connection failures are part of a feed's life; the counters say how many.
}

template <class Next>
class IngestSession : public std::enable_shared_from_this<IngestSession<Next>> {
 public:
  template <class... Args>
  IngestSession(std::shared_ptr<IngestServer::State> state, SourceStats& stats, std::atomic<std::uint64_t>& open,
                const SourceConfig& config, Args&&... args)
      : state_(std::move(state)), stats_(stats), open_(open), config_(config), ws_(std::forward<Args>(args)...) {}
  ~IngestSession() {
    if (counted_) open_.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    peer_ = peer_of(beast::get_lowest_layer(ws_).socket());
    // Until it authenticates, the connection only waits in the gate: silent sockets displace
    // each other there (oldest first), never a feed that has authenticated.
    std::weak_ptr<IngestSession> weak = this->shared_from_this();
    ticket_ = state_->gate->enter(peer_, [weak] {
      if (auto self = weak.lock())
        asio::post(beast::get_lowest_layer(self->ws_).get_executor(), [self] { self->evicted(); });
    });
    beast::get_lowest_layer(ws_).expires_after(std::chrono::nanoseconds(config_.handshake_timeout_ns));
    if constexpr (std::is_same_v<Next, beast::ssl_stream<beast::tcp_stream>>) {
      beast_ops::tls_handshake(ws_.next_layer(), ssl::stream_base::server,
                               [self = this->shared_from_this()](error_code ec) {
                                 if (ec) return fail(ec, "tls handshake");
                                 self->do_read_upgrade();
                               });
    } else {
      do_read_upgrade();
    }
  }

 private:
  void do_read_upgrade() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(0);
    beast_ops::read_request(
        ws_.next_layer(), http_buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read_upgrade(ec); });
  }

  void on_read_upgrade(error_code ec) {
    if (ec) return fail(ec, "read upgrade");
    auto req = parser_->release();
    if (!websocket::is_upgrade(req)) return refuse(http::status::bad_request, "websocket upgrade expected\n", req);
    std::string_view auth(req[http::field::authorization].data(), req[http::field::authorization].size());
    constexpr std::string_view kBearer = "Bearer ";
    const bool ok = auth.substr(0, kBearer.size()) == kBearer &&
                    constant_time_equal(auth.substr(kBearer.size()), state_->token.reveal());
    if (!ok) {
      SourceStats::add(stats_.auth_failures);
      // Who tried, never what they presented.
      SEGMENTD_LOG_WARN("ingest", "feed login failed", {"source", config_.name}, {"peer", peer_},
                        {"reason", auth.empty() ? "no bearer token" : "bad bearer token"});
      return refuse(http::status::unauthorized, "missing or bad bearer token\n", req);
    }
    ticket_.admit();
    // A slot of max_connections only now, after authentication; over it, the documented 503.
    if (open_.load(std::memory_order_relaxed) >= static_cast<std::uint64_t>(config_.max_connections)) {
      SourceStats::add(stats_.connect_failures);
      SEGMENTD_LOG_WARN("ingest", "feed refused: max_connections open", {"source", config_.name}, {"peer", peer_},
                        {"max_connections", config_.max_connections});
      return refuse(http::status::service_unavailable, "too many connections\n", req);
    }
    open_.fetch_add(1, std::memory_order_relaxed);
    counted_ = true;
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::server);
    t.handshake_timeout = std::chrono::nanoseconds(config_.handshake_timeout_ns);
    t.idle_timeout = std::chrono::nanoseconds(config_.idle_timeout_ns);
    ws_.set_option(t);
    ws_.read_message_max(0);  // bounded by hand below, so that an oversized frame does not drop the feed
    beast_ops::accept(ws_, req, [self = this->shared_from_this()](error_code ec) {
      if (ec) return fail(ec, "accept");
      SourceStats::add(self->stats_.connects);
      self->do_read();
    });
  }

  void refuse(http::status status, std::string_view body, const http::request<http::empty_body>& req) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
    res->set(http::field::content_type, "text/plain");
    if (status == http::status::unauthorized) res->set(http::field::www_authenticate, "Bearer");
    res->body() = std::string(body);
    res->keep_alive(false);
    res->prepare_payload();
    beast_ops::write_response(ws_.next_layer(), *res, [self = this->shared_from_this(), res](error_code, std::size_t) {
      error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    });
  }

  void do_read() {
    if (state_->stopping) return close();
    beast_ops::read_some(ws_, buffer_, kReadChunk,
                         [self = this->shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, std::size_t n) {
    if (ec) {
      if (ec == websocket::error::bad_frame_payload) {
        // A text frame that is not UTF-8: RFC 6455 has the server close with 1007, which Beast
        // did. The frame's lines are lost with it, so they are counted as malformed and said.
        stats_.add_error(ParseErrorReason::kMalformedJson);
        SEGMENTD_LOG_WARN("ingest", "feed closed 1007: a text frame is not valid UTF-8", {"source", config_.name},
                          {"peer", peer_});
      }
      // Counted last: whoever sees the disconnect also sees its error count and its log line.
      SourceStats::add(stats_.disconnects);
      return fail(ec, "read");
    }
    message_bytes_ += n;
    if (message_bytes_ > config_.max_frame_bytes) {
      discarding_ = true;
      buffer_.clear();
    }
    if (ws_.is_message_done()) {
      SourceStats::add(stats_.messages);
      SourceStats::add(stats_.bytes, message_bytes_);
      if (discarding_) {
        stats_.add_error(ParseErrorReason::kOversized);
        send(str_cat(R"({"error":"oversized","max_frame_bytes":)", config_.max_frame_bytes, "}"));
      } else {
        const auto data = buffer_.data();
        on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
      buffer_.clear();
      message_bytes_ = 0;
      discarding_ = false;
    }
    do_read();
  }

  //! One frame: one or many native lines.
  void on_frame(std::string_view frame) {
    IngestServer::State& s = *state_;
    const std::int64_t wall = wall_clock_ns();
    while (!frame.empty()) {
      const std::size_t nl = frame.find('\n');
      std::string_view line = frame.substr(0, nl);
      frame = nl == std::string_view::npos ? std::string_view() : frame.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      if (!s.parser->parse_line_unpadded(line, &s.kind, &s.fill, &s.price, &s.error)) {
        stats_.add_error(s.error.reason);
        continue;
      }
      const bool is_price = s.kind == NativeLine::kPrice;
      const bool is_position = s.kind == NativeLine::kPosition || s.kind == NativeLine::kPositionsEnd;
      const std::int64_t ts = is_price ? s.price.recv_ns : s.fill.recv_ns;
      SourceStats::add(stats_.kinds[static_cast<int>(is_price      ? MessageKind::kMarketData
                                                     : is_position ? MessageKind::kPositions
                                                                   : MessageKind::kFills)]);
      const EventTimeGuard::Verdict v = s.clock.check(ts, wall);
      if (v == EventTimeGuard::Verdict::kRefuse) {
        stats_.add_error(ParseErrorReason::kFutureTime);
        SEGMENTD_LOG_WARN("ingest",
                          is_price      ? "price refused: timestamp too far ahead of the feed's event time"
                          : is_position ? "position refused: timestamp too far ahead of the feed's event time"
                                        : "fill refused: timestamp too far ahead of the feed's event time",
                          {"source", config_.name}, {"peer", peer_}, {"ts_ns", ts},
                          {"ahead_s", s.clock.last_refused_ahead_ns() / 1'000'000'000},
                          {"max_ahead_s", config_.event_time.max_ahead_ns / 1'000'000'000});
        continue;
      }
      if (v == EventTimeGuard::Verdict::kJump)
        SEGMENTD_LOG_WARN("ingest", "feed event time jumped forward, confirmed by its fills", {"source", config_.name},
                          {"peer", peer_}, {"ts_ns", ts}, {"confirmed_by", config_.event_time.jump_confirm});
      if (is_price) {  // no trade id, nothing to de-duplicate: a repeated price changes nothing
        if (s.sink.push_price(s.price))
          SourceStats::add(stats_.prices);
        else
          SourceStats::add(stats_.sink_rejected);
        continue;
      }
      if (is_position) {  // the venue's word, not a trade: nothing to de-duplicate (restating is harmless)
        if (s.sink.push(s.fill))
          SourceStats::add(stats_.positions);
        else
          SourceStats::add(stats_.sink_rejected);
        continue;
      }
      // One unit: the window and the state change together, so a checkpoint's cut holds both
      // or neither (IngestServer::save_position).
      UnitGuard unit(s.sink);
      if (!s.dedup.insert(dedup_key(s.fill))) {
        SourceStats::add(stats_.duplicates);
        continue;
      }
      if (s.sink.push(s.fill))
        SourceStats::add(stats_.fills);
      else
        SourceStats::add(stats_.sink_rejected);
    }
  }

  //! Error frames only; bounded: a client that does not read them loses the connection.
  void send(std::string text) {
    if (closing_) return;
    if (out_.size() >= 16) return drop();
    out_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (out_.size() == 1) do_write();
  }

  void do_write() {
    ws_.text(true);
    beast_ops::write(ws_, asio::buffer(*out_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return fail(ec, "write");
      self->out_.pop_front();
      if (!self->out_.empty())
        self->do_write();
      else if (self->closing_)
        self->do_close();
    });
  }

  //! A polite close: after the queued error frames (Beast's close is a write, and must not
  //! overlap one).
  void close() {
    if (closing_) return;
    closing_ = true;
    if (out_.empty()) do_close();  // else the last write's completion closes
  }

  void do_close() {
    beast_ops::close(ws_, websocket::close_code::going_away, [self = this->shared_from_this()](error_code) {});
  }

  //! Displaced from the gate by newer connections while still not authenticated: closed.
  void evicted() {
    if (!ticket_.waiting()) return;  // authenticated in the meantime
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  //! A client that does not read its error frames: its write never completes, so no close frame
  //! can follow it; the connection is dropped.
  void drop() {
    closing_ = true;
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  std::shared_ptr<IngestServer::State> state_;
  SourceStats& stats_;
  std::atomic<std::uint64_t>& open_;
  const SourceConfig& config_;
  websocket::stream<Next> ws_;
  std::string peer_;      //!< the client's address, for logs
  GateTicket ticket_;     //!< waiting in the gate until authenticated
  bool counted_ = false;  //!< holds one of max_connections
  beast::flat_buffer http_buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  beast::flat_buffer buffer_;
  std::size_t message_bytes_ = 0;
  bool discarding_ = false;
  bool closing_ = false;
  std::deque<std::shared_ptr<const std::string>> out_;
};

}  // namespace

IngestServer::IngestServer(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments,
                           FillSink& sink)
    : config_(std::move(config)), accounts_(accounts), instruments_(instruments), sink_(sink) {}

IngestServer::~IngestServer() { stop(); }

absl::Status IngestServer::start() {
  if (state_) return absl::OkStatus();
  auto token = load_secret(config_.token, config_.name + ".token");
  if (!token.ok()) return token.status();
  auto where = parse_host_port(config_.listen);
  if (!where.ok())
    return absl::InvalidArgumentError(str_cat(config_.name, ".listen: ", std::string(where.status().message())));
  auto state = std::make_shared<State>(sink_, loop_.context(), static_cast<std::size_t>(config_.max_connections),
                                       IngestServer::kDedupWindow, config_.event_time);
  state->token = *std::move(token);
  for (std::uint64_t id : restored_window_) state->dedup.insert(id);
  restored_window_.clear();
  state->parser = std::make_unique<NativeFillParser>(accounts_, instruments_);
  if (!config_.tls_cert_file.empty()) {
    state->tls.emplace(ssl::context::tls_server);
    error_code ec;
    state->tls->use_certificate_chain_file(config_.tls_cert_file, ec);
    if (!ec) state->tls->use_private_key_file(config_.tls_key_file, ssl::context::pem, ec);
    if (ec)
      return absl::FailedPreconditionError(
          str_cat(config_.name, ": cannot load the TLS certificate or key: ", ec.message()));
  }
  error_code ec;
  const Tcp::endpoint endpoint(asio::ip::make_address(where->first, ec), where->second);
  if (ec) return absl::InvalidArgumentError(str_cat(config_.name, ".listen: bad address ", where->first));
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(str_cat(config_.name, ": cannot listen on ", config_.listen, ": ", ec.message()));
  port_.store(state->acceptor.local_endpoint().port(), std::memory_order_release);
  state_ = state;
  do_accept();
  loop_.start();
  return absl::OkStatus();
}

void IngestServer::do_accept() {
  state_->acceptor.async_accept(
      asio::make_strand(loop_.context()), [this, state = state_](error_code ec, Tcp::socket socket) {
        if (ec || state->stopping) return;
        // No refusal here: the gate bounds the waiting connections and max_connections counts
        // the authenticated ones (IngestSession::on_read_upgrade answers 503 past it).
        if (state->tls) {
          std::make_shared<IngestSession<beast::ssl_stream<beast::tcp_stream>>>(state, stats_, open_sessions_, config_,
                                                                                std::move(socket), *state->tls)
              ->run();
        } else {
          std::make_shared<IngestSession<beast::tcp_stream>>(state, stats_, open_sessions_, config_, std::move(socket))
              ->run();
        }
        do_accept();
      });
}

namespace {

constexpr std::uint32_t kPositionVersion = 1;  // [u32 version][u64 n][n × u64 keys, oldest first]

//! The window's keys, oldest first, from save_position's bytes; an error names the source.
absl::StatusOr<std::vector<std::uint64_t>> decode_window(std::string_view bytes, const std::string& source) {
  if (bytes.empty()) return std::vector<std::uint64_t>();  // written before the window was saved: none
  ByteReader r(bytes, "ingest de-duplication window");
  if (const std::uint32_t v = r.u32(); r.ok() && v != kPositionVersion)
    r.fail(str_cat("version ", v, ", this build reads version ", kPositionVersion));
  std::vector<std::uint64_t> ids = r.pods<std::uint64_t>();
  if (r.ok() && ids.size() > IngestServer::kDedupWindow)
    r.fail(str_cat(ids.size(), " keys, over the window of ", IngestServer::kDedupWindow));
  if (r.ok() && std::find(ids.begin(), ids.end(), std::uint64_t{0}) != ids.end()) r.fail("a key of 0");
  if (r.ok() && !r.at_end()) r.fail("bytes after the keys");
  if (!r.ok()) return absl::DataLossError(str_cat(source, ": ", std::string(r.status().message())));
  return ids;
}

}  // namespace

void IngestServer::save_position(std::string& out) const {
  const std::vector<std::uint64_t> ids = state_ ? state_->dedup.ids_oldest_first() : restored_window_;
  ByteWriter w;
  w.u32(kPositionVersion);
  w.pods(ids);
  out.assign(w.view());
}

absl::Status IngestServer::check_position(std::string_view bytes) const {
  return decode_window(bytes, config_.name).status();
}

absl::Status IngestServer::restore_position(std::string_view bytes) {
  absl::StatusOr<std::vector<std::uint64_t>> ids = decode_window(bytes, config_.name);
  if (!ids.ok()) return ids.status();
  restored_window_ = *std::move(ids);
  return absl::OkStatus();
}

void IngestServer::stop() {
  if (!state_ || stopped_) return;
  stopped_ = true;
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    state->stopping = true;
    error_code ignored;
    state->acceptor.close(ignored);
  });
  loop_.stop(200);
}

}  // namespace segmentd
