#include "service/base/connection_gate.h"

#include <algorithm>
#include <vector>

namespace segmentd {

GateTicket& GateTicket::operator=(GateTicket&& o) noexcept {
  if (this != &o) {
    leave();
    gate_ = std::move(o.gate_);
    id_ = o.id_;
    o.id_ = 0;
  }
  return *this;
}

void GateTicket::leave() {
  if (id_ != 0 && gate_) gate_->leave(id_);
  id_ = 0;
  gate_.reset();
}

ConnectionGate::ConnectionGate(std::size_t max_pending, std::size_t max_per_peer)
    : max_pending_(std::max<std::size_t>(1, max_pending)), max_per_peer_(std::max<std::size_t>(1, max_per_peer)) {}

std::function<void()> ConnectionGate::take_locked(Entries::iterator it) {
  std::function<void()> evict = std::move(it->evict);
  auto peer = per_peer_.find(it->peer);
  if (peer != per_peer_.end() && --peer->second == 0) per_peer_.erase(peer);
  by_id_.erase(it->id);
  entries_.erase(it);
  return evict;
}

GateTicket ConnectionGate::enter(const std::string& peer, std::function<void()> evict) {
  std::vector<std::function<void()>> evicted;
  std::uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The peer's own bound first: its oldest waiting connection makes room.
    if (auto p = per_peer_.find(peer); p != per_peer_.end() && p->second >= max_per_peer_) {
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.peer == peer; });
      if (it != entries_.end()) evicted.push_back(take_locked(it));
    }
    while (entries_.size() >= max_pending_) evicted.push_back(take_locked(entries_.begin()));
    id = next_id_++;
    entries_.push_back(Entry{id, peer, std::move(evict)});
    by_id_[id] = std::prev(entries_.end());
    ++per_peer_[peer];
    evicted_ += evicted.size();
  }
  for (auto& e : evicted)
    if (e) e();
  return GateTicket(shared_from_this(), id);
}

void ConnectionGate::leave(std::uint64_t id) {
  std::function<void()> dropped;  // destroyed after the mutex is released
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;  // evicted already
  dropped = take_locked(it->second);
}

std::size_t ConnectionGate::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::uint64_t ConnectionGate::evicted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evicted_;
}

}  // namespace segmentd
