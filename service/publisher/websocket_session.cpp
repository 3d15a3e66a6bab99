#include "service/publisher/websocket_session.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "core/str_cat.h"
#include "protocol/publisher/publisher_messages.h"
#include "service/base/log.h"
#include "service/net/stream_ops.h"

namespace segmentd {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using ErrorCode = boost::system::error_code;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A subscriber session. Owned by itself (shared_from_this) through its pending handlers; the hub
// holds only a weak_ptr. Every member is touched only on the connection's strand, except
// executor_ and the hub/context pointers, which are immutable after construction.
//
// Outgoing data flows through queue_: items are shared batches from the hub (one reference per
// batch, with the indices this subscriber's filter picked), the session's own control messages,
// or the place of a pending snapshot whose chunks are encoded one at a time, just before they
// are written, so a large snapshot never sits encoded in memory. queued_bytes_ counts every
// queued and in-flight byte except snapshot chunks.
//
// Catching up: a resume (since_seq) is not queued at once; the session reads the hub's replay
// ring one chunk at a time, whenever its queue is empty, and is attached to the live stream by
// the read that finds nothing more (PublisherHub::catch_up). When live batches push the queue
// past queue_limit_bytes (a burst, such as the first assignments after warm-up, or a reader
// slower than the stream for a while), the queued batches are dropped — the ring holds them —
// and the session catches up the same way from its first unsent seq. A subscriber that keeps
// reading is therefore never closed for a burst; one is closed 1008 "slow consumer" only when the
// ring has dropped a message it has not received yet (it fell replay_ring messages behind), or
// when its own replies (pongs, errors) pass the limit. Memory per session stays bounded by
// queue_limit_bytes, which is what keeps the publisher (and every other subscriber) independent
// of this one's pace.
template <class Stream>
class WebsocketSession final : public Subscriber, public std::enable_shared_from_this<WebsocketSession<Stream>> {
 public:
  WebsocketSession(Stream&& stream, std::shared_ptr<const PublisherContext> context, ConnectionSlot slot,
                   std::string peer)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        context_(std::move(context)),
        hub_(*context_->hub),
        options_(context_->session),
        slot_(std::move(slot)),
        peer_(std::move(peer)),
        close_timer_(executor_) {}

  ~WebsocketSession() override {
    if (id_ != 0) hub_.remove_session(id_);
    hub_.add_queued_bytes(-static_cast<std::int64_t>(queued_bytes_));
  }

  void run(http::request<http::string_body> request) {
    id_ = hub_.add_session(this->weak_from_this());
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "segmentd-publisher"); }));
    // Frames larger than max_frame_bytes are read and discarded (see on_read); this hard cap only
    // stops a client that never ends its message.
    ws_.read_message_max(std::max<std::size_t>(options_.max_frame_bytes * 16, 16u << 20));
    ws_.auto_fragment(false);
    beast_ops::accept(ws_, request, beast::bind_front_handler(&WebsocketSession::on_accept, this->shared_from_this()));
  }

  // Subscriber (any thread, hub mutex held): only posts.
  void deliver(BatchPtr batch) override {
    net::post(executor_,
              [self = this->shared_from_this(), b = std::move(batch)]() mutable { self->on_batch(std::move(b)); });
  }
  void shutdown() override {
    net::post(executor_, [self = this->shared_from_this()] {
      self->begin_close(websocket::close_code::going_away, "server stopping");
    });
  }
  void fell_behind() override {
    net::post(executor_, [self = this->shared_from_this()] {
      if (self->catching_up_) self->close_slow_consumer("the replay ring dropped what it had not read yet");
    });
  }

 private:
  struct Item {
    enum class Kind : std::uint8_t { kOwn, kBatch, kSnapshot } kind = Kind::kOwn;
    std::shared_ptr<const std::string> own;  //!< kOwn
    BatchPtr batch;                          //!< kBatch
    std::vector<std::uint32_t> picks;        //!< kBatch: entries to send; empty = all
    std::size_t next = 0;                    //!< kBatch: position in picks (or entries)
    std::size_t bytes = 0;                   //!< bytes of this item still counted in the queue
  };
  struct SnapshotCursor {
    SubscribeStart start;
    std::size_t next_row = 0;
    std::uint32_t chunk = 0;
    std::uint32_t chunks = 1;
  };
  enum class State : std::uint8_t { kHandshake, kOpen, kClosing, kClosed };

  void fail(ErrorCode ec, const char* what) {
    // Quiet on the errors of a normal end; a session's failure never concerns anyone else.
    (void)what;
    if (ec == net::error::operation_aborted || ec == websocket::error::closed) return;
  }

  void on_accept(ErrorCode ec) {
    if (ec) return fail(ec, "accept");
    state_ = State::kOpen;
    do_read();
  }

  // ---------------------------------------------------------------- reading requests

  void do_read() {
    beast_ops::read_some(ws_, read_buffer_, options_.max_frame_bytes + 1,
                         beast::bind_front_handler(&WebsocketSession::on_read, this->shared_from_this()));
  }

  void on_read(ErrorCode ec, std::size_t) {
    if (ec) {
      state_ = State::kClosed;
      close_timer_.cancel();
      if (attached_) hub_.detach(id_);
      attached_ = false;
      catching_up_ = false;
      return fail(ec, "read");
    }
    if (state_ != State::kOpen) {  // closing: ignore what the client still sends
      read_buffer_.clear();
      return do_read();
    }
    if (discarding_ || read_buffer_.size() > options_.max_frame_bytes) {
      // An oversized frame: drop its bytes as they come, answer once it is complete.
      discarding_ = true;
      read_buffer_.clear();
      if (ws_.is_message_done()) {
        discarding_ = false;
        send_error(pubmsg::ErrorCode::kFrameTooLarge,
                   str_cat("frames are limited to ", options_.max_frame_bytes, " bytes"));
      }
      return do_read();
    }
    if (!ws_.is_message_done()) return do_read();
    if (!ws_.got_text()) {
      send_error(pubmsg::ErrorCode::kBinaryFrame, "requests are JSON text frames");
    } else {
      auto data = read_buffer_.cdata();
      handle_request(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    read_buffer_.clear();
    if (state_ == State::kOpen)
      do_read();
    else if (state_ == State::kClosing)
      do_read();  // keep reading to complete the close handshake
  }

  void handle_request(std::string_view text) {
    auto parsed = pubmsg::parse_request(text, options_.request_limits);
    if (auto* err = std::get_if<pubmsg::RequestError>(&parsed)) return send_error(err->code, err->message);
    auto& request = std::get<pubmsg::ClientRequest>(parsed);
    if (auto* sub = std::get_if<pubmsg::SubscribeRequest>(&request)) return subscribe(*sub);
    if (std::holds_alternative<pubmsg::UnsubscribeRequest>(request)) return unsubscribe();
    const auto& ping = std::get<pubmsg::PingRequest>(request);
    std::string out;
    pubmsg::append_pong(out, wall_ns(),
                        ping.id ? std::optional<std::string_view>(*ping.id) : std::optional<std::string_view>());
    enqueue_own(std::move(out));
  }

  void subscribe(const pubmsg::SubscribeRequest& request) {
    if (attached_) {
      return send_error(pubmsg::ErrorCode::kAlreadySubscribed, "already subscribed: unsubscribe first");
    }
    filter_ = SubscriberFilter(request.filter, hub_.names());
    batch_mode_ = request.batch;
    SubscribeStart start;
    hub_.attach(id_, request.since_seq, filter_, &start);
    attached_ = true;
    // From here on, every batch after start.seq is already posted behind this handler.
    std::string ack;
    pubmsg::append_subscribed(ack, start.mode, start.why, start.since_seq, start.seq, start.ring_first_seq);
    if (start.mode == pubmsg::StartMode::kReplay) {
      // The messages after since_seq are read from the ring as the client takes them (unless
      // there were none: then the hub attached this session already, and batches follow).
      catching_up_ = start.catching_up;
      next_seq_ = start.since_seq.value_or(0) + 1;
      enqueue_own(std::move(ack));
      do_write();
    } else {
      next_seq_ = start.seq + 1;
      enqueue_own(std::move(ack));
      SnapshotCursor cursor;
      const std::size_t chunk = std::max<std::size_t>(1, options_.snapshot_chunk);
      cursor.chunks = static_cast<std::uint32_t>(std::max<std::size_t>(1, (start.rows.size() + chunk - 1) / chunk));
      cursor.start = std::move(start);
      snapshot_ = std::move(cursor);
      Item item;
      item.kind = Item::Kind::kSnapshot;
      queue_.push_back(std::move(item));
      do_write();
    }
  }

  void unsubscribe() {
    if (!attached_) return send_error(pubmsg::ErrorCode::kNotSubscribed, "not subscribed");
    hub_.detach(id_);
    attached_ = false;
    catching_up_ = false;
    // Drop what this subscription still had queued; batches already posted are dropped in
    // on_batch (attached_ is false).
    std::deque<Item> keep;
    for (Item& item : queue_) {
      if (item.kind == Item::Kind::kOwn) {
        keep.push_back(std::move(item));
      } else {
        uncount(item.bytes);
      }
    }
    queue_ = std::move(keep);
    snapshot_.reset();
    std::string out;
    pubmsg::append_unsubscribed(out);
    enqueue_own(std::move(out));
  }

  void send_error(pubmsg::ErrorCode code, std::string_view message) {
    hub_.count_bad_request();
    std::string out;
    pubmsg::append_error(out, code, message);
    enqueue_own(std::move(out));
  }

  // ---------------------------------------------------------------- queueing

  void count(std::size_t bytes) {
    queued_bytes_ += bytes;
    hub_.add_queued_bytes(static_cast<std::int64_t>(bytes));
  }
  void uncount(std::size_t bytes) {
    queued_bytes_ -= bytes;
    hub_.add_queued_bytes(-static_cast<std::int64_t>(bytes));
  }

  void enqueue_own(std::string message) {
    if (state_ != State::kOpen) return;
    Item item;
    item.kind = Item::Kind::kOwn;
    item.bytes = message.size();
    item.own = std::make_shared<const std::string>(std::move(message));
    count(item.bytes);
    queue_.push_back(std::move(item));
    if (!check_queue_limit()) return;
    do_write();
  }

  //! A live batch (the hub's delivery).
  void on_batch(BatchPtr batch) {
    // While catching up, the ring is read instead (this batch was posted before the detach).
    if (!attached_ || catching_up_ || state_ != State::kOpen) return;
    if (!queue_batch(std::move(batch))) return;
    if (!check_queue_limit()) return;
    do_write();
  }

  //! Queues the messages of `batch` this subscriber takes: those its filter picks, and none it
  //! already has (seq below next_seq_: a batch posted before a catch-up, delivered after it).
  //! False when nothing was queued.
  bool queue_batch(BatchPtr batch) {
    if (batch->entries.empty()) return false;
    Item item;
    item.kind = Item::Kind::kBatch;
    const std::uint64_t next = next_seq_;
    auto wanted = [&](const PublishedEntry& e) {
      // A heartbeat carries the last seq at its time: stale only when older than what was sent.
      const bool fresh = e.kind == PublishedEntry::Kind::kHeartbeat ? e.seq + 1 >= next : e.seq >= next;
      return fresh && filter_.matches(e);
    };
    for (std::uint32_t i = 0; i < batch->entries.size(); ++i) {
      const PublishedEntry& e = batch->entries[i];
      if (e.kind != PublishedEntry::Kind::kHeartbeat) next_seq_ = std::max(next_seq_, e.seq + 1);
      if (!wanted(e)) continue;
      item.picks.push_back(i);
      item.bytes += e.size;
    }
    if (item.picks.empty()) return false;
    if (item.picks.size() == batch->entries.size()) item.picks.clear();  // all: share the batch's text
    item.batch = std::move(batch);
    count(item.bytes);
    queue_.push_back(std::move(item));
    return true;
  }

  //! Over the limit: live batches are dropped and read again from the ring at the client's pace
  //! (see the class comment); false (and the session closing) when that is not enough.
  bool check_queue_limit() {
    if (queued_bytes_ <= options_.queue_limit_bytes) return true;
    if (attached_ && !catching_up_) {
      std::optional<std::uint64_t> from;  // the first message queued and not yet written
      std::deque<Item> keep;
      for (Item& item : queue_) {
        if (item.kind != Item::Kind::kBatch) {
          keep.push_back(std::move(item));
          continue;
        }
        for (std::size_t k = item.next; !from && k < entry_count(item); ++k) {
          const PublishedEntry& e = item.batch->entries[item.picks.empty() ? k : item.picks[k]];
          if (e.kind != PublishedEntry::Kind::kHeartbeat) from = e.seq;
        }
        uncount(item.bytes);
      }
      queue_ = std::move(keep);
      next_seq_ = from.value_or(next_seq_);
      catching_up_ = true;
      hub_.detach_to_catch_up(id_, next_seq_);
      SEGMENTD_LOG_INFO("publisher", "subscriber behind: reading on from the replay ring", {"peer", peer_},
                        {"from_seq", next_seq_}, {"queue_limit_bytes", options_.queue_limit_bytes});
      if (queued_bytes_ <= options_.queue_limit_bytes) return true;
    }
    close_slow_consumer("its queue passed queue_limit_bytes");
    return false;
  }

  void close_slow_consumer(const char* why) {
    if (state_ != State::kOpen) return;
    hub_.count_slow_consumer();
    SEGMENTD_LOG_WARN("publisher", "subscriber closed 1008: slow consumer", {"peer", peer_}, {"why", why},
                      {"queued_bytes", queued_bytes_}, {"next_seq", next_seq_});
    begin_close(websocket::close_code::policy_error, "slow consumer");
  }

  //! Catching up with an empty queue: the next chunk of the ring, or the live stream once read to
  //! its end. Chunks are at most half the queue limit, so the live batches that follow fit.
  void pull_from_ring() {
    const std::size_t chunk_bytes = std::max<std::size_t>(
        1, std::min(std::max<std::size_t>(options_.batch_frame_bytes, 64u << 10), options_.queue_limit_bytes / 2));
    while (catching_up_ && queue_.empty() && state_ == State::kOpen) {
      std::shared_ptr<PublishBatch> chunk;
      switch (hub_.catch_up(id_, next_seq_, chunk_bytes, &chunk)) {
        case CatchUp::kAttached: catching_up_ = false; return;
        case CatchUp::kGone: return close_slow_consumer("the replay ring dropped what it had not read yet");
        case CatchUp::kEntries: queue_batch(std::move(chunk)); break;
      }
    }
  }

  // ---------------------------------------------------------------- writing

  static std::size_t entry_count(const Item& item) {
    return item.picks.empty() ? item.batch->entries.size() : item.picks.size();
  }
  static std::string_view entry_text(const Item& item, std::size_t k) {
    std::size_t index = item.picks.empty() ? k : item.picks[k];
    return item.batch->entries[index].text();
  }

  // The frame being built is a list of pieces, turned into buffers once complete: a piece points
  // either into shared immutable text (a batch's joined messages, an own message) or into
  // frame_text_, this session's scratch for the messages its filter picked (copied, since they
  // are not contiguous in the batch), which may grow while the frame is built.
  struct Piece {
    const char* data;  //!< null: frame_text_[offset, offset + size)
    std::size_t offset;
    std::size_t size;
  };

  void add_message(std::string_view text, std::size_t messages = 1) {
    if (messages_in_frame_ > 0) pieces_.push_back(Piece{",", 0, 1});
    pieces_.push_back(Piece{text.data(), 0, text.size()});
    frame_bytes_ += text.size();
    messages_in_frame_ += messages;
  }
  void add_local_message(std::string_view text) {
    if (!pieces_.empty() && pieces_.back().data == nullptr) {  // extends the local run
      frame_text_.push_back(',');
      frame_text_.append(text);
      pieces_.back().size = frame_text_.size() - pieces_.back().offset;
    } else {
      if (messages_in_frame_ > 0) pieces_.push_back(Piece{",", 0, 1});
      const std::size_t offset = frame_text_.size();
      frame_text_.append(text);
      pieces_.push_back(Piece{nullptr, offset, text.size()});
    }
    frame_bytes_ += text.size();
    ++messages_in_frame_;
  }

  //! Batch mode, unfiltered: the messages [item.next, j) of the shared batch as ONE piece (the
  //! batch's joined text is built once for every session), j as far as `target` allows.
  void add_batch_range(Item& item, std::size_t target) {
    const PublishBatch& b = *item.batch;
    const std::size_t n = b.entries.size();
    std::size_t j = n;
    if (frame_bytes_ + (b.joined.size() - b.offsets[item.next]) > target) {
      const std::size_t room = target > frame_bytes_ ? target - frame_bytes_ : 0;
      const auto limit = static_cast<std::uint32_t>(std::min<std::size_t>(b.offsets[item.next] + room, UINT32_MAX));
      j = static_cast<std::size_t>(
              std::upper_bound(b.offsets.begin() + static_cast<std::ptrdiff_t>(item.next) + 1, b.offsets.end(), limit) -
              b.offsets.begin()) -
          1;
      if (j <= item.next) j = item.next + 1;  // at least one message
    }
    std::string_view text = b.joined_range(item.next, j);
    std::size_t bytes = 0;
    for (std::size_t k = item.next; k < j; ++k) bytes += b.entries[k].size;
    add_message(text, j - item.next);
    inflight_bytes_ += bytes;
    item.bytes -= bytes;
    item.next = j;
  }

  void encode_snapshot_chunk() {
    SnapshotCursor& c = *snapshot_;
    const SubscribeStart& s = c.start;
    const std::size_t end = std::min(s.rows.size(), c.next_row + std::max<std::size_t>(1, options_.snapshot_chunk));
    std::vector<pubmsg::AccountAssignment> rows;
    rows.reserve(end - c.next_row);
    for (std::size_t i = c.next_row; i < end; ++i) {
      const auto& r = s.rows[i];
      pubmsg::AccountAssignment a;
      a.account = hub_.names().name(r.account);
      a.segment = r.assignment.segment;
      if (auto it = s.segments->find(a.segment); it != s.segments->end()) a.label = it->second.label;
      a.confidence = r.assignment.confidence;
      a.ts_ns = r.assignment.ts_ns;
      a.seq = r.assignment.seq;
      rows.push_back(a);
    }
    auto text = std::make_shared<std::string>();
    pubmsg::append_snapshot_chunk(*text, s.seq, c.chunk, c.chunks, s.model.get(), rows, s.regime);
    c.next_row = end;
    ++c.chunk;
    snapshot_text_ = std::move(text);
  }

  // One async_write per frame. Batch mode packs everything queued, up to batch_frame_bytes, into
  // one frame; without batch mode a frame is one message (the protocol's unit).
  void do_write() {
    if (writing_ || state_ != State::kOpen) return;
    if (queue_.empty() && catching_up_) pull_from_ring();
    if (queue_.empty() || state_ != State::kOpen) return;
    pieces_.clear();
    frame_text_.clear();
    messages_in_frame_ = 0;
    frame_bytes_ = 0;
    inflight_bytes_ = 0;
    const std::size_t target = batch_mode_ ? options_.batch_frame_bytes : 0;
    while (!queue_.empty()) {
      Item& item = queue_.front();
      if (item.kind == Item::Kind::kSnapshot) {
        if (messages_in_frame_ > 0) break;  // a chunk is a frame of its own
        encode_snapshot_chunk();
        add_message(*snapshot_text_);
        if (snapshot_->chunk >= snapshot_->chunks) {
          snapshot_.reset();
          queue_.pop_front();
        }
        break;
      }
      if (item.kind == Item::Kind::kOwn) {
        add_message(*item.own);
        inflight_bytes_ += item.bytes;
        inflight_.push_back(std::move(item));
        queue_.pop_front();
      } else {
        const std::size_t n = entry_count(item);
        if (batch_mode_ && item.picks.empty()) {
          if (messages_in_frame_ > 0 && frame_bytes_ >= target) break;
          add_batch_range(item, target);
        } else {
          while (item.next < n && (messages_in_frame_ == 0 || (batch_mode_ && frame_bytes_ < target))) {
            const std::string_view text = entry_text(item, item.next++);
            if (batch_mode_)
              add_local_message(text);
            else
              add_message(text);
            inflight_bytes_ += text.size();
            item.bytes -= text.size();
          }
        }
        if (item.next >= n) {
          inflight_.push_back(std::move(item));
          queue_.pop_front();
        } else {
          Item keep;  // the rest stays queued; hold the batch until the write completes
          keep.batch = item.batch;
          inflight_.push_back(std::move(keep));
        }
      }
      if (!batch_mode_ || frame_bytes_ >= target) break;
    }
    if (messages_in_frame_ == 0) return;
    static constexpr char kOpenBracket = '[';
    static constexpr char kCloseBracket = ']';
    buffers_.clear();
    if (batch_mode_) buffers_.emplace_back(&kOpenBracket, 1);
    for (const Piece& p : pieces_) {
      if (p.data != nullptr)
        buffers_.emplace_back(p.data, p.size);
      else
        buffers_.emplace_back(frame_text_.data() + p.offset, p.size);
    }
    if (batch_mode_) buffers_.emplace_back(&kCloseBracket, 1);
    writing_ = true;
    ws_.text(true);
    beast_ops::write(ws_, buffers_, beast::bind_front_handler(&WebsocketSession::on_write, this->shared_from_this()));
  }

  void on_write(ErrorCode ec, std::size_t) {
    writing_ = false;
    uncount(inflight_bytes_);
    inflight_bytes_ = 0;
    inflight_.clear();
    snapshot_text_.reset();
    if (ec) {
      state_ = State::kClosed;
      close_timer_.cancel();
      return fail(ec, "write");
    }
    if (state_ == State::kClosing) return do_close();
    do_write();
  }

  // ---------------------------------------------------------------- closing

  void begin_close(websocket::close_code code, const char* reason) {
    if (state_ == State::kClosing || state_ == State::kClosed) return;
    if (state_ == State::kHandshake) {  // not open yet: just drop the connection
      state_ = State::kClosed;
      ErrorCode ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
      return;
    }
    state_ = State::kClosing;
    close_reason_ = websocket::close_reason(code, reason);
    if (attached_) hub_.detach(id_);
    attached_ = false;
    catching_up_ = false;
    for (Item& item : queue_) uncount(item.bytes);
    queue_.clear();
    snapshot_.reset();
    // A peer that does not read never lets the pending write (or the close frame) complete:
    // after close_timeout the socket is closed under it.
    close_timer_.expires_after(std::chrono::nanoseconds(options_.close_timeout_ns));
    close_timer_.async_wait(beast::bind_front_handler(&WebsocketSession::on_close_timer, this->shared_from_this()));
    if (!writing_) do_close();
  }

  void do_close() {
    if (close_sent_) return;
    close_sent_ = true;
    beast_ops::close(ws_, close_reason_,
                     beast::bind_front_handler(&WebsocketSession::on_close, this->shared_from_this()));
  }

  void on_close(ErrorCode ec) {
    state_ = State::kClosed;
    close_timer_.cancel();
    if (ec) fail(ec, "close");
  }

  void on_close_timer(ErrorCode ec) {
    if (ec || state_ == State::kClosed) return;
    state_ = State::kClosed;
    ErrorCode ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  websocket::stream<Stream> ws_;
  const net::any_io_executor executor_;  //!< the connection's strand
  const std::shared_ptr<const PublisherContext> context_;
  PublisherHub& hub_;
  const SessionOptions& options_;
  ConnectionSlot slot_;
  const std::string peer_;  //!< the client's address, for logs
  net::steady_timer close_timer_;
  std::uint64_t id_ = 0;
  State state_ = State::kHandshake;

  beast::flat_buffer read_buffer_;
  bool discarding_ = false;  //!< inside an oversized client frame

  SubscriberFilter filter_;
  bool attached_ = false;       //!< subscribed (delivered to, or catching up)
  bool catching_up_ = false;    //!< subscribed, reading the ring instead of live batches
  std::uint64_t next_seq_ = 1;  //!< the first seq not queued yet
  bool batch_mode_ = false;
  std::optional<SnapshotCursor> snapshot_;

  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;  //!< queued + in flight (snapshot chunks excepted)
  bool writing_ = false;
  std::vector<Piece> pieces_;               //!< the frame being built
  std::string frame_text_;                  //!< picked messages copied for the frame (reused)
  std::vector<net::const_buffer> buffers_;  //!< the frame being written (gathered)
  std::vector<Item> inflight_;              //!< keeps the frame's payloads alive
  std::shared_ptr<const std::string> snapshot_text_;
  std::size_t inflight_bytes_ = 0;
  std::size_t frame_bytes_ = 0;
  std::size_t messages_in_frame_ = 0;

  websocket::close_reason close_reason_;
  bool close_sent_ = false;
};

}  // namespace

template <class Stream>
void run_websocket_session(Stream&& stream, http::request<http::string_body> request,
                           std::shared_ptr<const PublisherContext> context, ConnectionSlot slot, std::string peer) {
  std::make_shared<WebsocketSession<Stream>>(std::move(stream), std::move(context), std::move(slot), std::move(peer))
      ->run(std::move(request));
}

template void run_websocket_session<beast::tcp_stream>(beast::tcp_stream&&, http::request<http::string_body>,
                                                       std::shared_ptr<const PublisherContext>, ConnectionSlot,
                                                       std::string);
template void run_websocket_session<beast::ssl_stream<beast::tcp_stream>>(beast::ssl_stream<beast::tcp_stream>&&,
                                                                          http::request<http::string_body>,
                                                                          std::shared_ptr<const PublisherContext>,
                                                                          ConnectionSlot, std::string);

}  // namespace segmentd
