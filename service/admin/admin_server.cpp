#include "service/admin/admin_server.h"

#include <algorithm>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "core/str_cat.h"
#include "service/admin/admin_session.h"
#include "service/net/listener.h"
#include "service/net/tls_context.h"

namespace segmentd {

namespace net = boost::asio;

struct AdminServer::Io {
  net::io_context ioc{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::shared_ptr<AdminContext> context;
  std::shared_ptr<Listener> listener;
  std::thread thread;
  std::uint16_t port = 0;
  bool running = false;
};

AdminServer::AdminServer(const AdminConfig& config, AdminHandlers handlers)
    : config_(config), io_(std::make_unique<Io>()) {
  io_->context = std::make_shared<AdminContext>();
  io_->context->handlers = std::move(handlers);
}

AdminServer::~AdminServer() { stop(); }

std::uint16_t AdminServer::port() const { return io_->port; }

AdminStats AdminServer::stats() const {
  const AdminContext& c = *io_->context;
  AdminStats s;
  s.connections = static_cast<std::uint64_t>(std::max(0, c.connections.load(std::memory_order_relaxed)));
  s.auth_failures = c.auth_failures.load(std::memory_order_relaxed);
  s.over_capacity = c.over_capacity.load(std::memory_order_relaxed);
  s.evicted = c.gate ? c.gate->evicted() : 0;
  return s;
}

absl::Status AdminServer::start() {
  if (io_->running) return absl::FailedPreconditionError("admin: already started");
  AdminContext& ctx = *io_->context;
  ctx.max_request_bytes = config_.max_request_bytes;
  ctx.request_timeout_ns = config_.request_timeout_ns;
  ctx.max_connections = config_.listen.max_connections;
  ctx.gate = std::make_shared<ConnectionGate>(static_cast<std::size_t>(config_.listen.max_connections),
                                              kAdminMaxPendingPerPeer);
  auto tokens = TokenSet::load(config_.listen.tokens_file, config_.listen.tokens_env, config_.listen.allow_anonymous);
  if (!tokens.ok())
    return absl::Status(tokens.status().code(), str_cat("admin: ", std::string(tokens.status().message())));
  ctx.tokens = *std::move(tokens);
  ctx.sessions = ctx.handlers.console_sessions ? ctx.handlers.console_sessions : std::make_shared<ConsoleSessions>();
  if (!config_.listen.tls_cert.empty()) {
    auto tls = make_server_tls_context(config_.listen.tls_cert, config_.listen.tls_key);
    if (!tls.ok()) return absl::Status(tls.status().code(), str_cat("admin: ", std::string(tls.status().message())));
    ctx.tls = *std::move(tls);
  }
  std::shared_ptr<const AdminContext> context = io_->context;
  auto listener =
      Listener::open(io_->ioc, "admin", config_.listen.address, config_.listen.port,
                     [context](net::ip::tcp::socket socket) { start_admin_connection(std::move(socket), context); });
  if (!listener.ok()) return listener.status();
  io_->listener = *std::move(listener);
  io_->port = io_->listener->port();
  io_->listener->run();
  io_->work.emplace(io_->ioc.get_executor());
  io_->thread = std::thread([this] { io_->ioc.run(); });
  io_->running = true;
  return absl::OkStatus();
}

void AdminServer::stop() {
  if (!io_->running) return;
  io_->running = false;
  io_->listener->stop();
  io_->work.reset();
  io_->ioc.stop();  // admin requests are idempotent reads: dropping them mid-way is fine
  io_->thread.join();
  io_->listener.reset();
}

}  // namespace segmentd
