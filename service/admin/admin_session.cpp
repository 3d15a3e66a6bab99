#include "service/admin/admin_session.h"

#include <chrono>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/str_cat.h"
#include "protocol/publisher/admin_messages.h"
#include "service/admin/console_assets.h"
#include "service/base/log.h"
#include "service/net/stream_ops.h"

namespace segmentd {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using ErrorCode = boost::system::error_code;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

//! Percent-decodes a path segment (and '+' as a space in a form field); nullopt on a malformed
//! escape.
std::optional<std::string> url_decode(std::string_view s, bool form = false) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(form && s[i] == '+' ? ' ' : s[i]);
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Response make_response(const Request& req, http::status status, std::string body, std::string_view type) {
  Response res(status, req.version());
  res.set(http::field::server, "segmentd-admin");
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

//! The value of field `name` of an application/x-www-form-urlencoded body, decoded.
std::optional<std::string> form_value(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const std::size_t end = body.find('&');
    std::string_view pair = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return url_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

//! A POST from a page of another origin (its Origin header names another host) is refused:
//! SameSite=Strict already keeps the cookie from such requests, this keeps their login out too.
bool same_origin_post(const Request& req) {
  const std::string_view origin = req[http::field::origin];
  if (origin.empty()) return true;  // not a browser, or a browser that does not say: the token decides
  return ConsoleSessions::origin_on_host(origin, req[http::field::host]);
}

Response json_error(const Request& req, http::status status, std::string_view error, std::string_view message) {
  std::string body;
  adminmsg::append_error(body, error, message);
  Response res = make_response(req, status, std::move(body), "application/json");
  if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

//! A page of the console with the headers that keep it to itself: a Content-Security-Policy that
//! allows only its own script and styles and, for the live feed, the publisher's websocket on
//! the host the browser used.
Response console_page(const Request& req, const AdminContext& ctx, http::status status, std::string body) {
  Response res = make_response(req, status, std::move(body), "text/html; charset=utf-8");
  std::string connect = "'self'";
  const std::string_view host = ConsoleSessions::host_of(req[http::field::host]);
  if (ctx.handlers.publisher_port != 0 && !host.empty())
    connect =
        str_cat(connect, ctx.handlers.publisher_tls ? " wss://" : " ws://", host, ":", ctx.handlers.publisher_port);
  res.set("Content-Security-Policy",
          str_cat("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ",
                  connect, "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");  // not no-referrer: Chromium then sends "Origin: null" on the form's POST
  return res;
}

//! The login form; `error` (a fixed text, never the request's) shown above it.
Response login_page(const Request& req, const AdminContext& ctx, http::status status, std::string_view error) {
  const ConsoleAsset* page = find_console_asset("login.html");
  std::string body =
      page ? std::string(page->body) : std::string("<!doctype html><title>segmentd</title>login.html is missing");
  constexpr std::string_view kSlot = "<!--LOGIN_ERROR-->";
  if (const std::size_t at = body.find(kSlot); at != std::string::npos)
    body.replace(at, kSlot.size(), error.empty() ? std::string() : str_cat("<p class=\"login-error\">", error, "</p>"));
  return console_page(req, ctx, status, std::move(body));
}

Response see_other(const Request& req, std::string_view cookie) {
  Response res = make_response(req, http::status::see_other, "", "text/plain");
  res.set(http::field::location, "/");
  res.set(http::field::set_cookie, cookie);
  return res;
}

//! POST /console/login and /console/logout.
Response console_post(const Request& req, const AdminContext& ctx, std::string_view action) {
  if (!same_origin_post(req))
    return json_error(req, http::status::forbidden, "cross_origin", "a login from another site's page is refused");
  const std::string secure = ctx.tls ? "; Secure" : "";
  if (action == "logout") {
    ctx.sessions->close(req[http::field::cookie]);
    return see_other(req, str_cat(kConsoleCookie, "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict", secure));
  }
  const std::optional<std::string> token = form_value(req.body(), "token");
  if (!token || token->empty() || !ctx.tokens.check_token(*token))
    return login_page(req, ctx, http::status::unauthorized, "That token is not valid.");
  return see_other(req, str_cat(kConsoleCookie, "=", ctx.sessions->open(), "; Path=/; Max-Age=",
                                ctx.sessions->ttl().count(), "; HttpOnly; SameSite=Strict", secure));
}

//! A /v1 read: the bearer token, or the console's session cookie.
bool authorized_read(const Request& req, const AdminContext& ctx) {
  return ctx.tokens.check_header(req[http::field::authorization]) || ctx.sessions->check(req[http::field::cookie]);
}

//! The router: a pure function of the request and the handlers. nullopt for an authorized
//! POST /v1/checkpoint with checkpoints enabled: the caller starts the write
//! (handlers.checkpoint_now) and answers when it is done.
std::optional<Response> handle(const Request& req, const AdminContext& ctx) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  const auto& h = ctx.handlers;
  constexpr std::string_view kCheckpoint = "/v1/checkpoint";
  if (req.method() == http::verb::post && path == kCheckpoint) {
    if (!ctx.tokens.check_header(req[http::field::authorization]))
      return json_error(req, http::status::unauthorized, "unauthorized", "a valid bearer token is required");
    if (!h.checkpoint_now)
      return json_error(req, http::status::not_found, "not_found", "checkpoints are disabled ([checkpoint] enabled)");
    return std::nullopt;
  }
  constexpr std::string_view kConsole = "/console/";
  if (req.method() == http::verb::post && (path == "/console/login" || path == "/console/logout"))
    return console_post(req, ctx, path.substr(kConsole.size()));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response res = json_error(req, http::status::method_not_allowed, "method_not_allowed",
                              path == kCheckpoint ? "GET, HEAD or POST" : "only GET and HEAD");
    res.set(http::field::allow, path == kCheckpoint ? "GET, HEAD, POST" : "GET, HEAD");
    return res;
  }
  if (path == "/healthz") return make_response(req, http::status::ok, "ok\n", "text/plain");
  if (path == "/readyz") {
    std::vector<ReadinessCheck> checks;
    if (h.readiness) checks = h.readiness();
    bool ready = true;
    for (const auto& c : checks) ready = ready && c.ok;
    std::string body;
    adminmsg::append_readiness(body, checks);
    return make_response(req, ready ? http::status::ok : http::status::service_unavailable, std::move(body),
                         "application/json");
  }
  if (path == "/metrics") {
    if (!h.metrics) return json_error(req, http::status::not_found, "not_found", "metrics are not enabled");
    return make_response(req, http::status::ok, h.metrics(), "text/plain; version=0.0.4");
  }
  if (path == "/" || path == "/index.html") {
    const ConsoleAsset* page = find_console_asset("index.html");
    if (page == nullptr) return json_error(req, http::status::not_found, "not_found", "the console is not built in");
    // Without a session (or the token itself, for a script): the login form, answered 200.
    if (!authorized_read(req, ctx)) return login_page(req, ctx, http::status::ok, "");
    return console_page(req, ctx, http::status::ok, std::string(page->body));
  }
  if (path.starts_with(kConsole)) {
    // Scripts and styles only: they hold no data. The pages go through "/" (session checked).
    const ConsoleAsset* asset = find_console_asset(path.substr(kConsole.size()));
    if (asset != nullptr && !asset->name.ends_with(".html")) {
      Response res = make_response(req, http::status::ok, std::string(asset->body), asset->content_type);
      res.set("X-Content-Type-Options", "nosniff");
      return res;
    }
    return json_error(req, http::status::not_found, "not_found", "no such file of the console");
  }
  if (path.starts_with("/v1/")) {
    if (!authorized_read(req, ctx)) {
      return json_error(req, http::status::unauthorized, "unauthorized", "a valid bearer token is required");
    }
    if (path == kCheckpoint) {
      if (!h.checkpoint_status)
        return json_error(req, http::status::not_found, "not_found", "checkpoints are disabled ([checkpoint] enabled)");
      return make_response(req, http::status::ok, h.checkpoint_status(), "application/json");
    }
    if (path == "/v1/overview" || path == "/v1/map") {
      const auto& view = path == "/v1/overview" ? h.overview : h.map;
      if (!view) return json_error(req, http::status::not_found, "not_found", "no such endpoint");
      return make_response(req, http::status::ok, view(), "application/json");
    }
    if (path == "/v1/risk/regime") {
      if (!h.regime)
        return json_error(req, http::status::not_found, "not_found", "the regime is disabled ([regime] enabled)");
      return make_response(req, http::status::ok, h.regime(), "application/json");
    }
    if (path == "/v1/risk/exposure" || path == "/v1/risk/scenarios") {
      const auto& handler = path == "/v1/risk/exposure" ? h.exposure : h.scenarios;
      if (!handler) return json_error(req, http::status::not_found, "not_found", "no such endpoint");
      std::string body = handler();
      if (body.empty())
        return json_error(req, http::status::service_unavailable, "not_running", "the shards are not running");
      return make_response(req, http::status::ok, std::move(body), "application/json");
    }
    ModelPtr model = h.model ? h.model() : nullptr;
    if (path == "/v1/segments") {
      std::string body;
      const std::shared_ptr<const ExposureView> exposure = h.exposure_view ? h.exposure_view() : nullptr;
      adminmsg::append_segments(body, model.get(), exposure.get());
      return make_response(req, http::status::ok, std::move(body), "application/json");
    }
    constexpr std::string_view kAccounts = "/v1/accounts/";
    if (path.starts_with(kAccounts) && path.size() > kAccounts.size()) {
      auto account = url_decode(path.substr(kAccounts.size()));
      if (!account || account->empty() || account->size() > 128 || account->find('/') != std::string::npos) {
        return json_error(req, http::status::bad_request, "bad_account", "the account id is malformed");
      }
      std::optional<AccountView> view = h.account ? h.account(*account) : std::nullopt;
      if (!view) return json_error(req, http::status::not_found, "unknown_account", "no such account");
      std::string body;
      adminmsg::append_account(body, *view, model.get());
      return make_response(req, http::status::ok, std::move(body), "application/json");
    }
  }
  return json_error(req, http::status::not_found, "not_found", "no such endpoint");
}

// One connection: reads a request, answers, repeats while keep-alive. On its strand; kept alive
// by its pending handler.
template <class Stream>
class AdminSession : public std::enable_shared_from_this<AdminSession<Stream>> {
 public:
  AdminSession(Stream&& stream, std::shared_ptr<const AdminContext> context, std::string peer)
      : stream_(std::move(stream)), context_(std::move(context)), peer_(std::move(peer)) {}
  ~AdminSession() {
    if (counted_) context_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    std::weak_ptr<AdminSession> weak = this->shared_from_this();
    ticket_ = context_->gate->enter(peer_, [weak] {
      if (auto self = weak.lock())
        net::post(beast::get_lowest_layer(self->stream_).get_executor(), [self] { self->evicted(); });
    });
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      do_read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(context_->request_timeout_ns));
      beast_ops::tls_handshake(stream_, net::ssl::stream_base::server,
                               beast::bind_front_handler(&AdminSession::on_handshake, this->shared_from_this()));
    }
  }

 private:
  void on_handshake(ErrorCode ec) {
    if (!ec) do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(context_->max_request_bytes));
    parser_->body_limit(context_->max_request_bytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(context_->request_timeout_ns));
    beast_ops::read_request(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&AdminSession::on_read, this->shared_from_this()));
  }

  void on_read(ErrorCode ec, std::size_t) {
    if (ec) return do_shutdown();
    Request req = parser_->release();
    bool over_capacity = false;
    if (ticket_.waiting()) {  // the connection's first request: it takes a slot now, if one is free
      ticket_.admit();
      if (context_->connections.fetch_add(1, std::memory_order_relaxed) < context_->max_connections) {
        counted_ = true;
      } else {
        context_->connections.fetch_sub(1, std::memory_order_relaxed);
        over_capacity = true;
      }
    }
    if (over_capacity) {
      context_->over_capacity.fetch_add(1, std::memory_order_relaxed);
      std::string_view path = req.target();
      path = path.substr(0, path.find('?'));
      // Probes and Prometheus are answered whatever holds the other slots; then the connection goes.
      if (path == "/healthz" || path == "/readyz" || path == "/metrics")
        response_ = std::make_shared<Response>(*handle(req, *context_));
      else
        response_ = std::make_shared<Response>(
            json_error(req, http::status::service_unavailable, "too_many_connections", "max_connections are open"));
      response_->keep_alive(false);
    } else {
      std::optional<Response> res = handle(req, *context_);
      if (!res) return start_checkpoint(req);
      response_ = std::make_shared<Response>(*std::move(res));
    }
    write_response(req);
  }

  //! POST /v1/checkpoint: the write runs on the checkpointer's thread; this connection waits for
  //! it (one request at a time) while the admin thread serves the others.
  void start_checkpoint(const Request& req) {
    Request head;  // what the answer needs of the request
    head.version(req.version());
    head.keep_alive(req.keep_alive());
    auto executor = beast::get_lowest_layer(stream_).get_executor();
    context_->handlers.checkpoint_now([self = this->shared_from_this(), executor, head = std::move(head)](
                                          bool ok, std::string body) mutable {
      net::post(executor, [self, head = std::move(head), ok, body = std::move(body)]() mutable {
        self->response_ = std::make_shared<Response>(make_response(
            head, ok ? http::status::ok : http::status::internal_server_error, std::move(body), "application/json"));
        // The request's deadline may have passed during the write: the answer gets its own.
        beast::get_lowest_layer(self->stream_)
            .expires_after(std::chrono::nanoseconds(self->context_->request_timeout_ns));
        self->write_response(head);
      });
    });
  }

  void write_response(const Request& req) {
    if (response_->result() == http::status::unauthorized) {
      context_->auth_failures.fetch_add(1, std::memory_order_relaxed);
      // Who tried, never what they presented.
      std::string_view reason = req[http::field::authorization].empty() ? "no bearer token" : "bad bearer token";
      if (req.target() == "/console/login") reason = "bad token at the console's login";
      SEGMENTD_LOG_WARN("admin", "admin login failed", {"peer", peer_}, {"reason", reason});
    }
    if (req.method() == http::verb::head) response_->body().clear();
    beast_ops::write_response(stream_, *response_,
                              beast::bind_front_handler(&AdminSession::on_write, this->shared_from_this()));
  }

  void on_write(ErrorCode ec, std::size_t) {
    const bool keep_alive = response_ && response_->keep_alive();
    response_.reset();
    if (ec || !keep_alive) return do_shutdown();
    do_read();
  }

  void do_shutdown() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      ErrorCode ignored;
      stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      beast_ops::tls_shutdown(stream_, [self = this->shared_from_this()](ErrorCode) {});
    }
  }

  //! Displaced from the gate before its first request: closed (its pending read ends).
  void evicted() {
    if (!ticket_.waiting()) return;
    ErrorCode ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  Stream stream_;
  std::shared_ptr<const AdminContext> context_;
  std::string peer_;      //!< the client's address, for logs
  GateTicket ticket_;     //!< in the gate until the first request is read
  bool counted_ = false;  //!< holds one of max_connections
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;
};

}  // namespace

void start_admin_connection(net::ip::tcp::socket socket, std::shared_ptr<const AdminContext> context) {
  // No refusal here (admin_session.h, "Connections"): the gate bounds connections with no
  // request yet, and max_connections those that sent one.
  ErrorCode ec;
  const auto endpoint = socket.remote_endpoint(ec);
  std::string peer = ec ? std::string("?") : endpoint.address().to_string();
  if (context->tls) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<AdminSession<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), *context->tls),
                                              std::move(context), std::move(peer))
        ->run();
  } else {
    std::make_shared<AdminSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), std::move(context),
                                                      std::move(peer))
        ->run();
  }
}

}  // namespace segmentd
