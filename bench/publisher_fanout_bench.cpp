// SEGMENTD_BENCH_OWN_MAIN
// Fan-out benchmark of the publisher (protocol/publisher/publisher.md, issue 7): N websocket subscribers on
// loopback, a producer publishing segment changes at a fixed rate; reports the added latency
// publish_changes() → message parsed by the subscriber (p50/p99/p99.9/max over every message
// of every subscriber), the delivered rate and whether any subscriber was cut as slow.
//
//   publisher_fanout_bench [--subscribers 100] [--rate 100000] [--seconds 10] [--warmup 2]
//                          [--batch 1] [--per-call 100] [--threads 1] [--client-threads 1]
//
// --batch 1: subscribers ask for batch mode (frames carry a JSON array of messages); 0: one
// message per frame. --per-call: changes per publish_changes() call (the pipeline publishes a
// shard's burst at a time). Everything runs in this process: publisher, clients, producer.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <mutex>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/account_interner.h"
#include "core/str_cat.h"
#include "service/publisher/publisher.h"

using namespace segmentd;
namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Latency histogram: 1 µs buckets up to 100 ms, then one overflow bucket.
struct Histogram {
  static constexpr std::size_t kBuckets = 100'000;
  std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(kBuckets + 1, 0);
  std::uint64_t n = 0;
  std::int64_t max_ns = 0;
  void add(std::int64_t ns) {
    std::size_t us = static_cast<std::size_t>(std::max<std::int64_t>(0, ns) / 1000);
    ++counts[std::min(us, kBuckets)];
    ++n;
    max_ns = std::max(max_ns, ns);
  }
  void merge(const Histogram& o) {
    for (std::size_t i = 0; i <= kBuckets; ++i) counts[i] += o.counts[i];
    n += o.n;
    max_ns = std::max(max_ns, o.max_ns);
  }
  double quantile_us(double q) const {
    std::uint64_t target = static_cast<std::uint64_t>(q * static_cast<double>(n));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i <= kBuckets; ++i) {
      seen += counts[i];
      if (seen > target) return static_cast<double>(i) + 0.5;
    }
    return static_cast<double>(kBuckets);
  }
};

std::atomic<std::int64_t> g_measure_from_ns{0};  // messages published before this are warm-up

// CPU time of every thread of this process (/proc/self/task/*/stat: utime, stime in ticks).
struct ThreadCpu {
  long tid;
  double user_s;
  double sys_s;
};
std::vector<ThreadCpu> thread_cpu() {
  std::vector<ThreadCpu> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* d = ::readdir(dir)) {
    if (d->d_name[0] == '.') continue;
    std::FILE* f = std::fopen(str_cat("/proc/self/task/", d->d_name, "/stat").c_str(), "r");
    if (f == nullptr) continue;
    char line[1024];
    std::size_t n = std::fread(line, 1, sizeof(line) - 1, f);
    std::fclose(f);
    line[n] = 0;
    const char* p = std::strrchr(line, ')');  // the comm may hold spaces
    if (p == nullptr) continue;
    unsigned long utime = 0, stime = 0;
    // after ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) continue;
    out.push_back(
        ThreadCpu{std::atol(d->d_name), static_cast<double>(utime) / tick, static_cast<double>(stime) / tick});
  }
  ::closedir(dir);
  return out;
}  // messages published before this are warm-up

std::mutex g_client_tids_mu;
std::vector<long> g_client_tids;

// One subscriber: connects, does the websocket handshake and sends its subscribe with Beast,
// then reads the raw socket itself (frames from a server are never masked), so that the
// client's cost per message is a memchr-driven scan, not Beast's UTF-8 validation and a copy
// per frame. Every segment_change is still checked: its "seq" must be last + 1 (no gap, no
// duplicate) and its "ts" gives the latency. On its strand.
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(net::io_context& ioc, std::uint16_t port, bool batch)
      : ws_(net::make_strand(ioc)), port_(port), batch_(batch), buf_(1u << 20) {}

  void start() {
    beast::get_lowest_layer(ws_).async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
                                               beast::bind_front_handler(&Client::on_connect, shared_from_this()));
  }

  Histogram hist;
  std::atomic<std::uint64_t> received{0};  //!< written by the client's strand, read by main
  std::uint64_t last_seq = 0;
  std::uint64_t gaps = 0;        //!< seq != last + 1 (a gap or a duplicate)
  std::uint64_t bad_frames = 0;  //!< masked, fragmented or unparsable frames
  std::atomic<bool> subscribed{false};
  std::atomic<bool> closed{false};
  std::string close_reason;

 private:
  void on_connect(beast::error_code ec) {
    if (ec) return fail(ec.message());
    beast::get_lowest_layer(ws_).expires_never();
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::authorization, "Bearer bench-token"); }));
    ws_.async_handshake("127.0.0.1", "/", beast::bind_front_handler(&Client::on_handshake, shared_from_this()));
  }
  void on_handshake(beast::error_code ec) {
    if (ec) return fail(ec.message());
    request_ = batch_ ? R"({"op":"subscribe","since_seq":0,"batch":true})" : R"({"op":"subscribe","since_seq":0})";
    ws_.async_write(net::buffer(request_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec.message());
      self->do_read();  // the server sends nothing before the subscribe: Beast buffered nothing
    });
  }
  void do_read() {
    if (len_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a frame larger than the buffer
    beast::get_lowest_layer(ws_).socket().async_read_some(
        net::buffer(buf_.data() + len_, buf_.size() - len_),
        beast::bind_front_handler(&Client::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, std::size_t n) {
    if (ec) return fail(ec.message());
    const std::int64_t now = mono_ns();
    len_ += n;
    std::size_t pos = 0;
    while (true) {
      // RFC 6455 frame header: FIN/opcode, then a 7-bit length (126: 16-bit, 127: 64-bit follows).
      if (len_ - pos < 2) break;
      const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos);
      const unsigned opcode = h[0] & 0x0f;
      const bool fin = (h[0] & 0x80) != 0;
      if ((h[1] & 0x80) != 0) ++bad_frames;  // masked: a server must not
      std::uint64_t size = h[1] & 0x7f;
      std::size_t header = 2;
      if (size == 126) {
        if (len_ - pos < 4) break;
        size = (std::uint64_t{h[2]} << 8) | h[3];
        header = 4;
      } else if (size == 127) {
        if (len_ - pos < 10) break;
        size = 0;
        for (int i = 0; i < 8; ++i) size = (size << 8) | h[2 + i];
        header = 10;
      }
      if (len_ - pos < header + size) {
        if (header + size > buf_.size()) buf_.resize(header + size);
        break;
      }
      std::string_view payload(buf_.data() + pos + header, size);
      pos += header + size;
      if (opcode == 8) {  // close: code (2 bytes) and reason
        close_reason = payload.size() > 2 ? std::string(payload.substr(2)) : "close frame";
        return fail(close_reason);
      }
      if (opcode == 1 || opcode == 0) {
        if (!fin) ++bad_frames;  // the publisher never fragments (auto_fragment off)
        scan(payload, now);
      }
    }
    if (pos > 0) {
      std::memmove(buf_.data(), buf_.data() + pos, len_ - pos);
      len_ -= pos;
    }
    do_read();
  }
  // Finds every `{"type":"segment_change","seq":N,"ts":T` (the encoder's fixed field order) by
  // looking for 'q' with memchr (rare in these messages: "seq" and "quote_width_bps").
  void scan(std::string_view frame, std::int64_t now) {
    static constexpr std::string_view kBefore = R"({"type":"segment_change","se)";
    static constexpr std::string_view kAfter = R"(":)";
    if (!subscribed && frame.find(R"("type":"subscribed")") != std::string_view::npos) subscribed = true;
    const char* p = frame.data();
    const char* const end = frame.data() + frame.size();
    const std::int64_t from = g_measure_from_ns.load(std::memory_order_relaxed);
    std::uint64_t count = 0;
    while ((p = static_cast<const char*>(std::memchr(p, 'q', static_cast<std::size_t>(end - p)))) != nullptr) {
      const char* q = p++;
      if (q - frame.data() < static_cast<std::ptrdiff_t>(kBefore.size()) || end - q < 3) continue;
      if (std::memcmp(q + 1, kAfter.data(), kAfter.size()) != 0) continue;
      if (std::memcmp(q - kBefore.size(), kBefore.data(), kBefore.size()) != 0) continue;
      std::uint64_t seq = 0;
      auto r = std::from_chars(q + 3, end, seq);
      std::int64_t ts = 0;
      if (r.ec != std::errc() || end - r.ptr < 7 || std::memcmp(r.ptr, R"(,"ts":)", 6) != 0 ||
          std::from_chars(r.ptr + 6, end, ts).ec != std::errc()) {
        ++bad_frames;
        continue;
      }
      if (last_seq != 0 && seq != last_seq + 1) ++gaps;
      last_seq = seq;
      ++count;
      if (from != 0 && ts >= from) hist.add(now - ts);
      p = r.ptr;
    }
    if (count > 0) received.store(received.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
  }
  void fail(std::string reason) {
    if (close_reason.empty()) close_reason = std::move(reason);
    closed = true;
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::uint16_t port_;
  bool batch_;
  std::string request_;
  std::vector<char> buf_;
  std::size_t len_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int subscribers = 100, threads = 1, client_threads = 1, per_call = 100;
  double rate = 100'000, seconds = 10, warmup = 2, flush_us = 1000;
  bool batch = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--subscribers")
      subscribers = std::atoi(v);
    else if (k == "--rate")
      rate = std::atof(v);
    else if (k == "--seconds")
      seconds = std::atof(v);
    else if (k == "--warmup")
      warmup = std::atof(v);
    else if (k == "--batch")
      batch = std::atoi(v) != 0;
    else if (k == "--per-call")
      per_call = std::atoi(v);
    else if (k == "--threads")
      threads = std::atoi(v);
    else if (k == "--flush-us")
      flush_us = std::atof(v);
    else if (k == "--client-threads")
      client_threads = std::atoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }

  AccountInterner names;
  constexpr int kAccounts = 100'000;
  for (int a = 0; a < kAccounts; ++a) names.intern(str_cat("account-", a));
  ::setenv("SEGMENTD_BENCH_TOKENS", "bench-token", 1);
  PublisherConfig config;
  config.listen.port = 0;
  config.listen.tokens_env = "SEGMENTD_BENCH_TOKENS";
  config.listen.max_connections = subscribers + 10;
  config.threads = threads;
  config.queue_limit_bytes = 64u << 20;
  config.heartbeat_interval_ns = 3600LL * 1'000'000'000;
  config.replay_ring = 100'000;
  config.flush_interval_ns = static_cast<std::int64_t>(flush_us * 1000);
  Publisher publisher(config, names);
  if (auto s = publisher.start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto model = std::make_shared<Model>();
  model->version = 1;
  for (SegmentId id = 1; id <= 8; ++id) {
    Segment s;
    s.id = id;
    s.label = str_cat("segment-", id);
    s.policy = SegmentPolicy{1.0 + 0.1 * id, 0.5 * id, 1e6};
    model->segments.push_back(s);
  }

  net::io_context client_ioc;
  std::vector<std::shared_ptr<Client>> clients;
  for (int i = 0; i < subscribers; ++i) {
    clients.push_back(std::make_shared<Client>(client_ioc, publisher.port(), batch));
    clients.back()->start();
  }
  std::vector<std::thread> client_pool;
  for (int i = 0; i < client_threads; ++i)
    client_pool.emplace_back([&] {
      {
        std::lock_guard lock(g_client_tids_mu);
        g_client_tids.push_back(static_cast<long>(::syscall(SYS_gettid)));
      }
      client_ioc.run();
    });
  for (auto& c : clients)
    while (!c->subscribed && !c->closed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  publisher.publish_model(model);

  // Producer: per_call changes every per_call/rate seconds, on a fixed schedule (no drift: a
  // late call is followed immediately by the next one, so the offered rate is exact).
  const std::int64_t period_ns = static_cast<std::int64_t>(1e9 * per_call / rate);
  const std::int64_t start = mono_ns();
  const std::int64_t end = start + static_cast<std::int64_t>((warmup + seconds) * 1e9);
  g_measure_from_ns = start + static_cast<std::int64_t>(warmup * 1e9);
  std::vector<SegmentChange> batch_changes(static_cast<std::size_t>(per_call));
  std::uint64_t n = 0, calls = 0;
  std::int64_t next = start;
  std::vector<ThreadCpu> cpu_from;
  std::int64_t cpu_from_ns = 0;
  while (true) {
    std::int64_t now = mono_ns();
    if (now >= end) break;
    if (cpu_from.empty() && now >= g_measure_from_ns) {
      cpu_from = thread_cpu();
      cpu_from_ns = now;
    }
    if (now < next) {
      // Sleep (no spinning: the producer's CPU would be taken from the server and the clients).
      // Lateness does not bias the latency: ts is taken when the call is made.
      std::this_thread::sleep_for(std::chrono::nanoseconds(next - now));
      continue;
    }
    const std::int64_t ts = mono_ns();
    for (auto& c : batch_changes) {
      c.ts_ns = ts;
      c.recv_ns = ts;
      c.account = static_cast<AccountId>((n * 7919) % kAccounts);
      c.from = static_cast<SegmentId>(1 + n % 8);
      c.to = static_cast<SegmentId>(1 + (n + 3) % 8);
      c.confidence = 0.5;
      c.model_version = 1;
      c.reasons[0] = {3, 0.8, 0.2, 0.9};
      c.reasons[1] = {5, 0.1, 0.7, 0.05};
      c.reasons[2] = {14, -3.5, 1.0, -4.0};
      ++n;
    }
    publisher.publish_changes(batch_changes);
    ++calls;
    next += period_ns;
  }
  const std::vector<ThreadCpu> cpu_to = thread_cpu();
  const double cpu_window = static_cast<double>(mono_ns() - cpu_from_ns) / 1e9;
  const std::uint64_t measured_published = n - static_cast<std::uint64_t>(warmup * rate);
  const double elapsed = static_cast<double>(mono_ns() - start) / 1e9;
  const std::uint64_t expected = n;
  // Drain: wait until every live client has everything (or was closed).
  const std::int64_t drain_deadline = mono_ns() + 30'000'000'000LL;
  for (auto& c : clients) {
    while (!c->closed && c->received < expected && mono_ns() < drain_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  PublisherStats stats = publisher.stats();
  publisher.stop();
  client_ioc.stop();
  for (auto& t : client_pool) t.join();

  Histogram all;
  std::uint64_t received = 0, gaps = 0;
  int closed = 0, complete = 0;
  for (auto& c : clients) {
    all.merge(c->hist);
    received += c->received;
    gaps += c->gaps;
    if (c->received >= expected) ++complete;
    if (c->closed && c->received < expected) {
      ++closed;
      if (closed == 1) std::printf("first closed subscriber: %s\n", c->close_reason.c_str());
    }
  }
  std::printf(
      "subscribers=%d rate_offered=%.0f/s published=%llu in %.2fs (%.0f/s, %llu calls of %d) batch_mode=%d "
      "io_threads=%d\n",
      subscribers, rate, static_cast<unsigned long long>(expected), elapsed, expected / elapsed,
      static_cast<unsigned long long>(calls), per_call, batch ? 1 : 0, threads);
  std::printf(
      "delivered=%llu (%.0f msgs/s to all subscribers) complete_subscribers=%d cut=%d slow_consumer_closes=%llu "
      "seq_gaps=%llu\n",
      static_cast<unsigned long long>(received), received / elapsed, complete, closed,
      static_cast<unsigned long long>(stats.slow_consumer_closes), static_cast<unsigned long long>(gaps));
  std::printf(
      "latency publish->parsed (after %.0fs warm-up, %llu samples): p50=%.0fus p99=%.0fus p99.9=%.0fus max=%.0fus\n",
      warmup, static_cast<unsigned long long>(all.n), all.quantile_us(0.50), all.quantile_us(0.99),
      all.quantile_us(0.999), static_cast<double>(all.max_ns) / 1000.0);
  // CPU over the measured window, by role: the producer (this thread), the client threads, and
  // everything else (the publisher's I/O and flush threads).
  const long main_tid = static_cast<long>(::syscall(SYS_gettid));
  double prod_u = 0, prod_s = 0, cli_u = 0, cli_s = 0, srv_u = 0, srv_s = 0;
  for (const ThreadCpu& t : cpu_to) {
    double u = t.user_s, sy = t.sys_s;
    for (const ThreadCpu& f : cpu_from)
      if (f.tid == t.tid) u -= f.user_s, sy -= f.sys_s;
    if (t.tid == main_tid) {
      prod_u += u, prod_s += sy;
    } else if (std::find(g_client_tids.begin(), g_client_tids.end(), t.tid) != g_client_tids.end()) {
      cli_u += u, cli_s += sy;
    } else {
      srv_u += u, srv_s += sy;
    }
  }
  const double total = prod_u + prod_s + cli_u + cli_s + srv_u + srv_s;
  const double msgs = static_cast<double>(measured_published) * complete;
  std::printf(
      "cpu over %.2fs measured: server user=%.2fs sys=%.2fs | clients user=%.2fs sys=%.2fs | producer "
      "user=%.2fs sys=%.2fs | total=%.2fs (%.2f cores) = %.2f us per delivered message\n",
      cpu_window, srv_u, srv_s, cli_u, cli_s, prod_u, prod_s, total, total / cpu_window,
      msgs > 0 ? total / msgs * 1e6 : 0.0);
  return 0;
}
