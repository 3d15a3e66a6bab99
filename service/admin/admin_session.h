#pragma once
// One admin HTTP connection (keep-alive, one request at a time) and the routing of its
// requests. See service/admin/admin_server.h for the endpoints.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "service/admin/admin_server.h"
#include "service/net/token_auth.h"

namespace segmentd {

//! Shared by every admin connection; immutable after AdminServer::start().
struct AdminContext {
  AdminHandlers handlers;
  TokenSet tokens;
  std::shared_ptr<boost::asio::ssl::context> tls;  //!< null = plain TCP
  std::size_t max_request_bytes = 8192;
  std::int64_t request_timeout_ns = 10'000'000'000;
  int max_connections = 64;
  mutable std::atomic<int> connections{0};  //!< open admin connections (the only mutable part)
};

void start_admin_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<const AdminContext> context);

}  // namespace segmentd
