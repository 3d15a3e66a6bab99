// The admin server while a POST /v1/checkpoint is being written: the write takes seconds at
// millions of accounts, and probes and scrapes must go on being answered meanwhile (a health
// check that times out restarts a healthy service). The handler here holds the write until the
// test lets it finish, so nothing depends on how fast this machine is.

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include "service/admin/admin_server.h"

namespace {

using namespace segmentd;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

//! A blocking HTTP/1.1 client on 127.0.0.1, one keep-alive connection.
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(ioc_) { socket_.connect({net::ip::make_address("127.0.0.1"), port}); }

  void send(http::verb verb, std::string_view target) {
    http::request<http::string_body> req(verb, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    req.prepare_payload();
    http::write(socket_, req);
  }
  http::response<http::string_body> receive() {
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    return res;
  }
  http::response<http::string_body> get(std::string_view target) {
    send(http::verb::get, target);
    return receive();
  }

 private:
  net::io_context ioc_;
  net::ip::tcp::socket socket_;
  beast::flat_buffer buffer_;
};

//! checkpoint_now keeps the write "running" until finish() is called.
struct HeldCheckpoint {
  std::mutex mu;
  AdminHandlers::CheckpointDone done;
  std::promise<void> started;

  void start(AdminHandlers::CheckpointDone d) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = std::move(d);
    }
    started.set_value();
  }
  //! Calls the handler's callback from a thread of its own, as the checkpointer does.
  void finish(bool ok, std::string body) {
    AdminHandlers::CheckpointDone d;
    {
      std::lock_guard<std::mutex> lock(mu);
      d = std::move(done);
    }
    std::thread([d = std::move(d), ok, body = std::move(body)]() mutable { d(ok, std::move(body)); }).join();
  }
};

AdminConfig loopback_config() {
  AdminConfig config;
  config.listen.address = "127.0.0.1";
  config.listen.port = 0;
  config.listen.tokens_env.clear();
  config.listen.allow_anonymous = true;
  return config;
}

}  // namespace

TEST_CASE("admin: probes and scrapes are answered while POST /v1/checkpoint is being written", "[admin][tsan]") {
  HeldCheckpoint held;
  AdminHandlers h;
  h.metrics = [] { return std::string("segmentd_up 1\n"); };
  h.checkpoint_status = [] { return std::string(R"({"last":null})"); };
  h.checkpoint_now = [&held](AdminHandlers::CheckpointDone done) { held.start(std::move(done)); };
  AdminServer server(loopback_config(), std::move(h));
  REQUIRE(server.start().ok());

  Client writer(server.port());
  writer.send(http::verb::post, "/v1/checkpoint");
  held.started.get_future().get();  // the write is under way

  Client probe(server.port());
  auto health = probe.get("/healthz");
  CHECK(health.result() == http::status::ok);
  CHECK(health.body() == "ok\n");
  auto metrics = probe.get("/metrics");
  CHECK(metrics.result() == http::status::ok);
  CHECK(metrics.body() == "segmentd_up 1\n");
  CHECK(probe.get("/v1/checkpoint").result() == http::status::ok);

  held.finish(true, R"({"last":{"ok":true}})");
  auto answer = writer.receive();
  CHECK(answer.result() == http::status::ok);
  CHECK(answer.body() == R"({"last":{"ok":true}})");
  CHECK(answer[http::field::content_type] == "application/json");
  // The connection is kept alive and serves its next request.
  CHECK(writer.get("/healthz").result() == http::status::ok);
  server.stop();
}

TEST_CASE("admin: a checkpoint that fails, or outlasts the request timeout, is still answered", "[admin]") {
  HeldCheckpoint held;
  AdminHandlers h;
  h.checkpoint_now = [&held](AdminHandlers::CheckpointDone done) { held.start(std::move(done)); };
  AdminConfig config = loopback_config();
  config.request_timeout_ns = 300'000'000;
  AdminServer server(config, std::move(h));
  REQUIRE(server.start().ok());

  Client writer(server.port());
  writer.send(http::verb::post, "/v1/checkpoint");
  held.started.get_future().get();
  // Past the request's deadline: the answer gets a deadline of its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  held.finish(false, R"({"last":{"ok":false,"error":"disk full"}})");
  auto answer = writer.receive();
  CHECK(answer.result() == http::status::internal_server_error);
  CHECK(answer.body() == R"({"last":{"ok":false,"error":"disk full"}})");
  server.stop();
}

TEST_CASE("admin: the server stops while a checkpoint is being written, and the late answer is dropped",
          "[admin][tsan]") {
  HeldCheckpoint held;
  AdminHandlers h;
  h.checkpoint_now = [&held](AdminHandlers::CheckpointDone done) { held.start(std::move(done)); };
  std::optional<AdminServer> server;
  server.emplace(loopback_config(), std::move(h));
  REQUIRE(server->start().ok());
  Client writer(server->port());
  writer.send(http::verb::post, "/v1/checkpoint");
  held.started.get_future().get();
  server->stop();
  // The checkpointer finishes after the admin thread stopped (the pipeline stops the admin
  // server first): the answer is posted to the stopped server and never runs.
  held.finish(true, "{}");
  server.reset();
}
