#pragma once
// Binance's listenKey: POST {rest}/fapi/v1/listenKey creates it (and returns the live one if it
// exists), PUT keeps it alive (it expires 60 min after the last keep-alive), both with the
// X-MBX-APIKEY header. The user-data stream is then {ws base}/{listenKey}.
//
// Threading: used from its session's strand; HTTP answers come back through `post`.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "service/config/credentials.h"

namespace boost::asio {
class io_context;
}

namespace segmentd {

class BinanceListenKey {
 public:
  struct Options {
    std::string rest_url;  //!< "https://fapi.binance.com"
    std::string path = "/fapi/v1/listenKey";
    std::int64_t timeout_ns = 10'000'000'000;
    bool tls_verify = true;
    std::string ca_file;
  };
  //! `post` runs a function on the session's strand.
  BinanceListenKey(boost::asio::io_context& ioc, Options options, Secret api_key,
                   std::function<void(std::function<void()>)> post);

  //! Creates (or fetches) the key; `done` gets it, on the strand. Errors carry no key.
  void create(std::function<void(absl::StatusOr<std::string>)> done);
  //! Extends the key's life; failures are only counted (the next reconnect makes a new key).
  void keep_alive(std::function<void(bool ok)> done);
  const std::string& key() const { return key_; }

 private:
  boost::asio::io_context& ioc_;
  Options options_;
  Secret api_key_;
  std::function<void(std::function<void()>)> post_;
  std::string key_;
};

}  // namespace segmentd
