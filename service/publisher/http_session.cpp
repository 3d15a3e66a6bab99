#include "service/publisher/http_session.h"

#include <chrono>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "service/base/log.h"
#include "service/net/stream_ops.h"
#include "service/publisher/websocket_session.h"

namespace segmentd {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using ErrorCode = boost::system::error_code;

constexpr std::size_t kMaxHeaderBytes = 8192;

// Reads the upgrade request of one connection. Lives on the connection's strand, kept alive by
// its pending handler; hands the stream over to a websocket session or answers and closes.
//
// Until its token is checked the connection holds no slot of max_connections: it waits in the
// context's ConnectionGate, where a newer connection displaces the oldest waiting one (so silent
// sockets never lock a subscriber out), and it has handshake_timeout to send its upgrade.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, std::shared_ptr<const PublisherContext> context, std::string peer)
      : stream_(std::move(stream)),
        executor_(beast::get_lowest_layer(stream_).get_executor()),
        context_(std::move(context)),
        peer_(std::move(peer)) {}

  void run() {
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    ticket_ = context_->gate->enter(peer_, [weak] {
      if (auto self = weak.lock()) net::post(self->executor_, [self] { self->evicted(); });
    });
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(context_->session.handshake_timeout_ns));
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      do_read();
    } else {
      beast_ops::tls_handshake(stream_, net::ssl::stream_base::server,
                               beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
    }
  }

 private:
  void on_handshake(ErrorCode ec) {
    if (ec) return;  // not TLS, or not our certificate: nothing to say to it
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(1024);
    beast_ops::read_request(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
  }

  void on_read(ErrorCode ec, std::size_t) {
    if (ec) return;  // timeout, garbage or a closed peer: drop it
    http::request<http::string_body> req = parser_->release();
    if (req.target() != "/" && req.target() != "/v1/stream") {
      return respond(req, http::status::not_found, "the stream is at / or /v1/stream\n");
    }
    if (!beast::websocket::is_upgrade(req)) {
      return respond(req, http::status::upgrade_required, "websocket upgrade required\n");
    }
    const auto authorization = req[http::field::authorization];
    if (!context_->tokens.check_header(authorization) && !console_session(req)) {
      context_->hub->count_auth_failure();
      // Who tried, never what they presented.
      SEGMENTD_LOG_WARN("publisher", "subscriber login failed", {"peer", peer_},
                        {"reason", !authorization.empty()             ? "bad bearer token"
                                   : req[http::field::cookie].empty() ? "no bearer token"
                                                                      : "no bearer token, no live console session"});
      return respond(req, http::status::unauthorized, "a valid bearer token is required\n");
    }
    ticket_.admit();
    // A slot only now, after authentication.
    ConnectionSlot slot;
    if (context_->hub->try_open_connection()) slot = ConnectionSlot(context_->hub);
    if (!slot) {
      context_->hub->count_rejected();
      SEGMENTD_LOG_WARN("publisher", "subscriber refused: max_connections open", {"peer", peer_});
      return respond(req, http::status::service_unavailable, "too many connections\n");
    }
    beast::get_lowest_layer(stream_).expires_never();  // the websocket stream has its own timeouts
    run_websocket_session(std::move(stream_), std::move(req), context_, std::move(slot), std::move(peer_));
  }

  //! The console's live feed: no token, a live session's cookie, and (a browser always says) an
  //! Origin on the same host as the request, so that a page of another site on this host cannot
  //! read the stream with the desk's session.
  bool console_session(const http::request<http::string_body>& req) const {
    if (!context_->console_sessions || !req[http::field::authorization].empty()) return false;
    return context_->console_sessions->check(req[http::field::cookie]) &&
           ConsoleSessions::origin_on_host(req[http::field::origin], req[http::field::host]);
  }

  //! Displaced from the gate while still unauthenticated: closed (its pending read ends).
  void evicted() {
    if (!ticket_.waiting()) return;
    ErrorCode ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void respond(const http::request<http::string_body>& req, http::status status, const char* body) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
    res->set(http::field::server, "segmentd-publisher");
    res->set(http::field::content_type, "text/plain");
    if (status == http::status::unauthorized) res->set(http::field::www_authenticate, "Bearer");
    if (status == http::status::upgrade_required) res->set(http::field::upgrade, "websocket");
    res->keep_alive(false);
    res->body() = body;
    res->prepare_payload();
    beast_ops::write_response(stream_, *res,
                              [self = this->shared_from_this(), res](ErrorCode, std::size_t) { self->do_shutdown(); });
  }

  void do_shutdown() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      ErrorCode ignored;
      stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    } else {
      beast_ops::tls_shutdown(stream_, [self = this->shared_from_this()](ErrorCode) {});
    }
  }

  Stream stream_;
  const net::any_io_executor executor_;  //!< the connection's strand (the gate posts to it from any thread)
  std::shared_ptr<const PublisherContext> context_;
  std::string peer_;   //!< the client's address, for logs
  GateTicket ticket_;  //!< in the gate until authenticated
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

void start_publisher_connection(net::ip::tcp::socket socket, std::shared_ptr<const PublisherContext> context) {
  ErrorCode ec;
  const auto endpoint = socket.remote_endpoint(ec);
  std::string peer = ec ? std::string("?") : endpoint.address().to_string();
  if (context->tls) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<HttpSession<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), *context->tls),
                                             std::move(context), std::move(peer))
        ->run();
  } else {
    std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), std::move(context),
                                                     std::move(peer))
        ->run();
  }
}

}  // namespace segmentd
