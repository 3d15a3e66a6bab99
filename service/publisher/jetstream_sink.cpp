#include "service/publisher/jetstream_sink.h"

#include <nats/nats.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/str_cat.h"
#include "service/base/log.h"
#include "service/net/nats_error.h"

namespace segmentd {
namespace {

constexpr std::int64_t kMs = 1'000'000;
//! Ring reads while catching up: at most this many bytes per round of publishes.
constexpr std::size_t kCatchUpChunkBytes = 1u << 20;

std::int64_t to_ms(std::int64_t ns) { return std::max<std::int64_t>(1, ns / kMs); }

//! The subject of one message: <prefix>.changes.<segment the account moved to> ("none" when it
//! left every segment), <prefix>.model, <prefix>.regime, <prefix>.risk.
std::string subject_of(const std::string& prefix, const PublishedEntry& e) {
  if (e.kind == PublishedEntry::Kind::kModel) return str_cat(prefix, ".model");
  if (e.kind == PublishedEntry::Kind::kRegime) return str_cat(prefix, ".regime");
  if (e.kind == PublishedEntry::Kind::kRisk) return str_cat(prefix, ".risk");
  return e.to == kNoSegment ? str_cat(prefix, ".changes.none") : str_cat(prefix, ".changes.", e.to);
}

//! Whether the NATS subject filter `pattern` (tokens separated by '.', `*` one token, `>` one or
//! more at the end) matches the literal `subject`.
bool subject_matches(std::string_view pattern, std::string_view subject) {
  while (true) {
    const std::size_t pd = pattern.find('.'), sd = subject.find('.');
    const std::string_view p = pattern.substr(0, pd), s = subject.substr(0, sd);
    if (p == ">") return !s.empty();
    if (p != "*" && p != s) return false;
    if (pd == std::string_view::npos || sd == std::string_view::npos) return pd == sd;
    pattern.remove_prefix(pd + 1);
    subject.remove_prefix(sd + 1);
  }
}

}  // namespace

struct JetStreamSink::Impl final : Subscriber, std::enable_shared_from_this<JetStreamSink::Impl> {
  Impl(const JetStreamConfig& c, std::shared_ptr<PublisherHub> h) : config(c), hub(std::move(h)) {}
  ~Impl() override { disconnect(); }

  // --- the hub's side (its mutex held): queue only ---
  void deliver(BatchPtr batch) override {
    std::lock_guard<std::mutex> lock(mu);
    queued_bytes.fetch_add(static_cast<std::int64_t>(batch->bytes), std::memory_order_relaxed);
    queue.push_back(std::move(batch));
    wake.notify_one();
  }
  void shutdown() override {}  // the pipeline stops the sink itself, after the last publish
  void fell_behind() override {
    std::lock_guard<std::mutex> lock(mu);
    ring_lost = true;
    wake.notify_one();
  }

  // --- the sink's thread ---
  void run() {
    while (true) {
      if (!stream_ready && !prepare()) {
        if (wait_for_stop(config.retry_interval_ns)) return;
        continue;
      }
      if (!attached_once) attach_first();
      std::shared_ptr<const PublishBatch> batch = next_batch();
      if (batch == nullptr) {
        if (stopping.load(std::memory_order_acquire) && drained()) return;
        continue;
      }
      // A round is sent until the server acknowledges all of it (or the sink is told to stop and
      // its deadline passed): the stream holds every seq, in order.
      while (!publish_round(*batch)) {
        failed_rounds.fetch_add(1, std::memory_order_relaxed);
        connected.store(false, std::memory_order_relaxed);
        if (past_deadline()) return;
        if (wait_for_stop(config.retry_interval_ns) && past_deadline()) return;
        if (!stream_ready) prepare();
      }
    }
  }

  //! A stream created by an older segmentd lacks the subjects of the messages added since
  //! (<prefix>.regime, <prefix>.risk): segmentd adds them to a stream it may create
  //! (create_stream); an operator's stream must hold them. False (and `si` destroyed) when the
  //! stream cannot take every message.
  bool holds_every_subject(jsStreamInfo*& si) {
    std::vector<std::string> missing;
    std::vector<const char*> subjects;
    if (si->Config != nullptr)
      for (int i = 0; i < si->Config->SubjectsLen; ++i) subjects.push_back(si->Config->Subjects[i]);
    for (const char* tail : {".regime", ".risk"}) {
      const std::string want = str_cat(config.subject_prefix, tail);
      bool held = false;
      for (const char* pattern : subjects) held = held || subject_matches(pattern, want);
      if (!held) missing.push_back(want);
    }
    if (missing.empty()) return true;
    const std::string names = absl::StrJoin(missing, ", ");
    if (!config.create_stream || si->Config == nullptr) {
      jsStreamInfo_Destroy(si);
      si = nullptr;
      note_failure(str_cat("stream '", config.stream, "' does not hold the subjects ", names,
                           " (regime changes, risk); add them, or let segmentd manage the stream (create_stream)"));
      return false;
    }
    for (const std::string& m : missing) subjects.push_back(m.c_str());
    jsStreamConfig sc = *si->Config;
    sc.Subjects = subjects.data();
    sc.SubjectsLen = static_cast<int>(subjects.size());
    jsStreamInfo* updated = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_UpdateStream(&updated, js, &sc, nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    si = updated;
    if (s != NATS_OK) {
      si = nullptr;
      note_failure(
          str_cat("cannot add the subjects ", names, " to stream '", config.stream, "': ", nats_error(s, jerr)));
      return false;
    }
    SEGMENTD_LOG_INFO("jetstream", "subjects added to the stream", {"stream", config.stream}, {"subjects", names});
    return true;
  }

  //! Connects (when not connected), and finds or creates the stream. Logs what failed, once per
  //! failure kind in a row.
  bool prepare() {
    if (nc == nullptr && !connect()) return false;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, js, config.stream.c_str(), nullptr, &jerr);
    if ((s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) && config.create_stream) {
      const std::string changes = str_cat(config.subject_prefix, ".changes.>");
      const std::string model = str_cat(config.subject_prefix, ".model");
      const std::string regime = str_cat(config.subject_prefix, ".regime");
      const std::string risk = str_cat(config.subject_prefix, ".risk");
      const char* subjects[] = {changes.c_str(), model.c_str(), regime.c_str(), risk.c_str()};
      jsStreamConfig sc;
      jsStreamConfig_Init(&sc);
      sc.Name = config.stream.c_str();
      sc.Subjects = subjects;
      sc.SubjectsLen = 4;
      sc.Storage = js_FileStorage;
      sc.Duplicates = config.duplicate_window_ns;
      s = js_AddStream(&si, js, &sc, nullptr, &jerr);
      if (s == NATS_OK)
        SEGMENTD_LOG_INFO("jetstream", "stream created", {"stream", config.stream}, {"subjects", changes},
                          {"duplicate_window_s", config.duplicate_window_ns / 1'000'000'000});
    }
    if (s != NATS_OK) {
      note_failure(str_cat("stream '", config.stream, "' unavailable: ", nats_error(s, jerr)));
      return false;
    }
    if (!holds_every_subject(si)) return false;  // si destroyed
    const std::uint64_t last_stream_seq = si->State.LastSeq;
    const std::uint64_t msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    if (!attached_once) {
      // Where the stream ends: the seq of its last message (our Nats-Msg-Id).
      stream_through = 0;
      if (msgs > 0) {
        natsMsg* last = nullptr;
        s = js_GetMsg(&last, js, config.stream.c_str(), last_stream_seq, nullptr, &jerr);
        if (s != NATS_OK) {
          note_failure(str_cat("cannot read the last message of stream '", config.stream, "': ", nats_error(s)));
          return false;
        }
        const char* id = nullptr;
        if (natsMsgHeader_Get(last, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
          const std::string_view v(id);
          std::from_chars(v.data(), v.data() + v.size(), stream_through);
        }
        natsMsg_Destroy(last);
      }
    }
    stream_ready = true;
    last_failure.clear();
    SEGMENTD_LOG_INFO("jetstream", "publishing to stream", {"url", config.url}, {"stream", config.stream},
                      {"stream_holds_through_seq", stream_through});
    return true;
  }

  bool connect() {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, config.url.c_str());
    if (s == NATS_OK) s = natsOptions_SetName(opts, "segmentd");
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, to_ms(config.ack_timeout_ns));
    // Once connected, the library reconnects by itself, for ever; publishes made meanwhile wait
    // in its buffer, and a round that is not acknowledged in time is sent again (Nats-Msg-Id).
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, to_ms(config.retry_interval_ns));
    if (s == NATS_OK && !config.token_env.empty()) {
      const char* token = std::getenv(config.token_env.c_str());
      if (token != nullptr && *token != '\0') s = natsOptions_SetToken(opts, token);
    }
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
      nc = nullptr;
      note_failure(str_cat("cannot connect to ", config.url, ": ", nats_error(s)));
      return false;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = to_ms(config.ack_timeout_ns);
    jo.PublishAsync.MaxPending = static_cast<int64_t>(config.max_pending);
    jo.PublishAsync.StallWait = to_ms(config.ack_timeout_ns);
    jo.PublishAsync.ErrHandler = &Impl::on_publish_error;
    jo.PublishAsync.ErrHandlerClosure = this;
    s = natsConnection_JetStream(&js, nc, &jo);
    if (s != NATS_OK) {
      note_failure(str_cat("cannot open JetStream on ", config.url, ": ", nats_error(s)));
      disconnect();
      return false;
    }
    return true;
  }

  void disconnect() {
    if (js != nullptr) jsCtx_Destroy(js);
    js = nullptr;
    if (nc != nullptr) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
    nc = nullptr;
    stream_ready = false;
    connected.store(false, std::memory_order_relaxed);
  }

  //! Called on the library's thread for each message the server refused or did not ack.
  static void on_publish_error(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    self->async_errors.fetch_add(1, std::memory_order_relaxed);
    (void)pae;  // the message is sent again with its round; the library frees this copy
  }

  //! Registers with the hub from where the stream ends (or where the ring begins).
  void attach_first() {
    attached_once = true;
    id = hub->add_session(weak_from_this());
    const std::uint64_t hub_last = hub->last_seq();
    std::uint64_t since = std::min(stream_through, hub_last);
    skip_through = stream_through;  // a checkpoint older than the stream: those seqs are there
    const PublisherStats st = hub->stats();
    if (st.ring_first_seq > 0 && since + 1 < st.ring_first_seq) {
      count_gap(since + 1, st.ring_first_seq);
      since = st.ring_first_seq - 1;
    }
    attach_from(since);
  }

  void attach_from(std::uint64_t since) {
    SubscriberFilter all;
    SubscribeStart start;
    hub->attach(id, since, all, &start);
    if (start.mode == pubmsg::StartMode::kSnapshot) {
      // The ring moved on meanwhile: what it dropped is a gap; the stream continues after start.seq.
      if (start.seq > since) count_gap(since + 1, start.seq + 1);
      next_seq = start.seq + 1;
      catching_up = false;
    } else {
      next_seq = since + 1;
      catching_up = start.catching_up;
    }
  }

  void count_gap(std::uint64_t from, std::uint64_t to) {
    if (to <= from) return;
    gap_messages.fetch_add(to - from, std::memory_order_relaxed);
    SEGMENTD_LOG_WARN("jetstream", "messages left the replay ring before they reached the stream",
                      {"stream", config.stream}, {"first_seq", from}, {"last_seq", to - 1});
  }

  //! The next batch to send: from the ring while catching up, else from the queue (waiting a
  //! little). Null when there is nothing now.
  std::shared_ptr<const PublishBatch> next_batch() {
    bool lost = false, over = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      lost = std::exchange(ring_lost, false);
      over = !catching_up && queued_bytes.load(std::memory_order_relaxed) > kQueueLimitBytes;
    }
    if (lost) {
      // Catching up, the ring dropped what comes next: start again where it now begins.
      hub->detach(id);
      const PublisherStats st = hub->stats();
      const std::uint64_t first = st.ring_first_seq > 0 ? st.ring_first_seq : st.last_seq + 1;
      count_gap(next_seq, first);
      attach_from(first - 1);
    } else if (over) {
      // The server is away or slower than the pipeline: stop queueing, read the ring later.
      hub->detach_to_catch_up(id, next_seq);
      drop_queue();
      catching_up = true;
    }
    if (catching_up) {
      std::shared_ptr<PublishBatch> chunk;
      switch (hub->catch_up(id, next_seq, kCatchUpChunkBytes, &chunk)) {
        case CatchUp::kEntries: return chunk;
        case CatchUp::kAttached: catching_up = false; return nullptr;
        case CatchUp::kGone: {
          std::lock_guard<std::mutex> lock(mu);
          ring_lost = true;
          return nullptr;
        }
      }
    }
    std::unique_lock<std::mutex> lock(mu);
    if (queue.empty() && !stopping.load(std::memory_order_acquire)) wake.wait_for(lock, std::chrono::milliseconds(100));
    if (queue.empty()) return nullptr;
    BatchPtr b = std::move(queue.front());
    queue.pop_front();
    queued_bytes.fetch_sub(static_cast<std::int64_t>(b->bytes), std::memory_order_relaxed);
    return b;
  }

  void drop_queue() {
    std::lock_guard<std::mutex> lock(mu);
    for (const BatchPtr& b : queue) queued_bytes.fetch_sub(static_cast<std::int64_t>(b->bytes));
    queue.clear();
  }

  //! Sends the batch's messages that the stream does not hold yet and waits for every ack.
  bool publish_round(const PublishBatch& batch) {
    if (js == nullptr) return false;
    const std::uint64_t errors_before = async_errors.load(std::memory_order_relaxed);
    std::uint64_t last = 0, count = 0, skip = 0;
    for (const PublishedEntry& e : batch.entries) {
      if (e.kind == PublishedEntry::Kind::kHeartbeat) continue;
      if (e.seq < next_seq) continue;  // sent before (a batch that overlaps the ring read)
      if (e.seq <= skip_through) {
        ++skip;
        last = e.seq;
        continue;
      }
      natsMsg* m = nullptr;
      const std::string subject = subject_of(config.subject_prefix, e);
      const std::string_view text = e.text();
      natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, text.data(), static_cast<int>(text.size()));
      char id_buf[24];
      const auto end = std::to_chars(id_buf, id_buf + sizeof(id_buf) - 1, e.seq).ptr;
      *end = '\0';
      if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id_buf);
      if (s == NATS_OK) s = js_PublishMsgAsync(js, &m, nullptr);
      if (m != nullptr) natsMsg_Destroy(m);  // not taken by the library
      if (s != NATS_OK) {
        note_failure(str_cat("publish of seq ", e.seq, " failed: ", nats_error(s)));
        abandon_pending();
        return false;
      }
      last = e.seq;
      ++count;
    }
    if (count > 0) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = to_ms(config.ack_timeout_ns);
      const natsStatus s = js_PublishAsyncComplete(js, &po);
      if (s != NATS_OK || async_errors.load(std::memory_order_relaxed) != errors_before) {
        note_failure(s != NATS_OK ? str_cat("acks not received in time: ", nats_error(s))
                                  : std::string("the server refused a publish"));
        abandon_pending();
        // The stream may have gone (a server restarted without its store): check it again.
        stream_ready = false;
        return false;
      }
    }
    if (last != 0) {
      next_seq = last + 1;
      published_seq.store(last, std::memory_order_relaxed);
    }
    messages.fetch_add(count, std::memory_order_relaxed);
    skipped.fetch_add(skip, std::memory_order_relaxed);
    connected.store(true, std::memory_order_relaxed);
    if (!last_failure.empty()) {
      SEGMENTD_LOG_INFO("jetstream", "stream acknowledges again", {"stream", config.stream}, {"seq", last});
      last_failure.clear();
    }
    return true;
  }

  //! Forgets the publishes still awaiting an ack: the round is sent again as a whole.
  void abandon_pending() {
    natsMsgList pending{};
    if (js != nullptr && js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
  }

  void note_failure(std::string what) {
    if (what == last_failure) return;
    SEGMENTD_LOG_WARN("jetstream", "stream unavailable, retrying", {"stream", config.stream}, {"reason", what},
                      {"retry_interval_ms", config.retry_interval_ns / kMs});
    last_failure = std::move(what);
  }

  //! Waits up to ns, or until stop(); true when stopping.
  bool wait_for_stop(std::int64_t ns) {
    std::unique_lock<std::mutex> lock(mu);
    wake.wait_for(lock, std::chrono::nanoseconds(ns), [this] { return stopping.load(std::memory_order_acquire); });
    return stopping.load(std::memory_order_acquire);
  }

  bool past_deadline() const {
    return stopping.load(std::memory_order_acquire) && std::chrono::steady_clock::now() >= deadline;
  }

  //! Stopping: everything the hub published so far has been sent (or the deadline passed).
  bool drained() {
    if (past_deadline()) return true;
    if (!stream_ready) return false;
    std::lock_guard<std::mutex> lock(mu);
    return queue.empty() && !catching_up && next_seq > hub->last_seq();
  }

  const JetStreamConfig config;
  const std::shared_ptr<PublisherHub> hub;

  // The sink's thread only.
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  bool stream_ready = false;
  bool attached_once = false;
  bool catching_up = false;
  std::uint64_t id = 0;
  std::uint64_t stream_through = 0;  //!< the seq of the stream's last message at the first connection
  std::uint64_t skip_through = 0;    //!< seqs up to this are in the stream already
  std::uint64_t next_seq = 1;        //!< the first seq not acknowledged yet
  std::string last_failure;
  std::chrono::steady_clock::time_point deadline;  //!< set by stop()

  // Shared with the hub's deliveries and stop().
  std::mutex mu;
  std::condition_variable wake;
  std::deque<BatchPtr> queue;  // guarded by mu
  bool ring_lost = false;      // guarded by mu
  std::atomic<bool> stopping{false};

  // Counters (stats()).
  std::atomic<bool> connected{false};
  std::atomic<std::uint64_t> messages{0}, published_seq{0}, failed_rounds{0}, gap_messages{0}, skipped{0};
  std::atomic<std::uint64_t> async_errors{0};
  std::atomic<std::int64_t> queued_bytes{0};
};

JetStreamSink::JetStreamSink(const JetStreamConfig& config, std::shared_ptr<PublisherHub> hub)
    : impl_(std::make_shared<Impl>(config, std::move(hub))) {}

JetStreamSink::~JetStreamSink() { stop(); }

absl::Status JetStreamSink::start() {
  if (thread_.joinable()) return absl::OkStatus();
  const natsStatus s = nats_Open(-1);
  if (s != NATS_OK) return absl::InternalError(str_cat("jetstream: cannot start the NATS library: ", nats_error(s)));
  thread_ = std::thread([impl = impl_] { impl->run(); });
  return absl::OkStatus();
}

void JetStreamSink::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(impl_->config.ack_timeout_ns);
    impl_->stopping.store(true, std::memory_order_release);
    impl_->wake.notify_all();
  }
  thread_.join();
  if (impl_->id != 0) impl_->hub->remove_session(impl_->id);
  impl_->disconnect();
}

JetStreamStats JetStreamSink::stats() const {
  JetStreamStats s;
  const Impl& i = *impl_;
  s.connected = i.connected.load(std::memory_order_relaxed);
  s.messages = i.messages.load(std::memory_order_relaxed);
  s.published_seq = i.published_seq.load(std::memory_order_relaxed);
  s.failed_rounds = i.failed_rounds.load(std::memory_order_relaxed);
  s.gap_messages = i.gap_messages.load(std::memory_order_relaxed);
  s.skipped = i.skipped.load(std::memory_order_relaxed);
  s.queued_bytes = i.queued_bytes.load(std::memory_order_relaxed);
  return s;
}

}  // namespace segmentd
