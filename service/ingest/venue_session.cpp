#include "service/ingest/venue_session.h"
#include "protocol/venues/registry.h"

#include "core/str_cat.h"

namespace segmentd {
namespace {

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

VenueSession::VenueSession(boost::asio::io_context& ioc, const SourceConfig& config, ControlCredentials credentials,
                           AdapterContext adapter_base, FillSink& sink, SourceStats& stats)
    : config_(config),
      account_(credentials.account),
      sink_(sink),
      stats_(stats),
      client_(ioc, client_options(config), *this) {
  adapter_base.account = account_;
  adapter_base.dedup = &dedup_;
  adapter_ = make_venue_adapter(config.venue, std::move(adapter_base));
  if (config.venue == Venue::kBinance) {
    BinanceListenKey::Options lk;
    lk.rest_url = config.rest_url;
    lk.timeout_ns = config.connect_timeout_ns + config.handshake_timeout_ns;
    lk.tls_verify = config.tls_verify;
    lk.ca_file = config.ca_file;
    listen_key_ = std::make_unique<BinanceListenKey>(ioc, std::move(lk), credentials.key,
                                                     [this](std::function<void()> fn) { client_.post(std::move(fn)); });
  }
  ControlSettings settings;
  settings.heartbeat_interval_ns = config.heartbeat_interval_ns;
  settings.auth_timeout_ns = config.auth_timeout_ns;
  settings.coins = config.coins;
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
  if (outcome_.duplicates > 0) SourceStats::add(stats_.duplicates, outcome_.duplicates);
  if (outcome_.kind == MessageKind::kPong) SourceStats::add(stats_.pongs);
  if (outcome_.kind == MessageKind::kVenueError) SourceStats::add(stats_.venue_errors);
  for (const Fill& f : fills_) {
    if (sink_.push(f))
      SourceStats::add(stats_.fills);
    else
      SourceStats::add(stats_.sink_rejected);
  }
  control_->on_message(outcome_, *this, recv_ns);
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
}

}  // namespace segmentd
