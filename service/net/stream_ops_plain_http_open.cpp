// Beast's operations, instantiated here once each with a type-erased handler (stream_ops.h says
// why). They are spread over five files, stream_ops_{plain,tls}_*.cpp, by what they instantiate:
// each is one of the build's longest steps (minutes under ASan at -O0), and a 2-core build
// compiles them side by side instead of waiting for one.
// This one: HTTP on plain TCP, and opening and closing a websocket on it.
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
void close(PlainWs& ws, const websocket::close_reason& reason, DoneHandler h) { ws.async_close(reason, std::move(h)); }

}  // namespace segmentd::beast_ops
