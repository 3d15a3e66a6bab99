#pragma once
// The snapshot of an account's positions over the venue's REST API, for the venues whose private
// stream says only what changed (Binance ACCOUNT_UPDATE and BALANCE_POSITION_UPDATE, Bybit's
// position topic): at every connect the session asks for the account's positions, and hands each
// answer to its adapter (VenueAdapter::decode_rest_positions), which makes the position records
// and, after the last call, the end of the snapshot (core/features.md, "Positions from the venue").
//
//   Binance USDⓈ-M  GET /fapi/v2/positionRisk (signed), one call
//   Binance COIN-M  GET /dapi/v1/positionRisk (signed), one call
//   Binance options GET /eapi/v1/position (signed), one call
//   Bybit           GET /v5/position/list (signed), per category: linear (settleCoin USDT and
//                   USDC), inverse, option; nextPageCursor pages
//
// A failed call (no answer, an HTTP error, a rate limit, a body the adapter refuses) is counted,
// logged and retried with backoff; the stream flows meanwhile. A snapshot asked for while one runs
// starts over when it ends.
//
// Threading: used from its session's strand; HTTP answers and timers come back through `post`.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/types.h"
#include "protocol/venues/binance/control.h"
#include "service/ingest/source_stats.h"
#include "service/ingest/venue_control.h"
#include "service/net/backoff.h"

namespace boost::asio {
class io_context;
}

namespace segmentd {

struct HttpResponse;

//! Whether a venue's sessions take their positions snapshot over REST (the others' streams have one).
bool positions_snapshot_over_rest(Venue venue);

class VenuePositionsFetch {
 public:
  struct Options {
    Venue venue = Venue::kNative;
    std::string rest_url;
    std::int64_t timeout_ns = 10'000'000'000;
    bool tls_verify = true;
    std::string ca_file;
    BackoffConfig backoff;
    std::string source;                                                     //!< for log lines
    control::BinanceMarket binance_market = control::BinanceMarket::kUsdM;  //!< which positions call
  };
  using Post = std::function<void(std::function<void()>)>;
  //! One answer's body, whether it is the snapshot's last, when the snapshot's first call and
  //! this call were sent (VenueAdapter::decode_rest_positions); false when the adapter refused it
  //! (the call is retried). Called on the strand.
  using Deliver = std::function<bool(std::string_view body, bool last, std::int64_t snapshot_ns, std::int64_t call_ns)>;

  //! Counts in stats.position_snapshots and stats.position_snapshot_failures.
  VenuePositionsFetch(boost::asio::io_context& ioc, Options options, const ControlCredentials& credentials, Post post,
                      Deliver deliver, SourceStats& stats);
  ~VenuePositionsFetch();

  //! Takes a snapshot (every call of it, in turn).
  void fetch();
  void stop();

 private:
  struct Call {
    std::string category;  //!< Bybit
    std::string settle_coin;
  };
  void begin();
  void call();
  void on_answer(absl::StatusOr<HttpResponse> r);
  void retry();

  boost::asio::io_context& ioc_;
  Options options_;
  ControlCredentials credentials_;
  Post post_;
  Deliver deliver_;
  SourceStats& stats_;
  Backoff backoff_;
  std::unique_ptr<struct PositionsTimer> timer_;
  std::vector<Call> calls_;
  std::size_t call_ = 0;
  std::string cursor_;
  std::int64_t snapshot_ns_ = 0;  //!< when the snapshot's first call was sent
  std::int64_t call_ns_ = 0;      //!< when the call under way was sent
  bool running_ = false;
  bool again_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_;
};

}  // namespace segmentd
