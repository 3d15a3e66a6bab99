// Beast's operations over TLS, instantiated here once each with a type-erased handler
// (stream_ops.h says why). Their plain-TCP twins are in stream_ops_plain.cpp.
#include "service/net/stream_ops.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <utility>

namespace segmentd::beast_ops {

namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;

void tls_handshake(TlsStream& s, boost::asio::ssl::stream_base::handshake_type side, DoneHandler h) {
  s.async_handshake(side, std::move(h));
}
void tls_shutdown(TlsStream& s, DoneHandler h) { s.async_shutdown(std::move(h)); }

void read_request(TlsStream& s, boost::beast::flat_buffer& b, StringRequestParser& p, IoHandler h) {
  http::async_read(s, b, p, std::move(h));
}
void read_request(TlsStream& s, boost::beast::flat_buffer& b, EmptyRequestParser& p, IoHandler h) {
  http::async_read(s, b, p, std::move(h));
}
void write_response(TlsStream& s, StringResponse& m, IoHandler h) { http::async_write(s, m, std::move(h)); }
void write_request(TlsStream& s, StringRequest& m, IoHandler h) { http::async_write(s, m, std::move(h)); }
void read_response(TlsStream& s, boost::beast::flat_buffer& b, StringResponseParser& p, IoHandler h) {
  http::async_read(s, b, p, std::move(h));
}

void accept(TlsWs& ws, const StringRequest& upgrade, DoneHandler h) { ws.async_accept(upgrade, std::move(h)); }
void accept(TlsWs& ws, const EmptyRequest& upgrade, DoneHandler h) { ws.async_accept(upgrade, std::move(h)); }
void handshake(TlsWs& ws, std::string_view host, std::string_view target, DoneHandler h) {
  ws.async_handshake(host, target, std::move(h));
}
void read_some(TlsWs& ws, boost::beast::flat_buffer& b, std::size_t limit, IoHandler h) {
  ws.async_read_some(b, limit, std::move(h));
}
void read(TlsWs& ws, boost::beast::flat_buffer& b, IoHandler h) { ws.async_read(b, std::move(h)); }
void write(TlsWs& ws, boost::asio::const_buffer data, IoHandler h) { ws.async_write(data, std::move(h)); }
void write(TlsWs& ws, const std::vector<boost::asio::const_buffer>& data, IoHandler h) {
  ws.async_write(data, std::move(h));
}
void close(TlsWs& ws, const websocket::close_reason& reason, DoneHandler h) { ws.async_close(reason, std::move(h)); }

}  // namespace segmentd::beast_ops
