#include "service/publisher/publisher.h"

#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "core/str_cat.h"
#include "service/net/listener.h"
#include "service/net/tls_context.h"
#include "service/publisher/http_session.h"

namespace segmentd {

namespace net = boost::asio;

struct Publisher::Io {
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::shared_ptr<Listener> listener;
  std::shared_ptr<const PublisherContext> context;
  std::unique_ptr<net::steady_timer> heartbeat;
  std::unique_ptr<net::steady_timer> flush_timer;  //!< on its own strand
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool running = false;
};

namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void schedule_heartbeat(net::steady_timer& timer, std::shared_ptr<PublisherHub> hub, std::int64_t interval_ns) {
  timer.expires_after(std::chrono::nanoseconds(interval_ns));
  timer.async_wait([&timer, hub, interval_ns](boost::system::error_code ec) {
    if (ec) return;
    hub->publish_heartbeat(wall_ns());
    schedule_heartbeat(timer, hub, interval_ns);
  });
}

}  // namespace

Publisher::Publisher(const PublisherConfig& config, const AccountInterner& names)
    : config_(config),
      hub_(std::make_shared<PublisherHub>(
          PublisherHubOptions{.replay_ring = config.replay_ring, .max_connections = config.listen.max_connections},
          names)),
      io_(std::make_unique<Io>()) {}

Publisher::~Publisher() { stop(); }

std::uint16_t Publisher::port() const { return io_->port; }

absl::Status Publisher::start() {
  if (io_->running) return absl::FailedPreconditionError("publisher: already started");
  auto context = std::make_shared<PublisherContext>();
  context->hub = hub_;
  SessionOptions& s = context->session;
  s.queue_limit_bytes = config_.queue_limit_bytes;
  s.max_frame_bytes = config_.max_frame_bytes;
  s.batch_frame_bytes = config_.batch_frame_bytes;
  s.snapshot_chunk = config_.snapshot_chunk;
  s.close_timeout_ns = config_.close_timeout_ns;
  s.request_limits.max_filter_size = config_.max_filter_size;
  context->gate =
      std::make_shared<ConnectionGate>(static_cast<std::size_t>(config_.listen.max_connections), kMaxPendingPerPeer);

  auto tokens = TokenSet::load(config_.listen.tokens_file, config_.listen.tokens_env, config_.listen.allow_anonymous);
  if (!tokens.ok())
    return absl::Status(tokens.status().code(), str_cat("publisher: ", std::string(tokens.status().message())));
  context->tokens = *std::move(tokens);
  context->console_sessions = console_sessions_;
  if (!config_.listen.tls_cert.empty()) {
    auto tls = make_server_tls_context(config_.listen.tls_cert, config_.listen.tls_key);
    if (!tls.ok())
      return absl::Status(tls.status().code(), str_cat("publisher: ", std::string(tls.status().message())));
    context->tls = *std::move(tls);
  }
  io_->context = context;

  auto listener = Listener::open(
      io_->ioc, "publisher", config_.listen.address, config_.listen.port,
      [context](net::ip::tcp::socket socket) { start_publisher_connection(std::move(socket), context); });
  if (!listener.ok()) return listener.status();
  io_->listener = *std::move(listener);
  io_->port = io_->listener->port();
  io_->listener->run();

  io_->heartbeat = std::make_unique<net::steady_timer>(net::make_strand(io_->ioc));
  schedule_heartbeat(*io_->heartbeat, hub_, config_.heartbeat_interval_ns);

  // Fan-out: publish_* only queue in the hub; this timer hands the pending messages to every
  // session at most every flush_interval (the hub asks for an immediate flush past
  // batch_frame_bytes). One post per session per flush instead of one per publish call.
  io_->flush_timer = std::make_unique<net::steady_timer>(net::make_strand(io_->ioc));
  {
    net::steady_timer* timer = io_->flush_timer.get();
    std::weak_ptr<PublisherHub> weak = hub_;
    hub_->set_flush_scheduler(
        [timer, weak](std::int64_t delay_ns) {
          if (delay_ns <= 0) {
            net::post(timer->get_executor(), [weak] {
              if (auto hub = weak.lock()) hub->flush();
            });
            return;
          }
          net::post(timer->get_executor(), [timer, weak, delay_ns] {
            timer->expires_after(std::chrono::nanoseconds(delay_ns));
            timer->async_wait([weak](boost::system::error_code ec) {
              if (ec) return;
              if (auto hub = weak.lock()) hub->flush();
            });
          });
        },
        config_.flush_interval_ns, config_.batch_frame_bytes);
  }

  io_->work.emplace(io_->ioc.get_executor());
  for (int i = 0; i < config_.threads; ++i) io_->threads.emplace_back([this] { io_->ioc.run(); });
  io_->running = true;
  return absl::OkStatus();
}

void Publisher::stop() {
  if (!io_->running) return;
  io_->running = false;
  io_->listener->stop();
  net::post(io_->heartbeat->get_executor(), [t = io_->heartbeat.get()] { t->cancel(); });
  hub_->set_flush_scheduler(nullptr, 0, 0);  // delivers what is pending; later publishes flush at once
  net::post(io_->flush_timer->get_executor(), [t = io_->flush_timer.get()] { t->cancel(); });
  hub_->shutdown_all();
  io_->work.reset();
  // Sessions end by themselves once their close completes (or close_timeout passes); then the
  // io_context runs out of work and the threads return. Past that, stop it anyway.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(config_.close_timeout_ns) + std::chrono::seconds(1);
  while (hub_->stats().connections > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  io_->ioc.stop();
  for (auto& t : io_->threads) t.join();
  io_->threads.clear();
  io_->listener.reset();
  io_->flush_timer.reset();
}

}  // namespace segmentd
