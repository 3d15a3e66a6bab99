#include "service/ingest/logins/binance_listen_key.h"

#include "core/str_cat.h"
#include "protocol/venues/binance/control.h"
#include "service/net/http_client.h"

namespace segmentd {

BinanceListenKey::BinanceListenKey(boost::asio::io_context& ioc, Options options, Secret api_key,
                                   std::function<void(std::function<void()>)> post)
    : ioc_(ioc), options_(std::move(options)), api_key_(std::move(api_key)), post_(std::move(post)) {}

void BinanceListenKey::create(std::function<void(absl::StatusOr<std::string>)> done) {
  HttpRequest req;
  req.method = "POST";
  req.url = options_.rest_url + options_.path;
  req.headers.emplace_back(std::string(control::kBinanceApiKeyHeader), std::string(api_key_.reveal()));
  req.timeout_ns = options_.timeout_ns;
  req.tls_verify = options_.tls_verify;
  req.ca_file = options_.ca_file;
  async_http_request(ioc_, std::move(req), [this, done = std::move(done)](absl::StatusOr<HttpResponse> r) mutable {
    post_([this, r = std::move(r), done = std::move(done)]() mutable {
      if (!r.ok())
        return done(absl::UnavailableError(str_cat("listenKey create: ", std::string(r.status().message()))));
      if (r->status == 401 || r->status == 403)
        return done(absl::PermissionDeniedError(str_cat("listenKey create: HTTP ", r->status, " (API key refused)")));
      if (r->status != 200) return done(absl::UnavailableError(str_cat("listenKey create: HTTP ", r->status)));
      std::string key;
      ParseError err;
      if (!control::parse_binance_listen_key_response(r->body, key, err) || key.empty())
        return done(absl::UnavailableError("listenKey create: no listenKey in the answer"));
      key_ = key;
      done(std::move(key));
    });
  });
}

void BinanceListenKey::keep_alive(std::function<void(bool)> done) {
  HttpRequest req;
  req.method = "PUT";
  req.url = options_.rest_url + options_.path;
  req.headers.emplace_back(std::string(control::kBinanceApiKeyHeader), std::string(api_key_.reveal()));
  req.timeout_ns = options_.timeout_ns;
  req.tls_verify = options_.tls_verify;
  req.ca_file = options_.ca_file;
  async_http_request(ioc_, std::move(req), [this, done = std::move(done)](absl::StatusOr<HttpResponse> r) mutable {
    const bool ok = r.ok() && r->status == 200;
    post_([ok, done = std::move(done)] { done(ok); });
  });
}

}  // namespace segmentd
