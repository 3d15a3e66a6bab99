// OKX v5 private websocket: login (base64 HMAC of timestamp + GET/users/self/verify) → subscribe
// the orders and positions channels (instType ANY) → the text "ping" every heartbeat interval (OKX drops a
// connection that is silent for 30 s). A notice event (64008, service upgrade) means reconnect.
// On the public websocket (ControlSettings::public_only): no login, one subscribe of the source's
// market_data channels, ready at the first acknowledgement.
#include <algorithm>

#include "core/str_cat.h"
#include "protocol/venues/okx/control.h"
#include "service/ingest/venue_control.h"

namespace segmentd {
namespace {

class OkxControl final : public VenueControl {
 public:
  OkxControl(ControlCredentials c, ControlSettings s) : creds_(std::move(c)), settings_(std::move(s)) {}

  void on_open(ControlChannel& ch, std::int64_t now_ns) override {
    stage_ = Stage::kAuth;
    deadline_ns_ = now_ns + settings_.auth_timeout_ns;
    next_ping_ns_ = now_ns + settings_.heartbeat_interval_ns;
    if (settings_.public_only) {  // the public websocket: no login
      stage_ = Stage::kSubscribe;
      ch.send(control::okx_subscribe_public_request(settings_.market_data));
      return;
    }
    const std::string ts = str_cat(now_ns / 1'000'000'000);
    ch.send(control::okx_login_request(creds_.key.reveal(), creds_.passphrase.reveal(), creds_.secret.reveal(), ts));
  }

  void on_message(const DecodeOutcome& o, ControlChannel& ch, std::int64_t now_ns) override {
    switch (o.kind) {
      case MessageKind::kAuthResult:
        if (!o.success) {
          ch.count_auth_failure();
          ch.reconnect("login refused");
          return;
        }
        stage_ = Stage::kSubscribe;
        ch.send(control::okx_subscribe_orders_request("ANY"));
        // Positions: a snapshot at every connect, then each change (its ack comes second).
        if (settings_.positions) ch.send(control::okx_subscribe_positions_request());
        return;
      case MessageKind::kSubscriptionAck:
        if (stage_ == Stage::kSubscribe) {
          stage_ = Stage::kReady;
          ch.ready();
        }
        return;
      case MessageKind::kVenueError:
        if (stage_ == Stage::kAuth) {
          ch.count_auth_failure();  // OKX answers a bad login with {"event":"error","code":"60009"...}
          ch.reconnect("login refused");
        } else if (stage_ == Stage::kSubscribe && !o.success) {
          ch.count_subscribe_failure();
          ch.reconnect("subscribe refused");
        } else if (o.venue_code == 64008) {
          ch.reconnect("venue notice: service upgrade");
        }
        return;
      default: return;
    }
  }

  void on_tick(ControlChannel& ch, std::int64_t now_ns) override {
    if (stage_ != Stage::kReady && now_ns > deadline_ns_) {
      ch.reconnect("no answer to login or subscribe");
      return;
    }
    if (now_ns >= next_ping_ns_) {
      ch.send(std::string(control::kOkxPing));
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
};

}  // namespace

std::unique_ptr<VenueControl> make_okx_control(ControlCredentials credentials, ControlSettings settings) {
  return std::make_unique<OkxControl>(std::move(credentials), std::move(settings));
}

}  // namespace segmentd
