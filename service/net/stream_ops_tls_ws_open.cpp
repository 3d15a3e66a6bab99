// Beast's operations, instantiated here once each with a type-erased handler (stream_ops.h says
// why). They are spread over five files, stream_ops_{plain,tls}_*.cpp, by what they instantiate:
// each is one of the build's longest steps (minutes under ASan at -O0), and a 2-core build
// compiles them side by side instead of waiting for one.
// This one: opening and closing a websocket over TLS.
#include "service/net/stream_ops.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <utility>

namespace segmentd::beast_ops {

namespace websocket = boost::beast::websocket;

void accept(TlsWs& ws, const StringRequest& upgrade, DoneHandler h) { ws.async_accept(upgrade, std::move(h)); }
void accept(TlsWs& ws, const EmptyRequest& upgrade, DoneHandler h) { ws.async_accept(upgrade, std::move(h)); }
void handshake(TlsWs& ws, std::string_view host, std::string_view target, DoneHandler h) {
  ws.async_handshake(host, target, std::move(h));
}
void close(TlsWs& ws, const websocket::close_reason& reason, DoneHandler h) { ws.async_close(reason, std::move(h)); }

}  // namespace segmentd::beast_ops
