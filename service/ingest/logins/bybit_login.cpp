// Bybit v5 private websocket: auth (hex HMAC of "GET/realtime" + expires) → subscribe execution
// → {"op":"ping"} every heartbeat interval (Bybit recommends 20 s). On the public websocket
// (ControlSettings::public_only): no auth, one subscribe of the source's market_data topics.
#include <algorithm>

#include "protocol/venues/bybit/control.h"
#include "service/ingest/venue_control.h"

namespace segmentd {
namespace {

class BybitControl final : public VenueControl {
 public:
  BybitControl(ControlCredentials c, ControlSettings s) : creds_(std::move(c)), settings_(std::move(s)) {}

  void on_open(ControlChannel& ch, std::int64_t now_ns) override {
    stage_ = Stage::kAuth;
    deadline_ns_ = now_ns + settings_.auth_timeout_ns;
    next_ping_ns_ = now_ns + settings_.heartbeat_interval_ns;
    if (settings_.public_only) {  // the public websocket: no auth
      stage_ = Stage::kSubscribe;
      ch.send(control::bybit_subscribe_request(settings_.market_data));
      return;
    }
    const std::int64_t expires = now_ns / 1'000'000 + 10'000;
    ch.send(control::bybit_auth_request(creds_.key.reveal(), creds_.secret.reveal(), expires));
  }

  void on_message(const DecodeOutcome& o, ControlChannel& ch, std::int64_t now_ns) override {
    switch (o.kind) {
      case MessageKind::kAuthResult:
        if (!o.success) {
          ch.count_auth_failure();
          ch.reconnect("auth refused");
          return;
        }
        stage_ = Stage::kSubscribe;
        // Positions: what changed (the snapshot comes over REST at every connect).
        ch.send(control::bybit_subscribe_request(settings_.positions ? std::vector<std::string>{"execution", "position"}
                                                                     : std::vector<std::string>{"execution"}));
        return;
      case MessageKind::kSubscriptionAck:
        if (!o.success) {
          ch.count_subscribe_failure();
          ch.reconnect("subscribe refused");
        } else if (stage_ == Stage::kSubscribe) {
          stage_ = Stage::kReady;
          ch.ready();
        }
        return;
      default: return;
    }
  }

  void on_tick(ControlChannel& ch, std::int64_t now_ns) override {
    if (stage_ != Stage::kReady && now_ns > deadline_ns_) {
      ch.reconnect("no answer to auth or subscribe");
      return;
    }
    if (now_ns >= next_ping_ns_) {
      ch.send(control::bybit_ping_request(next_ping_id_++));
      ch.count_ping();
      next_ping_ns_ = now_ns + settings_.heartbeat_interval_ns;
    }
  }
  std::int64_t tick_interval_ns() const override {
    return std::min({std::int64_t{1'000'000'000}, settings_.auth_timeout_ns, settings_.heartbeat_interval_ns});
  }

 private:
  enum class Stage { kAuth, kSubscribe, kReady };
  ControlCredentials creds_;
  ControlSettings settings_;
  Stage stage_ = Stage::kAuth;
  std::int64_t deadline_ns_ = 0;
  std::int64_t next_ping_ns_ = 0;
  std::int64_t next_ping_id_ = 1;
};

}  // namespace

std::unique_ptr<VenueControl> make_bybit_control(ControlCredentials credentials, ControlSettings settings) {
  return std::make_unique<BybitControl>(std::move(credentials), std::move(settings));
}

}  // namespace segmentd
