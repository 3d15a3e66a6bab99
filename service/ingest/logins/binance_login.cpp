// Binance user-data stream: the stream URL carries the listenKey (created and kept alive over
// REST by BinanceListenKey), so there is nothing to log in to or subscribe: the connection is
// ready when it opens. A "listenKeyExpired" event (a venue error to the adapter) means reconnect,
// which creates a fresh key. On the public market streams (ControlSettings::public_only): one
// {"method":"SUBSCRIBE"} of the source's market_data streams, ready at its {"result":null}.
#include <algorithm>

#include "protocol/venues/binance/control.h"
#include "service/ingest/venue_control.h"

namespace segmentd {
namespace {

class BinanceControl final : public VenueControl {
 public:
  explicit BinanceControl(ControlSettings s) : settings_(std::move(s)) {}
  void on_open(ControlChannel& ch, std::int64_t now_ns) override {
    if (!settings_.public_only) return ch.ready();
    // The public market streams: one SUBSCRIBE of every stream, ready at its result.
    ready_ = false;
    deadline_ns_ = now_ns + settings_.auth_timeout_ns;
    ch.send(control::binance_subscribe_request(settings_.market_data, 1));
  }
  void on_message(const DecodeOutcome& o, ControlChannel& ch, std::int64_t) override {
    if (o.kind == MessageKind::kSubscriptionAck && settings_.public_only && !ready_) {
      ready_ = true;
      ch.ready();
    } else if (o.kind == MessageKind::kVenueError && settings_.public_only && !ready_) {
      ch.count_subscribe_failure();
      ch.reconnect("SUBSCRIBE refused");
    } else if (o.kind == MessageKind::kVenueError) {
      ch.reconnect("listenKey expired or stream error");
    }
  }
  void on_tick(ControlChannel& ch, std::int64_t now_ns) override {
    if (settings_.public_only && !ready_ && now_ns > deadline_ns_) ch.reconnect("no answer to SUBSCRIBE");
  }
  std::int64_t tick_interval_ns() const override {
    return std::min(std::int64_t{1'000'000'000}, settings_.auth_timeout_ns);
  }

 private:
  ControlSettings settings_;
  bool ready_ = false;
  std::int64_t deadline_ns_ = 0;
};

}  // namespace

std::unique_ptr<VenueControl> make_binance_control(ControlCredentials, ControlSettings settings) {
  return std::make_unique<BinanceControl>(std::move(settings));
}

}  // namespace segmentd
