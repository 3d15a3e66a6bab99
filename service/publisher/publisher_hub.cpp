#include "service/publisher/publisher_hub.h"

#include <algorithm>
#include <chrono>

namespace segmentd {

// ---------------------------------------------------------------- SubscriberFilter

SubscriberFilter::SubscriberFilter(const pubmsg::Filter& filter, const AccountInterner& names)
    : kind_(filter.kind), segments_(filter.segments), names_(&names) {
  if (kind_ != pubmsg::Filter::Kind::kAccounts) return;
  // Ids are dense and handed out in order: a name unknown now can only get an id >= size().
  first_unseen_id_ = static_cast<AccountId>(names.size());
  for (const std::string& name : filter.accounts) {
    AccountId id = 0;
    if (names.find(name, &id)) {
      ids_.push_back(id);
    } else {
      unresolved_.push_back(name);  // filter.accounts is sorted: so is this
    }
  }
  std::sort(ids_.begin(), ids_.end());
}

bool SubscriberFilter::matches_account(AccountId id) {
  if (std::binary_search(ids_.begin(), ids_.end(), id)) return true;
  if (unresolved_.empty() || id < first_unseen_id_) return false;
  const std::string& name = names_->name(id);
  auto it = std::lower_bound(unresolved_.begin(), unresolved_.end(), name);
  if (it == unresolved_.end() || *it != name) return false;
  unresolved_.erase(it);
  ids_.insert(std::upper_bound(ids_.begin(), ids_.end(), id), id);
  return true;
}

bool SubscriberFilter::matches(const PublishedEntry& e) {
  if (e.kind != PublishedEntry::Kind::kChange) return true;  // models, regimes, risk and heartbeats go to all
  switch (kind_) {
    case pubmsg::Filter::Kind::kAll: return true;
    case pubmsg::Filter::Kind::kSegments:
      // Entering or leaving a watched segment.
      return std::binary_search(segments_.begin(), segments_.end(), e.from) ||
             std::binary_search(segments_.begin(), segments_.end(), e.to);
    case pubmsg::Filter::Kind::kAccounts: return matches_account(e.account);
  }
  return false;
}

bool SubscriberFilter::matches_assignment(AccountId account, SegmentId segment) {
  switch (kind_) {
    case pubmsg::Filter::Kind::kAll: return true;
    case pubmsg::Filter::Kind::kSegments: return std::binary_search(segments_.begin(), segments_.end(), segment);
    case pubmsg::Filter::Kind::kAccounts: return matches_account(account);
  }
  return false;
}

// ---------------------------------------------------------------- PublisherHub

void ConnectionSlot::release() {
  if (hub_) hub_->close_connection();
  hub_.reset();
}

PublisherHub::PublisherHub(const PublisherHubOptions& options, const AccountInterner& names)
    : options_(options),
      names_(names),
      segments_(std::make_shared<SegmentTable>()),
      pending_(std::make_shared<PublishBatch>()) {}

namespace {

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void PublisherHub::append_to_ring(const PublishedEntry& e) {
  if (ring_.size() >= options_.replay_ring) ring_.pop_front();
  ring_.push_back(e);
  ring_first_seq_.store(ring_.front().seq, std::memory_order_relaxed);
  ring_size_.store(ring_.size(), std::memory_order_relaxed);
}

PublishedAssignment& PublisherHub::assignment(AccountId account) {
  const std::size_t page = account / kAssignmentPage;
  if (page >= pages_.size()) pages_.resize(page + 1);
  std::shared_ptr<AssignmentPage>& p = pages_[page];
  if (!p) {
    p = std::make_shared<AssignmentPage>();
    p->generation = capture_generation_;
  } else if (p->generation != capture_generation_) {
    // A snapshot captured this page: it stays as it was for that snapshot; write to a copy.
    p = std::make_shared<AssignmentPage>(*p);
    p->generation = capture_generation_;
  }
  accounts_ = std::max<std::size_t>(accounts_, static_cast<std::size_t>(account) + 1);
  return p->rows[account % kAssignmentPage];
}

void PublisherHub::set_flush_scheduler(FlushScheduler scheduler, std::int64_t interval_ns, std::size_t flush_bytes) {
  std::vector<std::shared_ptr<Subscriber>> alive;
  std::lock_guard<std::mutex> lock(mu_);
  flush_locked(alive);  // nothing pending crosses a change of scheduler
  scheduler_ = std::move(scheduler);
  flush_interval_ns_ = interval_ns;
  flush_bytes_ = flush_bytes;
  flush_scheduled_ = false;
  flush_now_scheduled_ = false;
}

void PublisherHub::enqueue(std::shared_ptr<const std::string> chunk, std::vector<PublishedEntry>& entries,
                           std::vector<std::shared_ptr<Subscriber>>& alive) {
  PublishBatch& p = *pending_;
  for (PublishedEntry& e : entries) {
    e.chunk = chunk;
    p.add(std::move(e));
  }
  if (!scheduler_) return flush_locked(alive);
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    const std::int64_t due = last_flush_ns_ + flush_interval_ns_ - mono_ns();
    if (due <= 0 || p.bytes >= flush_bytes_) flush_now_scheduled_ = true;
    scheduler_(std::max<std::int64_t>(0, due));
  } else if (!flush_now_scheduled_ && p.bytes >= flush_bytes_) {
    flush_now_scheduled_ = true;
    scheduler_(0);
  }
}

void PublisherHub::flush_locked(std::vector<std::shared_ptr<Subscriber>>& alive) {
  flush_scheduled_ = false;
  flush_now_scheduled_ = false;
  if (pending_->entries.empty()) return;
  last_flush_ns_ = mono_ns();
  BatchPtr batch = std::move(pending_);
  pending_ = std::make_shared<PublishBatch>();
  pending_->entries.reserve(batch->entries.size());
  pending_->offsets.reserve(batch->entries.size());
  pending_->joined.reserve(batch->joined.size());
  const std::uint64_t ring_first = ring_.empty() ? 0 : ring_.front().seq;
  for (Registration& r : sessions_) {
    if (r.attached) {
      if (auto s = r.session.lock()) {
        s->deliver(batch);
        alive.push_back(std::move(s));
      }
    } else if (r.catch_up_from != 0 && !r.told_behind && r.catch_up_from < ring_first) {
      // Catching up, and the ring has dropped what it reads next: it cannot catch up any more.
      r.told_behind = true;
      if (auto s = r.session.lock()) {
        s->fell_behind();
        alive.push_back(std::move(s));
      }
    }
  }
}

void PublisherHub::flush() {
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  std::lock_guard<std::mutex> lock(mu_);
  flush_locked(alive);
}

void PublisherHub::publish_changes(std::span<const SegmentChange> changes) {
  if (changes.empty()) return;
  // Declared before the lock, released after it: the last reference to a session may drop
  // here, and its destructor takes mu_.
  std::vector<std::shared_ptr<Subscriber>> alive;
  std::vector<PublishedEntry> entries(changes.size());
  auto chunk = std::make_shared<std::string>();
  chunk->reserve(changes.size() * 512);
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const SegmentChange& c = changes[i];
    PublishedEntry& e = entries[i];
    e.kind = PublishedEntry::Kind::kChange;
    e.seq = ++seq_;
    e.account = c.account;
    e.from = c.from;
    e.to = c.to;
    pubmsg::SegmentInfo info;
    info.regime = regime_;
    if (auto it = segments_->find(c.to); it != segments_->end()) {
      info.known = true;
      info.label = it->second.label;
      info.policy = policy_in_force(c.to, it->second.policy_in(regime_));
    }
    e.offset = static_cast<std::uint32_t>(chunk->size());
    pubmsg::append_segment_change(*chunk, e.seq, c, names_.name(c.account), info);
    e.size = static_cast<std::uint32_t>(chunk->size() - e.offset);
    assignment(c.account) = PublishedAssignment{c.to, static_cast<float>(c.confidence), c.ts_ns, e.seq};
  }
  std::shared_ptr<const std::string> text = std::move(chunk);
  for (PublishedEntry& e : entries) {
    e.chunk = text;
    append_to_ring(e);
  }
  last_seq_.store(seq_, std::memory_order_relaxed);
  messages_published_.fetch_add(changes.size(), std::memory_order_relaxed);
  enqueue(std::move(text), entries, alive);
}

void PublisherHub::publish_model(ModelPtr model, std::shared_ptr<const ExposureView> exposure) {
  if (!model) return;
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  std::vector<PublishedEntry> entries(1);
  auto chunk = std::make_shared<std::string>();
  std::lock_guard<std::mutex> lock(mu_);
  auto table = std::make_shared<SegmentTable>(*segments_);
  for (const Segment& s : model->segments)
    (*table)[s.id] = PublishedSegment{s.label, s.policy, s.stressed_policy, s.extreme_policy};
  segments_ = std::move(table);
  model_ = model;
  PublishedEntry& e = entries[0];
  e.kind = PublishedEntry::Kind::kModel;
  e.seq = ++seq_;
  pubmsg::append_model(*chunk, e.seq, *model, exposure.get());
  e.size = static_cast<std::uint32_t>(chunk->size());
  std::shared_ptr<const std::string> text = std::move(chunk);
  e.chunk = text;
  append_to_ring(e);
  last_seq_.store(seq_, std::memory_order_relaxed);
  model_version_.store(model->version, std::memory_order_relaxed);
  messages_published_.fetch_add(1, std::memory_order_relaxed);
  enqueue(std::move(text), entries, alive);
}

void PublisherHub::publish_regime(pubmsg::RegimeChangeInfo c) {
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  std::vector<PublishedEntry> entries(1);
  auto chunk = std::make_shared<std::string>();
  std::lock_guard<std::mutex> lock(mu_);
  c.market_from = regime_;
  c.model = model_.get();
  std::vector<SegmentPolicy> policies;
  if (model_)
    for (const Segment& s : model_->segments) policies.push_back(policy_in_force(s.id, s.policy_in(c.market)));
  c.policies = policies;
  regime_ = c.market;
  regime_now_.store(static_cast<std::uint8_t>(c.market), std::memory_order_relaxed);
  entries[0].kind = PublishedEntry::Kind::kRegime;
  entries[0].seq = ++seq_;
  pubmsg::append_regime_change(*chunk, entries[0].seq, c);
  publish_one(std::move(chunk), entries, alive);
}

void PublisherHub::publish_one(std::shared_ptr<std::string> chunk, std::vector<PublishedEntry>& entries,
                               std::vector<std::shared_ptr<Subscriber>>& alive) {
  PublishedEntry& e = entries[0];
  e.size = static_cast<std::uint32_t>(chunk->size());
  std::shared_ptr<const std::string> text = std::move(chunk);
  e.chunk = text;
  append_to_ring(e);
  last_seq_.store(seq_, std::memory_order_relaxed);
  messages_published_.fetch_add(1, std::memory_order_relaxed);
  enqueue(std::move(text), entries, alive);
}

SegmentPolicy PublisherHub::policy_in_force(SegmentId id, const SegmentPolicy& regime_policy) const {
  SegmentPolicy p = regime_policy;
  if (auto it = dynamic_.find(id); it != dynamic_.end())
    p.margin_multiplier = dynamic_margin_multiplier(p.margin_multiplier, it->second.cap, it->second.ratio, 1.0, 1.0);
  return p;
}

void PublisherHub::publish_risk(const pubmsg::RiskInfo& r, DynamicMargins dynamic) {
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  std::vector<PublishedEntry> entries(1);
  auto chunk = std::make_shared<std::string>();
  std::lock_guard<std::mutex> lock(mu_);
  dynamic_ = std::move(dynamic);
  entries[0].kind = PublishedEntry::Kind::kRisk;
  entries[0].seq = ++seq_;
  pubmsg::append_risk(*chunk, entries[0].seq, r);
  publish_one(std::move(chunk), entries, alive);
}

void PublisherHub::publish_heartbeat(std::int64_t now_ns) {
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  std::vector<PublishedEntry> entries(1);
  auto chunk = std::make_shared<std::string>();
  std::lock_guard<std::mutex> lock(mu_);
  PublishedEntry& e = entries[0];
  e.kind = PublishedEntry::Kind::kHeartbeat;
  e.seq = seq_;
  pubmsg::append_heartbeat(*chunk, seq_, now_ns);
  e.size = static_cast<std::uint32_t>(chunk->size());
  enqueue(std::move(chunk), entries, alive);
}

bool PublisherHub::try_open_connection() {
  int n = connections_.load(std::memory_order_relaxed);
  while (n < options_.max_connections) {
    if (connections_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void PublisherHub::close_connection() { connections_.fetch_sub(1, std::memory_order_relaxed); }

std::uint64_t PublisherHub::add_session(std::weak_ptr<Subscriber> session) {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t id = next_session_id_++;
  sessions_.push_back(Registration{id, std::move(session), false});
  return id;
}

void PublisherHub::remove_session(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    if (sessions_[i].id != id) continue;
    if (sessions_[i].attached || sessions_[i].catch_up_from != 0) subscribers_.fetch_sub(1, std::memory_order_relaxed);
    sessions_[i] = std::move(sessions_.back());
    sessions_.pop_back();
    return;
  }
}

void PublisherHub::attach(std::uint64_t id, std::optional<std::uint64_t> since_seq, SubscriberFilter& filter,
                          SubscribeStart* start) {
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Everything published so far goes to the sessions attached so far: this one starts after it.
    flush_locked(alive);
    start->since_seq = since_seq;
    start->seq = seq_;
    start->ring_first_seq = ring_.empty() ? 0 : ring_.front().seq;
    bool replay = false;
    if (since_seq) {
      if (*since_seq > seq_) {
        start->why = pubmsg::SnapshotWhy::kAhead;
      } else if (*since_seq == seq_ || (!ring_.empty() && *since_seq + 1 >= ring_.front().seq)) {
        replay = true;
      } else {
        start->why = pubmsg::SnapshotWhy::kNotInRing;
      }
    }
    if (replay) {
      // Nothing is captured or queued: the session reads the ring at its own pace (catch_up()),
      // so a long replay is never counted against its queue limit at once.
      start->mode = pubmsg::StartMode::kReplay;
      // Nothing to replay (since_seq is the last seq): attached at once, as a snapshot is.
      for (Registration& r : sessions_) {
        if (r.id != id || r.attached || r.catch_up_from != 0) continue;
        if (*since_seq == seq_) {
          r.attached = true;
        } else {
          r.catch_up_from = *since_seq + 1;
          start->catching_up = true;
        }
        r.told_behind = false;
        subscribers_.fetch_add(1, std::memory_order_relaxed);
      }
      replays_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    start->mode = pubmsg::StartMode::kSnapshot;
    start->model = model_;
    start->regime = regime_;
    start->segments = segments_;
    // Capture: the pages as they are now. Publishers copy a page before writing to it from
    // now on (its generation is older), so these stay the state at start->seq.
    start->pages.assign(pages_.begin(), pages_.end());
    start->accounts = accounts_;
    ++capture_generation_;
    snapshots_.fetch_add(1, std::memory_order_relaxed);
    for (Registration& r : sessions_) {
      if (r.id == id && !r.attached) {
        r.attached = true;
        subscribers_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  // The rows, read from the immutable capture without the lock.
  auto take = [&](AccountId a) {
    if (a >= start->accounts) return;
    const auto& page = start->pages[a / kAssignmentPage];
    if (!page) return;
    const PublishedAssignment& p = page->rows[a % kAssignmentPage];
    if (p.segment != kNoSegment && filter.matches_assignment(a, p.segment)) start->rows.push_back({a, p});
  };
  if (filter.kind() == pubmsg::Filter::Kind::kAccounts) {
    const std::vector<AccountId> ids = filter.account_ids();
    for (AccountId a : ids) take(a);
  } else {
    for (AccountId a = 0; a < start->accounts; ++a) take(a);
  }
}

CatchUp PublisherHub::catch_up(std::uint64_t id, std::uint64_t from_seq, std::size_t max_bytes,
                               std::shared_ptr<PublishBatch>* out) {
  std::vector<std::shared_ptr<Subscriber>> alive;  // see publish_changes
  auto batch = std::make_shared<PublishBatch>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    Registration* r = nullptr;
    for (Registration& x : sessions_)
      if (x.id == id) r = &x;
    if (r == nullptr) return CatchUp::kGone;
    if (r->attached) return CatchUp::kAttached;        // nothing was left to replay at attach()
    if (r->catch_up_from == 0) return CatchUp::kGone;  // detached
    if (from_seq > seq_) {
      // Read to the end. What is pending (published, in the ring, not yet delivered) goes to the
      // sessions attached so far; this one has read it from the ring and receives what follows.
      flush_locked(alive);
      r->attached = true;
      r->catch_up_from = 0;
      return CatchUp::kAttached;
    }
    if (ring_.empty() || from_seq < ring_.front().seq) return CatchUp::kGone;
    // Only the entries under the lock (reference counts); their text is joined after it.
    std::size_t bytes = 0;
    for (auto it = ring_.begin() + static_cast<std::ptrdiff_t>(from_seq - ring_.front().seq);
         it != ring_.end() && (batch->entries.empty() || bytes < max_bytes); ++it) {
      batch->entries.push_back(*it);
      bytes += it->size;
    }
    r->catch_up_from = batch->entries.back().seq + 1;
  }
  batch->join_entries();
  *out = std::move(batch);
  return CatchUp::kEntries;
}

void PublisherHub::detach_to_catch_up(std::uint64_t id, std::uint64_t from_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Registration& r : sessions_) {
    if (r.id != id || !r.attached) continue;
    r.attached = false;
    r.catch_up_from = std::max<std::uint64_t>(1, from_seq);
    r.told_behind = false;
  }
  catch_ups_.fetch_add(1, std::memory_order_relaxed);
}

void PublisherHub::detach(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Registration& r : sessions_) {
    if (r.id == id && (r.attached || r.catch_up_from != 0)) {
      r.attached = false;
      r.catch_up_from = 0;
      subscribers_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

void PublisherHub::shutdown_all() {
  std::vector<std::shared_ptr<Subscriber>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Registration& r : sessions_)
      if (auto s = r.session.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->shutdown();
}

PublisherStats PublisherHub::stats() const {
  PublisherStats s;
  auto r = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  s.last_seq = r(last_seq_);
  s.ring_first_seq = r(ring_first_seq_);
  s.ring_size = r(ring_size_);
  s.connections = static_cast<std::uint64_t>(std::max(0, r(connections_)));
  s.subscribers = r(subscribers_);
  s.queued_bytes = r(queued_bytes_);
  s.slow_consumer_closes = r(slow_consumer_closes_);
  s.catch_ups = r(catch_ups_);
  s.rejected_connections = r(rejected_connections_);
  s.auth_failures = r(auth_failures_);
  s.snapshots = r(snapshots_);
  s.replays = r(replays_);
  s.bad_requests = r(bad_requests_);
  s.messages_published = r(messages_published_);
  s.model_version = r(model_version_);
  return s;
}

}  // namespace segmentd
