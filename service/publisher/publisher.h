#pragma once
// The segment publisher (protocol/publisher/publisher.md): a websocket pub/sub server that fans SegmentChanges and
// model events out to subscribers (margin engine, quoting engine, risk desk).
//
//   Publisher publisher(config.publisher, interner);
//   if (auto s = publisher.start(); !s.ok()) ...;     // binds, starts its I/O threads
//   publisher.publish_model(model);                    // clusterer thread, on each new version
//   publisher.publish_changes(changes);                // shard / pipeline threads
//   publisher.stats();                                 // metrics, any thread
//   publisher.stop();                                  // or the destructor
//
// Threads: the publisher owns `threads` I/O threads; each connection runs on its own strand.
// publish_*() may be called from any thread, concurrently; each call encodes its messages once,
// assigns them consecutive seqs, appends them to the replay ring and posts them to every
// subscriber's strand. It never waits for a socket: a subscriber that falls behind by more
// than queue_limit_bytes is closed with 1008 "slow consumer". The publisher keeps its own copy
// of every account's last published assignment (for snapshots) and never reads shard state.
//
// `names` must outlive the publisher; it is read (AccountInterner::name/find) from publish
// calls and I/O threads.

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "core/account_interner.h"
#include "core/model.h"
#include "core/segment_change.h"
#include "service/config/publisher_config.h"
#include "service/net/console_sessions.h"
#include "service/publisher/publisher_hub.h"

namespace segmentd {

class Publisher {
 public:
  Publisher(const PublisherConfig& config, const AccountInterner& names);
  ~Publisher();  //!< stop()
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  //! Loads tokens and TLS, binds listen.address:port and starts the I/O threads. Errors name the
  //! config key and the cause. Publishing works before start() too (it fills the ring).
  absl::Status start();
  //! Closes the listener, sends 1001 "going away" to every subscriber, joins the threads
  //! (waiting at most close_timeout for slow peers). Idempotent.
  void stop();
  //! The bound port (the ephemeral one when config.port is 0); 0 before start().
  std::uint16_t port() const;
  //! The console's logins (service/net/console_sessions.h): an upgrade request with no bearer
  //! token is accepted with a live session's cookie, from a page of the same host. Set before
  //! start(); null (the default) = tokens only.
  void set_console_sessions(std::shared_ptr<const ConsoleSessions> sessions) {
    console_sessions_ = std::move(sessions);
  }

  void publish_changes(std::span<const SegmentChange> changes) { hub_->publish_changes(changes); }
  void publish_model(ModelPtr model, std::shared_ptr<const ExposureView> exposure = nullptr) {
    hub_->publish_model(std::move(model), std::move(exposure));
  }
  PublisherStats stats() const { return hub_->stats(); }
  //! The hub, for the other subscribers of the numbered stream (the JetStream sink).
  std::shared_ptr<PublisherHub> hub() const { return hub_; }
  //! Durable state (PublisherHub::save_state / load_state; load before start()).
  void save_state(ByteWriter& w) const { hub_->save_state(w); }
  absl::Status load_state(std::string_view bytes, ModelPtr model) { return hub_->load_state(bytes, std::move(model)); }

 private:
  struct Io;  //!< Asio state, kept out of this header
  PublisherConfig config_;
  std::shared_ptr<PublisherHub> hub_;
  std::shared_ptr<const ConsoleSessions> console_sessions_;
  std::unique_ptr<Io> io_;
};

}  // namespace segmentd
