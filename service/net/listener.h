#pragma once
// Accepts TCP connections and hands each socket, bound to its own strand, to a handler
// (Beast's `listener`). Used by the publisher and the admin API.
//
// Lives on its io_context: run() and stop() may be called from any thread (stop posts).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"

namespace segmentd {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using Handler = std::function<void(boost::asio::ip::tcp::socket)>;

  //! Binds address:port (port 0 = ephemeral). `name` prefixes error messages.
  static absl::StatusOr<std::shared_ptr<Listener>> open(boost::asio::io_context& ioc, const std::string& name,
                                                        const std::string& address, int port, Handler handler);
  void run();
  void stop();
  std::uint16_t port() const { return port_; }

  Listener(boost::asio::io_context& ioc, Handler handler);  // use open()

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  std::uint16_t port_ = 0;
};

}  // namespace segmentd
