#include "service/ingest/venue_source.h"

#include "core/str_cat.h"

namespace segmentd {

VenueSource::VenueSource(SourceConfig config, AdapterContext adapter_base, FillSink& sink)
    : config_(std::move(config)), adapter_base_(std::move(adapter_base)), sink_(sink) {}

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
  if (creds.empty() && !config_.coins.empty()) creds.emplace_back();  // Hyperliquid public trades only
  for (auto& c : creds)
    sessions_.push_back(
        std::make_unique<VenueSession>(loop_.context(), config_, std::move(c), adapter_base_, sink_, stats_));
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
