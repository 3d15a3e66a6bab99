#include "service/net/listener.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "core/str_cat.h"

namespace segmentd {

namespace net = boost::asio;
using Tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, Handler handler) : ioc_(ioc), acceptor_(ioc), handler_(std::move(handler)) {}

absl::StatusOr<std::shared_ptr<Listener>> Listener::open(net::io_context& ioc, const std::string& name,
                                                         const std::string& address, int port, Handler handler) {
  auto l = std::make_shared<Listener>(ioc, std::move(handler));
  boost::system::error_code ec;
  auto ip = net::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(str_cat(name, ": listen_address \"", address, "\": ", ec.message()));
  Tcp::endpoint ep(ip, static_cast<std::uint16_t>(port));
  auto step = [&](const char* what) -> absl::Status {
    if (!ec) return absl::OkStatus();
    return absl::UnavailableError(str_cat(name, ": ", what, " ", address, ":", port, ": ", ec.message()));
  };
  l->acceptor_.open(ep.protocol(), ec);
  if (auto s = step("open"); !s.ok()) return s;
  l->acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (auto s = step("set reuse_address on"); !s.ok()) return s;
  l->acceptor_.bind(ep, ec);
  if (auto s = step("bind"); !s.ok()) return s;
  l->acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (auto s = step("listen on"); !s.ok()) return s;
  l->port_ = l->acceptor_.local_endpoint(ec).port();
  return l;
}

void Listener::run() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::do_accept() {
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_),
                         [self = shared_from_this()](boost::system::error_code ec, Tcp::socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void Listener::on_accept(boost::system::error_code ec, Tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    socket.set_option(Tcp::no_delay(true), ec);
    handler_(std::move(socket));
  }
  // Errors such as EMFILE are transient: keep accepting.
  do_accept();
}

}  // namespace segmentd
