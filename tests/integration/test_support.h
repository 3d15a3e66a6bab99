#pragma once
// Helpers of the integration tests: a thread-safe collecting FillSink, bounded waits, and a
// self-signed certificate for 127.0.0.1 made once per test run with the openssl tool.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "service/ingest/fill_sink.h"

namespace segmentd::testing {

//! Collects fills pushed from a source's thread; read from the test's thread.
class CollectingSink final : public FillSink {
 public:
  bool push(const Fill& fill) override {
    std::lock_guard<std::mutex> lock(mu_);
    (fill.is_fill() ? fills_ : positions_).push_back(fill);
    return true;
  }
  bool push_price(const PriceRecord& price) override {
    std::lock_guard<std::mutex> lock(mu_);
    prices_.push_back(price);
    return true;
  }
  std::vector<Fill> fills() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fills_;
  }
  //! Venue position records and ends of snapshots (Fill::record), in push order.
  std::vector<Fill> positions() const {
    std::lock_guard<std::mutex> lock(mu_);
    return positions_;
  }
  std::vector<PriceRecord> prices() const {
    std::lock_guard<std::mutex> lock(mu_);
    return prices_;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fills_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Fill> fills_;
  std::vector<PriceRecord> prices_;
  std::vector<Fill> positions_;
};

//! Polls `done` until it holds or `limit` passes (a bound, never an expectation on speed).
inline bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

struct TestCertificate {
  std::string cert;
  std::string key;
  bool ok = false;
};

//! A self-signed certificate for 127.0.0.1 / localhost, generated at test time.
inline const TestCertificate& test_certificate() {
  static const TestCertificate c = [] {
    TestCertificate t;
    const auto dir = std::filesystem::temp_directory_path() / ("segmentd-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    t.cert = (dir / "cert.pem").string();
    t.key = (dir / "key.pem").string();
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        t.key + " -out " + t.cert + " >/dev/null 2>&1";
    t.ok = std::system(cmd.c_str()) == 0;
    return t;
  }();
  return c;
}

}  // namespace segmentd::testing
