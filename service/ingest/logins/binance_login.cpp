// Binance user-data stream: the stream URL carries the listenKey (created and kept alive over
// REST by BinanceListenKey), so there is nothing to log in to or subscribe: the connection is
// ready when it opens. A "listenKeyExpired" event (a venue error to the adapter) means reconnect,
// which creates a fresh key.
#include "service/ingest/venue_control.h"

namespace segmentd {
namespace {

class BinanceControl final : public VenueControl {
 public:
  explicit BinanceControl(ControlSettings s) : settings_(std::move(s)) {}
  void on_open(ControlChannel& ch, std::int64_t) override { ch.ready(); }
  void on_message(const DecodeOutcome& o, ControlChannel& ch, std::int64_t) override {
    if (o.kind == MessageKind::kVenueError) ch.reconnect("listenKey expired or stream error");
  }
  void on_tick(ControlChannel&, std::int64_t) override {}
  std::int64_t tick_interval_ns() const override { return 1'000'000'000; }

 private:
  ControlSettings settings_;
};

}  // namespace

std::unique_ptr<VenueControl> make_binance_control(ControlCredentials, ControlSettings settings) {
  return std::make_unique<BinanceControl>(std::move(settings));
}

}  // namespace segmentd
