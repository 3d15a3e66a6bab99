#include "service/ingest/replay_source.h"

#include <cstring>
#include <fstream>

#include "core/str_cat.h"
#include "protocol/native_format.h"
#include "service/base/log.h"

namespace segmentd {

ReplaySource::ReplaySource(SourceConfig config, AccountInterner& accounts, InstrumentRegistry& instruments,
                           FillSink& sink)
    : config_(std::move(config)),
      accounts_(accounts),
      instruments_(instruments),
      sink_(sink),
      clock_(config_.event_time) {}

ReplaySource::~ReplaySource() { stop(); }

absl::Status ReplaySource::start() {
  if (thread_.joinable()) return absl::OkStatus();
  if (!std::ifstream(config_.path)) return absl::NotFoundError(str_cat(config_.name, ": cannot read ", config_.path));
  thread_started_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void ReplaySource::stop() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void ReplaySource::run() {
  // Lines are read here rather than through read_native_file() so that stop() can end a long
  // file early.
  NativeFillParser parser(accounts_, instruments_);
  std::ifstream in(config_.path, std::ios::binary);
  if (offset_ > 0) in.seekg(static_cast<std::streamoff>(offset_));
  std::string line;
  Fill fill;
  PriceRecord price;
  NativeLine kind = NativeLine::kFill;
  ParseError err;
  while (!stopping_.load(std::memory_order_acquire) && std::getline(in, line)) {
    // One line is one unit: its fill and the offset after it are in a checkpoint together or not
    // at all.
    UnitGuard unit(sink_);
    offset_ += line.size() + (in.eof() ? 0 : 1);
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    SourceStats::add(stats_.messages);
    SourceStats::add(stats_.bytes, line.size() + 1);
    if (line.size() > config_.max_line_bytes) {
      stats_.add_error(ParseErrorReason::kOversized);
      continue;
    }
    if (!parser.parse_line_unpadded(line, &kind, &fill, &price, &err)) {
      stats_.add_error(err.reason);
      continue;
    }
    const bool is_price = kind == NativeLine::kPrice;
    const bool is_position = kind == NativeLine::kPosition || kind == NativeLine::kPositionsEnd;
    const std::int64_t ts = is_price ? price.recv_ns : fill.recv_ns;
    SourceStats::add(stats_.kinds[static_cast<int>(is_price      ? MessageKind::kMarketData
                                                   : is_position ? MessageKind::kPositions
                                                                 : MessageKind::kFills)]);
    const EventTimeGuard::Verdict v = clock_.check(ts);
    if (v == EventTimeGuard::Verdict::kRefuse) {
      stats_.add_error(ParseErrorReason::kFutureTime);
      SEGMENTD_LOG_WARN("replay",
                        is_price      ? "price refused: timestamp too far ahead of the file's event time"
                        : is_position ? "position refused: timestamp too far ahead of the file's event time"
                                      : "fill refused: timestamp too far ahead of the file's event time",
                        {"source", config_.name}, {"line", line_no_}, {"ts_ns", ts},
                        {"ahead_s", clock_.last_refused_ahead_ns() / 1'000'000'000});
      continue;
    }
    if (v == EventTimeGuard::Verdict::kJump)
      SEGMENTD_LOG_WARN("replay", "event time jumped forward, confirmed by the following fills",
                        {"source", config_.name}, {"line", line_no_}, {"ts_ns", ts});
    if (is_price) {
      if (sink_.push_price(price))
        SourceStats::add(stats_.prices);
      else
        SourceStats::add(stats_.sink_rejected);
      continue;
    }
    if (sink_.push(fill))
      SourceStats::add(is_position ? stats_.positions : stats_.fills);
    else
      SourceStats::add(stats_.sink_rejected);
  }
  finished_.store(true, std::memory_order_release);
}

namespace {

constexpr std::size_t kPositionBytes = sizeof(std::uint64_t) + EventTimeGuard::kStateBytes;

}  // namespace

void ReplaySource::save_position(std::string& out) const {
  out.resize(kPositionBytes);
  std::memcpy(out.data(), &offset_, sizeof(offset_));
  EventTimeGuard::encode(clock_.state(), out.data() + sizeof(offset_));
}

absl::Status ReplaySource::check_position(std::string_view bytes) const {
  if (bytes.size() != sizeof(offset_) && bytes.size() != kPositionBytes)
    return absl::DataLossError(str_cat(config_.name, ": resume position is not a file offset"));
  return absl::OkStatus();
}

absl::Status ReplaySource::restore_position(std::string_view bytes) {
  if (absl::Status st = check_position(bytes); !st.ok()) return st;
  std::memcpy(&offset_, bytes.data(), sizeof(offset_));
  if (bytes.size() == kPositionBytes) clock_.restore(EventTimeGuard::decode(bytes.data() + sizeof(offset_)));
  return absl::OkStatus();
}

}  // namespace segmentd
