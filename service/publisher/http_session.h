#pragma once
// The publisher's HTTP side of a new connection: TLS handshake when configured, one HTTP
// request, bearer-token check, then the websocket upgrade (service/publisher/websocket_session.h).
// Anything else gets a plain HTTP answer and the connection is closed: 401 without a valid
// token (logged with the peer's address, never the token), 404 for another path, 426 for a
// request that is not an upgrade, 503 when max_connections authenticated connections are open.
// Before its token is checked a connection holds no slot: it waits in PublisherContext::gate
// (service/base/connection_gate.h), where the newest connection displaces the oldest waiting.

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "service/publisher/publisher_context.h"

namespace segmentd {

//! Starts serving a freshly accepted socket (already on its own strand).
void start_publisher_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<const PublisherContext> context);

}  // namespace segmentd
