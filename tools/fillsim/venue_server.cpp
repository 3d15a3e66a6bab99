#include "tools/fillsim/venue_server.h"
#include "protocol/venues/registry.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "core/str_cat.h"
#include "protocol/native_format.h"
#include "protocol/venues/venue_adapter.h"
#include "sim/simulator.h"
#include "tools/fillsim/venue_encoders.h"

namespace fillsim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using beast::error_code;
using segmentd::str_cat;
using segmentd::Venue;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void fail(error_code ec, std::string_view) {
  // A simulator's connections end all the time in fault tests; the stats count what matters.
  (void)ec;
}

}  // namespace

//! State shared by the listener and every session; touched on the I/O thread only, except the
//! atomics.
struct VenueServer::Io {
  asio::io_context ioc;
  std::thread thread;
};

struct VenueServer::Shared {
  Shared(asio::io_context& ioc, VenueServerOptions& o, VenueServerStats& s)
      : ioc(ioc), options(o), stats(s), acceptor(asio::make_strand(ioc)) {}
  asio::io_context& ioc;
  VenueServerOptions& options;
  VenueServerStats& stats;
  Tcp::acceptor acceptor;
  std::optional<ssl::context> tls;
  std::vector<std::vector<VenueFill>> streams;            //!< per account
  std::unique_ptr<std::atomic<std::size_t>[]> delivered;  //!< per account: fills sent at least once
  std::vector<std::size_t> resume;                        //!< per account: where the last connection stopped
  //! Binance: each account's listenKey. POST returns the live one (and extends it) or makes a
  //! new one once it has expired; PUT extends a live one.
  struct ListenKey {
    std::string key;  //!< "" before the first POST
    std::int64_t expires_ms = 0;
    int generation = 0;
  };
  std::vector<ListenKey> listen_keys;  //!< per account
  bool listen_key_live(int account, std::int64_t now) const {
    const ListenKey& k = listen_keys[static_cast<std::size_t>(account)];
    return !k.key.empty() && now < k.expires_ms;
  }
  int drops = 0;
  std::uint64_t next_conn = 1;
  bool stopping = false;
};

namespace {

template <class Next>
class VenueSession : public std::enable_shared_from_this<VenueSession<Next>> {
 public:
  template <class... Args>
  VenueSession(std::shared_ptr<VenueServer::Shared> shared, Args&&... args)
      : sh_(std::move(shared)), ws_(std::forward<Args>(args)...), timer_(ws_.get_executor()) {
    control_.conn = sh_->next_conn++;
  }

  void run() {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    if constexpr (std::is_same_v<Next, beast::ssl_stream<beast::tcp_stream>>) {
      ws_.next_layer().async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
        if (ec) return fail(ec, "tls");
        self->do_read_request();
      });
    } else {
      do_read_request();
    }
  }

 private:
  VenueServerOptions& opt() { return sh_->options; }
  VenueServerStats& stats() { return sh_->stats; }

  void do_read_request() {
    parser_.emplace();
    parser_->header_limit(8192);
    parser_->body_limit(4096);
    http::async_read(ws_.next_layer(), http_buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_request(ec); });
  }

  void on_request(error_code ec) {
    if (ec) return fail(ec, "read request");
    auto req = parser_->release();
    if (!websocket::is_upgrade(req)) return on_rest(req);
    if (opt().venue == Venue::kBinance) {
      // The user-data stream: /ws/<listenKey>.
      std::string_view target(req.target().data(), req.target().size());
      const std::size_t slash = target.rfind('/');
      const std::string_view key = target.substr(slash == std::string_view::npos ? 0 : slash + 1);
      const std::int64_t now = now_ms();
      for (std::size_t a = 0; a < sh_->listen_keys.size(); ++a)
        if (sh_->listen_keys[a].key == key && sh_->listen_key_live(static_cast<int>(a), now))
          control_.account = static_cast<int>(a);
      if (control_.account < 0)
        return respond(req, http::status::bad_request, R"({"code":-1125,"msg":"This listenKey does not exist."})",
                       true);
      listen_key_ = std::string(key);
    }
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(1 << 20);
    ws_.async_accept(req, [self = this->shared_from_this()](error_code ec) {
      if (ec) return fail(ec, "accept");
      self->on_open();
    });
  }

  // --- REST: Binance listenKey ---------------------------------------------------------------

  void on_rest(const http::request<http::string_body>& req) {
    std::string_view target(req.target().data(), req.target().size());
    if (opt().venue != Venue::kBinance || target.substr(0, 18) != "/fapi/v1/listenKey")
      return respond(req, http::status::not_found, R"({"code":-1,"msg":"not found"})", false);
    auto key_it = req.find("X-MBX-APIKEY");
    std::string_view api_key =
        key_it == req.end() ? std::string_view() : std::string_view(key_it->value().data(), key_it->value().size());
    int account = -1;
    for (std::size_t i = 0; i < opt().accounts.size(); ++i)
      if (opt().accounts[i].key == api_key) account = static_cast<int>(i);
    if (account < 0) {
      stats().listen_key_rejected.fetch_add(1);
      return respond(req, http::status::unauthorized,
                     R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})", false);
    }
    const std::int64_t now = now_ms();
    auto& lk = sh_->listen_keys[static_cast<std::size_t>(account)];
    if (req.method() == http::verb::post) {
      // Binance: "If the account has an active listenKey, that listenKey will be returned and
      // its validity will be extended"; otherwise a new one.
      if (!sh_->listen_key_live(account, now)) {
        ++lk.generation;
        lk.key = str_cat("simListenKey", account, "x", 1000 + account * 7919, "g", lk.generation);
      }
      lk.expires_ms = now + opt().listen_key_validity_ms;
      stats().listen_keys.fetch_add(1);
      return respond(req, http::status::ok, str_cat(R"({"listenKey":")", lk.key, "\"}"), false);
    }
    if (req.method() == http::verb::put) {
      if (!sh_->listen_key_live(account, now)) {
        stats().keepalive_rejected.fetch_add(1);
        return respond(req, http::status::bad_request, R"({"code":-1125,"msg":"This listenKey does not exist."})",
                       false);
      }
      lk.expires_ms = now + opt().listen_key_validity_ms;
      stats().keepalives.fetch_add(1);
      return respond(req, http::status::ok, str_cat(R"({"listenKey":")", lk.key, "\"}"), false);
    }
    return respond(req, http::status::method_not_allowed, R"({"code":-1,"msg":"method"})", false);
  }

  template <class Request>
  void respond(const Request& req, http::status status, std::string body, bool) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
    res->set(http::field::content_type, "application/json");
    res->body() = std::move(body);
    res->keep_alive(false);
    res->prepare_payload();
    http::async_write(ws_.next_layer(), *res, [self = this->shared_from_this(), res](error_code, std::size_t) {
      error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    });
  }

  // --- websocket -----------------------------------------------------------------------------

  void on_open() {
    stats().connections.fetch_add(1);
    last_heard_ms_ = now_ms();
    if (opt().venue == Venue::kBinance) subscribe();  // the listenKey is the subscription
    do_read();
    do_tick();
  }

  void do_read() {
    ws_.async_read(in_, [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec) {
      closed_ = true;
      return fail(ec, "read");
    }
    const auto data = in_.data();
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    last_heard_ms_ = now_ms();
    ControlResult r = handle_client_message(opt().venue, text, opt().accounts, last_heard_ms_, control_);
    in_.consume(in_.size());
    if (r.auth_ok) stats().auth_ok.fetch_add(1);
    if (r.auth_rejected) stats().auth_rejected.fetch_add(1);
    if (r.ping) stats().pings.fetch_add(1);
    for (auto& reply : r.replies) send(std::move(reply));
    if (r.newly_subscribed) subscribe();
    do_read();
  }

  void subscribe() {
    if (control_.account < 0) return;
    stats().subscriptions.fetch_add(1);
    subscribed_ = true;
    const std::size_t account = static_cast<std::size_t>(control_.account);
    const std::size_t resume = sh_->resume[account];
    position_ = resume > opt().replay_window ? resume - opt().replay_window : 0;
    if (opt().venue == Venue::kHyperliquid) {
      // userFills: the first push is a snapshot of recent fills (re-sent on every subscribe).
      const auto& stream = sh_->streams[account];
      std::span<const VenueFill> recent(stream.data() + position_, resume - position_);
      send(encode_fill_message(Venue::kHyperliquid, recent, opt().accounts[account].name, true));
      position_ = resume;
    }
  }

  void do_tick() {
    const double mps = std::max(1.0, opt().messages_per_second);
    timer_.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(1e6 / mps)));
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_ || self->sh_->stopping) return self->close_now();
      self->on_tick();
    });
  }

  void on_tick() {
    const std::int64_t now = now_ms();
    if (closing_) return;  // the last message is on its way; the write completion closes
    if (now < stalled_until_ms_) return do_tick();
    // Binance: the stream of an expired listenKey gets listenKeyExpired, then is closed.
    if (opt().venue == Venue::kBinance && !listen_key_.empty() &&
        (sh_->listen_keys[static_cast<std::size_t>(control_.account)].key != listen_key_ ||
         !sh_->listen_key_live(control_.account, now))) {
      stats().listen_key_expired.fetch_add(1);
      send(str_cat(R"({"e":"listenKeyExpired","E":)", now, R"(,"listenKey":")", listen_key_, "\"}"));
      closing_ = true;
      return;
    }
    // Heartbeats: Deribit asks with test_request and closes when the last one went unanswered;
    // the others close a client that has been silent too long.
    if (opt().venue == Venue::kDeribit && control_.heartbeat_interval_ms > 0 && now >= next_test_ms_) {
      if (!control_.test_answered && next_test_ms_ != 0) {
        stats().heartbeat_closes.fetch_add(1);
        return close_now();
      }
      send(deribit_test_request());
      stats().test_requests.fetch_add(1);
      control_.test_answered = false;
      next_test_ms_ = now + control_.heartbeat_interval_ms / 1000 * opt().deribit_heartbeat_second_ms;
    }
    if (opt().venue != Venue::kDeribit && opt().venue != Venue::kBinance &&
        now - last_heard_ms_ > opt().heartbeat_timeout_ms) {
      stats().heartbeat_closes.fetch_add(1);
      return close_now();
    }
    if (subscribed_) send_fills();
    if (!closed_) do_tick();
  }

  void send_fills() {
    const std::size_t account = static_cast<std::size_t>(control_.account);
    const auto& stream = sh_->streams[account];
    if (position_ >= stream.size()) return;
    const VenueFaults& f = opt().faults;
    if (f.stall_after > 0 && sent_ == static_cast<std::uint64_t>(f.stall_after) && !stalled_once_) {
      stalled_once_ = true;
      stats().stalls.fetch_add(1);
      stalled_until_ms_ = now_ms() + f.stall_ms;
      return;
    }
    if (f.drop_after > 0 && sent_ >= static_cast<std::uint64_t>(f.drop_after) && sh_->drops < f.max_drops) {
      ++sh_->drops;
      stats().drops.fetch_add(1);
      return close_now();
    }
    const std::uint64_t n = sent_ + 1;
    if (f.bad_every > 0 && n % static_cast<std::uint64_t>(f.bad_every) == 0) {
      send(encode_bad_message(opt().venue, static_cast<int>(n / f.bad_every), stream[position_]));
      stats().bad_frames.fetch_add(1);
    }
    if (f.oversized_every > 0 && n % static_cast<std::uint64_t>(f.oversized_every) == 0) {
      std::string big = R"({"pad":")";
      big.append(f.oversized_bytes, 'x');
      big += "\"}";
      send(std::move(big));
      stats().oversized_frames.fetch_add(1);
    }
    const std::size_t batch = opt().venue == Venue::kBinance ? 1 : std::max<std::size_t>(1, opt().batch);
    const std::size_t count = std::min(batch, stream.size() - position_);
    send(encode_fill_message(opt().venue, std::span<const VenueFill>(stream.data() + position_, count),
                             opt().accounts[account].name));
    position_ += count;
    ++sent_;
    stats().fill_messages.fetch_add(1);
    stats().fills_sent.fetch_add(count);
    sh_->resume[account] = std::max(sh_->resume[account], position_);
    auto& delivered = sh_->delivered[account];
    if (position_ > delivered.load()) delivered.store(position_);
  }

  void send(std::string text) {
    if (closed_) return;
    if (out_.size() >= 4096) return close_now();  // a client that does not read: drop it
    out_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (out_.size() == 1) do_write();
  }

  void do_write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(*out_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        return fail(ec, "write");
      }
      self->out_.pop_front();
      if (!self->out_.empty()) return self->do_write();
      if (self->closing_) self->close_now();
    });
  }

  //! An abrupt close, as a venue that drops a connection: no close frame.
  void close_now() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  std::shared_ptr<VenueServer::Shared> sh_;
  websocket::stream<Next> ws_;
  asio::steady_timer timer_;
  beast::flat_buffer http_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  beast::flat_buffer in_;
  std::deque<std::shared_ptr<const std::string>> out_;
  ControlState control_;
  bool subscribed_ = false;
  bool closed_ = false;
  bool closing_ = false;    //!< close once the queued messages are written
  std::string listen_key_;  //!< Binance: the key this stream was opened with
  std::size_t position_ = 0;
  std::uint64_t sent_ = 0;  //!< fill messages on this connection
  std::int64_t last_heard_ms_ = 0;
  std::int64_t next_test_ms_ = 0;
  std::int64_t stalled_until_ms_ = 0;
  bool stalled_once_ = false;
};

void do_accept(std::shared_ptr<VenueServer::Shared> sh) {
  sh->acceptor.async_accept(asio::make_strand(sh->ioc), [sh](error_code ec, Tcp::socket socket) {
    if (ec || sh->stopping) return;
    if (sh->tls)
      std::make_shared<VenueSession<beast::ssl_stream<beast::tcp_stream>>>(sh, std::move(socket), *sh->tls)->run();
    else
      std::make_shared<VenueSession<beast::tcp_stream>>(sh, std::move(socket))->run();
    do_accept(sh);
  });
}

//! Venue trade ids: decimal for most venues, a UUID-shaped string for Bybit's execId.
std::string trade_id_text(Venue venue, std::size_t account, std::size_t index) {
  const std::uint64_t n = 500'000'000ULL + account * 1'000'000ULL + index;
  if (venue == Venue::kBybit) return str_cat("0ab1bdf7-4219-438b-b30a-", 100'000'000'000ULL + n);
  return str_cat(n);
}

}  // namespace

VenueServer::VenueServer(VenueServerOptions options) : options_(std::move(options)) {}

VenueServer::~VenueServer() {
  stop();
  shared_.reset();
  io_.reset();  // destroys what is left of the sessions, which hold the last Shared references
}

std::size_t VenueServer::delivered(std::size_t account) const {
  return shared_ ? shared_->delivered[account].load() : 0;
}

absl::Status VenueServer::start() {
  if (shared_) return absl::OkStatus();
  if (options_.accounts.empty()) return absl::InvalidArgumentError("the venue server needs at least one account");
  if (auto s = validate(options_.sim); !s.ok()) return s;
  io_ = std::make_unique<Io>();
  auto sh = std::make_shared<Shared>(io_->ioc, options_, stats_);
  const std::size_t n = options_.accounts.size();
  sh->streams.resize(n);
  sh->resume.assign(n, 0);
  sh->listen_keys.resize(n);
  sh->delivered = std::make_unique<std::atomic<std::size_t>[]>(n);
  expected_.assign(n, {});

  // The streams: simulated fills the venue lists, dealt to the accounts in turn; each checked
  // by the venue's own adapter, whose trade ids are what a client will see.
  Simulator sim(options_.sim);
  SimFill f;
  segmentd::AccountInterner interner;
  segmentd::InstrumentRegistry registry{segmentd::parse_symbol};
  std::size_t next = 0, filled = 0, guard = 0;
  std::vector<std::unique_ptr<segmentd::VenueAdapter>> adapters(n);
  for (std::size_t a = 0; a < n; ++a) {
    segmentd::AdapterContext ctx;
    ctx.accounts = &interner;
    ctx.instruments = &registry;
    ctx.account = options_.accounts[a].name;
    adapters[a] = segmentd::make_venue_adapter(options_.venue, std::move(ctx));
  }
  std::vector<segmentd::Fill> out;
  segmentd::DecodeOutcome outcome;
  segmentd::ParseError err;
  while (filled < n && sim.next(&f) && ++guard < 100'000'000) {
    if (!venue_supports(options_.venue, f.fill)) continue;
    std::size_t a = next++ % n;
    for (std::size_t k = 0; k < n && sh->streams[a].size() >= options_.fills_per_account; ++k) a = (a + 1) % n;
    auto& stream = sh->streams[a];
    if (stream.size() >= options_.fills_per_account) continue;
    VenueFill vf;
    vf.fill = f.fill;
    vf.symbol = std::string(f.symbol);
    vf.seq = stream.size() + 1;
    vf.trade_id = trade_id_text(options_.venue, a, stream.size());
    const std::string one =
        encode_fill_message(options_.venue, std::span<const VenueFill>(&vf, 1), options_.accounts[a].name);
    out.clear();
    outcome.reset();
    if (!adapters[a]->decode_unpadded(one, 1, out, outcome, err) || out.size() != 1)
      return absl::InternalError(str_cat("the ", segmentd::to_string(options_.venue),
                                         " adapter refuses a simulated fill (", err.detail, "): ", one.substr(0, 400)));
    expected_[a].push_back(out.front().trade_id);
    stream.push_back(std::move(vf));
    if (stream.size() == options_.fills_per_account) ++filled;
  }
  if (filled < n) return absl::InternalError("the simulation ended before every account's stream was full");

  if (!options_.tls_cert_file.empty()) {
    sh->tls.emplace(ssl::context::tls_server);
    error_code ec;
    sh->tls->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (!ec) sh->tls->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) return absl::FailedPreconditionError(str_cat("cannot load the TLS certificate or key: ", ec.message()));
  }
  const auto colon = options_.listen.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("listen must be host:port");
  error_code ec;
  const auto address = asio::ip::make_address(options_.listen.substr(0, colon), ec);
  if (ec) return absl::InvalidArgumentError(str_cat("bad listen address ", options_.listen));
  const Tcp::endpoint endpoint(address, static_cast<std::uint16_t>(std::stoi(options_.listen.substr(colon + 1))));
  sh->acceptor.open(endpoint.protocol(), ec);
  if (!ec) sh->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) sh->acceptor.bind(endpoint, ec);
  if (!ec) sh->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(str_cat("cannot listen on ", options_.listen, ": ", ec.message()));
  port_.store(sh->acceptor.local_endpoint().port(), std::memory_order_release);
  shared_ = sh;
  do_accept(sh);
  io_->thread = std::thread([io = io_.get()] { io->ioc.run(); });
  return absl::OkStatus();
}

void VenueServer::stop() {
  if (!shared_) return;
  auto sh = shared_;
  asio::post(sh->acceptor.get_executor(), [sh] {
    sh->stopping = true;
    error_code ignored;
    sh->acceptor.close(ignored);
  });
  // Sessions notice `stopping` at their next tick and close; then nothing is left to run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!sh->ioc.stopped() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sh->ioc.stop();
  if (io_->thread.joinable()) io_->thread.join();
}

}  // namespace fillsim
