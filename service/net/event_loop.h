#pragma once
// An io_context and the one thread that runs it. Every websocket source runs its sessions on its
// own EventLoop: that thread is the source's producer thread (the one ShardSet producer index it
// pushes with), so sessions never share a ring with another thread.

#include <atomic>
#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace segmentd {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();  //!< stops and joins
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& context() { return ioc_; }
  void start();
  //! Lets pending work finish for up to `grace_ms`, then stops the context; joins. Idempotent.
  void stop(int grace_ms = 2000);
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::atomic<bool> done_{false};
};

}  // namespace segmentd
