// Deribit JSON-RPC: public/auth (client_signature) → public/set_heartbeat + private/subscribe
// user.trades.any.any.raw (and user.changes.{future,option}.any.raw for positions) → after the
// subscribe ack, private/get_positions (the snapshot); a heartbeat test_request is answered with public/test at once
// (Deribit closes the connection when it is not).
#include <algorithm>
#include <random>

#include "core/str_cat.h"
#include "protocol/venues/deribit/control.h"
#include "service/ingest/venue_control.h"

namespace segmentd {
namespace {

class DeribitControl final : public VenueControl {
 public:
  DeribitControl(ControlCredentials c, ControlSettings s) : creds_(std::move(c)), settings_(std::move(s)) {}

  void on_open(ControlChannel& ch, std::int64_t now_ns) override {
    stage_ = Stage::kAuth;
    deadline_ns_ = now_ns + settings_.auth_timeout_ns;
    const std::int64_t ts_ms = now_ns / 1'000'000;
    const std::string nonce = str_cat(nonce_rng_() % 100'000'000);
    ch.send(control::deribit_auth_request(kAuthId, creds_.key.reveal(), creds_.secret.reveal(), ts_ms, nonce));
  }

  void on_message(const DecodeOutcome& o, ControlChannel& ch, std::int64_t now_ns) override {
    switch (o.kind) {
      case MessageKind::kTestRequest:
        ch.send(control::deribit_test_request(next_id_++));
        ch.count_test_request_answered();
        return;
      case MessageKind::kAuthResult:
        if (stage_ != Stage::kAuth) return;
        stage_ = Stage::kSubscribe;
        ch.send(control::deribit_set_heartbeat_request(
            kHeartbeatId,
            static_cast<int>(std::clamp<std::int64_t>(settings_.heartbeat_interval_ns / 1'000'000'000, 10, 3600))));
        {
          // private/subscribe takes public channels too: the market data in the same request.
          std::vector<std::string> channels = {"user.trades.any.any.raw"};
          // Position changes (fills come from user.trades; user.changes' positions correct the book).
          if (settings_.positions)
            channels.insert(channels.end(), std::begin(control::kDeribitPositionChannels),
                            std::end(control::kDeribitPositionChannels));
          channels.insert(channels.end(), settings_.market_data.begin(), settings_.market_data.end());
          ch.send(control::deribit_subscribe_request(kSubscribeId, channels));
        }
        return;
      case MessageKind::kSubscriptionAck:
        if (stage_ == Stage::kSubscribe && o.request_id == kSubscribeId) {
          stage_ = Stage::kReady;
          ch.ready();
          // The snapshot, once the changes flow: a change after it is newer than it.
          if (settings_.positions) ch.send(control::deribit_get_positions_request());
        }
        return;
      case MessageKind::kVenueError:
        if (o.request_id == kAuthId) {
          ch.count_auth_failure();
          ch.reconnect("public/auth refused");
        } else if (o.request_id == kSubscribeId) {
          ch.count_subscribe_failure();
          ch.reconnect("private/subscribe refused");
        }
        return;
      default: return;
    }
  }

  void on_tick(ControlChannel& ch, std::int64_t now_ns) override {
    if (stage_ != Stage::kReady && now_ns > deadline_ns_) ch.reconnect("no answer to public/auth or private/subscribe");
  }
  std::int64_t tick_interval_ns() const override {
    return std::min<std::int64_t>(1'000'000'000, settings_.auth_timeout_ns);
  }

 private:
  enum class Stage { kAuth, kSubscribe, kReady };
  static constexpr int kAuthId = 1, kHeartbeatId = 2, kSubscribeId = 3;
  ControlCredentials creds_;
  ControlSettings settings_;
  Stage stage_ = Stage::kAuth;
  std::int64_t deadline_ns_ = 0;
  std::int64_t next_id_ = 100;
  std::mt19937_64 nonce_rng_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<VenueControl> make_deribit_control(ControlCredentials credentials, ControlSettings settings) {
  return std::make_unique<DeribitControl>(std::move(credentials), std::move(settings));
}

}  // namespace segmentd
