#include "service/ingest/nats_source.h"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>

#include "core/str_cat.h"
#include "protocol/native_format.h"
#include "service/base/log.h"
#include "service/net/nats_error.h"

namespace segmentd {
namespace {

constexpr std::int64_t kMs = 1'000'000;
//! How long one fetch waits for messages: the longest stop() waits for the thread.
constexpr std::int64_t kFetchWaitMs = 500;

std::int64_t to_ms(std::int64_t ns) { return std::max<std::int64_t>(1, ns / kMs); }

constexpr std::size_t kFixedPositionBytes = sizeof(std::uint64_t) + EventTimeGuard::kStateBytes;

}  // namespace

struct NatsSource::Nats {
  natsConnection* nc = nullptr;  //!< made once by the source's thread; ack_mu_ guards the pointer
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;  //!< the source's thread only
  NativeFillParser* parser = nullptr;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
};

NatsSource::NatsSource(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments, FillSink& sink)
    : config_(std::move(config)),
      accounts_(accounts),
      instruments_(instruments),
      sink_(sink),
      nats_(std::make_unique<Nats>()),
      clock_(config_.event_time) {}

NatsSource::~NatsSource() {
  stop();
  std::lock_guard<std::mutex> lock(ack_mu_);
  if (nats_->js != nullptr) jsCtx_Destroy(nats_->js);
  nats_->js = nullptr;
  if (nats_->nc != nullptr) {
    natsConnection_FlushTimeout(nats_->nc, 1000);  // the last acknowledgement
    natsConnection_Close(nats_->nc);
    natsConnection_Destroy(nats_->nc);
  }
  nats_->nc = nullptr;
}

absl::Status NatsSource::start() {
  if (thread_.joinable()) return absl::OkStatus();
  if (config_.token.configured()) {
    if (auto token = load_secret(config_.token, "token"); !token.ok())
      return absl::FailedPreconditionError(str_cat(config_.name, ": ", token.status().message()));
  }
  if (const natsStatus s = nats_Open(-1); s != NATS_OK)
    return absl::InternalError(str_cat(config_.name, ": the NATS library failed to start: ", natsStatus_GetText(s)));
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void NatsSource::stop() {
  {
    std::lock_guard<std::mutex> lock(nats_->stop_mu);
    stopping_.store(true, std::memory_order_release);
  }
  nats_->stop_cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool NatsSource::wait_for_stop(std::int64_t ns) {
  std::unique_lock<std::mutex> lock(nats_->stop_mu);
  return nats_->stop_cv.wait_for(lock, std::chrono::nanoseconds(ns),
                                 [this] { return stopping_.load(std::memory_order_acquire); });
}

void NatsSource::run() {
  NativeFillParser parser(accounts_, instruments_);
  nats_->parser = &parser;
  while (!stopping_.load(std::memory_order_acquire)) {
    if (nats_->sub == nullptr && !prepare()) {
      if (wait_for_stop(config_.retry_interval_ns)) break;
      continue;
    }
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, nats_->sub, config_.batch, kFetchWaitMs, &jerr);
    if (s == NATS_TIMEOUT) {
      behind_.store(false, std::memory_order_relaxed);  // nothing more in the stream for now
      pending_.store(0, std::memory_order_relaxed);
      continue;
    }
    if (s != NATS_OK) {
      if (last_failure_.empty()) SourceStats::add(stats_.disconnects);
      const std::string what = str_cat("fetch from consumer '", config_.durable, "' failed: ", nats_error(s, jerr));
      if (what != last_failure_) SEGMENTD_LOG_WARN("nats", "fetch failed", {"source", config_.name}, {"error", what});
      last_failure_ = what;
      teardown_subscription();
      if (wait_for_stop(config_.retry_interval_ns)) break;
      continue;
    }
    bool in_order = true;
    for (int i = 0; i < list.Count && in_order; ++i) in_order = handle(list.Msgs[i]);
    natsMsgList_Destroy(&list);
    // Without checkpoints, what is pushed is acknowledged at once (the whole batch, by position).
    if (!checkpointed_ && !last_reply_.empty() && last_seq_ > acked_seq_.load(std::memory_order_relaxed))
      ack(last_reply_, last_seq_, last_generation_);
    if (!in_order) teardown_subscription();  // prepare() recreates the consumer after last_seq_
  }
  teardown_subscription();
  nats_->parser = nullptr;
}

bool NatsSource::prepare() {
  if (nats_->nc == nullptr) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, config_.url.c_str());
    if (s == NATS_OK) s = natsOptions_SetName(opts, str_cat("segmentd source ", config_.name).c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
    // Once connected, the library reconnects by itself, for ever.
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, to_ms(config_.retry_interval_ns));
    if (s == NATS_OK && config_.token.configured()) {
      auto token = load_secret(config_.token, "token");
      if (token.ok()) s = natsOptions_SetToken(opts, std::string(token->reveal()).c_str());
    }
    natsConnection* nc = nullptr;
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
      SourceStats::add(stats_.connect_failures);
      const std::string what = str_cat("cannot connect to ", config_.url, ": ", nats_error(s));
      if (what != last_failure_) SEGMENTD_LOG_WARN("nats", "connect failed", {"source", config_.name}, {"error", what});
      last_failure_ = what;
      return false;
    }
    jsCtx* js = nullptr;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    s = natsConnection_JetStream(&js, nc, &jo);
    if (s != NATS_OK) {
      natsConnection_Destroy(nc);
      SEGMENTD_LOG_ERROR("nats", "cannot open JetStream", {"source", config_.name}, {"error", nats_error(s)});
      return false;
    }
    std::lock_guard<std::mutex> lock(ack_mu_);
    nats_->nc = nc;
    nats_->js = js;
  }
  jsCtx* js = nats_->js;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto failed = [this](const std::string& what) {
    if (what != last_failure_) SEGMENTD_LOG_WARN("nats", "not reading", {"source", config_.name}, {"error", what});
    last_failure_ = what;
    return false;
  };

  // The stream.
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js, config_.stream.c_str(), nullptr, &jerr);
  if ((s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) && config_.create_stream) {
    const char* subjects[] = {config_.subject.c_str()};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = config_.stream.c_str();
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js, &sc, nullptr, &jerr);
    if (s == NATS_OK)
      SEGMENTD_LOG_INFO("nats", "stream created", {"source", config_.name}, {"stream", config_.stream},
                        {"subjects", config_.subject});
  }
  if (s != NATS_OK) return failed(str_cat("stream '", config_.stream, "' unavailable: ", nats_error(s, jerr)));
  const std::uint64_t first_seq = si->State.FirstSeq;
  const std::uint64_t stream_last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);

  // Where to start: right after what this process applied or restored; with neither, where the
  // durable consumer's acknowledgements stand (its whole stream when it is new).
  std::uint64_t start = last_seq_ + 1;
  if (last_seq_ == 0 && !restored_) {
    jsConsumerInfo* ci = nullptr;
    jerr = static_cast<jsErrCode>(0);
    s = js_GetConsumerInfo(&ci, js, config_.stream.c_str(), config_.durable.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
      start = ci->AckFloor.Stream + 1;
      jsConsumerInfo_Destroy(ci);
    } else if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
      return failed(str_cat("consumer '", config_.durable, "' unreadable: ", nats_error(s, jerr)));
    }
  }
  if (start < first_seq && stream_last >= first_seq) {
    // The stream no longer holds them (its limits removed them): said loudly, never silently.
    SEGMENTD_LOG_ERROR("nats", "messages left the stream before they were read", {"source", config_.name},
                       {"stream", config_.stream}, {"from_seq", start}, {"first_seq_held", first_seq},
                       {"lost_at_most", first_seq - start});
  }

  // The consumer, made afresh at `start`: delivery in stream order from exactly there, with no
  // redelivery of anything an earlier incarnation had in flight. A new generation first: an ack
  // still held for the old one is refused from here on (ack()).
  {
    std::lock_guard<std::mutex> lock(ack_mu_);
    ++generation_;
    current_generation_.store(generation_, std::memory_order_release);
  }
  jerr = static_cast<jsErrCode>(0);
  s = js_DeleteConsumer(js, config_.stream.c_str(), config_.durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr)
    return failed(str_cat("consumer '", config_.durable, "' could not be reset: ", nats_error(s, jerr)));
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = config_.durable.c_str();
  cc.FilterSubject = config_.subject.c_str();
  cc.AckPolicy = js_AckAll;
  cc.AckWait = config_.ack_wait_ns;
  cc.MaxAckPending = -1;  // acks wait for checkpoints: no cap on what is in flight meanwhile
  cc.MaxDeliver = -1;
  if (start > 1) {
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = start;
  } else {
    cc.DeliverPolicy = js_DeliverAll;
  }
  jsConsumerInfo* ci = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_AddConsumer(&ci, js, config_.stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) return failed(str_cat("consumer '", config_.durable, "' not created: ", nats_error(s, jerr)));
  jsConsumerInfo_Destroy(ci);

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = config_.stream.c_str();
  so.Consumer = config_.durable.c_str();
  natsSubscription* sub = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub, js, config_.subject.c_str(), config_.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) return failed(str_cat("cannot pull from consumer '", config_.durable, "': ", nats_error(s, jerr)));
  nats_->sub = sub;
  last_consumer_seq_ = 0;
  last_failure_.clear();
  SourceStats::add(stats_.connects);
  SEGMENTD_LOG_INFO("nats", "reading", {"source", config_.name}, {"url", config_.url}, {"stream", config_.stream},
                    {"subject", config_.subject}, {"consumer", config_.durable}, {"from_seq", start},
                    {"stream_last_seq", stream_last});
  return true;
}

void NatsSource::teardown_subscription() {
  behind_.store(true, std::memory_order_relaxed);
  if (nats_->sub == nullptr) return;
  natsSubscription_Destroy(nats_->sub);  // the durable consumer stays (prepare() resets it)
  nats_->sub = nullptr;
}

bool NatsSource::handle(void* raw) {
  auto* msg = static_cast<natsMsg*>(raw);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return true;  // not a JetStream delivery (a status)
  const std::uint64_t sseq = meta->Sequence.Stream;
  const std::uint64_t cseq = meta->Sequence.Consumer;
  // Messages the stream holds for the consumer after this one.
  behind_.store(meta->NumPending > 0, std::memory_order_relaxed);
  pending_.store(meta->NumPending, std::memory_order_relaxed);
  jsMsgMetaData_Destroy(meta);
  if (sseq <= last_seq_) {
    // Sent again (its AckWait passed before a checkpoint acknowledged it): applied already.
    SourceStats::add(stats_.duplicates);
    last_consumer_seq_ = std::max(last_consumer_seq_, cseq);
    return true;
  }
  if (cseq > last_consumer_seq_ + 1) {
    SEGMENTD_LOG_WARN("nats", "a message was lost on the way: reading again from the next one",
                      {"source", config_.name}, {"after_stream_seq", last_seq_}, {"consumer_seq", cseq},
                      {"expected", last_consumer_seq_ + 1});
    return false;
  }
  last_consumer_seq_ = std::max(last_consumer_seq_, cseq);

  // One message is one unit: its fills and the stream sequence after it are in a checkpoint
  // together, or not at all.
  UnitGuard unit(sink_);
  const char* data = natsMsg_GetData(msg);
  const std::size_t size = static_cast<std::size_t>(std::max(0, natsMsg_GetDataLength(msg)));
  SourceStats::add(stats_.messages);
  SourceStats::add(stats_.bytes, size);
  std::size_t good = 0;
  std::size_t prices = 0;
  std::size_t positions = 0;
  std::size_t lines = 0;
  std::string first_error;
  if (size > config_.max_frame_bytes) {
    stats_.add_error(ParseErrorReason::kOversized);
    first_error = str_cat("oversized: larger than max_message_bytes (", size, " > ", config_.max_frame_bytes, ")");
    lines = 1;
  } else {
    std::string_view rest(data != nullptr ? data : "", size);
    Fill fill;
    PriceRecord price;
    NativeLine kind = NativeLine::kFill;
    ParseError err;
    while (!rest.empty()) {
      const std::size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      ++lines;
      if (!nats_->parser->parse_line_unpadded(line, &kind, &fill, &price, &err)) {
        stats_.add_error(err.reason);
        if (first_error.empty()) first_error = str_cat(to_string(err.reason), ": ", err.detail);
        continue;
      }
      const bool is_price = kind == NativeLine::kPrice;
      const EventTimeGuard::Verdict v = clock_.check(is_price ? price.recv_ns : fill.recv_ns);
      if (v == EventTimeGuard::Verdict::kRefuse) {
        stats_.add_error(ParseErrorReason::kFutureTime);
        if (first_error.empty())
          first_error = str_cat("future_time: ", clock_.last_refused_ahead_ns() / 1'000'000'000,
                                " s ahead of the stream's event time");
        continue;
      }
      ++good;
      if (is_price) {
        ++prices;
        if (sink_.push_price(price))
          SourceStats::add(stats_.prices);
        else
          SourceStats::add(stats_.sink_rejected);
        continue;
      }
      const bool is_position = kind == NativeLine::kPosition || kind == NativeLine::kPositionsEnd;
      if (is_position) ++positions;
      if (sink_.push(fill))
        SourceStats::add(is_position ? stats_.positions : stats_.fills);
      else
        SourceStats::add(stats_.sink_rejected);
    }
    if (lines == 0) {
      stats_.add_error(ParseErrorReason::kMalformedJson);
      first_error = "malformed_json: an empty message";
    }
  }
  if (good > prices + positions) SourceStats::add(stats_.kinds[static_cast<int>(MessageKind::kFills)]);
  if (prices > 0) SourceStats::add(stats_.kinds[static_cast<int>(MessageKind::kMarketData)]);
  if (positions > 0) SourceStats::add(stats_.kinds[static_cast<int>(MessageKind::kPositions)]);
  if (!first_error.empty()) {
    SEGMENTD_LOG_WARN("nats", good == 0 ? "message refused" : "lines of a message refused", {"source", config_.name},
                      {"stream_seq", sseq}, {"subject", natsMsg_GetSubject(msg)}, {"lines", lines},
                      {"refused", lines - good}, {"first", first_error});
  }
  // Nothing in it could be used: terminated, so that the server never sends it again (an ack by
  // position would also cover it, but only at the next checkpoint).
  if (good == 0) natsMsg_Term(msg, nullptr);
  const char* reply = natsMsg_GetReply(msg);
  last_reply_.assign(reply != nullptr ? reply : "");
  last_generation_ = generation_;
  last_seq_ = sseq;
  read_seq_.store(sseq, std::memory_order_relaxed);
  return true;
}

void NatsSource::ack(const std::string& reply, std::uint64_t seq, std::uint64_t generation) {
  std::lock_guard<std::mutex> lock(ack_mu_);
  // A reply of an earlier incarnation of the consumer names its deliveries, not this one's.
  if (nats_->nc == nullptr || reply.empty() || generation != current_generation_.load(std::memory_order_relaxed))
    return;
  // AckAll: this message and every one before it on the consumer.
  if (natsConnection_PublishString(nats_->nc, reply.c_str(), "+ACK") == NATS_OK)
    acked_seq_.store(std::max(acked_seq_.load(std::memory_order_relaxed), seq), std::memory_order_relaxed);
}

void NatsSource::save_position(std::string& out) const {
  out.resize(kFixedPositionBytes);
  std::memcpy(out.data(), &last_seq_, sizeof(last_seq_));
  EventTimeGuard::encode(clock_.state(), out.data() + sizeof(last_seq_));
  out.append(config_.stream);
  cut_seq_ = last_seq_;
  cut_reply_ = last_reply_;
  cut_generation_ = last_generation_;
}

absl::Status NatsSource::check_position(std::string_view bytes) const {
  if (bytes.size() < kFixedPositionBytes)
    return absl::DataLossError(str_cat(config_.name, ": resume position is not a stream sequence"));
  const std::string_view stream = bytes.substr(kFixedPositionBytes);
  if (stream != config_.stream)
    return absl::FailedPreconditionError(
        str_cat(config_.name, ": the checkpoint read stream '", stream, "', the config names '", config_.stream, "'"));
  return absl::OkStatus();
}

absl::Status NatsSource::restore_position(std::string_view bytes) {
  if (absl::Status st = check_position(bytes); !st.ok()) return st;
  std::memcpy(&last_seq_, bytes.data(), sizeof(last_seq_));
  clock_.restore(EventTimeGuard::decode(bytes.data() + sizeof(last_seq_)));
  restored_ = true;
  read_seq_.store(last_seq_, std::memory_order_relaxed);
  return absl::OkStatus();
}

void NatsSource::checkpoint_committed() {
  if (!checkpointed_ || cut_reply_.empty() || cut_seq_ <= acked_seq_.load(std::memory_order_relaxed)) return;
  // Of an earlier consumer (recreated since the cut): the next checkpoint acknowledges instead.
  ack(cut_reply_, cut_seq_, cut_generation_);
  std::lock_guard<std::mutex> lock(ack_mu_);
  if (nats_->nc != nullptr) natsConnection_FlushTimeout(nats_->nc, 2000);
}

}  // namespace segmentd
