#include "service/ingest/venue_source.h"

#include "core/str_cat.h"

namespace segmentd {

VenueSource::VenueSource(SourceConfig config, AdapterContext adapter_base, FillSink& sink)
    : config_(std::move(config)), adapter_base_(std::move(adapter_base)), sink_(sink) {
  positions_.resize(std::max<std::size_t>(config_.accounts.size(), 1));
  for (std::size_t i = 0; i < config_.accounts.size(); ++i) positions_[i].account = config_.accounts[i].name;
}

void VenueSource::save_position(std::string& out) const {
  // The checkpointer calls this while the sink is paused between units: no session writes now.
  if (config_.accounts.empty()) return out.clear();  // public trades only: nothing to resume
  encode_positions(positions_, out);
}

absl::Status VenueSource::check_position(std::string_view bytes) const {
  if (bytes.empty()) return absl::OkStatus();
  std::vector<VenuePosition> saved;
  return decode_positions(bytes, saved);
}

absl::Status VenueSource::restore_position(std::string_view bytes) {
  if (started_) return absl::FailedPreconditionError("venue position: restore_position after start()");
  if (bytes.empty()) return absl::OkStatus();
  std::vector<VenuePosition> saved;
  if (auto s = decode_positions(bytes, saved); !s.ok()) return s;
  // By account name: an account added since starts afresh, one removed is forgotten.
  for (VenuePosition& p : saved)
    for (VenuePosition& mine : positions_)
      if (mine.account == p.account) mine = std::move(p);
  return absl::OkStatus();
}

VenueSource::~VenueSource() { stop(); }

absl::Status VenueSource::start() {
  if (started_) return absl::OkStatus();
  // Load every credential first: a missing one fails the start without connecting anything.
  std::vector<ControlCredentials> creds;
  for (std::size_t i = 0; i < config_.accounts.size(); ++i) {
    const SourceAccount& a = config_.accounts[i];
    ControlCredentials c;
    c.account = a.name;
    const std::string where = str_cat(config_.name, ".accounts[", i, "]");
    if (a.key.configured()) {
      auto s = load_secret(a.key, where + ".key");
      if (!s.ok()) return s.status();
      c.key = *std::move(s);
    }
    if (a.secret.configured()) {
      auto s = load_secret(a.secret, where + ".secret");
      if (!s.ok()) return s.status();
      c.secret = *std::move(s);
    }
    if (a.passphrase.configured()) {
      auto s = load_secret(a.passphrase, where + ".passphrase");
      if (!s.ok()) return s.status();
      c.passphrase = *std::move(s);
    }
    creds.push_back(std::move(c));
  }
  // Hyperliquid public data only (no account): one session for it.
  if (creds.empty() && config_.venue == Venue::kHyperliquid && !(config_.coins.empty() && config_.market_data.empty()))
    creds.emplace_back();
  // The public channels on the first session only: on every session each public trade would be
  // pushed once per account (and, for `coins`, each of its fills too). OKX's, Bybit's and
  // Binance's are on a public websocket: a session of their own.
  const bool separate_public = market_data_on_own_connection(config_.venue) && !config_.market_data.empty();
  using Feeds = VenueSession::Feeds;
  for (std::size_t i = 0; i < creds.size(); ++i)
    sessions_.push_back(std::make_unique<VenueSession>(
        loop_.context(), config_, std::move(creds[i]), adapter_base_, sink_, stats_, positions_[i], gap_stats_,
        i == 0 && !separate_public ? Feeds::kAccountAndPublic : Feeds::kAccount));
  if (separate_public) {
    public_config_ = config_;
    public_config_.url = config_.market_data_url;
    public_config_.gap_fill = false;
    sessions_.push_back(std::make_unique<VenueSession>(loop_.context(), public_config_, ControlCredentials{},
                                                       adapter_base_, sink_, stats_, public_position_, gap_stats_,
                                                       Feeds::kPublicOnly));
  }
  for (auto& s : sessions_) s->start();
  loop_.start();
  started_ = true;
  return absl::OkStatus();
}

void VenueSource::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  for (auto& s : sessions_) s->stop();
  loop_.stop(static_cast<int>(std::min<std::int64_t>(config_.handshake_timeout_ns / 1'000'000, 2000)));
  sessions_.clear();
}

std::size_t VenueSource::ready_sessions() const {
  std::size_t n = 0;
  for (const auto& s : sessions_) n += s->ready_count() > 0 ? 1 : 0;
  return n;
}

}  // namespace segmentd
