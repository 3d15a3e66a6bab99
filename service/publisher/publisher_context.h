#pragma once
// What every publisher connection shares: the hub, the session limits, the tokens and the TLS
// context. Built once by Publisher::start(), immutable afterwards (the hub is internally
// synchronized), held by each session through a shared_ptr.

#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "protocol/publisher/publisher_messages.h"
#include "service/base/connection_gate.h"
#include "service/net/console_sessions.h"
#include "service/net/token_auth.h"
#include "service/publisher/publisher_hub.h"

namespace segmentd {

struct SessionOptions {
  std::size_t queue_limit_bytes = 8u << 20;   //!< past it: close 1008 "slow consumer"
  std::size_t max_frame_bytes = 64u << 10;    //!< largest client frame; larger → error frame
  std::size_t batch_frame_bytes = 64u << 10;  //!< batch mode: target bytes per frame
  std::size_t snapshot_chunk = 1000;          //!< accounts per snapshot message
  std::int64_t close_timeout_ns = 5'000'000'000;
  //! From accept to the upgrade request read (and TLS before it). Silent sockets are displaced in
  //! the gate anyway; this bounds how long one may wait there when nobody displaces it.
  std::int64_t handshake_timeout_ns = 5'000'000'000;
  pubmsg::RequestLimits request_limits;
};

struct PublisherContext {
  std::shared_ptr<PublisherHub> hub;
  SessionOptions session;
  TokenSet tokens;
  //! The console's logins, accepted in place of a token (Publisher::set_console_sessions); may be null.
  std::shared_ptr<const ConsoleSessions> console_sessions;
  std::shared_ptr<boost::asio::ssl::context> tls;  //!< null = plain TCP
  //! Connections not authenticated yet: at most max_connections, kMaxPendingPerPeer per address.
  std::shared_ptr<ConnectionGate> gate;
};

//! Unauthenticated connections one address may have waiting at once (PublisherContext::gate).
inline constexpr std::size_t kMaxPendingPerPeer = 16;

}  // namespace segmentd
