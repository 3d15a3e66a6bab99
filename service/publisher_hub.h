#pragma once
// The publisher's shared state (the role of `shared_state` in Beast's chat-multi example):
// the seq counter, the replay ring, the published copy of every account's assignment, the
// latest model, and the registry of websocket sessions. No sockets here: sessions implement
// `Subscriber`, whose deliver() only posts to the session's strand and never blocks.
//
// Notes on thread locking
// -----------------------
// One mutex, mu_, guards everything below it. It is taken by:
//  * publish_changes / publish_model / publish_heartbeat (pipeline threads, the heartbeat
//    timer): assign seqs, encode each message ONCE into a shared immutable string, append to
//    the ring, update the published copy, then hand the batch to every attached subscriber —
//    still under mu_, so that every session receives batches in seq order;
//  * attach() (a session's strand): decide snapshot or replay and copy what the session needs
//    at seq S, and register it, atomically — so the session sees exactly the messages > S.
// Held for encoding a batch or copying a snapshot's rows; never across I/O.
// Counters read by stats() are atomics (metrics never take mu_).

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <mutex>  // std::mutex: Debian's Abseil is not TSan-instrumented
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "core/account_interner.h"
#include "core/model.h"
#include "core/segment_change.h"
#include "protocol/publisher_messages.h"

namespace segmentd {

//! One encoded server message with what filters need to route it.
struct PublishedEntry {
  enum class Kind : std::uint8_t { kChange, kModel, kHeartbeat };
  Kind kind = Kind::kChange;
  std::uint64_t seq = 0;                       //!< heartbeat: the last seq at the time
  AccountId account = 0;                       //!< kChange only
  SegmentId from = kNoSegment;                 //!< kChange only
  SegmentId to = kNoSegment;                   //!< kChange only
  std::shared_ptr<const std::string> payload;  //!< serialized once, shared by every session
};

//! Messages published together; shared (immutable) by every session they are delivered to, so
//! that a session holds one reference per batch, not one per message.
struct PublishBatch {
  std::vector<PublishedEntry> entries;
  std::size_t bytes = 0;  //!< sum of the payload sizes
};
using BatchPtr = std::shared_ptr<const PublishBatch>;

//! Label and policy of a segment as last published; kept after a segment is retired.
struct PublishedSegment {
  std::string label;
  SegmentPolicy policy;
};
using SegmentTable = absl::flat_hash_map<SegmentId, PublishedSegment>;

//! The publisher's own copy of an account's assignment (from the changes it published).
struct PublishedAssignment {
  SegmentId segment = kNoSegment;
  float confidence = 0.0f;
  std::int64_t ts_ns = 0;
  std::uint64_t seq = 0;
};

//! A subscriber's filter, compiled against the interner. Owned and used by one session, on its
//! strand (attach() calls matches_account under mu_ but from that same strand).
class SubscriberFilter {
 public:
  SubscriberFilter() = default;
  SubscriberFilter(const pubmsg::Filter& filter, const AccountInterner& names);
  bool matches(const PublishedEntry& e);
  bool matches_assignment(AccountId account, SegmentId segment);
  pubmsg::Filter::Kind kind() const { return kind_; }
  //! kAccounts: the ids resolved so far.
  const std::vector<AccountId>& account_ids() const { return ids_; }

 private:
  bool matches_account(AccountId id);

  pubmsg::Filter::Kind kind_ = pubmsg::Filter::Kind::kAll;
  std::vector<SegmentId> segments_;      //!< sorted
  std::vector<AccountId> ids_;           //!< resolved account ids, sorted
  std::vector<std::string> unresolved_;  //!< names not interned yet, sorted
  AccountId first_unseen_id_ = 0;        //!< ids below this were checked when resolving
  const AccountInterner* names_ = nullptr;
};

//! What a session needs to start its stream, taken atomically with its registration.
struct SubscribeStart {
  pubmsg::StartMode mode = pubmsg::StartMode::kSnapshot;
  pubmsg::SnapshotWhy why = pubmsg::SnapshotWhy::kRequested;
  std::optional<std::uint64_t> since_seq;
  std::uint64_t seq = 0;             //!< the stream continues from seq + 1
  std::uint64_t ring_first_seq = 0;  //!< oldest seq still in the ring (0 = empty)
  // mode kSnapshot:
  ModelPtr model;
  std::shared_ptr<const SegmentTable> segments;
  struct Row {
    AccountId account;
    PublishedAssignment assignment;
  };
  std::vector<Row> rows;
  // mode kReplay: the ring's messages after since_seq (unfiltered).
  BatchPtr replay;
};

//! A websocket session as the hub sees it. Implementations must not block in any method.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  //! Called with the hub's mutex held, in seq order: post the batch to the session's strand.
  virtual void deliver(BatchPtr batch) = 0;
  //! The server is stopping: close with 1001 "going away".
  virtual void shutdown() = 0;
};

struct PublisherHubOptions {
  std::size_t replay_ring = 100'000;
  int max_connections = 256;
};

//! Counters for metrics; each is a relaxed atomic read (no lock).
struct PublisherStats {
  std::uint64_t last_seq = 0;
  std::uint64_t ring_first_seq = 0;  //!< 0 when the ring is empty
  std::uint64_t ring_size = 0;       //!< messages in the ring
  std::uint64_t connections = 0;     //!< open websocket connections (subscribed or not)
  std::uint64_t subscribers = 0;     //!< attached (subscribed) sessions
  std::int64_t queued_bytes = 0;     //!< bytes waiting in every session's queue
  std::uint64_t slow_consumer_closes = 0;
  std::uint64_t rejected_connections = 0;  //!< over max_connections
  std::uint64_t auth_failures = 0;
  std::uint64_t snapshots = 0;           //!< subscriptions started by a snapshot
  std::uint64_t replays = 0;             //!< subscriptions resumed from the ring
  std::uint64_t bad_requests = 0;        //!< error frames sent
  std::uint64_t messages_published = 0;  //!< changes + models
  std::uint64_t model_version = 0;
};

class PublisherHub;

//! One open connection counted against max_connections; released when destroyed. Move-only.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::shared_ptr<PublisherHub> hub) : hub_(std::move(hub)) {}
  ConnectionSlot(ConnectionSlot&&) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& o) noexcept {
    release();
    hub_ = std::move(o.hub_);
    return *this;
  }
  ~ConnectionSlot() { release(); }
  explicit operator bool() const { return hub_ != nullptr; }

 private:
  void release();
  std::shared_ptr<PublisherHub> hub_;
};

class PublisherHub {
 public:
  PublisherHub(const PublisherHubOptions& options, const AccountInterner& names);
  PublisherHub(const PublisherHub&) = delete;
  PublisherHub& operator=(const PublisherHub&) = delete;

  // --- producers (any thread) ---
  void publish_changes(std::span<const SegmentChange> changes) ABSL_LOCKS_EXCLUDED(mu_);
  void publish_model(ModelPtr model) ABSL_LOCKS_EXCLUDED(mu_);
  void publish_heartbeat(std::int64_t now_ns) ABSL_LOCKS_EXCLUDED(mu_);

  // --- sessions (their strand) ---
  //! Reserves a connection slot; false when max_connections are open.
  bool try_open_connection();
  void close_connection();
  //! Registers a session for shutdown(); returns its id.
  std::uint64_t add_session(std::weak_ptr<Subscriber> session) ABSL_LOCKS_EXCLUDED(mu_);
  void remove_session(std::uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  //! Attaches session `id` with `filter`: fills `start` and from now on delivers every batch.
  void attach(std::uint64_t id, std::optional<std::uint64_t> since_seq, SubscriberFilter& filter, SubscribeStart* start)
      ABSL_LOCKS_EXCLUDED(mu_);
  void detach(std::uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  //! Asks every session to close (server stop).
  void shutdown_all() ABSL_LOCKS_EXCLUDED(mu_);

  const AccountInterner& names() const { return names_; }
  std::uint64_t last_seq() const { return last_seq_.load(std::memory_order_relaxed); }

  // --- counters updated by sessions ---
  void add_queued_bytes(std::int64_t delta) { queued_bytes_.fetch_add(delta, std::memory_order_relaxed); }
  void count_slow_consumer() { slow_consumer_closes_.fetch_add(1, std::memory_order_relaxed); }
  void count_auth_failure() { auth_failures_.fetch_add(1, std::memory_order_relaxed); }
  void count_rejected() { rejected_connections_.fetch_add(1, std::memory_order_relaxed); }
  void count_bad_request() { bad_requests_.fetch_add(1, std::memory_order_relaxed); }

  PublisherStats stats() const;

 private:
  struct Registration {
    std::uint64_t id;
    std::weak_ptr<Subscriber> session;
    bool attached = false;
  };

  void append_to_ring(const PublishedEntry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  //! Delivers to every attached session; `alive` keeps them referenced until mu_ is released.
  void fan_out(BatchPtr batch, std::vector<std::shared_ptr<Subscriber>>& alive) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PublisherHubOptions options_;
  const AccountInterner& names_;

  mutable std::mutex mu_;
  std::uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<PublishedEntry> ring_ ABSL_GUARDED_BY(mu_);               //!< consecutive seqs
  std::vector<PublishedAssignment> assignments_ ABSL_GUARDED_BY(mu_);  //!< by AccountId
  ModelPtr model_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const SegmentTable> segments_ ABSL_GUARDED_BY(mu_);  //!< copy-on-write per model
  std::vector<Registration> sessions_ ABSL_GUARDED_BY(mu_);
  std::uint64_t next_session_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::string scratch_ ABSL_GUARDED_BY(mu_);

  // Metrics: written under mu_ or by sessions, read without a lock.
  std::atomic<std::uint64_t> last_seq_{0};
  std::atomic<std::uint64_t> ring_first_seq_{0};
  std::atomic<std::uint64_t> ring_size_{0};
  std::atomic<std::uint64_t> subscribers_{0};
  std::atomic<std::uint64_t> messages_published_{0};
  std::atomic<std::uint64_t> model_version_{0};
  std::atomic<std::uint64_t> snapshots_{0};
  std::atomic<std::uint64_t> replays_{0};
  alignas(64) std::atomic<std::int64_t> queued_bytes_{0};  //!< hot: every session, every batch
  alignas(64) std::atomic<int> connections_{0};
  std::atomic<std::uint64_t> slow_consumer_closes_{0};
  std::atomic<std::uint64_t> rejected_connections_{0};
  std::atomic<std::uint64_t> auth_failures_{0};
  std::atomic<std::uint64_t> bad_requests_{0};
};

}  // namespace segmentd
