#pragma once
// Connections that have not proven themselves yet: accepted, but not authenticated (publisher,
// ingest) or with no request read (admin). A server that gives such a connection a slot of
// max_connections lets any peer lock real clients out by connecting and saying nothing; one
// that refuses new connections while the table is full does the same. The gate does neither:
//
//   - at most `max_pending` connections wait in all, and at most `max_per_peer` from one address;
//   - a new connection over either bound displaces the OLDEST waiting one (of its own peer when
//     the per-peer bound is the one hit), whose `evict` callback closes it.
//
// So a trickle of silent sockets costs a real client at most the wait for its own handshake; to
// keep it out, an attacker must open `max_pending` connections within one handshake's time, and
// from one address only `max_per_peer` of them count. Slots of max_connections are taken only
// after a connection leaves the gate by admit().
//
// Threads: every method may be called from any thread (one mutex). `evict` is called without
// the gate's mutex held, at most once, and must only post to the connection's own executor.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace segmentd {

class ConnectionGate;

//! One waiting connection's place in the gate; leaves it when admitted or destroyed. Move-only.
class GateTicket {
 public:
  GateTicket() = default;
  GateTicket(GateTicket&& o) noexcept : gate_(std::move(o.gate_)), id_(o.id_) { o.id_ = 0; }
  GateTicket& operator=(GateTicket&& o) noexcept;
  GateTicket(const GateTicket&) = delete;
  GateTicket& operator=(const GateTicket&) = delete;
  ~GateTicket() { leave(); }

  //! The connection proved itself (authenticated, or sent a request): it no longer waits.
  void admit() { leave(); }
  bool waiting() const { return id_ != 0; }

 private:
  friend class ConnectionGate;
  GateTicket(std::shared_ptr<ConnectionGate> gate, std::uint64_t id) : gate_(std::move(gate)), id_(id) {}
  void leave();

  std::shared_ptr<ConnectionGate> gate_;
  std::uint64_t id_ = 0;
};

class ConnectionGate : public std::enable_shared_from_this<ConnectionGate> {
 public:
  ConnectionGate(std::size_t max_pending, std::size_t max_per_peer);

  //! Registers a connection from `peer` (its address). When a bound is over, the oldest waiting
  //! connection (this peer's, when its own bound is hit) is evicted first.
  GateTicket enter(const std::string& peer, std::function<void()> evict) ABSL_LOCKS_EXCLUDED(mu_);

  std::size_t pending() const ABSL_LOCKS_EXCLUDED(mu_);
  //! Connections evicted so far (a metric: how much junk the server is seeing).
  std::uint64_t evicted() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class GateTicket;
  struct Entry {
    std::uint64_t id;
    std::string peer;
    std::function<void()> evict;
  };
  using Entries = std::list<Entry>;  //!< oldest first

  void leave(std::uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  //! Removes `it` and returns its callback (to run after the mutex is released).
  std::function<void()> take_locked(Entries::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::size_t max_pending_;
  const std::size_t max_per_peer_;
  mutable std::mutex mu_;
  Entries entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::uint64_t, Entries::iterator> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::size_t> per_peer_ ABSL_GUARDED_BY(mu_);
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::uint64_t evicted_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace segmentd
