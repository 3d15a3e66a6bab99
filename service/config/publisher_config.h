#pragma once
// [publisher] and [admin] config sections (config/README.md documents every key; the defaults
// are those of config/default.toml). Kept apart from service/config/config.h so that the publisher can
// be built and tested with nothing else.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace segmentd {

class ConfigSection;

//! Where a server listens and who may talk to it.
struct ListenConfig {
  std::string address = "127.0.0.1";  //!< loopback by default; expose deliberately
  int port = 0;                       //!< 0 = an ephemeral port (tests)
  std::string tokens_file;            //!< bearer tokens, one per line
  std::string tokens_env;             //!< environment variable holding tokens (comma/space separated)
  bool allow_anonymous = false;       //!< no token configured → serve everyone (explicit opt-in only)
  std::string tls_cert;               //!< PEM certificate chain; empty = plain TCP
  std::string tls_key;                //!< PEM private key; required with tls_cert
  int max_connections = 256;
};

inline ListenConfig listen_defaults(int port, const char* tokens_env, int max_connections) {
  ListenConfig c;
  c.port = port;
  c.tokens_env = tokens_env;
  c.max_connections = max_connections;
  return c;
}

//! [publisher]: the websocket pub/sub server (protocol/publisher/publisher.md).
struct PublisherConfig {
  bool enabled = true;
  ListenConfig listen = listen_defaults(8765, "SEGMENTD_PUBLISHER_TOKENS", 256);
  int threads = 1;                           //!< I/O threads serving the sessions
  std::size_t replay_ring = 100'000;         //!< messages kept for resume with since_seq
  std::size_t queue_limit_bytes = 8u << 20;  //!< per subscriber; past it: close 1008
  std::int64_t heartbeat_interval_ns = 1'000'000'000;
  std::size_t max_frame_bytes = 64u << 10;        //!< largest client frame accepted
  std::size_t max_filter_size = 10'000;           //!< entries in a subscribe filter
  std::size_t snapshot_chunk = 1'000;             //!< accounts per snapshot message
  std::size_t batch_frame_bytes = 64u << 10;      //!< batch mode: target bytes per frame
  std::int64_t flush_interval_ns = 1'000'000;     //!< fan-out at most this often (sooner past batch_frame_bytes)
  std::int64_t close_timeout_ns = 5'000'000'000;  //!< a closing peer that does not read is dropped after this
};

//! [admin]: the HTTP admin API (/healthz, /readyz, /metrics, /v1/...).
struct AdminConfig {
  bool enabled = true;
  ListenConfig listen = listen_defaults(8766, "SEGMENTD_ADMIN_TOKENS", 64);
  std::size_t max_request_bytes = 8u << 10;
  std::int64_t request_timeout_ns = 10'000'000'000;
};

//! [jetstream]: segment changes and model events also go to a NATS JetStream stream, for
//! consumers that want a durable, replayable stream (protocol/publisher/publisher.md, "JetStream").
struct JetStreamConfig {
  std::string url;                                     //!< nats://host:port; empty = off (the default)
  std::string stream = "SEGMENTD";                     //!< the stream's name
  std::string subject_prefix = "segmentd";             //!< subjects <prefix>.changes.<segment>, <prefix>.model
  bool create_stream = true;                           //!< create the stream when it does not exist
  std::int64_t duplicate_window_ns = 120'000'000'000;  //!< of a stream it creates (Nats-Msg-Id de-duplication)
  std::string token_env;                               //!< environment variable holding the server's auth token
  std::size_t max_pending = 4096;                      //!< publishes awaiting the server's ack
  std::int64_t ack_timeout_ns = 5'000'000'000;         //!< a round of publishes not all acked by then is sent again
  std::int64_t retry_interval_ns = 1'000'000'000;      //!< between attempts while the server is away
  bool enabled() const { return !url.empty(); }
};

void read_publisher_config(ConfigSection& s, PublisherConfig* c);
void read_jetstream_config(ConfigSection& s, JetStreamConfig* c);
//! Checks that a TLS certificate chain and key (both set) can be opened and loaded, reporting
//! each problem against its key (also used by [[sources]] of kind "ingest").
void check_tls_pair(ConfigSection& s, std::string_view cert_key, const std::string& cert, std::string_view key_key,
                    const std::string& key);
void read_admin_config(ConfigSection& s, AdminConfig* c);

}  // namespace segmentd
