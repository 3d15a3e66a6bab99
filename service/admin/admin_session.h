#pragma once
// One admin HTTP connection (keep-alive, one request at a time) and the routing of its
// requests. See service/admin/admin_server.h for the endpoints.
//
// Connections (why: while junk holds the port, /healthz must still answer, or a health check
// restarts a healthy service): a connection waits in `gate` (service/base/connection_gate.h)
// until its first request is read — the newest displaces the oldest waiting one, at most 16
// wait per address — and only then takes one of max_connections. Past max_connections, /healthz,
// /readyz and /metrics are still answered (then the connection is closed); other paths get 503.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "service/admin/admin_server.h"
#include "service/base/connection_gate.h"
#include "service/net/console_sessions.h"
#include "service/net/token_auth.h"

namespace segmentd {

//! Shared by every admin connection; immutable after AdminServer::start().
struct AdminContext {
  AdminHandlers handlers;
  TokenSet tokens;
  std::shared_ptr<ConsoleSessions> sessions;       //!< the console's logins (never null)
  std::shared_ptr<boost::asio::ssl::context> tls;  //!< null = plain TCP
  std::size_t max_request_bytes = 8192;
  std::int64_t request_timeout_ns = 10'000'000'000;
  int max_connections = 64;
  std::shared_ptr<ConnectionGate> gate;                 //!< connections with no request read yet
  mutable std::atomic<int> connections{0};              //!< connections holding a slot (a request was read)
  mutable std::atomic<std::uint64_t> auth_failures{0};  //!< /v1 requests answered 401
  mutable std::atomic<std::uint64_t> over_capacity{0};  //!< requests answered past max_connections
};

//! Unauthenticated connections one address may have waiting at once (AdminContext::gate).
inline constexpr std::size_t kAdminMaxPendingPerPeer = 16;

void start_admin_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<const AdminContext> context);

}  // namespace segmentd
