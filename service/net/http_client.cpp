#include "service/net/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

#include "core/str_cat.h"
#include "service/net/stream_ops.h"
#include "service/net/url.h"

namespace segmentd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using beast::error_code;

namespace {

// One request: resolve → connect → (TLS handshake) → write → read, each step under the one
// deadline of the tcp_stream. Keeps itself alive with shared_from_this until `done` is called.
class HttpExchange : public std::enable_shared_from_this<HttpExchange> {
 public:
  HttpExchange(asio::io_context& ioc, HttpRequest request, Url url,
               std::function<void(absl::StatusOr<HttpResponse>)> done)
      : strand_(asio::make_strand(ioc)),
        request_(std::move(request)),
        url_(std::move(url)),
        done_(std::move(done)),
        resolver_(strand_),
        tls_ctx_(ssl::context::tls_client) {}

  void start() {
    if (url_.tls) {
      tls_ctx_.set_verify_mode(request_.tls_verify ? ssl::verify_peer : ssl::verify_none);
      error_code ec;
      if (request_.tls_verify) tls_ctx_.set_default_verify_paths(ec);
      if (!request_.ca_file.empty()) {
        tls_ctx_.load_verify_file(request_.ca_file, ec);
        if (ec) return finish(absl::FailedPreconditionError(str_cat("cannot load ca_file ", request_.ca_file)));
      }
      tls_.emplace(strand_, tls_ctx_);
    } else {
      plain_.emplace(strand_);
    }
    lowest().expires_after(std::chrono::nanoseconds(request_.timeout_ns));
    resolver_.async_resolve(url_.host, url_.port,
                            [self = shared_from_this()](error_code ec, Tcp::resolver::results_type r) {
                              self->on_resolve(ec, std::move(r));
                            });
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void on_resolve(error_code ec, Tcp::resolver::results_type results) {
    if (ec) return fail("resolve", ec);
    lowest().async_connect(results,
                           [self = shared_from_this()](error_code ec, const Tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(error_code ec) {
    if (ec) return fail("connect", ec);
    if (!tls_) return do_write();
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str()))
      return fail("TLS SNI", error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
    if (request_.tls_verify) tls_->set_verify_callback(ssl::host_name_verification(url_.host));
    beast_ops::tls_handshake(*tls_, ssl::stream_base::client, [self = shared_from_this()](error_code ec) {
      if (ec) return self->fail("TLS handshake", ec);
      self->do_write();
    });
  }

  void do_write() {
    req_.method_string(request_.method);
    req_.target(url_.target);
    req_.version(11);
    req_.set(http::field::host, url_.host);
    req_.set(http::field::user_agent, "segmentd");
    for (const auto& [k, v] : request_.headers) req_.set(k, v);
    if (!request_.body.empty()) req_.body() = request_.body;
    req_.prepare_payload();
    auto on_write = [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->fail("write", ec);
      self->do_read();
    };
    if (tls_)
      beast_ops::write_request(*tls_, req_, std::move(on_write));
    else
      beast_ops::write_request(*plain_, req_, std::move(on_write));
  }

  void do_read() {
    parser_.body_limit(request_.max_body_bytes);
    auto on_read = [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->fail("read", ec);
      HttpResponse r;
      r.status = static_cast<int>(self->parser_.get().result_int());
      r.body = std::move(self->parser_.get().body());
      self->finish(std::move(r));
      self->shutdown();
    };
    if (tls_)
      beast_ops::read_response(*tls_, buffer_, parser_, std::move(on_read));
    else
      beast_ops::read_response(*plain_, buffer_, parser_, std::move(on_read));
  }

  void shutdown() {
    error_code ignored;
    lowest().socket().shutdown(Tcp::socket::shutdown_both, ignored);
  }

  void fail(std::string_view step, error_code ec) {
    finish(
        absl::UnavailableError(str_cat("HTTP ", request_.method, " to ", url_.host, ": ", step, ": ", ec.message())));
  }

  void finish(absl::StatusOr<HttpResponse> result) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  asio::strand<asio::io_context::executor_type> strand_;
  HttpRequest request_;
  Url url_;
  std::function<void(absl::StatusOr<HttpResponse>)> done_;
  Tcp::resolver resolver_;
  ssl::context tls_ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace

void async_http_request(asio::io_context& ioc, HttpRequest request,
                        std::function<void(absl::StatusOr<HttpResponse>)> done) {
  auto url = parse_url(request.url);
  if (!url.ok()) {
    done(absl::InvalidArgumentError(str_cat("bad URL: ", std::string(url.status().message()))));
    return;
  }
  std::make_shared<HttpExchange>(ioc, std::move(request), *std::move(url), std::move(done))->start();
}

}  // namespace segmentd
