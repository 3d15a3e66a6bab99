#pragma once
// Beast's asynchronous operations, compiled once for the whole program.
//
// A Beast operation is a template over its completion handler: every call with a lambda of its
// own compiles the whole composed operation again (a websocket read is the frame parser, the
// control frames, the TLS record layer and the socket), in every file that calls it. That was most
// of the build's time: the ingest server, the publisher's sessions, the venue client and the venue
// simulator each compiled the same server- and client-side operations, twice (plain and TLS).
//
// Here each operation takes a type-erased handler, so it is instantiated once per stream type,
// in stream_ops_{plain,tls}_*.cpp. The cost is one allocation per operation (a
// read is up to a 64 KiB chunk, a write one frame or one response). The handler carries no
// executor or allocator of its own: it runs on the stream's executor (a strand, where the stream
// was made on one), as the lambdas it wraps did.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace segmentd::beast_ops {

using ErrorCode = boost::beast::error_code;
//! Completion of an operation that transfers bytes.
using IoHandler = std::function<void(ErrorCode, std::size_t)>;
//! Completion of an operation that does not (handshakes, accept, close).
using DoneHandler = std::function<void(ErrorCode)>;

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using PlainWs = boost::beast::websocket::stream<PlainStream>;
using TlsWs = boost::beast::websocket::stream<TlsStream>;

using StringRequest = boost::beast::http::request<boost::beast::http::string_body>;
using EmptyRequest = boost::beast::http::request<boost::beast::http::empty_body>;
using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;
using StringRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using EmptyRequestParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;
using StringResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;

// TLS. The handshake's side (client or server) is the caller's.
void tls_handshake(TlsStream& s, boost::asio::ssl::stream_base::handshake_type side, DoneHandler h);
void tls_shutdown(TlsStream& s, DoneHandler h);

// HTTP/1.1 messages, on either stream. The message, parser and buffer stay alive until h runs.
void read_request(PlainStream& s, boost::beast::flat_buffer& b, StringRequestParser& p, IoHandler h);
void read_request(TlsStream& s, boost::beast::flat_buffer& b, StringRequestParser& p, IoHandler h);
void read_request(PlainStream& s, boost::beast::flat_buffer& b, EmptyRequestParser& p, IoHandler h);
void read_request(TlsStream& s, boost::beast::flat_buffer& b, EmptyRequestParser& p, IoHandler h);
void write_response(PlainStream& s, StringResponse& m, IoHandler h);
void write_response(TlsStream& s, StringResponse& m, IoHandler h);
void write_request(PlainStream& s, StringRequest& m, IoHandler h);
void write_request(TlsStream& s, StringRequest& m, IoHandler h);
void read_response(PlainStream& s, boost::beast::flat_buffer& b, StringResponseParser& p, IoHandler h);
void read_response(TlsStream& s, boost::beast::flat_buffer& b, StringResponseParser& p, IoHandler h);

// WebSocket: the server's accept of an upgrade request already read, the client's handshake, and
// the data transfer of either side. The request, buffers and reason stay alive until h runs.
void accept(PlainWs& ws, const StringRequest& upgrade, DoneHandler h);
void accept(TlsWs& ws, const StringRequest& upgrade, DoneHandler h);
void accept(PlainWs& ws, const EmptyRequest& upgrade, DoneHandler h);
void accept(TlsWs& ws, const EmptyRequest& upgrade, DoneHandler h);
void handshake(PlainWs& ws, std::string_view host, std::string_view target, DoneHandler h);
void handshake(TlsWs& ws, std::string_view host, std::string_view target, DoneHandler h);
//! Up to limit bytes of the current message (ws.is_message_done() says whether it ended).
void read_some(PlainWs& ws, boost::beast::flat_buffer& b, std::size_t limit, IoHandler h);
void read_some(TlsWs& ws, boost::beast::flat_buffer& b, std::size_t limit, IoHandler h);
//! One whole message (bounded by ws.read_message_max()).
void read(PlainWs& ws, boost::beast::flat_buffer& b, IoHandler h);
void read(TlsWs& ws, boost::beast::flat_buffer& b, IoHandler h);
//! One message, of the type ws.text() set.
void write(PlainWs& ws, boost::asio::const_buffer data, IoHandler h);
void write(TlsWs& ws, boost::asio::const_buffer data, IoHandler h);
void write(PlainWs& ws, const std::vector<boost::asio::const_buffer>& data, IoHandler h);
void write(TlsWs& ws, const std::vector<boost::asio::const_buffer>& data, IoHandler h);
void close(PlainWs& ws, const boost::beast::websocket::close_reason& reason, DoneHandler h);
void close(TlsWs& ws, const boost::beast::websocket::close_reason& reason, DoneHandler h);

}  // namespace segmentd::beast_ops
