#include "service/config/publisher_config.h"

#include <boost/asio/ip/address.hpp>

#include "core/str_cat.h"
#include "service/config/config_reader.h"
#include "service/net/tls_context.h"

namespace segmentd {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSecond = 1'000'000'000;

void read_size(ConfigSection& s, std::string_view key, std::size_t* dst, std::int64_t min, std::int64_t max) {
  std::int64_t v = static_cast<std::int64_t>(*dst);
  s.integer(key, &v, min, max);
  *dst = static_cast<std::size_t>(v);
}

void read_listen(ConfigSection& s, ListenConfig* c) {
  s.string("listen_address", &c->address, false);
  s.integer("port", &c->port, 0, 65535);
  s.string("tokens_file", &c->tokens_file);
  s.string("tokens_env", &c->tokens_env);
  s.boolean("allow_anonymous", &c->allow_anonymous);
  s.string("tls_cert", &c->tls_cert);
  s.string("tls_key", &c->tls_key);
  s.integer("max_connections", &c->max_connections, 1, 100'000);
  if (c->tls_cert.empty() != c->tls_key.empty()) s.error("tls_key", "tls_cert and tls_key go together");
}

//! What start() would refuse, found at validation instead: the address is parsed as the
//! listener parses it, and every file it names is opened (the TLS pair is loaded, as start()
//! loads it), so that a config check-config passes is one `run` can start on. A disabled
//! server references nothing.
void check_listen(ConfigSection& s, const ListenConfig& c) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(c.address, ec);
  if (ec) s.error("listen_address", str_cat("\"", c.address, "\" is not an IP address (", ec.message(), ")"));
  s.readable_file("tokens_file", c.tokens_file);
  check_tls_pair(s, "tls_cert", c.tls_cert, "tls_key", c.tls_key);
}

}  // namespace

void check_tls_pair(ConfigSection& s, std::string_view cert_key, const std::string& cert, std::string_view key_key,
                    const std::string& key) {
  if (cert.empty() || key.empty()) return;
  const auto cert_problem = file_problem(cert);
  const auto key_problem = file_problem(key);
  if (cert_problem) s.error(cert_key, *cert_problem);
  if (key_problem) s.error(key_key, *key_problem);
  if (cert_problem || key_problem) return;
  auto tls = make_server_tls_context(cert, key);
  if (tls.ok()) return;
  // make_server_tls_context names the file that failed: "tls_cert FILE: reason" or "tls_key ...".
  const std::string message(tls.status().message());
  s.error(message.starts_with("tls_key") ? key_key : cert_key, str_cat("cannot load it as PEM: ", message));
}

void read_publisher_config(ConfigSection& s, PublisherConfig* c) {
  s.boolean("enabled", &c->enabled);
  read_listen(s, &c->listen);
  s.integer("threads", &c->threads, 1, 64);
  read_size(s, "replay_ring", &c->replay_ring, 1, 100'000'000);
  read_size(s, "queue_limit_bytes", &c->queue_limit_bytes, 4096, 1LL << 34);
  s.duration_ns("heartbeat_interval", &c->heartbeat_interval_ns, 10 * kMs, 3600 * kSecond);
  read_size(s, "max_frame_bytes", &c->max_frame_bytes, 256, 64LL << 20);
  read_size(s, "max_filter_size", &c->max_filter_size, 1, 10'000'000);
  read_size(s, "snapshot_chunk", &c->snapshot_chunk, 1, 1'000'000);
  read_size(s, "batch_frame_bytes", &c->batch_frame_bytes, 1024, 16LL << 20);
  s.duration_ns("flush_interval", &c->flush_interval_ns, 0, 1 * kSecond);
  s.duration_ns("close_timeout", &c->close_timeout_ns, 10 * kMs, 600 * kSecond);
  if (c->enabled) check_listen(s, c->listen);
}

void read_jetstream_config(ConfigSection& s, JetStreamConfig* c) {
  s.string("url", &c->url);
  s.string("stream", &c->stream, false);
  s.string("subject_prefix", &c->subject_prefix, false);
  s.boolean("create_stream", &c->create_stream);
  s.duration_ns("duplicate_window", &c->duplicate_window_ns, 1 * kSecond, 7 * 24 * 3600 * kSecond);
  s.string("token_env", &c->token_env);
  read_size(s, "max_pending", &c->max_pending, 1, 1'000'000);
  s.duration_ns("ack_timeout", &c->ack_timeout_ns, 10 * kMs, 600 * kSecond);
  s.duration_ns("retry_interval", &c->retry_interval_ns, 10 * kMs, 600 * kSecond);
  if (!c->url.empty() && !c->url.starts_with("nats://") && !c->url.starts_with("tls://"))
    s.error("url", str_cat("\"", c->url, "\" is not a NATS URL (nats://host:port or tls://host:port)"));
  // Stream names may not hold '.', '*', '>' or spaces (JetStream's rule); a subject token may not
  // be empty or hold a wildcard.
  if (c->stream.find_first_of(".*> \t") != std::string::npos)
    s.error("stream", str_cat("\"", c->stream, "\" is not a stream name (no '.', '*', '>' or spaces)"));
  const std::string& p = c->subject_prefix;
  if (!p.empty() && (p.find_first_of("*> \t") != std::string::npos || p.front() == '.' || p.back() == '.' ||
                     p.find("..") != std::string::npos))
    s.error("subject_prefix", str_cat("\"", p, "\" is not a subject prefix (dot-separated tokens, no wildcards)"));
}

void read_admin_config(ConfigSection& s, AdminConfig* c) {
  s.boolean("enabled", &c->enabled);
  read_listen(s, &c->listen);
  read_size(s, "max_request_bytes", &c->max_request_bytes, 1024, 1LL << 20);
  s.duration_ns("request_timeout", &c->request_timeout_ns, 10 * kMs, 600 * kSecond);
  if (c->enabled) check_listen(s, c->listen);
}

}  // namespace segmentd
