// Hyperliquid websocket: no login; subscribe userFills for the account's user address (and the
// public trades of the configured coins) → {"method":"ping"} every heartbeat interval
// (Hyperliquid closes connections silent for 60 s).
#include <algorithm>

#include "protocol/venues/hyperliquid/control.h"
#include "service/ingest/venue_control.h"

namespace segmentd {
namespace {

class HyperliquidControl final : public VenueControl {
 public:
  HyperliquidControl(ControlCredentials c, ControlSettings s) : creds_(std::move(c)), settings_(std::move(s)) {}

  void on_open(ControlChannel& ch, std::int64_t now_ns) override {
    acks_ = 0;
    expected_acks_ = 0;
    ready_ = false;
    deadline_ns_ = now_ns + settings_.auth_timeout_ns;
    next_ping_ns_ = now_ns + settings_.heartbeat_interval_ns;
    if (!creds_.account.empty()) {
      ch.send(control::hyperliquid_subscribe_user_fills(creds_.account));
      ++expected_acks_;
    }
    for (const std::string& coin : settings_.coins) {
      ch.send(control::hyperliquid_subscribe_trades(coin));
      ++expected_acks_;
    }
  }

  void on_message(const DecodeOutcome& o, ControlChannel& ch, std::int64_t now_ns) override {
    if (o.kind == MessageKind::kSubscriptionAck && !ready_ && ++acks_ >= expected_acks_) {
      ready_ = true;
      ch.ready();
    } else if (o.kind == MessageKind::kVenueError && !ready_) {
      ch.count_subscribe_failure();
      ch.reconnect("subscription refused");
    }
  }

  void on_tick(ControlChannel& ch, std::int64_t now_ns) override {
    if (!ready_ && now_ns > deadline_ns_) {
      ch.reconnect("no subscription response");
      return;
    }
    if (now_ns >= next_ping_ns_) {
      ch.send(std::string(control::kHyperliquidPing));
      ch.count_ping();
      next_ping_ns_ = now_ns + settings_.heartbeat_interval_ns;
    }
  }
  std::int64_t tick_interval_ns() const override {
    return std::min({std::int64_t{1'000'000'000}, settings_.auth_timeout_ns, settings_.heartbeat_interval_ns});
  }

 private:
  ControlCredentials creds_;
  ControlSettings settings_;
  int acks_ = 0;
  int expected_acks_ = 0;
  bool ready_ = false;
  std::int64_t deadline_ns_ = 0;
  std::int64_t next_ping_ns_ = 0;
};

}  // namespace

std::unique_ptr<VenueControl> make_hyperliquid_control(ControlCredentials credentials, ControlSettings settings) {
  return std::make_unique<HyperliquidControl>(std::move(credentials), std::move(settings));
}

}  // namespace segmentd
