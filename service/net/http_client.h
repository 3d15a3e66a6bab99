#pragma once
// A small one-shot HTTP/1.1 client (http:// and https://) for the few REST calls a stream needs:
// Binance's listenKey create and keep-alive. One request per connection, a deadline over the
// whole exchange, and a bounded response body. Beast lives in http_client.cpp only.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace boost::asio {
class io_context;
}

namespace segmentd {

struct HttpRequest {
  std::string method = "GET";  //!< GET, POST, PUT, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::int64_t timeout_ns = 10'000'000'000;
  bool tls_verify = true;
  std::string ca_file;
  std::size_t max_body_bytes = 1 << 20;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

//! Runs the request on `ioc`; `done` is called once, on an io_context thread. Errors name the
//! host and the step, never the headers (they carry API keys).
void async_http_request(boost::asio::io_context& ioc, HttpRequest request,
                        std::function<void(absl::StatusOr<HttpResponse>)> done);

}  // namespace segmentd
