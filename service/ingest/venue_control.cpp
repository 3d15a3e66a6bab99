#include "service/ingest/venue_control.h"

namespace segmentd {

std::unique_ptr<VenueControl> make_venue_control(Venue venue, ControlCredentials credentials,
                                                 ControlSettings settings) {
  switch (venue) {
    case Venue::kDeribit: return make_deribit_control(std::move(credentials), std::move(settings));
    case Venue::kOkx: return make_okx_control(std::move(credentials), std::move(settings));
    case Venue::kBybit: return make_bybit_control(std::move(credentials), std::move(settings));
    case Venue::kBinance: return make_binance_control(std::move(credentials), std::move(settings));
    case Venue::kHyperliquid: return make_hyperliquid_control(std::move(credentials), std::move(settings));
    case Venue::kNative: break;
  }
  return nullptr;
}

}  // namespace segmentd
