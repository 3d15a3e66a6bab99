// Beast's operations, instantiated here once each with a type-erased handler (stream_ops.h says
// why). They are spread over five files, stream_ops_{plain,tls}_*.cpp, by what they instantiate:
// each is one of the build's longest steps (minutes under ASan at -O0), and a 2-core build
// compiles them side by side instead of waiting for one.
// This one: the TLS handshake and shutdown, and HTTP over TLS.
#include "service/net/stream_ops.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>
#include <utility>

namespace segmentd::beast_ops {

namespace http = boost::beast::http;

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

}  // namespace segmentd::beast_ops
