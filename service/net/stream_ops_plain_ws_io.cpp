// Beast's operations, instantiated here once each with a type-erased handler (stream_ops.h says
// why). They are spread over five files, stream_ops_{plain,tls}_*.cpp, by what they instantiate:
// each is one of the build's longest steps (minutes under ASan at -O0), and a 2-core build
// compiles them side by side instead of waiting for one.
// This one: reading and writing websocket messages on plain TCP.
#include "service/net/stream_ops.h"

#include <boost/beast/websocket.hpp>
#include <utility>
#include <vector>

namespace segmentd::beast_ops {

void read_some(PlainWs& ws, boost::beast::flat_buffer& b, std::size_t limit, IoHandler h) {
  ws.async_read_some(b, limit, std::move(h));
}
void read(PlainWs& ws, boost::beast::flat_buffer& b, IoHandler h) { ws.async_read(b, std::move(h)); }
void write(PlainWs& ws, boost::asio::const_buffer data, IoHandler h) { ws.async_write(data, std::move(h)); }
void write(PlainWs& ws, const std::vector<boost::asio::const_buffer>& data, IoHandler h) {
  ws.async_write(data, std::move(h));
}

}  // namespace segmentd::beast_ops
