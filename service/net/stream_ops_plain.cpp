// Beast's operations on plain TCP, instantiated here once each with a type-erased handler
// (stream_ops.h says why). Their TLS twins are in stream_ops_tls.cpp: two files, so that a 2-core
// build compiles them side by side.
#include "service/net/stream_ops.h"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <utility>

namespace segmentd::beast_ops {

namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;

void read_request(PlainStream& s, boost::beast::flat_buffer& b, StringRequestParser& p, IoHandler h) {
  http::async_read(s, b, p, std::move(h));
}
void read_request(PlainStream& s, boost::beast::flat_buffer& b, EmptyRequestParser& p, IoHandler h) {
  http::async_read(s, b, p, std::move(h));
}
void write_response(PlainStream& s, StringResponse& m, IoHandler h) { http::async_write(s, m, std::move(h)); }
void write_request(PlainStream& s, StringRequest& m, IoHandler h) { http::async_write(s, m, std::move(h)); }
void read_response(PlainStream& s, boost::beast::flat_buffer& b, StringResponseParser& p, IoHandler h) {
  http::async_read(s, b, p, std::move(h));
}
void accept(PlainWs& ws, const StringRequest& upgrade, DoneHandler h) { ws.async_accept(upgrade, std::move(h)); }
void accept(PlainWs& ws, const EmptyRequest& upgrade, DoneHandler h) { ws.async_accept(upgrade, std::move(h)); }
void handshake(PlainWs& ws, std::string_view host, std::string_view target, DoneHandler h) {
  ws.async_handshake(host, target, std::move(h));
}
void read_some(PlainWs& ws, boost::beast::flat_buffer& b, std::size_t limit, IoHandler h) {
  ws.async_read_some(b, limit, std::move(h));
}
void read(PlainWs& ws, boost::beast::flat_buffer& b, IoHandler h) { ws.async_read(b, std::move(h)); }
void write(PlainWs& ws, boost::asio::const_buffer data, IoHandler h) { ws.async_write(data, std::move(h)); }
void write(PlainWs& ws, const std::vector<boost::asio::const_buffer>& data, IoHandler h) {
  ws.async_write(data, std::move(h));
}
void close(PlainWs& ws, const websocket::close_reason& reason, DoneHandler h) { ws.async_close(reason, std::move(h)); }

}  // namespace segmentd::beast_ops
