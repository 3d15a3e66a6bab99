// libFuzzer target for the admin HTTP API: raw bytes as they arrive on an admin connection, read
// with Beast's request parser under the limits AdminSession::do_read sets, routed by the
// session's handle(), and written back the way on_read does (HEAD without a body), request after
// request while the connection is kept alive. A POST /v1/checkpoint is answered through the
// checkpoint_now handler, which answers at once here.
//
// handle() is file-local to service/admin/admin_session.cpp ("a pure function of the request and
// the handlers"), so this file compiles that source itself: the fuzzer runs the production
// router, not a copy. The AdminServer around it (sockets, the gate) is not needed: nothing here
// refers to it, so the linker takes no second copy of admin_session.o from segmentd_service.
//
// Checks: no crash or sanitizer report; every answer has a known status, a Content-Length equal
// to its body, valid JSON when it says application/json; /v1/* without the token is 401, with it
// never; GET /healthz is 200 "ok".

#include "service/admin/admin_session.cpp"  // NOLINT(bugprone-suspicious-include): the router is file-local

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include "core/str_cat.h"
#include "simdjson.h"

namespace {

using namespace segmentd;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kToken = "fuzz-token";

//! The connection: every byte the client sent is already in the read buffer, so a read that
//! wants more finds the peer gone (EOF), as when a client half-closes; writes are collected.
struct Connection {
  std::string written;

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers&, boost::system::error_code& ec) {
    ec = boost::asio::error::eof;
    return 0;
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    read_some(buffers, ec);
    throw boost::system::system_error(ec);
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    ec = {};
    const std::size_t n = boost::asio::buffer_size(buffers);
    const std::size_t before = written.size();
    written.resize(before + n);
    boost::asio::buffer_copy(boost::asio::buffer(written.data() + before, n), buffers);
    return n;
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers) {
    boost::system::error_code ec;
    return write_some(buffers, ec);
  }
};

ModelPtr make_model() {
  auto m = std::make_shared<Model>();
  m->version = 3;
  m->ts_ns = 1'735'200'000'000'000'000;
  m->scaler_version = 1;
  for (SegmentId id : {SegmentId{1}, SegmentId{2}}) {
    Segment s;
    s.id = id;
    s.label = id == 1 ? "market-maker" : "directional \"whale\"";
    s.weight = 10.0 * id;
    s.size = 5 * id;
    s.centroid.fill(0.5 * id);
    s.centroid_raw.fill(100.0 * id);
    m->segments.push_back(std::move(s));
  }
  m->scaler.stddev.fill(1.0);
  m->scaler.weight.fill(1.0);
  return m;
}

//! Handlers as the pipeline sets them, over fixed data: an account view for two known names.
std::shared_ptr<const AdminContext> make_context() {
  auto ctx = std::make_shared<AdminContext>();
  ctx->tokens = TokenSet::of({std::string(kToken)});
  ctx->gate = std::make_shared<ConnectionGate>(16, kAdminMaxPendingPerPeer);
  ctx->sessions = std::make_shared<ConsoleSessions>();
  const ModelPtr model = make_model();
  AdminHandlers& h = ctx->handlers;
  h.publisher_port = 8765;
  h.overview = [model] {
    Overview o;
    o.model = model.get();
    o.checks = {{"model", true, "version 3"}};
    o.fills_total = 10;
    o.history = {{1, 3, {{1, 5}, {2, 7}}}};
    std::string body;
    adminmsg::append_overview(body, o);
    return body;
  };
  h.map = [model] {
    MapView v;
    v.model_version = 3;
    v.points = {{"acct-1", 0.5, -1.0, 2}, {"<img src=x>\"", 1.0, 2.0, 1}};
    v.centroids = {{"", 0.0, 0.0, 1}, {"", 1.0, 1.0, 2}};
    std::string body;
    adminmsg::append_map(body, v, model.get());
    return body;
  };
  h.readiness = [] {
    return std::vector<ReadinessCheck>{{"sources", true, "1/1 connected"}, {"model", false, "warming up"}};
  };
  h.model = [model] { return model; };
  h.account = [](std::string_view name) -> std::optional<AccountView> {
    if (name != "acct-1" && name != "mm 01 \xc3\xa9") return std::nullopt;
    AccountView v;
    v.account = std::string(name);
    v.segment = 2;
    v.confidence = 0.25;
    v.fills = 42;
    v.model_version = 3;
    v.distances = {{1, 1.5}, {2, 0.5}};
    SegmentChange c;
    c.from = 1;
    c.to = 2;
    c.model_version = 3;
    v.recent_changes.push_back(c);
    return v;
  };
  h.metrics = [] { return std::string("# TYPE segmentd_up gauge\nsegmentd_up 1\n"); };
  h.checkpoint_status = [] { return std::string(R"({"enabled":true,"dir":"/tmp/state","last":null})"); };
  h.checkpoint_now = [](AdminHandlers::CheckpointDone done) { done(true, R"({"ok":true,"bytes":0})"); };
  return ctx;
}

bool is_known_status(http::status s) {
  switch (s) {
    case http::status::ok:
    case http::status::see_other:
    case http::status::forbidden:
    case http::status::bad_request:
    case http::status::unauthorized:
    case http::status::not_found:
    case http::status::method_not_allowed:
    case http::status::internal_server_error:
    case http::status::service_unavailable: return true;
    default: return false;
  }
}

void check(const Request& req, const Response& res, simdjson::dom::parser& json) {
  require(is_known_status(res.result()));
  require(res.version() == req.version());
  const auto length = res[http::field::content_length];
  require(length == std::to_string(res.body().size()));
  if (res[http::field::content_type] == "application/json") {
    simdjson::dom::element ignored;
    require(json.parse(res.body()).get(ignored) == simdjson::SUCCESS);
  }
  std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string_view authorization = req[http::field::authorization];
  if (res.result() == http::status::unauthorized)
    require((path.starts_with("/v1/") && authorization != str_cat("Bearer ", kToken)) ||
            (path == "/console/login" && req.method() == http::verb::post));
  // The console's pages carry their Content-Security-Policy; a session cookie is set only by a
  // login with the token (or cleared by a logout).
  if (res[http::field::content_type].starts_with("text/html"))
    require(res["Content-Security-Policy"].starts_with("default-src 'none'; script-src 'self';"));
  if (!res[http::field::set_cookie].empty()) {
    require(res.result() == http::status::see_other && req.method() == http::verb::post);
    require(path == "/console/logout" || (path == "/console/login" && req.body().find("token=") != std::string::npos));
  }
  const bool read = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path.starts_with("/v1/") && authorization.empty() &&
      (read || (req.method() == http::verb::post && path == "/v1/checkpoint")))
    require(res.result() == http::status::unauthorized);
  if (req.method() == http::verb::get && path == "/healthz")
    require(res.result() == http::status::ok && res.body() == "ok\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::shared_ptr<const AdminContext> context = make_context();
  static simdjson::dom::parser json;
  Connection connection;
  beast::flat_buffer buffer;
  buffer.commit(net::buffer_copy(buffer.prepare(size), net::buffer(data, size)));
  // Keep-alive: the session reads the next request from what is left in its buffer.
  for (int i = 0; i < 64; ++i) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(context->max_request_bytes));
    parser.body_limit(context->max_request_bytes);
    ErrorCode ec;
    http::read(connection, buffer, parser, ec);
    if (ec) break;
    Request req = parser.release();
    std::optional<Response> routed = handle(req, *context);
    if (!routed) {  // an authorized POST /v1/checkpoint: answered when the handler is done, as start_checkpoint does
      require(req.method() == http::verb::post);
      context->handlers.checkpoint_now([&](bool ok, std::string body) {
        routed = make_response(req, ok ? http::status::ok : http::status::internal_server_error, std::move(body),
                               "application/json");
      });
      require(routed.has_value());
    }
    Response res = *std::move(routed);
    check(req, res, json);
    if (req.method() == http::verb::head) res.body().clear();
    http::write(connection, res, ec);
    require(!ec && connection.written.starts_with("HTTP/1."));
    if (!res.keep_alive()) break;
  }
  return 0;
}
