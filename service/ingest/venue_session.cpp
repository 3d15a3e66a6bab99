#include "service/ingest/venue_session.h"

#include <algorithm>
#include <charconv>

#include "core/str_cat.h"
#include "protocol/venues/hyperliquid/control.h"
#include "protocol/venues/registry.h"

namespace segmentd {
namespace {

constexpr std::string_view kPositionHeader = "segmentd-venue-position 1\n";

bool parse_i64(std::string_view s, std::int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
bool parse_u64(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

WsClientOptions client_options(const SourceConfig& c) {
  WsClientOptions o;
  o.url = c.url;
  o.connect_timeout_ns = c.connect_timeout_ns;
  o.handshake_timeout_ns = c.handshake_timeout_ns;
  o.idle_timeout_ns = c.idle_timeout_ns;
  o.max_frame_bytes = c.max_frame_bytes;
  o.backoff = c.backoff;
  o.tls_verify = c.tls_verify;
  o.ca_file = c.ca_file;
  return o;
}

}  // namespace

void VenuePosition::note(std::uint64_t trade_id, std::int64_t time_ms, std::int64_t lookback_ms) {
  if (time_ms >= last_time_ms) {
    last_time_ms = time_ms;
    last_trade_id = trade_id;
  }
  recent.emplace_back(trade_id, time_ms);
  while (!recent.empty() && (recent.size() > kMaxRecent || recent.front().second < last_time_ms - lookback_ms))
    recent.pop_front();
}

void encode_positions(const std::vector<VenuePosition>& positions, std::string& out) {
  out.assign(kPositionHeader);
  for (const VenuePosition& p : positions) {
    out += str_cat(p.account, "\t", p.last_time_ms, "\t", p.last_trade_id, "\t");
    for (std::size_t i = 0; i < p.recent.size(); ++i)
      out += str_cat(i > 0 ? "," : "", p.recent[i].first, ":", p.recent[i].second);
    out += '\n';
  }
}

absl::Status decode_positions(std::string_view bytes, std::vector<VenuePosition>& out) {
  out.clear();
  if (bytes.substr(0, kPositionHeader.size()) != kPositionHeader)
    return absl::InvalidArgumentError("venue position: not a segmentd-venue-position 1 record");
  bytes.remove_prefix(kPositionHeader.size());
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) return absl::InvalidArgumentError("venue position: a line without its end");
    std::string_view line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    std::string_view f[4];
    for (int i = 0; i < 3; ++i) {
      const std::size_t tab = line.find('\t');
      if (tab == std::string_view::npos)
        return absl::InvalidArgumentError("venue position: a line of fewer than 4 fields");
      f[i] = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    f[3] = line;
    VenuePosition p;
    p.account = std::string(f[0]);
    if (p.account.empty() || !parse_i64(f[1], p.last_time_ms) || !parse_u64(f[2], p.last_trade_id))
      return absl::InvalidArgumentError(str_cat("venue position of '", f[0], "': bad account, time or trade id"));
    for (std::string_view rest = f[3]; !rest.empty();) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      const std::size_t colon = item.find(':');
      std::uint64_t id = 0;
      std::int64_t t = 0;
      if (colon == std::string_view::npos || !parse_u64(item.substr(0, colon), id) ||
          !parse_i64(item.substr(colon + 1), t))
        return absl::InvalidArgumentError(str_cat("venue position of '", f[0], "': bad recent trade"));
      p.recent.emplace_back(id, t);
    }
    out.push_back(std::move(p));
  }
  return absl::OkStatus();
}

VenueSession::VenueSession(boost::asio::io_context& ioc, const SourceConfig& config, ControlCredentials credentials,
                           AdapterContext adapter_base, FillSink& sink, SourceStats& stats, VenuePosition& position,
                           GapFillStats& gap_stats, Feeds feeds)
    : config_(config),
      account_(credentials.account),
      sink_(sink),
      stats_(stats),
      position_(position),
      lookback_ms_(config.gap_fill_lookback_ns / 1'000'000),
      started_ms_(wall_clock_ns() / 1'000'000),
      client_(ioc, client_options(config), *this) {
  // A restored position: the trades pushed before the restart within the look-back are known,
  // so that the gap-fill's re-read of it pushes none of them twice.
  for (const auto& [id, t] : position_.recent) dedup_.insert(id);
  adapter_base.account = account_;
  adapter_base.dedup = &dedup_;
  if (config.venue == Venue::kHyperliquid) {
    // market_data "trades:COIN" without COIN in `coins`: its public trades are prints only.
    for (const std::string& name : config.market_data) {
      control::HyperliquidMarketChannel ch;
      if (control::parse_hyperliquid_market_channel(name, ch) && ch.type == "trades" &&
          std::find(config.coins.begin(), config.coins.end(), ch.coin) == config.coins.end())
        adapter_base.price_only_coins.emplace_back(ch.coin);
    }
  }
  adapter_ = make_venue_adapter(config.venue, std::move(adapter_base));
  if (config.venue == Venue::kBinance && feeds != Feeds::kPublicOnly) {  // the public streams need no key
    BinanceListenKey::Options lk;
    lk.rest_url = config.rest_url;
    lk.path = control::binance_listen_key_request(config.binance_market, control::ListenKeyOp::kCreate, "").path;
    lk.timeout_ns = config.connect_timeout_ns + config.handshake_timeout_ns;
    lk.tls_verify = config.tls_verify;
    lk.ca_file = config.ca_file;
    listen_key_ = std::make_unique<BinanceListenKey>(ioc, std::move(lk), credentials.key,
                                                     [this](std::function<void()> fn) { client_.post(std::move(fn)); });
  }
  if (config.gap_fill && !config.rest_url.empty() && config.venue != Venue::kNative) {
    VenueHistory::Options h;
    h.venue = config.venue;
    h.rest_url = config.rest_url;
    while (!h.rest_url.empty() && h.rest_url.back() == '/') h.rest_url.pop_back();
    h.timeout_ns = config.connect_timeout_ns + config.handshake_timeout_ns;
    h.tls_verify = config.tls_verify;
    h.ca_file = config.ca_file;
    h.backoff = config.backoff;
    h.currencies = config.history_currencies;
    h.symbols = config.history_symbols;
    h.binance_market = config.binance_market;
    h.source = config.name;
    history_ = std::make_unique<VenueHistory>(
        ioc, std::move(h), credentials, [this](std::function<void()> fn) { client_.post(std::move(fn)); },
        [this](std::string_view m) { push_message(m, wall_clock_ns()); }, gap_stats);
  }
  // Positions: the venues whose stream has no snapshot take theirs over REST at every connect.
  if (config.positions && feeds != Feeds::kPublicOnly && positions_snapshot_over_rest(config.venue) &&
      !config.rest_url.empty()) {
    VenuePositionsFetch::Options p;
    p.venue = config.venue;
    p.rest_url = config.rest_url;
    while (!p.rest_url.empty() && p.rest_url.back() == '/') p.rest_url.pop_back();
    p.timeout_ns = config.connect_timeout_ns + config.handshake_timeout_ns;
    p.tls_verify = config.tls_verify;
    p.ca_file = config.ca_file;
    p.backoff = config.backoff;
    p.source = config.name;
    p.binance_market = config.binance_market;
    positions_fetch_ = std::make_unique<VenuePositionsFetch>(
        ioc, std::move(p), credentials, [this](std::function<void()> fn) { client_.post(std::move(fn)); },
        [this](std::string_view body, bool last, std::int64_t snapshot_ns, std::int64_t call_ns) {
          ParseError e;
          if (!adapter_->decode_rest_positions(body, last, snapshot_ns, call_ns, wall_clock_ns(), e)) {
            stats_.add_error(e.reason);
            return false;
          }
          SourceStats::add(stats_.kinds[static_cast<int>(MessageKind::kPositions)]);
          push_positions();
          return true;
        },
        stats_);
  }
  ControlSettings settings;
  settings.heartbeat_interval_ns = config.heartbeat_interval_ns;
  settings.auth_timeout_ns = config.auth_timeout_ns;
  if (feeds != Feeds::kAccount) {
    settings.coins = config.coins;
    settings.market_data = config.market_data;
  }
  settings.public_only = feeds == Feeds::kPublicOnly;
  settings.positions = config.positions && feeds != Feeds::kPublicOnly;
  control_ = make_venue_control(config.venue, std::move(credentials), std::move(settings));
  client_.set_tick_interval(control_->tick_interval_ns());
  fills_.reserve(256);
}

VenueSession::~VenueSession() { client_.stop(); }

void VenueSession::before_connect(std::function<void(absl::StatusOr<std::string>)> proceed) {
  if (!listen_key_) return proceed(std::string());
  listen_key_->create([this, proceed = std::move(proceed)](absl::StatusOr<std::string> key) {
    if (!key.ok()) {
      if (absl::IsPermissionDenied(key.status())) SourceStats::add(stats_.auth_failures);
      return proceed(key.status());
    }
    std::string url = config_.url;
    if (url.empty() || url.back() != '/') url += '/';
    proceed(url + *key);
  });
}

void VenueSession::on_open() {
  SourceStats::add(stats_.connects);
  const std::int64_t now = wall_clock_ns();
  next_keepalive_ns_ = now + config_.listen_key_keepalive_ns;
  control_->on_open(*this, now);
}

void VenueSession::on_message(std::string_view message, std::int64_t recv_ns) {
  SourceStats::add(stats_.messages);
  SourceStats::add(stats_.bytes, message.size());
  fills_.clear();
  outcome_.reset();
  if (!adapter_->decode(message, recv_ns, fills_, outcome_, error_)) {
    stats_.add_error(error_.reason);  // skipped; the connection stays up
    return;
  }
  SourceStats::add(stats_.kinds[static_cast<int>(outcome_.kind)]);
  if (outcome_.kind == MessageKind::kPong) SourceStats::add(stats_.pongs);
  if (outcome_.kind == MessageKind::kVenueError) SourceStats::add(stats_.venue_errors);
  push_fills();
  push_positions();
  push_market_data();
  control_->on_message(outcome_, *this, recv_ns);
}

void VenueSession::push_message(std::string_view message, std::int64_t recv_ns) {
  // A gap-fill page, rewritten as the stream would have pushed it (protocol/venues/*/history.h).
  fills_.clear();
  outcome_.reset();
  if (!adapter_->decode_unpadded(message, recv_ns, fills_, outcome_, error_)) {
    stats_.add_error(error_.reason);
    return;
  }
  push_fills();
  push_positions();
}

void VenueSession::push_positions() {
  // After the message's fills: a message that carries both (Deribit user.changes) states the
  // positions those fills made.
  const std::vector<Fill>& records = adapter_->positions();
  if (records.empty()) return;
  UnitGuard unit(sink_);
  for (const Fill& r : records) {
    if (sink_.push(r))
      SourceStats::add(stats_.positions);
    else
      SourceStats::add(stats_.sink_rejected);
  }
}

void VenueSession::push_fills() {
  if (outcome_.duplicates > 0) SourceStats::add(stats_.duplicates, outcome_.duplicates);
  if (fills_.empty()) return;
  // One unit: the message's fills and the position after them (Source::save_position).
  UnitGuard unit(sink_);
  for (const Fill& f : fills_) {
    if (sink_.push(f))
      SourceStats::add(stats_.fills);
    else
      SourceStats::add(stats_.sink_rejected);
    position_.note(f.trade_id, f.venue_ns / 1'000'000, lookback_ms_);
  }
}

void VenueSession::push_market_data() {
  const std::vector<PriceRecord>& prices = adapter_->market_data();
  if (prices.empty()) return;
  UnitGuard unit(sink_);
  for (const PriceRecord& p : prices) {
    if (sink_.push_price(p))
      SourceStats::add(stats_.prices);
    else
      SourceStats::add(stats_.sink_rejected);
  }
}

void VenueSession::on_oversized(std::size_t) {
  SourceStats::add(stats_.messages);
  stats_.add_error(ParseErrorReason::kOversized);
}

void VenueSession::on_close(bool opened, std::string_view) {
  if (opened)
    SourceStats::add(stats_.disconnects);
  else
    SourceStats::add(stats_.connect_failures);
}

void VenueSession::on_tick(std::int64_t now_ns) {
  control_->on_tick(*this, now_ns);
  if (listen_key_ && now_ns >= next_keepalive_ns_) {
    next_keepalive_ns_ = now_ns + config_.listen_key_keepalive_ns;
    listen_key_->keep_alive([this](bool ok) {
      if (ok) SourceStats::add(stats_.pings_sent);
    });
  }
}

void VenueSession::ready() {
  client_.mark_healthy();
  ready_count_.fetch_add(1, std::memory_order_relaxed);
  // Subscribed: what the stream pushes from now on arrives; what happened since the last trade
  // pushed (or since this session started) comes from the venue's history.
  if (positions_fetch_) positions_fetch_->fetch();
  if (history_) {
    const std::int64_t from = position_.last_time_ms >= 0 ? position_.last_time_ms : started_ms_;
    history_->fetch(from - lookback_ms_);
  }
}

}  // namespace segmentd
