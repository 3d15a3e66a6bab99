#include "service/net/event_loop.h"

#include <chrono>

namespace segmentd {

EventLoop::EventLoop()
    : work_(std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          ioc_.get_executor())) {}

EventLoop::~EventLoop() { stop(0); }

void EventLoop::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    ioc_.run();
    done_.store(true, std::memory_order_release);
  });
}

void EventLoop::stop(int grace_ms) {
  work_.reset();
  if (!thread_.joinable()) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (!done_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ioc_.stop();
  thread_.join();
}

}  // namespace segmentd
