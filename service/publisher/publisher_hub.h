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
//    timer): assign seqs, encode each message ONCE (all messages of a call into one shared
//    immutable chunk), append to the ring, update the published copy, append to the pending
//    batch. Short: no session is touched here.
//  * flush() (the publisher's flush timer, at most every flush_interval, sooner when
//    flush_bytes are pending): hands the pending batch — one shared buffer for every session —
//    to every attached subscriber, still under mu_, so that every session receives batches in
//    seq order. Without a flush scheduler (no I/O threads, e.g. unit tests) publish_* flush at
//    once.
//  * attach() (a session's strand): flushes what is pending, then decides snapshot or replay.
//    A snapshot captures what the session needs at seq S and registers it for delivery,
//    atomically — so the session sees exactly the messages > S. A snapshot capture copies only
//    the page pointers of the copy-on-write assignment table (O(accounts / kAssignmentPage)); the
//    rows are read after mu_ is released, and publishers copy a page before writing to it if a
//    snapshot captured it. A replay registers the session as catching up instead (below).
//  * catch_up() (a session's strand): a session that resumes with since_seq, or whose queue
//    passed its limit, is not delivered to: it reads the ring at its own pace, one bounded
//    chunk per call, and is attached (after a flush, as in attach()) by the call that finds
//    nothing more to read. Nothing of it is queued by the hub, so a resume never starts over
//    the session's queue limit, and a burst larger than the limit costs a reader that keeps
//    reading nothing. flush() posts fell_behind() to a catching-up session whose next message
//    has left the ring: that one is really too slow (closed 1008).
// Never held across I/O. Counters read by stats() are atomics (metrics never take mu_).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mutex>  // std::mutex: Debian's Abseil is not TSan-instrumented
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/account_interner.h"
#include "core/checkpoint_io.h"
#include "core/model.h"
#include "core/segment_change.h"
#include "protocol/publisher/publisher_messages.h"

namespace segmentd {

//! One encoded server message with what filters need to route it. The text lives in `chunk`,
//! an immutable buffer shared by the messages of one publish call (one allocation per call, not
//! per message); every session and the replay ring share it.
struct PublishedEntry {
  enum class Kind : std::uint8_t { kChange, kModel, kHeartbeat, kRegime, kRisk };
  Kind kind = Kind::kChange;
  std::uint64_t seq = 0;        //!< heartbeat: the last seq at the time
  AccountId account = 0;        //!< kChange only
  SegmentId from = kNoSegment;  //!< kChange only
  SegmentId to = kNoSegment;    //!< kChange only
  std::uint32_t offset = 0;     //!< the message is chunk[offset, offset + size)
  std::uint32_t size = 0;
  std::shared_ptr<const std::string> chunk;
  std::string_view text() const { return std::string_view(*chunk).substr(offset, size); }
};

//! Messages delivered together (everything published since the previous flush, or a replay);
//! immutable once delivered and shared by every session, which holds one reference per batch.
//! `joined` is the messages' text joined by ',' — the inside of a batch-mode frame — built once
//! for all sessions: messages i..j-1 are the one contiguous range joined_range(i, j).
struct PublishBatch {
  std::vector<PublishedEntry> entries;
  std::size_t bytes = 0;               //!< sum of the message sizes (no separators)
  std::string joined;                  //!< text of every message, ',' between them
  std::vector<std::uint32_t> offsets;  //!< offsets[i]: start of message i in joined

  void add(PublishedEntry e) {
    if (!entries.empty()) joined.push_back(',');
    offsets.push_back(static_cast<std::uint32_t>(joined.size()));
    joined.append(e.text());
    bytes += e.size;
    entries.push_back(std::move(e));
  }
  //! Builds joined, offsets and bytes from entries (after entries were filled directly).
  void join_entries() {
    joined.clear();
    offsets.clear();
    bytes = 0;
    std::size_t total = 0;
    for (const PublishedEntry& e : entries) total += e.size + 1;
    joined.reserve(total);
    offsets.reserve(entries.size());
    for (const PublishedEntry& e : entries) {
      if (!offsets.empty()) joined.push_back(',');
      offsets.push_back(static_cast<std::uint32_t>(joined.size()));
      joined.append(e.text());
      bytes += e.size;
    }
  }
  //! The text of messages [i, j) joined by ',' (i < j <= entries.size()).
  std::string_view joined_range(std::size_t i, std::size_t j) const {
    const std::size_t end = j < entries.size() ? offsets[j] - 1 : joined.size();
    return std::string_view(joined).substr(offsets[i], end - offsets[i]);
  }
};
using BatchPtr = std::shared_ptr<const PublishBatch>;

//! Label and policies of a segment as last published; kept after a segment is retired.
struct PublishedSegment {
  std::string label;
  SegmentPolicy policy;  //!< calm
  SegmentPolicy stressed_policy;
  SegmentPolicy extreme_policy;
  const SegmentPolicy& policy_in(Regime r) const {
    return r == Regime::kExtreme ? extreme_policy : r == Regime::kStressed ? stressed_policy : policy;
  }
};
using SegmentTable = absl::flat_hash_map<SegmentId, PublishedSegment>;

//! A segment's dynamic margin (core/scenario.h, dynamic_margin_multiplier) as the last risk
//! publication measured it: its worst scenario loss over base_margin_rate × its gross delta, and
//! its policy's cap. The multiplier in force follows the regime's policy multiplier from it.
struct DynamicMargin {
  double ratio = 0.0;
  double cap = 0.0;
};
using DynamicMargins = absl::flat_hash_map<SegmentId, DynamicMargin>;

//! The publisher's own copy of an account's assignment (from the changes it published).
struct PublishedAssignment {
  SegmentId segment = kNoSegment;
  float confidence = 0.0f;
  std::int64_t ts_ns = 0;
  std::uint64_t seq = 0;
};

//! A page of the copy-on-write assignment table (by AccountId). A page reachable from a snapshot
//! capture is never written again: the hub writes to a copy (see PublisherHub::assignment).
inline constexpr std::size_t kAssignmentPage = 1024;
struct AssignmentPage {
  std::uint64_t generation = 0;  //!< the capture generation it was created in
  PublishedAssignment rows[kAssignmentPage];
};
using AssignmentPages = std::vector<std::shared_ptr<const AssignmentPage>>;

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
  Regime regime = Regime::kCalm;  //!< the market regime at seq
  std::shared_ptr<const SegmentTable> segments;
  struct Row {
    AccountId account;
    PublishedAssignment assignment;
  };
  AssignmentPages pages;  //!< the assignment table at seq (immutable pages)
  std::size_t accounts = 0;
  std::vector<Row> rows;  //!< built by attach() from the capture, after releasing the hub's mutex
  // mode kReplay: nothing captured; unless there is nothing to replay (since_seq == seq: then
  // attached at once, as a snapshot is), the session reads the ring from since_seq + 1 with
  // PublisherHub::catch_up().
  bool catching_up = false;
};

//! A websocket session as the hub sees it. Implementations must not block in any method.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  //! Called with the hub's mutex held, in seq order: post the batch to the session's strand.
  virtual void deliver(BatchPtr batch) = 0;
  //! The server is stopping: close with 1001 "going away".
  virtual void shutdown() = 0;
  //! Called with the hub's mutex held, only while the session catches up: the ring no longer
  //! holds the next message it needs. Must only post (the session closes 1008).
  virtual void fell_behind() {}
};

//! What PublisherHub::catch_up() did.
enum class CatchUp : std::uint8_t {
  kEntries,   //!< messages from from_seq on are in the batch; call again after writing them
  kAttached,  //!< nothing left to read: the session is attached and receives every batch > from_seq - 1
  kGone,      //!< from_seq has left the ring: the session fell too far behind
};

struct PublisherHubOptions {
  std::size_t replay_ring = 100'000;
  int max_connections = 256;
};

//! Asks for PublisherHub::flush() to be called after `delay_ns` (0 = as soon as possible) on
//! another thread. Called with the hub's mutex held: must only post, never call back.
using FlushScheduler = std::function<void(std::int64_t delay_ns)>;

//! Counters for metrics; each is a relaxed atomic read (no lock).
struct PublisherStats {
  std::uint64_t last_seq = 0;
  std::uint64_t ring_first_seq = 0;  //!< 0 when the ring is empty
  std::uint64_t ring_size = 0;       //!< messages in the ring
  std::uint64_t connections = 0;     //!< open websocket connections (subscribed or not)
  std::uint64_t subscribers = 0;     //!< attached (subscribed) sessions
  std::int64_t queued_bytes = 0;     //!< bytes waiting in every session's queue
  std::uint64_t slow_consumer_closes = 0;
  std::uint64_t catch_ups = 0;             //!< queues past queue_limit_bytes that went on reading the ring instead
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
  //! `exposure`: the latest exposure scan, carried in the message (null: "exposure": null).
  void publish_model(ModelPtr model, std::shared_ptr<const ExposureView> exposure = nullptr) ABSL_LOCKS_EXCLUDED(mu_);
  void publish_heartbeat(std::int64_t now_ns) ABSL_LOCKS_EXCLUDED(mu_);
  //! A `regime_change` message (to every subscriber, whatever its filter): `c.market` becomes the
  //! regime whose policies later segment changes carry; c.market_from and c.model are filled here.
  void publish_regime(pubmsg::RegimeChangeInfo c) ABSL_LOCKS_EXCLUDED(mu_);
  //! A `risk` message (to every subscriber, whatever its filter); `dynamic` replaces the dynamic
  //! margins later segment changes and regime changes apply.
  void publish_risk(const pubmsg::RiskInfo& r, DynamicMargins dynamic) ABSL_LOCKS_EXCLUDED(mu_);
  //! The market regime the published policies follow (restored with the state).
  Regime regime() const { return static_cast<Regime>(regime_now_.load(std::memory_order_relaxed)); }

  //! With a scheduler, publish_* only append to the pending batch and flush() delivers it: at
  //! most once per `interval_ns` (measured from the previous flush), or as soon as `flush_bytes`
  //! are pending. Null scheduler (the default): every publish_* call delivers at once.
  void set_flush_scheduler(FlushScheduler scheduler, std::int64_t interval_ns, std::size_t flush_bytes)
      ABSL_LOCKS_EXCLUDED(mu_);
  //! Delivers the pending batch to every attached session (the flush scheduler's callback).
  void flush() ABSL_LOCKS_EXCLUDED(mu_);

  // --- sessions (their strand) ---
  //! Reserves a connection slot; false when max_connections are open.
  bool try_open_connection();
  void close_connection();
  //! Registers a session for shutdown(); returns its id.
  std::uint64_t add_session(std::weak_ptr<Subscriber> session) ABSL_LOCKS_EXCLUDED(mu_);
  void remove_session(std::uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  //! Subscribes session `id` with `filter`: fills `start`. A snapshot start is attached at once
  //! (every batch after start->seq is delivered); a replay start catches up first (catch_up()
  //! from since_seq + 1).
  void attach(std::uint64_t id, std::optional<std::uint64_t> since_seq, SubscriberFilter& filter, SubscribeStart* start)
      ABSL_LOCKS_EXCLUDED(mu_);
  //! A session that is not delivered to reads the ring: up to `max_bytes` (at least one message)
  //! of the messages from `from_seq` on into `*out` (heartbeats are not in the ring). When
  //! from_seq is past the last seq, attaches the session instead. Also what a session whose
  //! queue passed its limit does: detach_to_catch_up(), then catch_up() from its first unsent seq.
  CatchUp catch_up(std::uint64_t id, std::uint64_t from_seq, std::size_t max_bytes, std::shared_ptr<PublishBatch>* out)
      ABSL_LOCKS_EXCLUDED(mu_);
  //! Stops delivering to session `id`, which will catch up from `from_seq` (its queue passed its
  //! limit; what it had queued is dropped, the ring holds it).
  void detach_to_catch_up(std::uint64_t id, std::uint64_t from_seq) ABSL_LOCKS_EXCLUDED(mu_);
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

  // --- durable state (core/checkpoint.md; defined in publisher_hub_state.cpp) ---
  //! Appends the seq, the replay ring (each message's text), the published assignment table and
  //! segment table. Any thread; takes mu_ for the copy only.
  void save_state(ByteWriter& w) const ABSL_LOCKS_EXCLUDED(mu_);
  //! Restores what save_state wrote, before any publish or session. The model is given apart
  //! (the checkpoint's model section). An error names what is malformed; nothing is changed then.
  absl::Status load_state(std::string_view bytes, ModelPtr model) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Registration {
    std::uint64_t id;
    std::weak_ptr<Subscriber> session;
    bool attached = false;
    //! Not attached, reading the ring: the next seq it needs (0 = not catching up).
    std::uint64_t catch_up_from = 0;
    bool told_behind = false;  //!< fell_behind() was posted
  };

  void append_to_ring(const PublishedEntry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  //! The tail of publishing one sequenced message (entries[0], its kind and seq set, its text in
  //! `chunk`): into the ring and the pending batch.
  void publish_one(std::shared_ptr<std::string> chunk, std::vector<PublishedEntry>& entries,
                   std::vector<std::shared_ptr<Subscriber>>& alive) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  //! The writable slot of `account` in the assignment table (copying its page when captured).
  PublishedAssignment& assignment(AccountId account) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  //! Appends to the pending batch, then flushes it now or makes sure a flush is scheduled.
  void enqueue(std::shared_ptr<const std::string> chunk, std::vector<PublishedEntry>& entries,
               std::vector<std::shared_ptr<Subscriber>>& alive) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  //! Delivers the pending batch to every attached session; `alive` keeps them referenced until
  //! mu_ is released.
  void flush_locked(std::vector<std::shared_ptr<Subscriber>>& alive) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PublisherHubOptions options_;
  const AccountInterner& names_;

  mutable std::mutex mu_;
  std::uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<PublishedEntry> ring_ ABSL_GUARDED_BY(mu_);                     //!< consecutive seqs
  std::vector<std::shared_ptr<AssignmentPage>> pages_ ABSL_GUARDED_BY(mu_);  //!< by AccountId / kAssignmentPage
  std::size_t accounts_ ABSL_GUARDED_BY(mu_) = 0;                            //!< 1 + highest AccountId seen
  std::uint64_t capture_generation_ ABSL_GUARDED_BY(mu_) = 0;                //!< bumped by each snapshot capture
  ModelPtr model_ ABSL_GUARDED_BY(mu_);
  Regime regime_ ABSL_GUARDED_BY(mu_) = Regime::kCalm;
  DynamicMargins dynamic_ ABSL_GUARDED_BY(mu_);
  //! The policy of segment `id` in force in regime `r`: its regime's policy, with its dynamic
  //! margin when it has one.
  SegmentPolicy policy_in_force(SegmentId id, const SegmentPolicy& regime_policy) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const SegmentTable> segments_ ABSL_GUARDED_BY(mu_);  //!< copy-on-write per model
  std::vector<Registration> sessions_ ABSL_GUARDED_BY(mu_);
  std::uint64_t next_session_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::string scratch_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<PublishBatch> pending_ ABSL_GUARDED_BY(mu_);  //!< published, not yet delivered
  FlushScheduler scheduler_ ABSL_GUARDED_BY(mu_);
  std::int64_t flush_interval_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t flush_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::int64_t last_flush_ns_ ABSL_GUARDED_BY(mu_) = 0;
  bool flush_scheduled_ ABSL_GUARDED_BY(mu_) = false;      //!< a flush is due (timer or post)
  bool flush_now_scheduled_ ABSL_GUARDED_BY(mu_) = false;  //!< an immediate one, for flush_bytes

  // Metrics: written under mu_ or by sessions, read without a lock.
  std::atomic<std::uint64_t> last_seq_{0};
  std::atomic<std::uint64_t> ring_first_seq_{0};
  std::atomic<std::uint64_t> ring_size_{0};
  std::atomic<std::uint64_t> subscribers_{0};
  std::atomic<std::uint64_t> messages_published_{0};
  std::atomic<std::uint64_t> model_version_{0};
  std::atomic<std::uint8_t> regime_now_{0};  //!< regime_, for regime()
  std::atomic<std::uint64_t> snapshots_{0};
  std::atomic<std::uint64_t> replays_{0};
  alignas(64) std::atomic<std::int64_t> queued_bytes_{0};  //!< hot: every session, every batch
  alignas(64) std::atomic<int> connections_{0};
  std::atomic<std::uint64_t> slow_consumer_closes_{0};
  std::atomic<std::uint64_t> catch_ups_{0};
  std::atomic<std::uint64_t> rejected_connections_{0};
  std::atomic<std::uint64_t> auth_failures_{0};
  std::atomic<std::uint64_t> bad_requests_{0};
};

}  // namespace segmentd
