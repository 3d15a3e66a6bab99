#pragma once
// One subscriber connection after the upgrade (protocol/publisher/publisher.md). Included only by the two Beast
// translation units of the publisher (http_session.cpp, websocket_session.cpp).

#include <memory>
#include <string>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "service/publisher/publisher_context.h"

namespace segmentd {

//! Takes over an authenticated upgrade request on `stream` (plain or TLS, on its strand) and
//! runs the session until the peer or the server closes it. The session keeps itself alive
//! (shared_from_this) and holds `slot` until it ends. `peer` is the client's address (logs).
template <class Stream>
void run_websocket_session(Stream&& stream, boost::beast::http::request<boost::beast::http::string_body> request,
                           std::shared_ptr<const PublisherContext> context, ConnectionSlot slot, std::string peer);

extern template void run_websocket_session<boost::beast::tcp_stream>(
    boost::beast::tcp_stream&&, boost::beast::http::request<boost::beast::http::string_body>,
    std::shared_ptr<const PublisherContext>, ConnectionSlot, std::string);
extern template void run_websocket_session<boost::beast::ssl_stream<boost::beast::tcp_stream>>(
    boost::beast::ssl_stream<boost::beast::tcp_stream>&&, boost::beast::http::request<boost::beast::http::string_body>,
    std::shared_ptr<const PublisherContext>, ConnectionSlot, std::string);

}  // namespace segmentd
