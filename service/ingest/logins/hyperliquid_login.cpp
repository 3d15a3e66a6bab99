// Hyperliquid websocket: no login; subscribe userFills and clearinghouseState (positions) for the
// account's user address (and the
// public trades of the configured coins, and the market-data subscriptions) → {"method":"ping"} every heartbeat
// interval (Hyperliquid closes connections silent for 60 s).
#include <algorithm>
#include <string_view>
#include <vector>

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
      // Its first push is a snapshot of every perpetual position, then one per change.
      if (settings_.positions) {
        ch.send(control::hyperliquid_subscribe_clearinghouse(creds_.account));
        ++expected_acks_;
      }
    }
    // Public trades once per coin, whether followed for its accounts (`coins`) or for its
    // prints (market_data "trades:COIN"); then the asset contexts (marks and oracle prices).
    std::vector<std::string_view> trades(settings_.coins.begin(), settings_.coins.end());
    std::vector<std::string_view> contexts;
    for (const std::string& name : settings_.market_data) {
      control::HyperliquidMarketChannel m;
      if (!control::parse_hyperliquid_market_channel(name, m)) continue;  // the config refused it
      auto& list = m.type == "trades" ? trades : contexts;
      if (std::find(list.begin(), list.end(), m.coin) == list.end()) list.push_back(m.coin);
    }
    for (std::string_view coin : trades) {
      ch.send(control::hyperliquid_subscribe_trades(coin));
      ++expected_acks_;
    }
    for (std::string_view coin : contexts) {
      ch.send(control::hyperliquid_subscribe_asset_ctx(coin));
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
